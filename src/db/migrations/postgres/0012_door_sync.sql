-- Check-in from devices that go offline (src/tickets/door.c).
--
-- Every change at an event's door (a check-in, an undo) takes the event's
-- next door version, in the unit of work of the change: the version row is
-- written (and locked) by each, so two changes of one event never share a
-- number, and a reader that sees version n has seen every version before
-- it. A device asks for the changes after the last version it has seen.
CREATE TABLE door_versions (
  event_id BIGINT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  version  BIGINT NOT NULL
);
ALTER TABLE check_in_audit ADD COLUMN version BIGINT;
UPDATE check_in_audit SET version =
  (SELECT count(*) FROM check_in_audit b
   WHERE b.event_id = check_in_audit.event_id AND b.id <= check_in_audit.id);
INSERT INTO door_versions (event_id, version)
  SELECT event_id, max(version) FROM check_in_audit GROUP BY event_id;
CREATE UNIQUE INDEX check_in_audit_version ON check_in_audit (event_id, version);
-- "Where and when was this ticket checked in", for a scan that comes second.
CREATE INDEX check_in_audit_ticket ON check_in_audit (ticket_code, version);

-- The codes of tickets whose registration was cancelled: a scan of one is
-- answered "cancelled", not "unknown". They go with the event.
CREATE TABLE voided_tickets (
  code      TEXT COLLATE "C" PRIMARY KEY,
  event_id  BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  voided_at BIGINT NOT NULL
);
CREATE INDEX voided_tickets_event ON voided_tickets (event_id);
