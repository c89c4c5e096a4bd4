-- Notifications: what a user is told (listed in-app), and the outbox that
-- emails each one. A row is written in the same transaction as the change
-- that causes it, so a mail exists if and only if the change committed.
--
-- Each row keeps the event as it was (title, time, place): the notice of a
-- deleted event outlives the event, so event_id and registration_id are
-- plain numbers, not foreign keys. A reminder is written when its
-- registration is confirmed, due reminder_offset seconds before the event;
-- it is listed and sent from due_at on.
CREATE TABLE notifications (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind               TEXT    NOT NULL,
  event_id           INTEGER NOT NULL,
  registration_id    INTEGER,
  reminder_offset    INTEGER NOT NULL DEFAULT 0,
  event_title        TEXT    NOT NULL,
  event_date_time    INTEGER NOT NULL,
  event_location     TEXT    NOT NULL,
  ticket_code        TEXT,
  previous_date_time INTEGER,
  previous_location  TEXT,
  due_at             INTEGER NOT NULL,
  read_at            INTEGER,
  -- Delivery. A worker claims a pending row by setting claimed_until (a
  -- lease); a row whose lease ran out (its worker died) is claimed again.
  state              TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'dead')),
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER NOT NULL,
  claimed_until      INTEGER,
  last_error         TEXT,
  sent_at            INTEGER,
  message_id         TEXT
);
CREATE INDEX notifications_outbox
  ON notifications (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX notifications_user ON notifications (user_id, due_at, id);
CREATE INDEX notifications_event ON notifications (event_id) WHERE state = 'pending';
CREATE UNIQUE INDEX notifications_reminder
  ON notifications (registration_id, reminder_offset) WHERE kind = 'event_reminder';
