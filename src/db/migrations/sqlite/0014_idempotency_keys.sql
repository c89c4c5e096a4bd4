-- Safe retries (src/shortcuts/idempotency.c): the answer to a write sent
-- with an Idempotency-Key, kept in the unit of work of the change itself,
-- so that a repeat gets the same answer and changes nothing. One row per
-- user and key; the request is named by the SHA-256 of its method, path
-- and body. Rows past IDEMPOTENCY_KEY_TTL are ignored, then pruned.
CREATE TABLE idempotency_keys (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key          TEXT    NOT NULL,
  fingerprint  TEXT    NOT NULL,          -- hex SHA-256 of method, path and body
  status       INTEGER NOT NULL DEFAULT 0,
  content_type TEXT    NOT NULL DEFAULT '',
  headers      TEXT    NOT NULL DEFAULT '{}', -- the answer's own headers, a JSON object
  body         TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  UNIQUE (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
