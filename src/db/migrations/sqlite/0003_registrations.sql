-- Registrations (confirmed or waitlisted) and the tickets of confirmed ones.
-- A cancelled registration keeps its row (cancelled_at set) for the record;
-- at most one active registration per user and event.
CREATE TABLE registrations (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  ticket_type_id  INTEGER REFERENCES ticket_types (id) ON DELETE SET NULL,
  registered_at   INTEGER NOT NULL,
  is_waitlisted   INTEGER NOT NULL CHECK (is_waitlisted IN (0, 1)),
  cancelled_at    INTEGER
);
CREATE UNIQUE INDEX registrations_active
  ON registrations (user_id, event_id) WHERE cancelled_at IS NULL;
CREATE INDEX registrations_event
  ON registrations (event_id, is_waitlisted, registered_at, id) WHERE cancelled_at IS NULL;
CREATE INDEX registrations_user ON registrations (user_id, registered_at);
CREATE INDEX registrations_ticket_type
  ON registrations (ticket_type_id) WHERE cancelled_at IS NULL;

CREATE TABLE tickets (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  code            TEXT    NOT NULL UNIQUE,         -- a random UUID (version 4)
  registration_id INTEGER NOT NULL UNIQUE REFERENCES registrations (id) ON DELETE CASCADE,
  issued_at       INTEGER NOT NULL,
  checked_in_at   INTEGER
);
