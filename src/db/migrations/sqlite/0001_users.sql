-- Users and the refresh-token blacklist.
-- Times are microseconds since the Unix epoch (UTC); booleans are 0/1.
CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
  username      TEXT    NOT NULL,
  username_key  TEXT    NOT NULL UNIQUE,   -- case-folded username
  email         TEXT    NOT NULL,
  email_key     TEXT    NOT NULL UNIQUE,   -- case-folded email
  password      TEXT    NOT NULL,          -- argon2id hash
  first_name    TEXT    NOT NULL DEFAULT '',
  last_name     TEXT    NOT NULL DEFAULT '',
  role          TEXT    NOT NULL DEFAULT 'attendee'
                CHECK (role IN ('attendee', 'organizer', 'admin')),
  is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  date_joined   INTEGER NOT NULL
);

CREATE TABLE token_blacklist (
  jti           TEXT    PRIMARY KEY,
  user_id       INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,          -- the token's exp, microseconds
  blacklisted_at INTEGER NOT NULL
);
CREATE INDEX token_blacklist_expires_at ON token_blacklist (expires_at);
