-- The event catalogue's read path (docs/design.md): a version of the whole
-- catalogue, indexes that serve every filter and ordering of the list, and
-- a trigram index for substring search.

-- The catalogue's version: moved, in the transaction of the change, by every
-- write that changes what the list or an event's detail shows (an event, its
-- sessions and ticket types, a category's slug), never by registrations,
-- which change only the counters. Answers are cached by it (and by the
-- query); it is what tells every process on the database that its cached
-- answers are old.
CREATE TABLE catalogue (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO catalogue (id, version) VALUES (1, 1);

CREATE TRIGGER catalogue_event_inserted AFTER INSERT ON events
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_event_deleted AFTER DELETE ON events
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_event_changed
AFTER UPDATE OF title, description, date_time, location, capacity, created_at, organizer_id,
                visibility, image, category_id, version ON events
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER catalogue_session_inserted AFTER INSERT ON event_sessions
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_session_deleted AFTER DELETE ON event_sessions
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_session_changed AFTER UPDATE ON event_sessions
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER catalogue_ticket_type_inserted AFTER INSERT ON ticket_types
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_ticket_type_deleted AFTER DELETE ON ticket_types
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_ticket_type_changed
AFTER UPDATE OF event_id, name, price_cents, quantity ON ticket_types
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER catalogue_category_inserted AFTER INSERT ON categories
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_category_deleted AFTER DELETE ON categories
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER catalogue_category_changed AFTER UPDATE OF slug ON categories
BEGIN UPDATE catalogue SET version = version + 1 WHERE id = 1; END;

-- What anyone may see is the public events: each ordering of the list has
-- an index of them alone, covering what a page needs (the id, the version
-- of its cached JSON, the date the default `upcoming` filter checks, and
-- the visibility, which SQLite checks again), so a page among the first
-- results reads a few index entries and nothing else, and a count reads one
-- range of one index.
CREATE INDEX events_public_date_time ON events (date_time, id, version, visibility)
  WHERE visibility = 'public';
CREATE INDEX events_public_created_at ON events (created_at, id, date_time, version, visibility)
  WHERE visibility = 'public';
CREATE INDEX events_public_title ON events (title, id, date_time, version, visibility)
  WHERE visibility = 'public';
CREATE INDEX events_public_capacity ON events (capacity, id, date_time, version, visibility)
  WHERE visibility = 'public';
CREATE INDEX events_public_id ON events (id, date_time, version, visibility)
  WHERE visibility = 'public';
CREATE INDEX events_public_category ON events (category_id, date_time, id, version, visibility)
  WHERE visibility = 'public';
CREATE INDEX events_public_organizer ON events (organizer_id, date_time, id, version, visibility)
  WHERE visibility = 'public';

-- Substring search (`search` and `location`, DRF's icontains) through FTS5's
-- trigram tokenizer over the folded columns the models write: a phrase of
-- the trigrams of a folded term matches exactly where the term occurs, as
-- LIKE '%term%' does. Terms of fewer than three characters have no trigram:
-- those are matched by LIKE alone. The text stays in events (external
-- content); triggers keep the index in step with every write.
CREATE VIRTUAL TABLE events_fts USING fts5(
  search_text, location_key,
  content = 'events', content_rowid = 'id',
  tokenize = 'trigram case_sensitive 1'
);
INSERT INTO events_fts (events_fts) VALUES ('rebuild');

CREATE TRIGGER events_fts_inserted AFTER INSERT ON events
BEGIN
  INSERT INTO events_fts (rowid, search_text, location_key)
  VALUES (new.id, new.search_text, new.location_key);
END;
CREATE TRIGGER events_fts_deleted AFTER DELETE ON events
BEGIN
  INSERT INTO events_fts (events_fts, rowid, search_text, location_key)
  VALUES ('delete', old.id, old.search_text, old.location_key);
END;
CREATE TRIGGER events_fts_changed AFTER UPDATE OF search_text, location_key ON events
WHEN old.search_text IS NOT new.search_text OR old.location_key IS NOT new.location_key
BEGIN
  INSERT INTO events_fts (events_fts, rowid, search_text, location_key)
  VALUES ('delete', old.id, old.search_text, old.location_key);
  INSERT INTO events_fts (rowid, search_text, location_key)
  VALUES (new.id, new.search_text, new.location_key);
END;
