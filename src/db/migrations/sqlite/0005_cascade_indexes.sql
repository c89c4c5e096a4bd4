-- Plain indexes on the registrations' foreign keys whose parent rows get
-- deleted: deleting an event (or a ticket type, or an organizer with all
-- their events) finds its registrations, cancelled ones included, without
-- reading the whole table. The partial indexes of 0003 cover active rows
-- only, which is not what ON DELETE CASCADE and SET NULL look for.
DROP INDEX registrations_ticket_type;
CREATE INDEX registrations_ticket_type ON registrations (ticket_type_id);
CREATE INDEX registrations_event_all ON registrations (event_id);
