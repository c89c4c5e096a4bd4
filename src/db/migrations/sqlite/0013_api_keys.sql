-- API keys (src/users/keys.c): for scanners, kiosks and integrations that
-- cannot log in every 30 minutes. A key is shown once, when it is made;
-- only its SHA-256 is kept, and its first characters to recognise it by.
-- It goes with its user, and with the event it is limited to.
CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  prefix       TEXT    NOT NULL,
  hash         TEXT    NOT NULL UNIQUE,   -- hex SHA-256 of the whole key
  scopes       TEXT    NOT NULL,          -- their names, space-separated
  event_id     INTEGER REFERENCES events (id) ON DELETE CASCADE,  -- NULL: every event
  expires_at   INTEGER,                   -- NULL: never
  last_used_at INTEGER,                   -- written at most once a minute
  created_at   INTEGER NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id, id);
