-- The event catalogue's read path (PostgreSQL; the same meaning as
-- sqlite/0008_catalogue_reads.sql): a version of the whole catalogue,
-- indexes that serve every filter and ordering of the list, and a trigram
-- index for substring search.

-- The catalogue's version: moved, in the transaction of the change, by every
-- write that changes what the list or an event's detail shows, never by
-- registrations (which change only the counters). One statement-level
-- trigger per table and kind of change.
CREATE TABLE catalogue (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO catalogue (id, version) VALUES (1, 1);

CREATE FUNCTION catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE catalogue SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER catalogue_events_written AFTER INSERT OR DELETE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed();
CREATE TRIGGER catalogue_events_changed
  AFTER UPDATE OF title, description, date_time, location, capacity, created_at, organizer_id,
                  visibility, image, category_id, version ON events
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed();
CREATE TRIGGER catalogue_sessions_written AFTER INSERT OR DELETE OR UPDATE ON event_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed();
CREATE TRIGGER catalogue_ticket_types_written AFTER INSERT OR DELETE ON ticket_types
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed();
CREATE TRIGGER catalogue_ticket_types_changed
  AFTER UPDATE OF event_id, name, price_cents, quantity ON ticket_types
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed();
CREATE TRIGGER catalogue_categories_written AFTER INSERT OR DELETE ON categories
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed();
CREATE TRIGGER catalogue_categories_changed AFTER UPDATE OF slug ON categories
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed();

-- Each ordering of the public events has an index of them alone, covering
-- what a page needs.
CREATE INDEX events_public_date_time ON events (date_time, id, version)
  WHERE visibility = 'public';
CREATE INDEX events_public_created_at ON events (created_at, id, date_time, version)
  WHERE visibility = 'public';
CREATE INDEX events_public_title ON events (title, id, date_time, version)
  WHERE visibility = 'public';
CREATE INDEX events_public_capacity ON events (capacity, id, date_time, version)
  WHERE visibility = 'public';
CREATE INDEX events_public_id ON events (id, date_time, version)
  WHERE visibility = 'public';
CREATE INDEX events_public_category ON events (category_id, date_time, id, version)
  WHERE visibility = 'public';
CREATE INDEX events_public_organizer ON events (organizer_id, date_time, id, version)
  WHERE visibility = 'public';

-- Substring search (`search` and `location`, LIKE '%term%') through
-- pg_trgm's GIN indexes, which serve LIKE itself: a term's trigrams find
-- the candidate rows and LIKE re-checks each. A term of fewer than three
-- characters has no trigram; PostgreSQL then reads the whole index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX events_search_trgm ON events USING gin (search_text gin_trgm_ops);
CREATE INDEX events_location_trgm ON events USING gin (location_key gin_trgm_ops);
