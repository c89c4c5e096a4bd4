#include "notifications/models.h"

#include <string.h>

#include "core/error.h"

#define US_PER_SECOND INT64_C(1000000)

static const char *const kind_names[] = {
  [NOTIFY_CONFIRMED] = "registration_confirmed",
  [NOTIFY_WAITLISTED] = "registration_waitlisted",
  [NOTIFY_PROMOTED] = "registration_promoted",
  [NOTIFY_EVENT_UPDATED] = "event_updated",
  [NOTIFY_EVENT_CANCELLED] = "event_cancelled",
  [NOTIFY_REMINDER] = "event_reminder",
};

const char *
notification_kind_name(enum notification_kind kind)
{
  return kind_names[kind];
}

static enum notification_kind
kind_parse(const char *name)
{
  for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
    if (strcmp(kind_names[i], name) == 0)
      return (enum notification_kind)i;
  return NOTIFY_CONFIRMED; /* the CHECK-less column only ever holds the names above */
}

#define NOTIFICATION_COLUMNS                                                    \
  "n.id, n.user_id, n.kind, n.event_id, n.registration_id, n.reminder_offset,"  \
  " n.event_title, n.event_date_time, n.event_location, n.ticket_code,"         \
  " n.previous_date_time, n.previous_location, n.due_at, n.read_at, n.state,"   \
  " n.attempts, n.next_attempt_at, n.sent_at, n.last_error, n.message_id,"      \
  " u.email, u.username, u.first_name, u.last_name"
#define NOTIFICATION_FROM " FROM notifications n JOIN users u ON u.id = n.user_id"

static const char *
text_or_null(db_stmt_t *st, int col, arena_t *arena, bool *failed)
{
  if (db_column_is_null(st, col))
    return NULL;
  const char *s = arena_strdup(arena, db_column_text(st, col));
  if (s == NULL)
    *failed = true;
  return s;
}

static int64_t
int_or_zero(db_stmt_t *st, int col)
{
  return db_column_is_null(st, col) ? 0 : db_column_int(st, col);
}

static int
read_notification(db_stmt_t *st, arena_t *arena, struct notification *n)
{
  bool failed = false;
  memset(n, 0, sizeof *n);
  n->id = db_column_int(st, 0);
  n->user_id = db_column_int(st, 1);
  n->kind = kind_parse(db_column_text(st, 2));
  n->event_id = db_column_int(st, 3);
  n->registration_id = int_or_zero(st, 4);
  n->reminder_offset = db_column_int(st, 5);
  n->event_title = text_or_null(st, 6, arena, &failed);
  n->event_date_time = db_column_int(st, 7);
  n->event_location = text_or_null(st, 8, arena, &failed);
  n->ticket_code = text_or_null(st, 9, arena, &failed);
  n->has_previous = !db_column_is_null(st, 10);
  n->previous_date_time = int_or_zero(st, 10);
  n->previous_location = text_or_null(st, 11, arena, &failed);
  n->due_at = db_column_int(st, 12);
  n->read_at = int_or_zero(st, 13);
  n->state = text_or_null(st, 14, arena, &failed);
  n->attempts = db_column_int(st, 15);
  n->next_attempt_at = db_column_int(st, 16);
  n->sent_at = int_or_zero(st, 17);
  n->last_error = text_or_null(st, 18, arena, &failed);
  n->message_id = text_or_null(st, 19, arena, &failed);
  n->email = text_or_null(st, 20, arena, &failed);
  n->username = text_or_null(st, 21, arena, &failed);
  n->first_name = text_or_null(st, 22, arena, &failed);
  n->last_name = text_or_null(st, 23, arena, &failed);
  return failed ? EVENTAPI_ENOMEM : 0;
}

/* ---- written by the signals ---------------------------------------------- */

int
notifications_add_for_registration(db_t *db, enum notification_kind kind,
                                   int64_t registration_id, int64_t now)
{
  return db_exec(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, event_title,"
      " event_date_time, event_location, ticket_code, due_at, next_attempt_at)"
      " SELECT r.user_id, ?, r.event_id, r.id, e.title, e.date_time, e.location, t.code, ?, ?"
      " FROM registrations r JOIN events e ON e.id = r.event_id"
      " LEFT JOIN tickets t ON t.registration_id = r.id WHERE r.id = ?",
      NULL, "siii", kind_names[kind], now, now, registration_id);
}

/* Runs per offset a call: a bound on the work of one unit. */
#define REMINDER_EVENTS_MAX 16

/* Writes the reminders of (event_id, offset) unless its run was done. */
static int
write_run(db_t *db, int64_t event_id, int64_t offset, int64_t now)
{
  int changes = 0;
  int rc = db_exec(db, "INSERT INTO reminder_runs (event_id, reminder_offset, written_at)"
                       " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                   &changes, "iii", event_id, offset, now);
  if (rc < 0 || changes == 0)
    return rc; /* done already, by this worker or another */
  int64_t before = offset * US_PER_SECOND;
  /* The unique index on (registration_id, reminder_offset) keeps each single,
   * a reminder sent before the event moved included. */
  return db_exec(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, reminder_offset,"
      " event_title, event_date_time, event_location, ticket_code, due_at, next_attempt_at)"
      " SELECT r.user_id, 'event_reminder', r.event_id, r.id, ?, e.title, e.date_time,"
      " e.location, t.code, e.date_time - ?, e.date_time - ?"
      " FROM registrations r JOIN events e ON e.id = r.event_id"
      " LEFT JOIN tickets t ON t.registration_id = r.id"
      " WHERE r.event_id = ? AND r.cancelled_at IS NULL AND r.is_waitlisted = 0"
      " AND r.registered_at < e.date_time - ? ON CONFLICT DO NOTHING",
      NULL, "iiiii", offset, before, before, event_id, before);
}

int
notifications_write_due_reminders(db_t *db, const int64_t *offsets, size_t noffsets,
                                  int64_t now, bool *more)
{
  *more = false;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < noffsets; i++) {
    int64_t ids[REMINDER_EVENTS_MAX];
    size_t count = 0;
    db_stmt_t *st = db_prepare(db,
        "SELECT e.id FROM events e WHERE e.date_time > ? AND e.date_time <= ?"
        " AND NOT EXISTS (SELECT 1 FROM reminder_runs r WHERE r.event_id = e.id"
        " AND r.reminder_offset = ?) ORDER BY e.date_time, e.id LIMIT ?");
    if (st == NULL)
      return EVENTAPI_EDB;
    db_bind_int(st, 1, now);
    db_bind_int(st, 2, now + offsets[i] * US_PER_SECOND);
    db_bind_int(st, 3, offsets[i]);
    db_bind_int(st, 4, REMINDER_EVENTS_MAX);
    while ((rc = db_step(st)) == DB_ROW)
      ids[count++] = db_column_int(st, 0);
    db_reset(st);
    if (rc < 0)
      return rc;
    rc = 0;
    *more |= count == REMINDER_EVENTS_MAX;
    for (size_t j = 0; rc == 0 && j < count; j++)
      rc = write_run(db, ids[j], offsets[i], now);
  }
  return rc;
}

int
notifications_drop_reminders(db_t *db, int64_t registration_id)
{
  return db_exec(db, "DELETE FROM notifications WHERE registration_id = ?"
                     " AND kind = 'event_reminder' AND state = 'pending'",
                 NULL, "i", registration_id);
}

/* Tells every active registrant of e, with the time and place before (if any). */
static int
tell_registrants(db_t *db, const char *kind, const struct event *e,
                 const struct event *before, int64_t now)
{
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, event_title,"
      " event_date_time, event_location, ticket_code, previous_date_time, previous_location,"
      " due_at, next_attempt_at)"
      " SELECT r.user_id, ?, r.event_id, r.id, ?, ?, ?, t.code, ?, ?, ?, ?"
      " FROM registrations r LEFT JOIN tickets t ON t.registration_id = r.id"
      " WHERE r.event_id = ? AND r.cancelled_at IS NULL");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, kind);
  db_bind_text(st, 2, e->title);
  db_bind_int(st, 3, e->date_time);
  db_bind_text(st, 4, e->location);
  if (before) {
    db_bind_int(st, 5, before->date_time);
    db_bind_text(st, 6, before->location);
  } else {
    db_bind_null(st, 5);
    db_bind_null(st, 6);
  }
  db_bind_int(st, 7, now);
  db_bind_int(st, 8, now);
  db_bind_int(st, 9, e->id);
  int rc = db_step(st);
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
notifications_event_changed(db_t *db, const struct event *old, const struct event *now,
                            const int64_t *offsets, size_t noffsets, int64_t at)
{
  bool moved = old->date_time != now->date_time;
  int rc = 0;
  if (moved || strcmp(old->location, now->location) != 0)
    rc = tell_registrants(db, kind_names[NOTIFY_EVENT_UPDATED], now, old, at);
  /* Unsent reminders describe the event as it is and fall due anew, those
   * waiting for a retry too (as new ones); only one being sent this moment
   * (claimed) stays as it is. */
  if (rc == 0)
    rc = db_exec(db,
        "UPDATE notifications SET event_title = ?, event_date_time = ?, event_location = ?,"
        " due_at = ? - reminder_offset * 1000000, next_attempt_at = ? - reminder_offset * 1000000,"
        " attempts = 0, last_error = NULL"
        " WHERE event_id = ? AND kind = 'event_reminder' AND state = 'pending'"
        " AND (claimed_until IS NULL OR claimed_until <= ?)",
        NULL, "sisiiii", now->title, now->date_time, now->location, now->date_time,
        now->date_time, now->id, at);
  if (rc == 0 && moved)
    rc = db_exec(db,
        "DELETE FROM notifications WHERE event_id = ? AND kind = 'event_reminder'"
        " AND state = 'pending' AND attempts = 0 AND due_at <= ?",
        NULL, "ii", now->id, at);
  /* Its runs are done again when they fall due at the new time, for those
   * who have no reminder of that offset yet. */
  if (rc == 0 && moved)
    rc = db_exec(db, "DELETE FROM reminder_runs WHERE event_id = ?", NULL, "i", now->id);
  (void)offsets;
  (void)noffsets;
  return rc;
}

int
notifications_event_deleted(db_t *db, const struct event *e, int64_t now)
{
  int rc = tell_registrants(db, kind_names[NOTIFY_EVENT_CANCELLED], e, NULL, now);
  if (rc == 0)
    rc = db_exec(db, "DELETE FROM notifications WHERE event_id = ?"
                     " AND kind = 'event_reminder' AND state = 'pending'", NULL, "i", e->id);
  return rc;
}

/* ---- the in-app list ----------------------------------------------------- */

int
notifications_list(db_t *db, int64_t user_id, int64_t now, int64_t limit, int64_t offset,
                   arena_t *arena, struct notification **out, size_t *count, int64_t *total)
{
  *out = NULL;
  *count = 0;
  db_stmt_t *st = db_prepare(db, "SELECT count(*) FROM notifications"
                                 " WHERE user_id = ? AND due_at <= ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, user_id);
  db_bind_int(st, 2, now);
  int rc = db_step(st);
  *total = rc == DB_ROW ? db_column_int(st, 0) : 0;
  db_reset(st);
  if (rc < 0)
    return rc;
  if (*total <= offset)
    return 0;
  int64_t expected = *total - offset < limit ? *total - offset : limit;
  struct notification *list = arena_calloc(arena, (size_t)expected, sizeof *list);
  if (list == NULL)
    return EVENTAPI_ENOMEM;
  st = db_prepare(db, "SELECT " NOTIFICATION_COLUMNS NOTIFICATION_FROM
                      " WHERE n.user_id = ? AND n.due_at <= ?"
                      " ORDER BY n.due_at DESC, n.id DESC LIMIT ? OFFSET ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, user_id);
  db_bind_int(st, 2, now);
  db_bind_int(st, 3, limit);
  db_bind_int(st, 4, offset);
  size_t n = 0;
  while ((rc = db_step(st)) == DB_ROW && n < (size_t)expected)
    if ((rc = read_notification(st, arena, &list[n++])) < 0)
      break;
  db_reset(st);
  if (rc < 0)
    return rc;
  *out = list;
  *count = n;
  return 0;
}

/* Steps st (bound) to its one row, read into out; resets st. */
static int
read_one(db_stmt_t *st, arena_t *arena, struct notification *out)
{
  int rc = db_step(st);
  if (rc == DB_ROW)
    rc = read_notification(st, arena, out);
  else if (rc == DB_DONE)
    rc = EVENTAPI_ENOTFOUND;
  db_reset(st);
  return rc;
}

int
notifications_get_for_user(db_t *db, int64_t user_id, int64_t id, int64_t now,
                           arena_t *arena, struct notification *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " NOTIFICATION_COLUMNS NOTIFICATION_FROM
                                 " WHERE n.id = ? AND n.user_id = ? AND n.due_at <= ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, id);
  db_bind_int(st, 2, user_id);
  db_bind_int(st, 3, now);
  return read_one(st, arena, out);
}

int
notifications_mark_read(db_t *db, int64_t user_id, int64_t id, int64_t now)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE notifications SET read_at = COALESCE(read_at, ?)"
                       " WHERE id = ? AND user_id = ? AND due_at <= ?",
                   &changes, "iiii", now, id, user_id, now);
  if (rc == 0 && changes == 0)
    rc = EVENTAPI_ENOTFOUND;
  return rc;
}

/* ---- the outbox ---------------------------------------------------------- */

int
outbox_claim(db_t *db, int64_t now, int64_t lease_us, const char *message_id, int64_t *id)
{
  *id = 0;
  db_stmt_t *st = db_prepare(db,
      "UPDATE notifications SET claimed_until = ?, attempts = attempts + 1,"
      " message_id = COALESCE(message_id, ?)"
      " WHERE id = (SELECT id FROM notifications WHERE state = 'pending'"
      " AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
      " ORDER BY next_attempt_at, id LIMIT 1" DB_SKIP_LOCKED ") RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, now + lease_us);
  db_bind_text(st, 2, message_id);
  db_bind_int(st, 3, now);
  db_bind_int(st, 4, now);
  int rc = db_step(st);
  if (rc == DB_ROW)
    *id = db_column_int(st, 0);
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
outbox_get(db_t *db, int64_t id, arena_t *arena, struct notification *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " NOTIFICATION_COLUMNS NOTIFICATION_FROM
                                 " WHERE n.id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, id);
  return read_one(st, arena, out);
}

/* The claim is the row's attempts count: each claim raises it. */
#define STILL_CLAIMED " WHERE id = ? AND attempts = ? AND state = 'pending'"

static int
recorded(int rc, int changes)
{
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

int
outbox_mark_sent(db_t *db, int64_t id, int64_t attempts, int64_t now)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE notifications SET state = 'sent', sent_at = ?,"
                       " claimed_until = NULL, last_error = NULL" STILL_CLAIMED,
                   &changes, "iii", now, id, attempts);
  return recorded(rc, changes);
}

int
outbox_mark_failed(db_t *db, int64_t id, int64_t attempts, const char *error, int64_t retry_at)
{
  int changes = 0, rc;
  if (retry_at == 0)
    rc = db_exec(db, "UPDATE notifications SET state = 'dead', claimed_until = NULL,"
                     " last_error = ?" STILL_CLAIMED, &changes, "sii", error, id, attempts);
  else
    rc = db_exec(db, "UPDATE notifications SET next_attempt_at = ?, claimed_until = NULL,"
                     " last_error = ?" STILL_CLAIMED, &changes, "isii", retry_at, error, id,
                 attempts);
  return recorded(rc, changes);
}

int
outbox_list(db_t *db, const char *state, int64_t limit, arena_t *arena,
            struct notification **out, size_t *count)
{
  *out = NULL;
  *count = 0;
  db_stmt_t *st = db_prepare(db, "SELECT " NOTIFICATION_COLUMNS NOTIFICATION_FROM
                                 " WHERE n.state = ? ORDER BY n.next_attempt_at, n.id LIMIT ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, state);
  db_bind_int(st, 2, limit);
  size_t cap = 0;
  struct notification *list = NULL;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if ((list = arena_grow(arena, list, *count, &cap, sizeof *list)) == NULL) {
      rc = EVENTAPI_ENOMEM;
      break;
    }
    if ((rc = read_notification(st, arena, &list[*count])) < 0)
      break;
    (*count)++;
  }
  db_reset(st);
  *out = list;
  return rc < 0 ? rc : 0;
}

int
outbox_counts(db_t *db, int64_t *pending, int64_t *sent, int64_t *dead)
{
  *pending = *sent = *dead = 0;
  db_stmt_t *st = db_prepare(db, "SELECT state, count(*) FROM notifications GROUP BY state");
  if (st == NULL)
    return EVENTAPI_EDB;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    const char *state = db_column_text(st, 0);
    int64_t n = db_column_int(st, 1);
    if (strcmp(state, "pending") == 0)
      *pending = n;
    else if (strcmp(state, "sent") == 0)
      *sent = n;
    else if (strcmp(state, "dead") == 0)
      *dead = n;
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
outbox_requeue(db_t *db, int64_t id, int64_t now, int *changed)
{
  return db_exec(db, "UPDATE notifications SET state = 'pending', attempts = 0,"
                     " next_attempt_at = ?, claimed_until = NULL"
                     " WHERE state = 'dead' AND (? = 0 OR id = ?)",
                 changed, "iii", now, id, id);
}
