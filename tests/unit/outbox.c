/*
 * outbox.c - the outbox's claims and outcomes on a real (SQLite) database:
 * an outcome counts only for the claim that is still current, so a worker
 * whose lease ran out cannot undo the work of the one that took the row
 * over; and an event that moves takes along its reminders waiting for a
 * retry, not only those never tried.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "db/db.h"
#include "db/migrate.h"
#include "events/models.h"
#include "notifications/models.h"

#define SECOND INT64_C(1000000)
#define T0 (INT64_C(1900000000) * SECOND)
#define LEASE (10 * SECOND)

static char dir[] = "/tmp/eventapi-outbox-XXXXXX";
static db_t *db;

static long long
scalar(const char *sql, long long arg)
{
  db_stmt_t *st = db_prepare(db, sql);
  cr_assert_not_null(st, "%s", sql);
  db_bind_int(st, 1, arg);
  cr_assert_eq(db_step(st), DB_ROW, "%s", sql);
  long long value = db_column_int(st, 0);
  db_reset(st);
  return value;
}

static const char *
text(const char *sql, long long arg)
{
  db_stmt_t *st = db_prepare(db, sql);
  cr_assert_not_null(st, "%s", sql);
  db_bind_int(st, 1, arg);
  cr_assert_eq(db_step(st), DB_ROW, "%s", sql);
  static char value[256];
  snprintf(value, sizeof value, "%s", db_column_text(st, 0));
  db_reset(st);
  return value;
}

static void
setup(void)
{
  cr_assert_not_null(mkdtemp(dir));
  char url[128];
  snprintf(url, sizeof url, "sqlite:///%s/db.sqlite3", dir);
  cr_assert_eq(db_configure(url, false), 0);
  cr_assert_eq(db_open(&db), 0);
  char err[256];
  cr_assert_eq(db_migrate(db, 0, err, sizeof err), 0, "%s", err);
  cr_assert_eq(db_exec(db, "INSERT INTO users (id, username, username_key, email, email_key,"
                           " password, date_joined) VALUES (1, 'ann', 'ann', 'ann@example.com',"
                           " 'ann@example.com', 'x', 0)", NULL, NULL), 0);
}

static void
teardown(void)
{
  db_close(db);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_expect_eq(system(cmd), 0);
}

TestSuite(outbox, .init = setup, .fini = teardown);

/* A pending notification of kind, due at due; its id. */
static int64_t
add(const char *kind, int64_t offset, int64_t event_time, int64_t due)
{
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, reminder_offset,"
      " event_title, event_date_time, event_location, due_at, next_attempt_at)"
      " VALUES (1, ?, 7, 70, ?, 'Jazz Night', ?, 'Berlin', ?, ?) RETURNING id");
  cr_assert_not_null(st);
  db_bind_text(st, 1, kind);
  db_bind_int(st, 2, offset);
  db_bind_int(st, 3, event_time);
  db_bind_int(st, 4, due);
  db_bind_int(st, 5, due);
  int64_t id;
  cr_assert_eq(db_step_id(st, &id), 0);
  return id;
}

static int
mark_sent(int64_t id, int64_t attempts, int64_t now)
{
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
  int rc = outbox_mark_sent(db, id, attempts, now);
  cr_assert_eq(db_commit(db), 0);
  return rc;
}

static int
mark_failed(int64_t id, int64_t attempts, int64_t retry_at)
{
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
  int rc = outbox_mark_failed(db, id, attempts, "451 try later", retry_at);
  cr_assert_eq(db_commit(db), 0);
  return rc;
}

Test(outbox, an_expired_claim_cannot_record_over_the_next)
{
  int64_t id = add("registration_confirmed", 0, T0 + 86400 * SECOND, T0), claimed;
  cr_assert_eq(outbox_claim(db, T0, LEASE, "<a@example.com>", &claimed), 0);
  cr_assert_eq(claimed, id);
  /* Held: nobody else takes it during the lease. */
  cr_assert_eq(outbox_claim(db, T0 + LEASE - 1, LEASE, "<b@example.com>", &claimed), 0);
  cr_assert_eq(claimed, 0);
  /* The first worker stalls past its lease; a second takes the row over. */
  cr_assert_eq(outbox_claim(db, T0 + LEASE, LEASE, "<b@example.com>", &claimed), 0);
  cr_assert_eq(claimed, id);
  cr_assert_eq(scalar("SELECT attempts FROM notifications WHERE id = ?", id), 2);
  cr_assert_str_eq(text("SELECT message_id FROM notifications WHERE id = ?", id),
                   "<a@example.com>", "one Message-ID for every try");

  /* The first one's outcomes, late, change nothing. */
  cr_assert_eq(mark_failed(id, 1, 0), EVENTAPI_ENOTFOUND);
  cr_assert_eq(mark_failed(id, 1, T0 + 60 * SECOND), EVENTAPI_ENOTFOUND);
  cr_assert_eq(mark_sent(id, 1, T0 + LEASE + 1), EVENTAPI_ENOTFOUND);
  cr_assert_str_eq(text("SELECT state FROM notifications WHERE id = ?", id), "pending");
  cr_assert_eq(scalar("SELECT claimed_until FROM notifications WHERE id = ?", id), T0 + 2 * LEASE,
               "the second claim still holds");

  /* The current claim's do. */
  cr_assert_eq(mark_sent(id, 2, T0 + LEASE + 2), 0);
  cr_assert_str_eq(text("SELECT state FROM notifications WHERE id = ?", id), "sent");
  /* And once sent, a late failure cannot make it dead (then requeued, sent twice). */
  cr_assert_eq(mark_failed(id, 2, 0), EVENTAPI_ENOTFOUND);
  cr_assert_str_eq(text("SELECT state FROM notifications WHERE id = ?", id), "sent");
  cr_assert_eq(scalar("SELECT sent_at FROM notifications WHERE id = ?", id), T0 + LEASE + 2);
}

Test(outbox, a_failure_of_the_current_claim_schedules_the_retry)
{
  int64_t id = add("registration_confirmed", 0, T0 + 86400 * SECOND, T0), claimed;
  cr_assert_eq(outbox_claim(db, T0, LEASE, "<a@example.com>", &claimed), 0);
  cr_assert_eq(mark_failed(id, 1, T0 + 30 * SECOND), 0);
  cr_assert_eq(scalar("SELECT count(*) FROM notifications WHERE id = ? AND state = 'pending'"
                      " AND claimed_until IS NULL AND last_error = '451 try later'", id), 1);
  cr_assert_eq(outbox_claim(db, T0 + 29 * SECOND, LEASE, "<b@example.com>", &claimed), 0);
  cr_assert_eq(claimed, 0, "not before its retry time");
  cr_assert_eq(outbox_claim(db, T0 + 30 * SECOND, LEASE, "<b@example.com>", &claimed), 0);
  cr_assert_eq(claimed, id);
  cr_assert_eq(mark_failed(id, 2, 0), 0);
  cr_assert_str_eq(text("SELECT state FROM notifications WHERE id = ?", id), "dead");
}

Test(outbox, a_moved_event_takes_along_reminders_waiting_for_a_retry)
{
  int64_t when = T0 + 86400 * SECOND;
  int64_t fresh = add("event_reminder", 3 * 3600, when, when - 3 * 3600 * SECOND);
  /* The 24-hour reminder is due now, fails once and waits for its retry. */
  db_exec(db, "UPDATE notifications SET registration_id = 71 WHERE id = ?", NULL, "i", fresh);
  int64_t retried = add("event_reminder", 86400, when, T0), claimed;
  cr_assert_eq(outbox_claim(db, T0, LEASE, "<a@example.com>", &claimed), 0);
  cr_assert_eq(claimed, retried);
  cr_assert_eq(mark_failed(retried, 1, T0 + 60 * SECOND), 0);

  /* The event moves a week later, while the mail server is still down. */
  struct event old = {.id = 7, .title = "Jazz Night", .date_time = when, .location = "Berlin"};
  struct event now = old;
  now.date_time = when + 7 * 86400 * SECOND;
  now.location = "Paris";
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
  cr_assert_eq(notifications_event_changed(db, &old, &now, NULL, 0, T0 + SECOND), 0);
  cr_assert_eq(db_commit(db), 0);
  for (int i = 0; i < 2; i++) {
    int64_t id = i ? retried : fresh;
    int64_t offset = i ? 86400 : 3 * 3600;
    cr_assert_eq(scalar("SELECT event_date_time FROM notifications WHERE id = ?", id),
                 now.date_time);
    cr_assert_str_eq(text("SELECT event_location FROM notifications WHERE id = ?", id), "Paris");
    cr_assert_eq(scalar("SELECT next_attempt_at FROM notifications WHERE id = ?", id),
                 now.date_time - offset * SECOND);
    cr_assert_eq(scalar("SELECT attempts FROM notifications WHERE id = ?", id), 0);
  }
  /* Not due now: its retry would have sent the old time and place. */
  cr_assert_eq(outbox_claim(db, T0 + 61 * SECOND, LEASE, "<b@example.com>", &claimed), 0);
  cr_assert_eq(claimed, 0);
}

/* ---- reminders written when they fall due --------------------------------- */

#define HOUR (3600 * SECOND)

/* Event 7 at when, with registrations 70 (made at T0) and 71 (made at late). */
static void
event_with_two_registrations(int64_t when, int64_t late)
{
  cr_assert_eq(db_exec(db, "INSERT INTO events (id, title, date_time, location, capacity,"
                           " created_at, organizer_id, search_text, location_key)"
                           " VALUES (7, 'Jazz Night', ?, 'Berlin', 0, ?, 1, '', '')",
                       NULL, "ii", when, T0), 0);
  cr_assert_eq(db_exec(db, "INSERT INTO registrations (id, user_id, event_id, registered_at,"
                           " is_waitlisted) VALUES (70, 1, 7, ?, 0)", NULL, "i", T0), 0);
  cr_assert_eq(db_exec(db, "INSERT INTO users (id, username, username_key, email, email_key,"
                           " password, date_joined) VALUES (2, 'bo', 'bo', 'bo@example.com',"
                           " 'bo@example.com', 'x', 0)", NULL, NULL), 0);
  cr_assert_eq(db_exec(db, "INSERT INTO registrations (id, user_id, event_id, registered_at,"
                           " is_waitlisted) VALUES (71, 2, 7, ?, 0)", NULL, "i", late), 0);
}

static long long
reminders(void)
{
  return scalar("SELECT count(*) FROM notifications WHERE kind = 'event_reminder'"
                " AND reminder_offset > ?", 0);
}

static bool
write_due(int64_t now)
{
  static const int64_t offsets[] = {24 * 3600, 3 * 3600};
  bool more;
  cr_assert_eq(notifications_write_due_reminders(db, offsets, 2, now, &more), 0);
  return more;
}

Test(outbox, reminders_are_written_when_they_fall_due_for_those_registered_before)
{
  int64_t when = T0 + 48 * HOUR;
  /* 71 registers 30 hours in: after the 24-hour reminder fell due. */
  event_with_two_registrations(when, T0 + 30 * HOUR);
  write_due(T0 + 23 * HOUR); /* neither reminder due yet */
  cr_assert_eq(reminders(), 0);
  write_due(when - 24 * HOUR); /* the 24-hour one falls due: 70 only */
  cr_assert_eq(reminders(), 1);
  cr_assert_eq(scalar("SELECT registration_id FROM notifications WHERE reminder_offset = ?",
                      24 * 3600), 70);
  cr_assert_eq(scalar("SELECT due_at FROM notifications WHERE reminder_offset = ?", 24 * 3600),
               when - 24 * HOUR);
  write_due(when - 24 * HOUR + SECOND); /* done once */
  cr_assert_eq(reminders(), 1);
  write_due(when - 3 * HOUR); /* the 3-hour one: both */
  cr_assert_eq(scalar("SELECT count(*) FROM notifications WHERE reminder_offset = ?",
                      3 * 3600), 2);
  write_due(when + SECOND); /* nothing for an event that has begun */
  cr_assert_eq(reminders(), 3);
}

Test(outbox, a_moved_event_has_its_reminders_written_again_without_doubles)
{
  int64_t when = T0 + 48 * HOUR;
  event_with_two_registrations(when, T0 + HOUR);
  write_due(when - 24 * HOUR);
  cr_assert_eq(reminders(), 2);
  /* The event moves a day later: its runs are done again when they fall due,
   * and the unique index keeps each registration's reminder single. */
  struct event old = {.id = 7, .title = "Jazz Night", .date_time = when, .location = "Berlin"};
  struct event moved = old;
  moved.date_time = when + 24 * HOUR;
  cr_assert_eq(db_exec(db, "UPDATE events SET date_time = ? WHERE id = 7", NULL, "i",
                       moved.date_time), 0);
  cr_assert_eq(notifications_event_changed(db, &old, &moved, NULL, 0, when - 23 * HOUR), 0);
  cr_assert_eq(scalar("SELECT count(*) FROM reminder_runs WHERE event_id = ?", 7), 0);
  write_due(moved.date_time - 24 * HOUR);
  cr_assert_eq(reminders(), 2);
  cr_assert_eq(scalar("SELECT count(*) FROM reminder_runs WHERE event_id = ?", 7), 1);
}

Test(outbox, many_events_due_at_once_are_written_a_few_at_a_time)
{
  int64_t when = T0 + 2 * HOUR;
  for (int i = 100; i < 140; i++)
    cr_assert_eq(db_exec(db, "INSERT INTO events (id, title, date_time, location, capacity,"
                             " created_at, organizer_id, search_text, location_key)"
                             " VALUES (?, 'Gig', ?, 'Berlin', 0, ?, 1, '', '')",
                         NULL, "iii", (int64_t)i, when, T0), 0);
  int rounds = 1;
  while (write_due(T0))
    rounds++;
  cr_assert_gt(rounds, 1, "forty events in one go");
  cr_assert_eq(scalar("SELECT count(*) FROM reminder_runs WHERE reminder_offset = ?", 3 * 3600),
               40);
}
