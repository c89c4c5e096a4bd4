-- Events happen somewhere (src/events/timezone.c): the IANA name of the
-- zone an event's clocks follow. date_time stays an instant (UTC); the
-- zone says how to show it. Events made before have UTC.
ALTER TABLE events ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
