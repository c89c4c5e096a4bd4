#include "events/models.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "events/rules.h"

static const char *const visibility_names[] = {"public", "private"};

const char *
events_visibility_name(enum visibility v)
{
  return v == VISIBILITY_PRIVATE ? "private" : "public";
}

int
events_visibility_parse(const char *name, enum visibility *out)
{
  for (int i = 0; i < 2; i++) {
    if (strcmp(name, visibility_names[i]) == 0) {
      *out = (enum visibility)i;
      return 0;
    }
  }
  return EVENTAPI_EINVAL;
}

/* ---- categories ---- */

static int
read_category(db_stmt_t *st, arena_t *arena, void *out)
{
  struct category *c = out;
  bool failed = false;
  c->id = db_column_int(st, 0);
  c->name = db_column_text_dup(st, 1, arena, &failed);
  c->slug = db_column_text_dup(st, 2, arena, &failed);
  return failed ? EVENTAPI_ENOMEM : 0;
}

int
events_categories_list(db_t *db, arena_t *arena, struct category **out, size_t *count)
{
  db_stmt_t *st = db_prepare(db, "SELECT id, name, slug FROM categories ORDER BY name, id");
  void *list;
  int rc = db_rows(st, read_category, sizeof **out, 0, arena, &list, count);
  *out = list;
  return rc;
}

int
events_categories_get(db_t *db, int64_t id, arena_t *arena, struct category *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT id, name, slug FROM categories WHERE id = ?");
  if (st)
    db_bind_int(st, 1, id);
  return db_row(st, read_category, arena, out);
}

int
events_categories_get_by_slug(db_t *db, const char *slug, arena_t *arena, struct category *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT id, name, slug FROM categories WHERE slug = ?");
  if (st)
    db_bind_text(st, 1, slug);
  return db_row(st, read_category, arena, out);
}

static int
exists(db_stmt_t *st, const char *value, int64_t except_id, bool *found)
{
  if (st) {
    db_bind_text(st, 1, value);
    db_bind_int(st, 2, except_id);
  }
  return db_exists(st, found);
}

int
events_categories_name_taken(db_t *db, const char *name, int64_t except_id, bool *found)
{
  char *key = text_fold(name);
  if (key == NULL)
    return EVENTAPI_ENOMEM;
  int rc = exists(db_prepare(db, "SELECT 1 FROM categories WHERE name_key = ? AND id <> ?"),
                  key, except_id, found);
  free(key);
  return rc;
}

int
events_categories_slug_taken(db_t *db, const char *slug, int64_t except_id, bool *found)
{
  return exists(db_prepare(db, "SELECT 1 FROM categories WHERE slug = ? AND id <> ?"),
                slug, except_id, found);
}

int
events_categories_insert(db_t *db, struct category *c)
{
  char *key = text_fold(c->name);
  if (key == NULL)
    return EVENTAPI_ENOMEM;
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO categories (name, name_key, slug) VALUES (?, ?, ?) RETURNING id");
  int rc = EVENTAPI_EDB;
  if (st) {
    db_bind_text(st, 1, c->name);
    db_bind_text(st, 2, key);
    db_bind_text(st, 3, c->slug);
    rc = db_step_id(st, &c->id);
  }
  free(key);
  return rc;
}

int
events_categories_update(db_t *db, const struct category *c)
{
  char *key = text_fold(c->name);
  if (key == NULL)
    return EVENTAPI_ENOMEM;
  int rc = db_exec(db, "UPDATE categories SET name = ?, name_key = ?, slug = ? WHERE id = ?",
                   NULL, "sssi", c->name, key, c->slug, c->id);
  free(key);
  return rc;
}

int
events_categories_delete(db_t *db, int64_t id)
{
  /* The events' JSON changes ("category": null): new versions. */
  int rc = db_exec(db, "UPDATE events SET category_id = NULL, version = version + 1"
                       " WHERE category_id = ?", NULL, "i", id);
  int changes = 0;
  if (rc == 0)
    rc = db_exec(db, "DELETE FROM categories WHERE id = ?", &changes, "i", id);
  if (rc == 0 && changes == 0)
    rc = EVENTAPI_ENOTFOUND;
  return rc;
}

/* ---- events ---- */

int
events_read_row(db_stmt_t *st, arena_t *arena, void *out)
{
  struct event *e = out;
  bool failed = false;
  memset(e, 0, sizeof *e);
  e->id = db_column_int(st, 0);
  e->title = db_column_text_dup(st, 1, arena, &failed);
  e->description = db_column_text_dup(st, 2, arena, &failed);
  e->date_time = db_column_int(st, 3);
  e->location = db_column_text_dup(st, 4, arena, &failed);
  e->capacity = db_column_int(st, 5);
  e->confirmed_count = db_column_int(st, 6);
  e->created_at = db_column_int(st, 7);
  e->organizer_id = db_column_int(st, 8);
  if (events_visibility_parse(db_column_text(st, 9), &e->visibility) < 0)
    e->visibility = VISIBILITY_PRIVATE; /* fail closed */
  e->image = db_column_text_dup(st, 10, arena, &failed);
  e->category_id = db_column_int_or(st, 11, 0);
  e->version = db_column_int(st, 12);
  e->timezone = db_column_text_dup(st, 13, arena, &failed);
  e->waitlist_offer_hours = db_column_int_or(st, 14, 0);
  return failed ? EVENTAPI_ENOMEM : 0;
}

static int
read_session(db_stmt_t *st, arena_t *arena, struct session *s)
{
  bool failed = false;
  s->id = db_column_int(st, 0);
  s->event_id = db_column_int(st, 1);
  s->title = db_column_text_dup(st, 2, arena, &failed);
  s->speaker = db_column_text_dup(st, 3, arena, &failed);
  s->start_time = db_column_int(st, 4);
  s->end_time = db_column_int(st, 5);
  s->description = db_column_text_dup(st, 6, arena, &failed);
  return failed ? EVENTAPI_ENOMEM : 0;
}

static int
read_ticket_type(db_stmt_t *st, arena_t *arena, struct ticket_type *t)
{
  bool failed = false;
  t->id = db_column_int(st, 0);
  t->event_id = db_column_int(st, 1);
  t->name = db_column_text_dup(st, 2, arena, &failed);
  t->price_cents = db_column_int(st, 3);
  t->quantity = db_column_int(st, 4);
  t->confirmed_count = db_column_int(st, 5);
  return failed ? EVENTAPI_ENOMEM : 0;
}

/*
 * Attaches to each event of list (sorted by nothing in particular) the rows
 * of st, whose column 1 is the event id. One query for all the events.
 */
static int
attach(db_stmt_t *st, struct event *list, size_t count, arena_t *arena, bool sessions)
{
  int rc;
  /* Rows come grouped by event id; find each group's event by a scan
   * from the last match, which is linear for the orders we use. */
  size_t *caps = arena_calloc(arena, count ? count : 1, sizeof *caps);
  if (caps == NULL) {
    db_reset(st);
    return EVENTAPI_ENOMEM;
  }
  size_t at = 0;
  while ((rc = db_step(st)) == DB_ROW) {
    int64_t event_id = db_column_int(st, 1);
    size_t i = at, seen = 0;
    while (seen < count && list[i].id != event_id) {
      i = (i + 1) % count;
      seen++;
    }
    if (seen == count)
      continue;
    at = i;
    struct event *e = &list[i];
    if (sessions) {
      e->sessions = arena_grow(arena, e->sessions, e->nsessions, &caps[i], sizeof *e->sessions);
      if (e->sessions == NULL || (rc = read_session(st, arena, &e->sessions[e->nsessions++])) < 0)
        break;
    } else {
      e->ticket_types = arena_grow(arena, e->ticket_types, e->nticket_types, &caps[i],
                             sizeof *e->ticket_types);
      if (e->ticket_types == NULL ||
          (rc = read_ticket_type(st, arena, &e->ticket_types[e->nticket_types++])) < 0)
        break;
    }
  }
  db_reset(st);
  if (rc == DB_ROW)
    rc = EVENTAPI_ENOMEM;
  return rc < 0 ? rc : 0;
}

#define SESSION_COLUMNS "id, event_id, title, speaker, start_time, end_time, description"
#define TICKET_COLUMNS "id, event_id, name, price_cents, quantity, confirmed_count"

int
events_attach_nested(db_t *db, struct event *list, size_t count, arena_t *arena)
{
  if (count == 0)
    return 0;
  /* The page's ids as a JSON array, expanded by json_each in one query. */
  json_t *ids = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(ids, json_integer(list[i].id));
  char *ids_text = json_dumps(ids, JSON_COMPACT);
  json_decref(ids);
  if (ids_text == NULL)
    return EVENTAPI_ENOMEM;
  int rc = EVENTAPI_EDB;
  db_stmt_t *st = db_prepare(db,
      "SELECT " SESSION_COLUMNS " FROM event_sessions"
      " WHERE event_id IN " DB_ID_LIST
      " ORDER BY event_id, start_time, id");
  if (st) {
    db_bind_text(st, 1, ids_text);
    rc = attach(st, list, count, arena, true);
  }
  if (rc == 0) {
    st = db_prepare(db,
        "SELECT " TICKET_COLUMNS " FROM ticket_types"
        " WHERE event_id IN " DB_ID_LIST
        " ORDER BY event_id, id");
    rc = EVENTAPI_EDB;
    if (st) {
      db_bind_text(st, 1, ids_text);
      rc = attach(st, list, count, arena, false);
    }
  }
  free(ids_text);
  return rc;
}

int
events_get(db_t *db, int64_t id, arena_t *arena, struct event *out)
{
  /* In a write transaction the event stays as read until the commit: its
   * counts are checked, then changed. */
  db_stmt_t *st = db_prepare(db, "SELECT " EVENTS_COLUMNS " FROM events WHERE id = ?"
                                 DB_FOR_WRITE);
  if (st)
    db_bind_int(st, 1, id);
  int rc = db_row(st, events_read_row, arena, out);
  if (rc < 0)
    return rc;
  return events_attach_nested(db, out, 1, arena);
}

int
events_can_see(db_t *db, const struct event *e, const struct principal *who, bool *visible)
{
  *visible = events_may_see(who, e->visibility, e->organizer_id, false);
  if (*visible || who == NULL)
    return 0;
  /* The one fact that takes a query: is who a registrant, or its staff? */
  bool insider = false;
  db_stmt_t *st = db_prepare(db, "SELECT 1 FROM events WHERE id = ?"
                                 " AND (" EVENTS_SQL_REGISTRANT_OF("events") " OR " EVENTS_SQL_STAFF ")");
  if (st) {
    db_bind_int(st, 1, e->id);
    db_bind_int(st, 2, who->id);
    db_bind_int(st, 3, who->id);
  }
  int rc = db_exists(st, &insider);
  *visible = events_may_see(who, e->visibility, e->organizer_id, insider);
  return rc;
}

int
events_search_keys(const struct event *e, char **search, char **location_key)
{
  size_t len = strlen(e->title) + strlen(e->description) + strlen(e->location) + 3;
  char *joined = malloc(len);
  if (joined == NULL)
    return EVENTAPI_ENOMEM;
  snprintf(joined, len, "%s\n%s\n%s", e->title, e->description, e->location);
  *search = text_fold(joined);
  *location_key = text_fold(e->location);
  free(joined);
  if (*search == NULL || *location_key == NULL) {
    free(*search);
    free(*location_key);
    return EVENTAPI_ENOMEM;
  }
  return 0;
}

static void
bind_category(db_stmt_t *st, int idx, int64_t category_id)
{
  if (category_id)
    db_bind_int(st, idx, category_id);
  else
    db_bind_null(st, idx);
}

/* waitlist_offer_hours: NULL for none (0). */
static void
bind_hours(db_stmt_t *st, int idx, int64_t hours)
{
  if (hours)
    db_bind_int(st, idx, hours);
  else
    db_bind_null(st, idx);
}

int
events_insert(db_t *db, struct event *e)
{
  char *search, *location_key;
  int rc = events_search_keys(e, &search, &location_key);
  if (rc < 0)
    return rc;
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO events (title, description, date_time, location, capacity, created_at,"
      " organizer_id, visibility, image, category_id, search_text, location_key, timezone,"
      " waitlist_offer_hours)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, version");
  rc = EVENTAPI_EDB;
  if (st) {
    db_bind_text(st, 1, e->title);
    db_bind_text(st, 2, e->description);
    db_bind_int(st, 3, e->date_time);
    db_bind_text(st, 4, e->location);
    db_bind_int(st, 5, e->capacity);
    db_bind_int(st, 6, e->created_at);
    db_bind_int(st, 7, e->organizer_id);
    db_bind_text(st, 8, events_visibility_name(e->visibility));
    db_bind_text(st, 9, e->image);
    bind_category(st, 10, e->category_id);
    db_bind_text(st, 11, search);
    db_bind_text(st, 12, location_key);
    db_bind_text(st, 13, e->timezone ? e->timezone : "UTC");
    bind_hours(st, 14, e->waitlist_offer_hours);
    rc = db_step(st);
    if (rc == DB_ROW) {
      e->id = db_column_int(st, 0);
      e->version = db_column_int(st, 1);
      rc = 0;
    } else if (rc == DB_DONE) {
      rc = EVENTAPI_EDB;
    }
    db_reset(st);
  }
  free(search);
  free(location_key);
  for (size_t i = 0; rc == 0 && i < e->nsessions; i++) {
    e->sessions[i].event_id = e->id;
    rc = events_sessions_insert(db, &e->sessions[i]);
  }
  for (size_t i = 0; rc == 0 && i < e->nticket_types; i++) {
    e->ticket_types[i].event_id = e->id;
    rc = events_ticket_types_insert(db, &e->ticket_types[i]);
  }
  return rc;
}

int
events_update(db_t *db, const struct event *e)
{
  char *search, *location_key;
  int rc = events_search_keys(e, &search, &location_key);
  if (rc < 0)
    return rc;
  db_stmt_t *st = db_prepare(db,
      "UPDATE events SET title = ?, description = ?, date_time = ?, location = ?,"
      " capacity = ?, visibility = ?, category_id = ?, search_text = ?, location_key = ?,"
      " timezone = ?, waitlist_offer_hours = ?, version = version + 1 WHERE id = ?");
  rc = EVENTAPI_EDB;
  if (st) {
    db_bind_text(st, 1, e->title);
    db_bind_text(st, 2, e->description);
    db_bind_int(st, 3, e->date_time);
    db_bind_text(st, 4, e->location);
    db_bind_int(st, 5, e->capacity);
    db_bind_text(st, 6, events_visibility_name(e->visibility));
    bind_category(st, 7, e->category_id);
    db_bind_text(st, 8, search);
    db_bind_text(st, 9, location_key);
    db_bind_text(st, 10, e->timezone ? e->timezone : "UTC");
    bind_hours(st, 11, e->waitlist_offer_hours);
    db_bind_int(st, 12, e->id);
    rc = db_step(st);
    db_reset(st);
  }
  free(search);
  free(location_key);
  return rc < 0 ? rc : 0;
}

int
events_touch(db_t *db, int64_t id)
{
  return db_exec(db, "UPDATE events SET version = version + 1 WHERE id = ?", NULL, "i", id);
}

int
events_delete_row(db_t *db, int64_t id, arena_t *arena, const char **image)
{
  *image = NULL;
  db_stmt_t *st = db_prepare(db, "DELETE FROM events WHERE id = ? RETURNING image");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, id);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    bool failed = false;
    *image = db_column_text_dup(st, 0, arena, &failed);
    rc = failed ? EVENTAPI_ENOMEM : 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_ENOTFOUND;
  }
  db_reset(st);
  return rc;
}

int
events_set_image(db_t *db, int64_t id, const char *image)
{
  return db_exec(db, "UPDATE events SET image = ?, version = version + 1 WHERE id = ?",
                 NULL, "si", image, id);
}

/* ---- sessions and ticket types ---- */

int
events_sessions_insert(db_t *db, struct session *s)
{
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO event_sessions (event_id, title, speaker, start_time, end_time, description)"
      " VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, s->event_id);
  db_bind_text(st, 2, s->title);
  db_bind_text(st, 3, s->speaker);
  db_bind_int(st, 4, s->start_time);
  db_bind_int(st, 5, s->end_time);
  db_bind_text(st, 6, s->description);
  int rc = db_step_id(st, &s->id);
  return rc;
}

int
events_sessions_update(db_t *db, const struct session *s)
{
  int changes = 0;
  int rc = db_exec(db,
      "UPDATE event_sessions SET title = ?, speaker = ?, start_time = ?, end_time = ?,"
      " description = ? WHERE id = ? AND event_id = ?",
      &changes, "ssiisii", s->title, s->speaker, s->start_time, s->end_time, s->description,
      s->id, s->event_id);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

static int
delete_child(db_t *db, const char *sql, int64_t event_id, int64_t id)
{
  int changes = 0;
  int rc = db_exec(db, sql, &changes, "ii", id, event_id);
  if (rc == 0 && changes == 0)
    rc = EVENTAPI_ENOTFOUND;
  return rc;
}

int
events_sessions_delete(db_t *db, int64_t event_id, int64_t id)
{
  return delete_child(db, "DELETE FROM event_sessions WHERE id = ? AND event_id = ?",
                      event_id, id);
}

int
events_ticket_types_insert(db_t *db, struct ticket_type *t)
{
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO ticket_types (event_id, name, price_cents, quantity)"
      " VALUES (?, ?, ?, ?) RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, t->event_id);
  db_bind_text(st, 2, t->name);
  db_bind_int(st, 3, t->price_cents);
  db_bind_int(st, 4, t->quantity);
  int rc = db_step_id(st, &t->id);
  return rc;
}

int
events_ticket_types_update(db_t *db, const struct ticket_type *t)
{
  int changes = 0;
  int rc = db_exec(db,
      "UPDATE ticket_types SET name = ?, price_cents = ?, quantity = ?"
      " WHERE id = ? AND event_id = ?",
      &changes, "siiii", t->name, t->price_cents, t->quantity, t->id, t->event_id);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

int
events_ticket_types_delete(db_t *db, int64_t event_id, int64_t id)
{
  return delete_child(db, "DELETE FROM ticket_types WHERE id = ? AND event_id = ?",
                      event_id, id);
}

int
events_ticket_types_in_use(db_t *db, int64_t id, bool *in_use)
{
  /* API.md: a ticket type that holds registrations (confirmed or waiting). */
  db_stmt_t *st = db_prepare(db, "SELECT 1 FROM registrations"
                                 " WHERE ticket_type_id = ? AND cancelled_at IS NULL LIMIT 1");
  if (st)
    db_bind_int(st, 1, id);
  return db_exists(st, in_use);
}
