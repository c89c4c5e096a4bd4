/*
 * models.h - categories, events, sessions and ticket types: the structs and
 * every SQL statement for them.
 *
 * Strings of structs read from the database live in the arena passed to the
 * reading function. Writing functions run inside the caller's write
 * transaction and bump the event's version whenever its JSON changes.
 */
#ifndef EVENTAPI_EVENTS_MODELS_H
#define EVENTAPI_EVENTS_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "db/db.h"

#define EVENT_TITLE_MAX 255
#define EVENT_LOCATION_MAX 255
#define SESSION_TITLE_MAX 255
#define SESSION_SPEAKER_MAX 255
#define TICKET_NAME_MAX 50
#define TICKET_PRICE_MAX 99999999 /* cents: 999999.99 */
#define CATEGORY_NAME_MAX 100
#define CATEGORY_SLUG_MAX 100
#define EVENT_NESTED_MAX 100 /* sessions, and ticket types, per event */
#define EVENT_OFFER_HOURS_MAX 720 /* a waitlist offer is held at most 30 days */

enum visibility { VISIBILITY_PUBLIC, VISIBILITY_PRIVATE };

struct category {
  int64_t id;
  const char *name;
  const char *slug;
};

struct session {
  int64_t id;
  int64_t event_id;
  const char *title;
  const char *speaker;
  int64_t start_time;
  int64_t end_time;
  const char *description;
};

struct ticket_type {
  int64_t id;
  int64_t event_id;
  const char *name;
  int64_t price_cents;
  int64_t quantity;        /* 0: unlimited */
  int64_t confirmed_count;
};

struct event {
  int64_t id;
  const char *title;
  const char *description;
  int64_t date_time;
  const char *location;
  int64_t capacity;        /* 0: unlimited */
  int64_t confirmed_count;
  int64_t created_at;
  int64_t organizer_id;
  enum visibility visibility;
  const char *image;       /* file name under MEDIA_ROOT, or NULL */
  int64_t category_id;     /* 0: none */
  int64_t version;
  const char *timezone;    /* an IANA name (events/timezone.h): "UTC" by default */
  int64_t waitlist_offer_hours; /* 0: a freed place goes to the next in line at once */
  struct session *sessions;
  size_t nsessions;
  struct ticket_type *ticket_types;
  size_t nticket_types;
};

/* The folded columns an event is searched and filtered by (search_text,
 * location_key) of its title, description and location: *search and
 * *location_key, malloc'd. 0 or EVENTAPI_ENOMEM. */
int events_search_keys(const struct event *e, char **search, char **location_key);

const char *events_visibility_name(enum visibility v);
int events_visibility_parse(const char *name, enum visibility *out);

/* ---- categories ---- */

/* All categories ordered by name. */
int events_categories_list(db_t *db, arena_t *arena, struct category **out, size_t *count);
/* 0, EVENTAPI_ENOTFOUND or a database error. */
int events_categories_get(db_t *db, int64_t id, arena_t *arena, struct category *out);
int events_categories_get_by_slug(db_t *db, const char *slug, arena_t *arena, struct category *out);
/*
 * Whether another category (not except_id) has the name (case-insensitively)
 * / slug: 0 with the answer in *found, or a database error.
 */
int events_categories_name_taken(db_t *db, const char *name, int64_t except_id, bool *found);
int events_categories_slug_taken(db_t *db, const char *slug, int64_t except_id, bool *found);
/* Inserts c and sets c->id; EVENTAPI_ECONSTRAINT when name or slug is taken. */
int events_categories_insert(db_t *db, struct category *c);
int events_categories_update(db_t *db, const struct category *c);
/* Deletes the category; its events get no category (and a new version). */
int events_categories_delete(db_t *db, int64_t id);

/* ---- events ---- */

/*
 * Reads the event columns of a row selected with EVENTS_COLUMNS (no nested
 * items), and fetches the sessions and ticket types of a whole list of
 * events in two queries.
 */
#define EVENTS_COLUMNS                                                         \
  "id, title, description, date_time, location, capacity, confirmed_count,"    \
  " created_at, organizer_id, visibility, image, category_id, version, timezone,"     \
  " waitlist_offer_hours"
int events_read_row(db_stmt_t *st, arena_t *arena, void *e); /* a db_row_fn: struct event */
int events_attach_nested(db_t *db, struct event *list, size_t count, arena_t *arena);

/*
 * Reads event id with its sessions (by start_time, id) and ticket types (by
 * id). 0, EVENTAPI_ENOTFOUND or a database error.
 */
int events_get(db_t *db, int64_t id, arena_t *arena, struct event *out);

/*
 * Whether who (NULL: anonymous) may see event e, by the visibility rule
 * (events/rules.h): 0 with the answer in *visible, or a database error.
 * A query only for a private event that who may not change.
 */
int events_can_see(db_t *db, const struct event *e, const struct principal *who, bool *visible);

/* Inserts e with its sessions and ticket types; sets every id. */
int events_insert(db_t *db, struct event *e);

/* Writes the event's own fields (not the nested ones) and bumps its version. */
int events_update(db_t *db, const struct event *e);

/* Bumps the version of event id (after a nested change). */
int events_touch(db_t *db, int64_t id);

/*
 * Deletes the event's row (sessions, ticket types and registrations go with
 * it). *image receives its image file name as it was at deletion (NULL:
 * none), for the caller to remove after the commit. The events app's
 * deletion, signal included, is events_delete() (changes.h).
 */
int events_delete_row(db_t *db, int64_t id, arena_t *arena, const char **image);

/*
 * Sets the event's image file name (NULL removes it) and bumps its version.
 * The caller removes the old file after the commit.
 */
int events_set_image(db_t *db, int64_t id, const char *image);

/* ---- sessions and ticket types (of one event) ---- */

int events_sessions_insert(db_t *db, struct session *s);
int events_sessions_update(db_t *db, const struct session *s);
/* EVENTAPI_ENOTFOUND unless session id belongs to event_id. */
int events_sessions_delete(db_t *db, int64_t event_id, int64_t id);

int events_ticket_types_insert(db_t *db, struct ticket_type *t); /* ECONSTRAINT: name taken */
int events_ticket_types_update(db_t *db, const struct ticket_type *t);
int events_ticket_types_delete(db_t *db, int64_t event_id, int64_t id);
/*
 * Whether registrations hold ticket type id (then it cannot be deleted): 0
 * with the answer in *in_use, or a database error.
 */
int events_ticket_types_in_use(db_t *db, int64_t id, bool *in_use);

#endif
