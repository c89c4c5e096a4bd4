-- A notification states its event's times in the event's zone
-- (src/notifications/templates.c): the zone is kept with the rest of the
-- event's snapshot. Notifications written before have UTC, as they said.
ALTER TABLE notifications ADD COLUMN event_timezone TEXT COLLATE "C" NOT NULL DEFAULT 'UTC';
