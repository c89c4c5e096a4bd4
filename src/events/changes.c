/*
 * changes.c - the events app's changes under the write lock (see changes.h).
 */
#include "events/changes.h"

#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "events/signals.h"
#include "http/media.h"
#include "users/signals.h"

/* ---- categories ---- */

static const char CATEGORY_NAME_TAKEN[] = "category with this name already exists.";
static const char CATEGORY_SLUG_TAKEN[] = "category with this slug already exists.";

/*
 * Checks name and slug against the other categories; a slug made from the
 * name gets "-2", "-3"... when taken.
 */
static int
category_unique(db_t *db, struct category *c, bool slug_made, json_t *errors, arena_t *arena)
{
  bool taken = false;
  int rc = events_categories_name_taken(db, c->name, c->id, &taken);
  if (rc < 0)
    return rc;
  if (taken)
    json_error_add(errors, "name", CATEGORY_NAME_TAKEN);
  const char *base = c->slug;
  for (int n = 2; (rc = events_categories_slug_taken(db, c->slug, c->id, &taken)) == 0 && taken;
       n++) {
    if (!slug_made) {
      json_error_add(errors, "slug", CATEGORY_SLUG_TAKEN);
      return 0;
    }
    c->slug = arena_printf(arena, "%s-%d", base, n);
    if (c->slug == NULL)
      return EVENTAPI_ENOMEM;
  }
  return rc;
}

int
events_categories_save(db_t *db, struct category *c, const char *wanted, bool slug_made,
                       json_t *errors, arena_t *arena)
{
  json_object_clear(errors); /* a unit may run again */
  c->slug = wanted;
  int rc = category_unique(db, c, slug_made, errors, arena);
  if (rc < 0)
    return rc;
  if (json_errors_any(errors))
    return EVENTAPI_EINVAL;
  rc = c->id ? events_categories_update(db, c) : events_categories_insert(db, c);
  if (rc == EVENTAPI_ECONSTRAINT && slug_made)
    return EVENTAPI_EBUSY; /* another node took the slug just made: again, numbered anew */
  if (rc == EVENTAPI_ECONSTRAINT) {  /* lost a race with another node */
    json_error_add(errors, "name", CATEGORY_NAME_TAKEN);
    return EVENTAPI_EINVAL;
  }
  return rc;
}

/* ---- events ---- */

/* Tells the other apps that places may have opened (API.md: promotion). */
static int
places_opened(db_t *db, int64_t event_id, arena_t *arena)
{
  return signal_send(&events_places_opened, db, &(struct events_places){event_id, arena});
}

/* Tells the other apps that the event as the API shows it changed. */
static int
touched(db_t *db, int64_t event_id, arena_t *arena)
{
  return signal_send(&events_updated, db, &(struct events_touched){event_id, arena});
}

static bool
more_places(int64_t old_limit, int64_t new_limit)
{
  return old_limit != 0 && (new_limit == 0 || new_limit > old_limit);
}

/* API.md: lowering capacity below the confirmed registrations is 400. */
static void
check_capacity(const struct event *e, int64_t confirmed, json_t *errors, arena_t *arena)
{
  if (e->capacity != 0 && e->capacity < confirmed)
    json_error_add(errors, "capacity", arena_printf(arena,
        "Capacity cannot be lower than the number of confirmed registrations (%lld).",
        (long long)confirmed));
}

static const struct ticket_type *
find_ticket_type(const struct event *e, int64_t id, const char *name)
{
  for (size_t i = 0; i < e->nticket_types; i++)
    if ((id && e->ticket_types[i].id == id) ||
        (!id && name && strcmp(e->ticket_types[i].name, name) == 0))
      return &e->ticket_types[i];
  return NULL;
}

/*
 * API.md's synchronisation of nested items on update: matched (by id, else
 * ticket types by name) items are updated, unmatched ones created, existing
 * ones left out deleted; a ticket type that holds registrations cannot be
 * deleted (409). Returns 0, a database error, or EVENTAPI_ECONFLICT with the
 * name of the ticket type in *in_use; item errors go to errors.
 */
static int
sync_nested(db_t *db, const struct event *old, struct event_nested *nested, json_t *errors,
            arena_t *arena, const char **in_use)
{
  int rc = 0;
  if (nested->ticket_types_given) {
    bool *kept = arena_calloc(arena, old->nticket_types + 1, sizeof *kept);
    json_t *item_errors = json_array();
    bool any = false;
    /* Matched by id first, then by name among the items left. */
    const struct ticket_type **matches =
        arena_calloc(arena, nested->nticket_types + 1, sizeof *matches);
    for (size_t i = 0; kept && matches && i < nested->nticket_types; i++) {
      const struct ticket_type *match = find_ticket_type(old, nested->ticket_types[i].id, NULL);
      if (match && !kept[match - old->ticket_types]) {
        matches[i] = match;
        kept[match - old->ticket_types] = true;
      }
    }
    for (size_t i = 0; kept && matches && i < nested->nticket_types; i++) {
      for (size_t j = 0; !matches[i] && j < old->nticket_types; j++) {
        if (!kept[j] && strcmp(old->ticket_types[j].name, nested->ticket_types[i].name) == 0) {
          matches[i] = &old->ticket_types[j];
          kept[j] = true;
        }
      }
    }
    for (size_t i = 0; kept && matches && i < nested->nticket_types; i++) {
      struct ticket_type *t = &nested->ticket_types[i];
      const struct ticket_type *match = matches[i];
      json_t *errs = json_object();
      t->event_id = old->id;
      t->id = match ? match->id : 0;
      if (match) {
        if (t->quantity != 0 && t->quantity < match->confirmed_count)
          json_error_add(errs, "quantity", arena_printf(arena,
              "Quantity cannot be lower than the number of confirmed registrations (%lld).",
              (long long)match->confirmed_count));
      }
      any |= json_object_size(errs) > 0;
      json_array_append_new(item_errors, errs);
    }
    if (any)
      json_object_set(errors, "ticket_types", item_errors);
    json_decref(item_errors);
    if (kept == NULL || matches == NULL)
      return EVENTAPI_ENOMEM;
    if (json_errors_any(errors))
      return 0;
    for (size_t i = 0; rc == 0 && i < old->nticket_types; i++) {
      if (kept[i])
        continue;
      bool used = false;
      rc = events_ticket_types_in_use(db, old->ticket_types[i].id, &used);
      if (rc == 0 && used) {
        *in_use = old->ticket_types[i].name;
        return EVENTAPI_ECONFLICT;
      }
      if (rc == 0)
        rc = events_ticket_types_delete(db, old->id, old->ticket_types[i].id);
    }
    for (size_t i = 0; rc == 0 && i < nested->nticket_types; i++) {
      struct ticket_type *t = &nested->ticket_types[i];
      rc = t->id ? events_ticket_types_update(db, t) : events_ticket_types_insert(db, t);
    }
    if (rc == EVENTAPI_ECONSTRAINT) {
      json_t *list = json_object();
      json_error_add(list, "non_field_errors", "Ticket type names must be unique within an event.");
      json_object_set_new(errors, "ticket_types", list);
      return 0;
    }
  }
  if (rc == 0 && nested->sessions_given) {
    bool *kept = arena_calloc(arena, old->nsessions + 1, sizeof *kept);
    if (kept == NULL)
      return EVENTAPI_ENOMEM;
    for (size_t i = 0; i < nested->nsessions; i++) {
      struct session *s = &nested->sessions[i];
      s->event_id = old->id;
      size_t j;
      for (j = 0; j < old->nsessions && old->sessions[j].id != s->id; j++)
        ;
      if (s->id && j < old->nsessions)
        kept[j] = true;
      else
        s->id = 0;
    }
    for (size_t i = 0; rc == 0 && i < old->nsessions; i++)
      if (!kept[i])
        rc = events_sessions_delete(db, old->id, old->sessions[i].id);
    for (size_t i = 0; rc == 0 && i < nested->nsessions; i++) {
      struct session *s = &nested->sessions[i];
      rc = s->id ? events_sessions_update(db, s) : events_sessions_insert(db, s);
    }
  }
  return rc;
}

int
events_save(db_t *db, const struct event *e, struct event_nested *nested, json_t *errors,
            arena_t *arena, const char **in_use)
{
  json_object_clear(errors);
  *in_use = NULL;
  struct event old;
  int rc = events_get(db, e->id, arena, &old); /* its counts as they are now */
  if (rc < 0)
    return rc;
  check_capacity(e, old.confirmed_count, errors, arena);
  if (!json_errors_any(errors))
    rc = sync_nested(db, &old, nested, errors, arena, in_use);
  if (rc == 0 && json_errors_any(errors))
    return EVENTAPI_EINVAL;
  if (rc == 0)
    rc = events_update(db, e);
  if (rc == 0)
    rc = signal_send(&events_changed, db, &(struct events_change){&old, e, arena});
  if (rc == 0)
    rc = touched(db, e->id, arena);
  /* Any raised limit (event or ticket type) may let the waitlist in. */
  if (rc == 0)
    rc = places_opened(db, e->id, arena);
  return rc;
}

static void
remove_image_file(void *name)
{
  media_remove(config->media_root, name);
}

int
events_create(db_t *db, struct event *e, arena_t *arena)
{
  int rc = events_insert(db, e);
  if (rc == 0)
    rc = signal_send(&events_created, db, &(struct events_touched){e->id, arena});
  return rc;
}

int
events_delete(db_t *db, int64_t id, arena_t *arena)
{
  struct event e;
  int rc = events_get(db, id, arena, &e); /* as it is now */
  if (rc == 0)
    rc = signal_send(&events_deleting, db, &(struct events_deletion){&e, arena});
  const char *image = NULL;
  if (rc == 0)
    rc = events_delete_row(db, id, arena, &image);
  if (rc == 0 && image)
    rc = db_on_commit(db, remove_image_file, (char *)image);
  return rc;
}

int
events_image_swap(db_t *db, int64_t event_id, const char *image, arena_t *arena,
                  struct event *updated)
{
  struct event current;
  int rc = events_get(db, event_id, arena, &current);
  if (rc == 0 && (current.image != NULL || image != NULL)) {
    rc = events_set_image(db, event_id, image);
    if (rc == 0)
      rc = touched(db, event_id, arena);
  }
  if (rc == 0)
    rc = events_get(db, event_id, arena, updated);
  if (rc == 0 && current.image)
    rc = db_on_commit(db, remove_image_file, (char *)current.image);
  return rc;
}

int
events_on_user_deleting(db_t *db, const void *payload)
{
  const struct users_deletion *deletion = payload;
  int64_t *ids;
  size_t count;
  int rc = db_ints(db, "SELECT id FROM events WHERE organizer_id = ? ORDER BY id" DB_FOR_WRITE,
                   deletion->user_id, deletion->arena, &ids, &count);
  for (size_t i = 0; rc == 0 && i < count; i++) {
    rc = events_delete(db, ids[i], deletion->arena);
    if (rc == EVENTAPI_ENOTFOUND)
      rc = 0; /* gone meanwhile */
  }
  return rc;
}

/* ---- ticket types and sessions of one event ---- */

int
events_ticket_types_save(db_t *db, struct ticket_type *t, int64_t old_quantity,
                         json_t *errors, arena_t *arena)
{
  json_object_clear(errors);
  int rc = 0;
  if (t->id) {
    struct event fresh;
    if ((rc = events_get(db, t->event_id, arena, &fresh)) < 0)
      return rc;
    const struct ticket_type *now = find_ticket_type(&fresh, t->id, NULL);
    if (now == NULL)
      return EVENTAPI_ENOTFOUND;
    /* API.md: a quantity never below the confirmed registrations. */
    if (t->quantity != 0 && t->quantity < now->confirmed_count) {
      json_error_add(errors, "quantity", arena_printf(arena,
          "Quantity cannot be lower than the number of confirmed registrations (%lld).",
          (long long)now->confirmed_count));
      return EVENTAPI_EINVAL;
    }
  }
  int64_t id = t->id;
  rc = id ? events_ticket_types_update(db, t) : events_ticket_types_insert(db, t);
  if (rc == EVENTAPI_ECONSTRAINT) {
    json_error_add(errors, "name", "Ticket type names must be unique within an event.");
    t->id = id;
    return EVENTAPI_EINVAL;
  }
  if (rc == 0)
    rc = events_touch(db, t->event_id);
  if (rc == 0)
    rc = touched(db, t->event_id, arena);
  if (rc == 0 && id && more_places(old_quantity, t->quantity))
    rc = places_opened(db, t->event_id, arena);
  if (rc < 0)
    t->id = id; /* a unit may run again: as it came */
  return rc;
}

int
events_ticket_types_remove(db_t *db, int64_t event_id, int64_t id, arena_t *arena)
{
  bool used = false;
  int rc = events_ticket_types_in_use(db, id, &used);
  if (rc == 0 && used)
    return EVENTAPI_ECONFLICT;
  if (rc == 0)
    rc = events_ticket_types_delete(db, event_id, id);
  if (rc == 0)
    rc = events_touch(db, event_id);
  return rc < 0 ? rc : touched(db, event_id, arena);
}

int
events_sessions_save(db_t *db, struct session *s, arena_t *arena)
{
  int64_t id = s->id;
  int rc = id ? events_sessions_update(db, s) : events_sessions_insert(db, s);
  if (rc == 0)
    rc = events_touch(db, s->event_id);
  if (rc == 0)
    rc = touched(db, s->event_id, arena);
  if (rc < 0)
    s->id = id; /* a unit may run again: as it came */
  return rc;
}

int
events_sessions_remove(db_t *db, int64_t event_id, int64_t id, arena_t *arena)
{
  int rc = events_sessions_delete(db, event_id, id);
  if (rc == 0)
    rc = events_touch(db, event_id);
  return rc < 0 ? rc : touched(db, event_id, arena);
}
