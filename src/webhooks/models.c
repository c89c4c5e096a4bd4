/*
 * models.c - webhooks (see models.h).
 */
#include "webhooks/models.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/timefmt.h"

static const char *const type_names[] = {
#define X(name, text) text,
  WEBHOOKS_TYPES(X)
#undef X
};

_Static_assert(sizeof type_names / sizeof type_names[0] == WEBHOOKS_NTYPES,
               "a name for every type");
_Static_assert(WEBHOOKS_NTYPES < 63, "the types fit in the events column's bits");

const char *
webhooks_type_name(enum webhooks_type type)
{
  return (unsigned)type < WEBHOOKS_NTYPES ? type_names[type] : "";
}

int
webhooks_type_parse(const char *name, enum webhooks_type *out)
{
  for (unsigned i = 0; i < WEBHOOKS_NTYPES; i++) {
    if (strcmp(type_names[i], name) == 0) {
      *out = (enum webhooks_type)i;
      return 0;
    }
  }
  return EVENTAPI_EINVAL;
}

void
webhooks_secret_new(char out[WEBHOOKS_SECRET_LEN + 1])
{
  unsigned char key[WEBHOOKS_SECRET_BYTES];
  randombytes_buf(key, sizeof key);
  memcpy(out, "whsec_", 6);
  sodium_bin2base64(out + 6, WEBHOOKS_SECRET_LEN + 1 - 6, key, sizeof key,
                    sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(key, sizeof key);
}

#define WEBHOOK_COLUMNS                                                          \
  "w.id, w.owner_id, w.url, w.events, w.event_id, w.description, w.is_active,"   \
  " w.base_url, w.created_at, w.updated_at, w.active_since, w.failing_since,"    \
  " w.disabled_at"

/* The row st is on (WEBHOOK_COLUMNS) into out, a struct webhook (a db_row_fn). */
static int
read_webhook(db_stmt_t *st, arena_t *arena, void *out)
{
  struct webhook *w = out;
  bool failed = false;
  memset(w, 0, sizeof *w);
  w->id = db_column_int(st, 0);
  w->owner_id = db_column_int(st, 1);
  w->url = db_column_text_dup(st, 2, arena, &failed);
  w->events = db_column_int(st, 3);
  w->event_id = db_column_int_or(st, 4, 0);
  w->description = db_column_text_dup(st, 5, arena, &failed);
  w->is_active = db_column_int(st, 6) != 0;
  w->base_url = db_column_text_dup(st, 7, arena, &failed);
  w->created_at = db_column_int(st, 8);
  w->updated_at = db_column_int(st, 9);
  w->active_since = db_column_int(st, 10);
  w->failing_since = db_column_int_or(st, 11, 0);
  w->disabled_at = db_column_int_or(st, 12, 0);
  return failed ? EVENTAPI_ENOMEM : 0;
}

int
webhooks_insert(db_t *db, struct webhook *w, const char *secret)
{
  int64_t owned = 0;
  db_stmt_t *count = db_prepare(db, "SELECT count(*) FROM webhooks WHERE owner_id = ?");
  if (count)
    db_bind_int(count, 1, w->owner_id);
  int rc = db_int(count, &owned);
  if (rc < 0)
    return rc;
  if (owned >= WEBHOOKS_PER_USER_MAX)
    return EVENTAPI_ECONFLICT;
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO webhooks (owner_id, url, events, event_id, description, is_active, secret,"
      " base_url, created_at, updated_at, active_since)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, w->owner_id);
  db_bind_text(st, 2, w->url);
  db_bind_int(st, 3, w->events);
  if (w->event_id)
    db_bind_int(st, 4, w->event_id);
  else
    db_bind_null(st, 4);
  db_bind_text(st, 5, w->description);
  db_bind_int(st, 6, w->is_active);
  db_bind_text(st, 7, secret);
  db_bind_text(st, 8, w->base_url);
  db_bind_int(st, 9, w->created_at);
  db_bind_int(st, 10, w->updated_at);
  db_bind_int(st, 11, w->active_since);
  return db_step_id(st, &w->id);
}

int
webhooks_get(db_t *db, int64_t id, arena_t *arena, struct webhook *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " WEBHOOK_COLUMNS " FROM webhooks w WHERE w.id = ?");
  if (st)
    db_bind_int(st, 1, id);
  return db_row(st, read_webhook, arena, out);
}

int
webhooks_list(db_t *db, int64_t owner_id, int64_t limit, int64_t offset, arena_t *arena,
              struct webhook **out, size_t *count, int64_t *total)
{
  void *items;
  int rc = db_page(db, "SELECT count(*) FROM webhooks WHERE ? = 0 OR owner_id = ?",
                   "SELECT " WEBHOOK_COLUMNS " FROM webhooks w"
                   " WHERE ? = 0 OR w.owner_id = ? ORDER BY w.id LIMIT ? OFFSET ?",
                   limit, offset, read_webhook, sizeof **out, arena, &items, count, total, "ii",
                   owner_id, owner_id);
  *out = items;
  return rc;
}

int
webhooks_update(db_t *db, const struct webhook *w)
{
  /* Turned active again: its failures so far are forgiven (SQL reads the
   * row as it was on every right-hand side). */
  int changes = 0;
  int64_t active = w->is_active;
  int rc = db_exec(db, "UPDATE webhooks SET url = ?, events = ?, description = ?,"
                       " active_since = CASE WHEN is_active = 0 AND ? = 1 THEN ?"
                       " ELSE active_since END,"
                       " failing_since = CASE WHEN is_active = 0 AND ? = 1 THEN NULL"
                       " ELSE failing_since END,"
                       " disabled_at = CASE WHEN is_active = 0 AND ? = 1 THEN NULL"
                       " ELSE disabled_at END,"
                       " is_active = ?, updated_at = ? WHERE id = ?",
                   &changes, "sisiiiiiii", w->url, w->events, w->description, active,
                   w->updated_at, active, active, active, w->updated_at, w->id);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

int
webhooks_set_failing(db_t *db, int64_t id, int64_t failing_since)
{
  return db_exec(db, "UPDATE webhooks SET failing_since = NULLIF(?, 0)"
                     " WHERE id = ? AND is_active = 1", NULL, "ii", failing_since, id);
}

int
webhooks_disable(db_t *db, int64_t id, int64_t failing_since, int64_t now, bool *disabled)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE webhooks SET is_active = 0, failing_since = ?, disabled_at = ?,"
                       " updated_at = ? WHERE id = ? AND is_active = 1",
                   &changes, "iiii", failing_since, now, now, id);
  *disabled = rc == 0 && changes == 1;
  return rc;
}

int
webhooks_delete(db_t *db, int64_t id)
{
  int changes = 0;
  int rc = db_exec(db, "DELETE FROM webhooks WHERE id = ?", &changes, "i", id);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

int
webhooks_rotate(db_t *db, int64_t id, const char *secret, int64_t now)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE webhooks SET previous_secret = secret, previous_until = ?,"
                       " secret = ?, updated_at = ? WHERE id = ?",
                   &changes, "isii", now + WEBHOOKS_ROTATION_US, secret, now, id);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

int
webhooks_keys(db_t *db, int64_t ref, arena_t *arena, struct delivery_webhook_keys *keys,
              char *err, size_t errlen)
{
  /* A user made inactive loses their webhooks' deliveries, queued ones too. */
  db_stmt_t *st = db_prepare(db, "SELECT CASE WHEN w.is_active = 1 AND u.is_active = 1"
                                 " THEN 1 ELSE 0 END, w.secret,"
                                 " w.previous_secret, w.previous_until"
                                 " FROM webhooks w JOIN users u ON u.id = w.owner_id"
                                 " WHERE w.id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, ref);
  int rc = db_step(st);
  if (rc == DB_DONE) {
    snprintf(err, errlen, "webhook %" PRId64 " is gone", ref);
    rc = EVENTAPI_ENOTFOUND;
  } else if (rc == DB_ROW && db_column_int(st, 0) == 0) {
    snprintf(err, errlen, "webhook %" PRId64 " or its owner is not active", ref);
    rc = EVENTAPI_ENOTFOUND;
  } else if (rc == DB_ROW) {
    bool failed = false;
    keys->secrets[keys->count++] = db_column_text_dup(st, 1, arena, &failed);
    /* A rotation's previous secret signs too, until its day is over. */
    if (!db_column_is_null(st, 2) && db_column_int_or(st, 3, 0) > time_now_us())
      keys->secrets[keys->count++] = db_column_text_dup(st, 2, arena, &failed);
    rc = failed ? EVENTAPI_ENOMEM : 0;
  }
  db_reset(st);
  return rc;
}

int
webhooks_any_wanting(db_t *db, enum webhooks_type type, bool *any)
{
  db_stmt_t *st = db_prepare(db, "SELECT 1 FROM webhooks"
                                 " WHERE is_active = 1 AND (events & ?) <> 0 LIMIT 1");
  if (st)
    db_bind_int(st, 1, WEBHOOKS_BIT(type));
  return db_exists(st, any);
}

int
webhooks_matching(db_t *db, enum webhooks_type type, int64_t event_id, int64_t organizer_id,
                  arena_t *arena, struct webhook **out, size_t *count)
{
  /* events/rules.h, ownership: the event's organizer and admins. */
  db_stmt_t *st = db_prepare(db,
      "SELECT " WEBHOOK_COLUMNS " FROM webhooks w JOIN users u ON u.id = w.owner_id"
      " WHERE w.is_active = 1 AND (w.events & ?) <> 0"
      " AND (w.event_id IS NULL OR w.event_id = ?)"
      " AND u.is_active = 1 AND (w.owner_id = ? OR u.role = 'admin') ORDER BY w.id");
  if (st) {
    db_bind_int(st, 1, WEBHOOKS_BIT(type));
    db_bind_int(st, 2, event_id);
    db_bind_int(st, 3, organizer_id);
  }
  void *items;
  int rc = db_rows(st, read_webhook, sizeof **out, 0, arena, &items, count);
  *out = items;
  return rc;
}

int
webhooks_list_active(db_t *db, int64_t after_id, int64_t limit, arena_t *arena,
                     struct webhook **out, size_t *count)
{
  db_stmt_t *st = db_prepare(db, "SELECT " WEBHOOK_COLUMNS " FROM webhooks w"
                                 " WHERE w.is_active = 1 AND w.id > ? ORDER BY w.id LIMIT ?");
  if (st) {
    db_bind_int(st, 1, after_id);
    db_bind_int(st, 2, limit);
  }
  void *items;
  int rc = db_rows(st, read_webhook, sizeof **out, (size_t)limit, arena, &items, count);
  *out = items;
  return rc;
}
