-- The delivery layer's outbox (src/delivery/): every message to send,
-- whatever its channel ('mail'; 'webhook' next), written in the transaction
-- of the change that causes it and sent by a worker afterwards. A row
-- carries everything its channel needs (target, payload rendered when it
-- was written), so the worker never calls back into the app that wrote it.
-- Until now the notifications table was the outbox as well; it keeps the
-- in-app notifications only.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  channel         TEXT    NOT NULL,           -- 'mail', 'webhook'
  kind            TEXT    NOT NULL,           -- what it is about: 'registration_confirmed'
  message_id      TEXT    NOT NULL,           -- the same for every try (Message-ID, webhook-id)
  target          TEXT    NOT NULL,           -- the address or URL it goes to
  payload         TEXT    NOT NULL,           -- JSON, as its channel reads it
  source          TEXT,                       -- the writer's key ('notification:42'), to cancel by
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER,                    -- not sent after then: dead, too late
  -- A worker claims a pending row by setting claimed_until (a lease) and
  -- counting the try in attempts; a row whose lease ran out (its worker
  -- died) is claimed again. An outcome counts only for the claim whose
  -- attempts it names.
  state           TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_until   INTEGER,
  sent_at         INTEGER,
  last_error      TEXT,
  last_status     INTEGER,                    -- the last reply's code (SMTP, HTTP)
  last_response   TEXT                        -- the start of the last reply
);
-- Claiming: the due rows of a channel, oldest first.
CREATE INDEX outbox_due ON outbox (channel, next_attempt_at, id) WHERE state = 'pending';
-- Operators' lists and counts by state.
CREATE INDEX outbox_state ON outbox (state, next_attempt_at, id);
-- Cancelling (and listing) what a writer wrote.
CREATE INDEX outbox_source ON outbox (source) WHERE source IS NOT NULL;

-- The mail already sent moves over as history, without its (no longer
-- needed) text; the mail still to send, or given up on, waits in
-- notifications_unsent until the notifications app renders it into the
-- outbox (the worker's tick does, a batch at a time), keeping its tries,
-- its last error and its Message-ID.
INSERT INTO outbox (channel, kind, message_id, target, payload, source, created_at, state,
                    attempts, next_attempt_at, sent_at)
  SELECT 'mail', n.kind,
         CASE WHEN n.message_id LIKE '<%>' THEN substr(n.message_id, 2, length(n.message_id) - 2)
              ELSE COALESCE(n.message_id, 'notification-' || n.id) END,
         u.email, '{}', 'notification:' || n.id, n.due_at, 'sent', n.attempts,
         n.next_attempt_at, n.sent_at
  FROM notifications n JOIN users u ON u.id = n.user_id
  WHERE n.state = 'sent' ORDER BY n.id;
CREATE TABLE notifications_unsent (
  notification_id INTEGER PRIMARY KEY,
  state           TEXT    NOT NULL,           -- 'pending' or 'dead'
  attempts        INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  message_id      TEXT                        -- '<hex@domain>', or NULL: never tried
);
INSERT INTO notifications_unsent
  SELECT id, state, attempts, next_attempt_at, last_error, message_id
  FROM notifications WHERE state IN ('pending', 'dead');

-- notifications keeps what the app shows.
DROP INDEX notifications_outbox;
DROP INDEX notifications_event;
ALTER TABLE notifications DROP COLUMN state;
ALTER TABLE notifications DROP COLUMN attempts;
ALTER TABLE notifications DROP COLUMN next_attempt_at;
ALTER TABLE notifications DROP COLUMN claimed_until;
ALTER TABLE notifications DROP COLUMN last_error;
ALTER TABLE notifications DROP COLUMN sent_at;
ALTER TABLE notifications DROP COLUMN message_id;
-- An event's reminders, found when it moves or goes.
CREATE INDEX notifications_event_reminders ON notifications (event_id)
  WHERE kind = 'event_reminder';

-- A notification that goes takes its unsent mail along: the app cancels it
-- itself when it drops a reminder, but a user's deletion removes their
-- notifications by cascade, which only a trigger follows.
CREATE TRIGGER notifications_deleted AFTER DELETE ON notifications
BEGIN
  DELETE FROM outbox WHERE source = 'notification:' || OLD.id AND state = 'pending';
  DELETE FROM notifications_unsent WHERE notification_id = OLD.id;
END;
