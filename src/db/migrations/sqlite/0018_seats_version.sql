-- An event's availability (src/events/availability.c) changes with every
-- place taken or freed and every registration joining or leaving the
-- waitlist: seats_version counts those changes, bumped by the same
-- statements that take and free places (src/registrations/models.c), so
-- that version + seats_version names each state of the counts.
ALTER TABLE events ADD COLUMN seats_version BIGINT NOT NULL DEFAULT 0;
