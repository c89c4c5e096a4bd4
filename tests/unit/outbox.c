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
