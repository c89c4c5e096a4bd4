-- Categories, events, their sessions and ticket types.
-- Times are microseconds since the Unix epoch (UTC); money is integer cents.
CREATE TABLE categories (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT    NOT NULL,
  name_key      TEXT    NOT NULL UNIQUE,   -- case-folded name
  slug          TEXT    NOT NULL UNIQUE
);

CREATE TABLE events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
  title           TEXT    NOT NULL,
  description     TEXT    NOT NULL DEFAULT '',
  date_time       INTEGER NOT NULL,
  location        TEXT    NOT NULL,
  capacity        INTEGER NOT NULL CHECK (capacity >= 0),        -- 0: unlimited
  confirmed_count INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_count >= 0),
  created_at      INTEGER NOT NULL,
  organizer_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  visibility      TEXT    NOT NULL DEFAULT 'public'
                  CHECK (visibility IN ('public', 'private')),
  image           TEXT,                                          -- file name under MEDIA_ROOT
  category_id     INTEGER REFERENCES categories (id) ON DELETE SET NULL,
  version         INTEGER NOT NULL DEFAULT 1,  -- bumped by every change to the event's JSON
  search_text     TEXT    NOT NULL,            -- case-folded title, description, location
  location_key    TEXT    NOT NULL             -- case-folded location
);
-- The default list (upcoming, by date): covering, so counting and paging
-- the visible events reads the index alone.
CREATE INDEX events_date_time ON events (date_time, id, visibility, organizer_id, version);
CREATE INDEX events_created_at ON events (created_at, id);
CREATE INDEX events_title ON events (title, id);
CREATE INDEX events_capacity ON events (capacity, id);
CREATE INDEX events_organizer ON events (organizer_id, date_time);
CREATE INDEX events_category ON events (category_id, date_time);
CREATE INDEX events_visibility ON events (visibility, date_time);

CREATE TABLE event_sessions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id      INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  title         TEXT    NOT NULL,
  speaker       TEXT    NOT NULL DEFAULT '',
  start_time    INTEGER NOT NULL,
  end_time      INTEGER NOT NULL,
  description   TEXT    NOT NULL DEFAULT '',
  CHECK (start_time < end_time)
);
CREATE INDEX event_sessions_event ON event_sessions (event_id, start_time, id);

CREATE TABLE ticket_types (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
  event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  name            TEXT    NOT NULL,
  price_cents     INTEGER NOT NULL CHECK (price_cents BETWEEN 0 AND 99999999),
  quantity        INTEGER NOT NULL CHECK (quantity >= 0),      -- 0: unlimited
  confirmed_count INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_count >= 0),
  UNIQUE (event_id, name)
);
CREATE INDEX ticket_types_event ON ticket_types (event_id, id);
