-- Webhooks (src/webhooks/): the endpoints organizers and admins connect,
-- each told of the events it asked for through the outbox's webhook
-- channel (migration 0009). What was sent to an endpoint, and how each
-- try ended, are the outbox rows whose source is 'webhook:<id>': no table
-- of deliveries beside them.
--
-- events is a set of event types as bits (src/webhooks/models.h), so that
-- the endpoints a change concerns are found by one indexed statement in
-- the change's own transaction. event_id is a plain number, not a foreign
-- key: a webhook for one event is still there to be told that it was
-- deleted. The signing secrets are kept as their owner was shown them
-- ("whsec_" and base64): the worker signs with them at each try; the
-- previous one of a rotation signs too until previous_until.
CREATE TABLE webhooks (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
  owner_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  url             TEXT    NOT NULL,
  events          INTEGER NOT NULL CHECK (events > 0),
  event_id        INTEGER,                    -- NULL: all of the owner's events (an admin's: all)
  description     TEXT    NOT NULL DEFAULT '',
  is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  secret          TEXT    NOT NULL,
  previous_secret TEXT,
  previous_until  INTEGER,                    -- the previous secret signs until then
  base_url        TEXT    NOT NULL,           -- links in payloads when PUBLIC_URL is unset
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  active_since    INTEGER NOT NULL,           -- created, or last turned active again
  failing_since   INTEGER,                    -- every delivery failed since then
  disabled_at     INTEGER                     -- turned off for failing 5 days
);
CREATE INDEX webhooks_owner ON webhooks (owner_id, id);
-- The endpoints a change concerns: the active ones, by event.
CREATE INDEX webhooks_active ON webhooks (event_id, id) WHERE is_active = 1;

-- A webhook that goes takes its unsent deliveries along, however it goes
-- (deleted, or with its owner by cascade).
CREATE TRIGGER webhooks_deleted AFTER DELETE ON webhooks
BEGIN
  DELETE FROM outbox WHERE source = 'webhook:' || OLD.id AND state = 'pending';
END;
