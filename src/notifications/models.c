#include "notifications/models.h"

#include <string.h>

#include "core/error.h"
#include "notifications/mail.h"

#define US_PER_SECOND INT64_C(1000000)

static const char *const kind_names[] = {
  [NOTIFY_CONFIRMED] = "registration_confirmed",
  [NOTIFY_WAITLISTED] = "registration_waitlisted",
  [NOTIFY_PROMOTED] = "registration_promoted",
  [NOTIFY_EVENT_UPDATED] = "event_updated",
  [NOTIFY_EVENT_CANCELLED] = "event_cancelled",
  [NOTIFY_REMINDER] = "event_reminder",
  [NOTIFY_OFFERED] = "registration_offered",
  [NOTIFY_OFFER_EXPIRED] = "registration_offer_expired",
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
  " n.previous_date_time, n.previous_location, n.due_at, n.read_at,"             \
  " u.email, u.username, u.first_name, u.last_name, n.event_timezone, n.offer_expires_at"
#define NOTIFICATION_FROM " FROM notifications n JOIN users u ON u.id = n.user_id"

/* The row st is on (NOTIFICATION_COLUMNS) into out, a struct notification,
 * strings in arena (a db_row_fn). */
static int
read_notification(db_stmt_t *st, arena_t *arena, void *out)
{
  struct notification *n = out;
  bool failed = false;
  memset(n, 0, sizeof *n);
  n->id = db_column_int(st, 0);
  n->user_id = db_column_int(st, 1);
  n->kind = kind_parse(db_column_text(st, 2));
  n->event_id = db_column_int(st, 3);
  n->registration_id = db_column_int_or(st, 4, 0);
  n->reminder_offset = db_column_int(st, 5);
  n->event_title = db_column_text_dup(st, 6, arena, &failed);
  n->event_date_time = db_column_int(st, 7);
  n->event_location = db_column_text_dup(st, 8, arena, &failed);
  n->ticket_code = db_column_text_dup(st, 9, arena, &failed);
  n->has_previous = !db_column_is_null(st, 10);
  n->previous_date_time = db_column_int_or(st, 10, 0);
  n->previous_location = db_column_text_dup(st, 11, arena, &failed);
  n->due_at = db_column_int(st, 12);
  n->read_at = db_column_int_or(st, 13, 0);
  n->email = db_column_text_dup(st, 14, arena, &failed);
  n->username = db_column_text_dup(st, 15, arena, &failed);
  n->first_name = db_column_text_dup(st, 16, arena, &failed);
  n->last_name = db_column_text_dup(st, 17, arena, &failed);
  n->event_timezone = db_column_text_dup(st, 18, arena, &failed);
  n->offer_expires_at = db_column_int_or(st, 19, 0);
  return failed ? EVENTAPI_ENOMEM : 0;
}

/* ---- written by the signals ---------------------------------------------- */

/*
 * What a statement writing notifications gives back for their emails
 * (struct notification_mailing), so that mailing them reads nothing again.
 */
#define RETURNING_MAILING                                                        \
  " RETURNING id, kind, due_at, event_date_time, reminder_offset,"              \
  " (SELECT email FROM users WHERE users.id = notifications.user_id),"         \
  " offer_expires_at"

/* A row of RETURNING_MAILING into out, a struct notification_mailing (a db_row_fn). */
static int
read_mailing(db_stmt_t *st, arena_t *arena, void *out)
{
  struct notification_mailing *n = out;
  n->id = db_column_int(st, 0);
  n->kind = kind_parse(db_column_text(st, 1));
  n->due_at = db_column_int(st, 2);
  n->event_date_time = db_column_int(st, 3);
  n->reminder_offset = db_column_int(st, 4);
  n->email = arena_strdup(arena, db_column_text(st, 5));
  n->offer_expires_at = db_column_int_or(st, 6, 0);
  return n->email ? 0 : EVENTAPI_ENOMEM;
}

/*
 * Steps st, a statement writing notifications ... RETURNING_MAILING
 * (bound), to its end and mails the notifications it wrote. The rows are
 * read to the end first: no other statement runs while st is stepped.
 */
static int
write_and_mail(db_t *db, db_stmt_t *st, int64_t now)
{
  arena_t arena = {0};
  void *list;
  size_t count;
  int rc = db_rows(st, read_mailing, sizeof(struct notification_mailing), 0, &arena, &list,
                   &count);
  if (rc == 0)
    rc = notifications_mail_written(db, list, count, now);
  arena_free(&arena);
  return rc;
}

/*
 * One registration's notification, on SQLite: its facts read first, then
 * one row inserted by VALUES, which is cheaper there than
 * add_for_registration_returning's one statement (this is the
 * notification of every registration).
 */
static int
add_for_registration_values(db_t *db, enum notification_kind kind, int64_t registration_id,
                            int64_t now)
{
  db_stmt_t *facts = db_prepare(db,
      "SELECT r.user_id, r.event_id, e.title, e.date_time, e.location, e.timezone, t.code,"
      " r.offer_expires_at, u.email"
      " FROM registrations r JOIN events e ON e.id = r.event_id JOIN users u ON u.id = r.user_id"
      " LEFT JOIN tickets t ON t.registration_id = r.id WHERE r.id = ?");
  db_stmt_t *insert = db_prepare(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, event_title,"
      " event_date_time, event_location, event_timezone, ticket_code, offer_expires_at, due_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  if (facts == NULL || insert == NULL)
    return EVENTAPI_EDB;
  int rc = db_bind_int(facts, 1, registration_id);
  if (rc == 0)
    rc = db_step(facts);
  if (rc != DB_ROW) {
    db_reset(facts);
    return rc < 0 ? rc : 0; /* DB_DONE: gone, nothing to tell */
  }
  arena_t arena = {0};
  struct notification_mailing n = {
    .kind = kind,
    .due_at = now,
    .event_date_time = db_column_int(facts, 3),
    .offer_expires_at = db_column_int_or(facts, 7, 0),
    .email = arena_strdup(&arena, db_column_text(facts, 8)),
  };
  rc = n.email ? 0 : EVENTAPI_ENOMEM;
  if (rc == 0)
    rc = db_bind_int(insert, 1, db_column_int(facts, 0));
  if (rc == 0)
    rc = db_bind_text(insert, 2, kind_names[kind]);
  if (rc == 0)
    rc = db_bind_int(insert, 3, db_column_int(facts, 1));
  if (rc == 0)
    rc = db_bind_int(insert, 4, registration_id);
  if (rc == 0)
    rc = db_bind_text(insert, 5, db_column_text(facts, 2));
  if (rc == 0)
    rc = db_bind_int(insert, 6, n.event_date_time);
  if (rc == 0)
    rc = db_bind_text(insert, 7, db_column_text(facts, 4));
  if (rc == 0)
    rc = db_bind_text(insert, 8, db_column_text(facts, 5));
  if (rc == 0)
    rc = db_bind_text(insert, 9, db_column_is_null(facts, 6) ? NULL : db_column_text(facts, 6));
  if (rc == 0)
    rc = db_column_is_null(facts, 7) ? db_bind_null(insert, 10)
                                     : db_bind_int(insert, 10, n.offer_expires_at);
  if (rc == 0)
    rc = db_bind_int(insert, 11, now);
  db_reset(facts);
  if (rc == 0)
    rc = db_step_id(insert, &n.id);
  else
    db_reset(insert);
  if (rc == 0)
    rc = notifications_mail_written(db, &n, 1, now);
  arena_free(&arena);
  return rc;
}

/* The same in one statement, for a database across the network. */
static int
add_for_registration_returning(db_t *db, enum notification_kind kind, int64_t registration_id,
                               int64_t now)
{
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, event_title,"
      " event_date_time, event_location, event_timezone, ticket_code, offer_expires_at, due_at)"
      " SELECT r.user_id, ?, r.event_id, r.id, e.title, e.date_time, e.location, e.timezone,"
      " t.code, r.offer_expires_at, ?"
      " FROM registrations r JOIN events e ON e.id = r.event_id"
      " LEFT JOIN tickets t ON t.registration_id = r.id WHERE r.id = ?" RETURNING_MAILING);
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, kind_names[kind]);
  db_bind_int(st, 2, now);
  db_bind_int(st, 3, registration_id);
  return write_and_mail(db, st, now);
}

int
notifications_add_for_registration(db_t *db, enum notification_kind kind,
                                   int64_t registration_id, int64_t now)
{
  return db_statements_are_round_trips(db)
             ? add_for_registration_returning(db, kind, registration_id, now)
             : add_for_registration_values(db, kind, registration_id, now);
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
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, reminder_offset,"
      " event_title, event_date_time, event_location, event_timezone, ticket_code, due_at)"
      " SELECT r.user_id, 'event_reminder', r.event_id, r.id, ?, e.title, e.date_time,"
      " e.location, e.timezone, t.code, e.date_time - ?"
      " FROM registrations r JOIN events e ON e.id = r.event_id"
      " LEFT JOIN tickets t ON t.registration_id = r.id"
      " WHERE r.event_id = ? AND r.cancelled_at IS NULL AND r.is_waitlisted = 0"
      " AND r.registered_at < e.date_time - ? ON CONFLICT DO NOTHING" RETURNING_MAILING);
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, offset);
  db_bind_int(st, 2, before);
  db_bind_int(st, 3, event_id);
  db_bind_int(st, 4, before);
  return write_and_mail(db, st, now);
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

/* The reminders of a registration, or of an event: for each_reminder(). */
#define REMINDERS_OF_REGISTRATION \
  "SELECT id FROM notifications WHERE registration_id = ? AND kind = 'event_reminder'"
#define REMINDERS_OF_EVENT \
  "SELECT id FROM notifications WHERE event_id = ? AND kind = 'event_reminder'"

/*
 * Calls fn(db, id, ctx) for each reminder that sql (REMINDERS_OF_...)
 * finds for key, until one fails. The ids are read first: fn may change
 * the notifications.
 */
static int
each_reminder(db_t *db, const char *sql, int64_t key,
              int (*fn)(db_t *db, int64_t id, const void *ctx), const void *ctx)
{
  arena_t arena = {0};
  int64_t *ids;
  size_t count;
  int rc = db_ints(db, sql, key, &arena, &ids, &count);
  for (size_t i = 0; rc == 0 && i < count; i++)
    rc = fn(db, ids[i], ctx);
  arena_free(&arena);
  return rc;
}

/*
 * Drops reminder id if its email is still unsent (held by no worker at
 * *now, an int64_t): the email cancelled, then the notification deleted.
 */
static int
drop_unsent(db_t *db, int64_t id, const void *now)
{
  bool cancelled = false;
  int rc = notifications_mail_cancel(db, id, *(const int64_t *)now, &cancelled);
  if (rc == 0 && cancelled)
    rc = db_exec(db, "DELETE FROM notifications WHERE id = ?", NULL, "i", id);
  return rc;
}

int
notifications_drop_reminders(db_t *db, int64_t registration_id, int64_t now)
{
  return each_reminder(db, REMINDERS_OF_REGISTRATION, registration_id, drop_unsent, &now);
}

/* Tells every active registrant of e, with the time and place before (if any). */
static int
tell_registrants(db_t *db, const char *kind, const struct event *e,
                 const struct event *before, int64_t now)
{
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, event_title,"
      " event_date_time, event_location, event_timezone, ticket_code, previous_date_time,"
      " previous_location, due_at)"
      " SELECT r.user_id, ?, r.event_id, r.id, ?, ?, ?, ?, t.code, ?, ?, ?"
      " FROM registrations r LEFT JOIN tickets t ON t.registration_id = r.id"
      " WHERE r.event_id = ? AND r.cancelled_at IS NULL ORDER BY r.id" RETURNING_MAILING);
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, kind);
  db_bind_text(st, 2, e->title);
  db_bind_int(st, 3, e->date_time);
  db_bind_text(st, 4, e->location);
  db_bind_text(st, 5, e->timezone ? e->timezone : "UTC");
  if (before) {
    db_bind_int(st, 6, before->date_time);
    db_bind_text(st, 7, before->location);
  } else {
    db_bind_null(st, 6);
    db_bind_null(st, 7);
  }
  db_bind_int(st, 8, now);
  db_bind_int(st, 9, e->id);
  return write_and_mail(db, st, now);
}

/* An event's change, as its reminders are brought up to date. */
struct change {
  const struct event *now; /* the event as it is */
  bool moved;              /* its time changed */
  int64_t at;              /* when */
};

/*
 * Brings reminder id of an event that changed (ctx, a struct change) up to
 * date, if its email is unsent (held by no worker at at): the email
 * cancelled, then the notification rewritten with the event as it is, due
 * anew, and mailed again (a reminder waiting for a retry starts over); or,
 * when the move made it past, deleted: the run of its offset, done again,
 * writes it.
 */
static int
reschedule(db_t *db, int64_t id, const void *ctx)
{
  const struct change *change = ctx;
  const struct event *now = change->now;
  bool moved = change->moved;
  int64_t at = change->at;
  bool cancelled = false;
  int rc = notifications_mail_cancel(db, id, at, &cancelled);
  if (rc < 0 || !cancelled)
    return rc;
  int deleted = 0;
  if (moved)
    rc = db_exec(db, "DELETE FROM notifications WHERE id = ?"
                     " AND ? - reminder_offset * 1000000 <= ?",
                 &deleted, "iii", id, now->date_time, at);
  if (rc < 0 || deleted > 0)
    return rc;
  db_stmt_t *st = db_prepare(db, "UPDATE notifications SET event_title = ?, event_date_time = ?,"
                                 " event_location = ?, event_timezone = ?,"
                                 " due_at = ? - reminder_offset * 1000000"
                                 " WHERE id = ?" RETURNING_MAILING);
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, now->title);
  db_bind_int(st, 2, now->date_time);
  db_bind_text(st, 3, now->location);
  db_bind_text(st, 4, now->timezone ? now->timezone : "UTC");
  db_bind_int(st, 5, now->date_time);
  db_bind_int(st, 6, id);
  return write_and_mail(db, st, at);
}

int
notifications_event_changed(db_t *db, const struct event *old, const struct event *now,
                            int64_t at)
{
  bool moved = old->date_time != now->date_time;
  bool placed = strcmp(old->location, now->location) != 0;
  bool renamed = strcmp(old->title, now->title) != 0;
  bool rezoned = old->timezone && now->timezone && strcmp(old->timezone, now->timezone) != 0;
  int rc = 0;
  if (moved || placed)
    rc = tell_registrants(db, kind_names[NOTIFY_EVENT_UPDATED], now, old, at);
  /* Unsent reminders describe the event as it is and fall due anew. */
  if (rc == 0 && (moved || placed || renamed || rezoned))
    rc = each_reminder(db, REMINDERS_OF_EVENT, now->id, reschedule,
                       &(struct change){now, moved, at});
  /* Its runs are done again when they fall due at the new time, for those
   * who have no reminder of that offset yet. */
  if (rc == 0 && moved)
    rc = db_exec(db, "DELETE FROM reminder_runs WHERE event_id = ?", NULL, "i", now->id);
  return rc;
}

int
notifications_event_deleted(db_t *db, const struct event *e, int64_t now)
{
  int rc = tell_registrants(db, kind_names[NOTIFY_EVENT_CANCELLED], e, NULL, now);
  if (rc == 0)
    rc = each_reminder(db, REMINDERS_OF_EVENT, e->id, drop_unsent, &now);
  return rc;
}

/* ---- the in-app list ----------------------------------------------------- */

int
notifications_list(db_t *db, int64_t user_id, int64_t now, int64_t limit, int64_t offset,
                   arena_t *arena, struct notification **out, size_t *count, int64_t *total)
{
  void *items;
  int rc = db_page(db, "SELECT count(*) FROM notifications WHERE user_id = ? AND due_at <= ?",
                   "SELECT " NOTIFICATION_COLUMNS NOTIFICATION_FROM
                   " WHERE n.user_id = ? AND n.due_at <= ?"
                   " ORDER BY n.due_at DESC, n.id DESC LIMIT ? OFFSET ?",
                   limit, offset, read_notification, sizeof **out, arena, &items, count, total,
                   "ii", user_id, now);
  *out = items;
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
  return db_row(st, read_notification, arena, out);
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

int
notifications_get(db_t *db, int64_t id, arena_t *arena, struct notification *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " NOTIFICATION_COLUMNS NOTIFICATION_FROM
                                 " WHERE n.id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, id);
  return db_row(st, read_notification, arena, out);
}
