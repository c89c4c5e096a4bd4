/*
 * staff.c - an event's staff (see staff.h).
 */
#include "events/staff.h"

#include "core/error.h"
#include "events/rules.h"

#define STAFF_COLUMNS                                                           \
  "s.id, s.event_id, s.user_id, u.username, u.email, s.can_export, s.added_by," \
  " s.created_at"
#define STAFF_FROM " FROM event_staff s JOIN users u ON u.id = s.user_id"

static int
read_staff(db_stmt_t *st, arena_t *arena, void *out)
{
  struct event_staff *s = out;
  s->id = db_column_int(st, 0);
  s->event_id = db_column_int(st, 1);
  s->user_id = db_column_int(st, 2);
  s->username = arena_strdup(arena, db_column_text(st, 3));
  s->email = arena_strdup(arena, db_column_text(st, 4));
  s->can_export = db_column_int(st, 5) != 0;
  s->added_by = db_column_int_or(st, 6, 0);
  s->created_at = db_column_int(st, 7);
  return s->username && s->email ? 0 : EVENTAPI_ENOMEM;
}

int
events_staff_insert(db_t *db, struct event_staff *s)
{
  /* A clash inserts nothing rather than failing, which would abort the
   * whole transaction on PostgreSQL. */
  db_stmt_t *st = db_prepare(db, "INSERT INTO event_staff"
                                 " (event_id, user_id, can_export, added_by, created_at)"
                                 " VALUES (?, ?, ?, ?, ?)"
                                 " ON CONFLICT (event_id, user_id) DO NOTHING RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, s->event_id);
  db_bind_int(st, 2, s->user_id);
  db_bind_int(st, 3, s->can_export);
  db_bind_int(st, 4, s->added_by);
  db_bind_int(st, 5, s->created_at);
  int rc = db_step(st);
  if (rc == DB_ROW)
    s->id = db_column_int(st, 0);
  db_reset(st);
  return rc == DB_ROW ? 0 : rc < 0 ? rc : EVENTAPI_ECONSTRAINT;
}

int
events_staff_get(db_t *db, int64_t event_id, int64_t user_id, arena_t *arena,
                 struct event_staff *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " STAFF_COLUMNS STAFF_FROM
                                 " WHERE s.event_id = ? AND s.user_id = ?");
  if (st) {
    db_bind_int(st, 1, event_id);
    db_bind_int(st, 2, user_id);
  }
  return db_row(st, read_staff, arena, out);
}

int
events_staff_door(db_t *db, int64_t event_id, int64_t organizer_id, const struct principal *who,
                  bool *may, bool *can_export)
{
  *may = *can_export = events_may_change(who, organizer_id);
  if (*may || who == NULL)
    return 0;
  bool can = false;
  db_stmt_t *st = db_prepare(db, "SELECT can_export FROM event_staff"
                                 " WHERE event_id = ? AND user_id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, event_id);
  db_bind_int(st, 2, who->id);
  int rc = db_step(st);
  if (rc == DB_ROW)
    can = db_column_int(st, 0) != 0;
  db_reset(st);
  if (rc < 0)
    return rc;
  *may = events_may_check_in(who, organizer_id, rc == DB_ROW);
  *can_export = *may && can;
  return 0;
}

int
events_staff_of_any(db_t *db, int64_t user_id, bool *any)
{
  db_stmt_t *st = db_prepare(db, "SELECT 1 FROM event_staff WHERE user_id = ? LIMIT 1");
  if (st)
    db_bind_int(st, 1, user_id);
  return db_exists(st, any);
}

int
events_staff_list(db_t *db, int64_t event_id, int64_t limit, int64_t offset, arena_t *arena,
                  struct event_staff **out, size_t *count, int64_t *total)
{
  void *list;
  int rc = db_page(db, "SELECT count(*) FROM event_staff WHERE event_id = ?",
                   "SELECT " STAFF_COLUMNS STAFF_FROM
                   " WHERE s.event_id = ? ORDER BY s.id LIMIT ? OFFSET ?",
                   limit, offset, read_staff, sizeof **out, arena, &list, count, total, "i",
                   event_id);
  *out = list;
  return rc;
}

int
events_staff_delete(db_t *db, int64_t event_id, int64_t user_id)
{
  int changes = 0;
  int rc = db_exec(db, "DELETE FROM event_staff WHERE event_id = ? AND user_id = ?", &changes,
                   "ii", event_id, user_id);
  return rc < 0 ? rc : changes == 1 ? 0 : EVENTAPI_ENOTFOUND;
}

static int
read_door(db_stmt_t *st, arena_t *arena, void *out)
{
  struct event_door *d = out;
  d->id = db_column_int(st, 0);
  d->title = arena_strdup(arena, db_column_text(st, 1));
  d->location = arena_strdup(arena, db_column_text(st, 2));
  d->date_time = db_column_int(st, 3);
  d->organizer = db_column_int(st, 4) != 0;
  d->can_export = d->organizer || db_column_int(st, 5) != 0;
  return d->title && d->location ? 0 : EVENTAPI_ENOMEM;
}

/* The events of the door list: the user's own and those they are staff of
 * (parameters: user, user, only_event, only_event). */
#define DOORS_WHERE                                                              \
  " WHERE (e.organizer_id = ? OR e.id IN (SELECT event_id FROM event_staff"     \
  " WHERE user_id = ?)) AND (? = 0 OR e.id = ?)"

static void
bind_doors(db_stmt_t *st, int first, int64_t user_id, int64_t only_event)
{
  db_bind_int(st, first, user_id);
  db_bind_int(st, first + 1, user_id);
  db_bind_int(st, first + 2, only_event);
  db_bind_int(st, first + 3, only_event);
}

int
events_staff_doors(db_t *db, int64_t user_id, int64_t only_event, int64_t now, int64_t limit,
                   int64_t offset, arena_t *arena, struct event_door **out, size_t *count,
                   int64_t *total)
{
  *out = NULL;
  *count = 0;
  db_stmt_t *st = db_prepare(db, "SELECT count(*) FROM events e" DOORS_WHERE);
  if (st)
    bind_doors(st, 1, user_id, only_event);
  int rc = db_int(st, total);
  if (rc < 0 || *total <= offset)
    return rc;
  st = db_prepare(db, "SELECT e.id, e.title, e.location, e.date_time,"
                      " CASE WHEN e.organizer_id = ? THEN 1 ELSE 0 END,"
                      " (SELECT coalesce(max(s.can_export), 0) FROM event_staff s"
                      "  WHERE s.event_id = e.id AND s.user_id = ?)"
                      " FROM events e" DOORS_WHERE
                      " ORDER BY abs(e.date_time - ?), e.id LIMIT ? OFFSET ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, user_id);
  db_bind_int(st, 2, user_id);
  bind_doors(st, 3, user_id, only_event);
  db_bind_int(st, 7, now);
  db_bind_int(st, 8, limit);
  db_bind_int(st, 9, offset);
  int64_t left = *total - offset;
  void *list = NULL;
  rc = db_rows(st, read_door, sizeof **out, (size_t)(left < limit ? left : limit), arena, &list,
               count);
  *out = list;
  return rc;
}
