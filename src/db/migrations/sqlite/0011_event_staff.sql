-- At the door (src/events/staff.c, src/tickets/models.c): the people an
-- event's organizer trusts to check its tickets in, and a row for every
-- check-in and every undone one.
--
-- A staff member is a user of any role, at most once per event; they go
-- with the event and with the user. can_export lets them download the
-- event's registrations as CSV too.
CREATE TABLE event_staff (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
  event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  can_export  INTEGER NOT NULL DEFAULT 0 CHECK (can_export IN (0, 1)),
  added_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,  -- NULL: that user is gone
  created_at  INTEGER NOT NULL,
  UNIQUE (event_id, user_id)
);
-- "Is who staff of an event", asked by every check-in of a volunteer.
CREATE INDEX event_staff_user ON event_staff (user_id, event_id);

-- The check-in audit: written in the unit of work of the check-in or undo
-- it records. The ticket is kept as its code, not a foreign key: the row
-- stays when a cancelled registration's ticket goes; it goes with the
-- event. by_id is NULL once that user is deleted.
CREATE TABLE check_in_audit (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  ticket_code TEXT    NOT NULL,
  action      TEXT    NOT NULL CHECK (action IN ('check_in', 'undo')),
  by_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
  device      TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);
CREATE INDEX check_in_audit_event ON check_in_audit (event_id, created_at, id);
