-- Reminders are written when they fall due, by the mail worker, for the
-- event's registrations confirmed by then, rather than when each
-- registration is made: a ticket rush writes one notification a
-- registration instead of one per reminder offset too. A run marks each
-- (event, offset) done, once, whichever worker gets there first.
CREATE TABLE reminder_runs (
  event_id        BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  reminder_offset BIGINT NOT NULL,
  written_at      BIGINT NOT NULL,
  PRIMARY KEY (event_id, reminder_offset)
);
