-- Waitlist offers (src/registrations/models.c): an event may hold a freed
-- place for the next in line for waitlist_offer_hours (NULL: the place
-- goes to them at once, as before). A registration holding an offer is
-- still waitlisted, with offer_expires_at set, and its place counted in
-- confirmed_count so that no offer oversells; the worker finds expired
-- offers through the partial index. A notification of an offer keeps its
-- deadline.
ALTER TABLE events ADD COLUMN waitlist_offer_hours INTEGER;
ALTER TABLE registrations ADD COLUMN offer_expires_at BIGINT;
CREATE INDEX registrations_open_offers ON registrations (offer_expires_at)
  WHERE offer_expires_at IS NOT NULL AND cancelled_at IS NULL AND is_waitlisted = 1;
ALTER TABLE notifications ADD COLUMN offer_expires_at BIGINT;
