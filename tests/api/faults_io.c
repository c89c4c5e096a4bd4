/*
 * faults_io.c - SQLite I/O errors: a VFS that fails the Nth write or sync
 * (support/fault_vfs.h) under the in-process server, for every N that a
 * registration, a cancellation that promotes the waitlist, and an event
 * update reach. Each failed request is answered 503 (never 500, never a
 * crash); what it did is all there or not there at all; the same request
 * sent again is answered as its first try's fate says (the writer
 * recovered), and the database stays consistent: counters equal rows,
 * `PRAGMA integrity_check` is ok.
 *
 * A failed write leaves nothing: SQLite rolls the transaction back. A
 * failed sync of the write-ahead log comes after the commit: the change is
 * there, but nobody may be told it is durable, so it too is answered 503;
 * the writer then makes everything durable another way (a checkpoint into
 * the synced database file) before it answers anyone 2xx again.
 *
 * SQLite only (suite `faults`, run in the SQLite pass).
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/db.h"
#include "support/fault_vfs.h"

#define UNAVAILABLE "{'detail':'The database is unavailable. Please retry.'}"

/* More than any request here writes: the loop ends well before. */
#define MAX_N 400

static void
start(void)
{
  if (api_on_postgres())
    cr_skip_test("SQLite's I/O: not for PostgreSQL");
  fault_vfs_install();
  /* No mail worker: its claims would be writes of their own. */
  const char *env[] = {"WORKER", "off", NULL};
  api_server_start_with(env);
}

static void
stop(void)
{
  fault_disarm();
  api_server_stop();
}

TestSuite(io, .init = start, .fini = stop, .timeout = 300);

/*
 * Empties the write-ahead log into the database file, so that each armed
 * request starts from a short log: the writer's own checkpoints (after
 * 1000 frames) then never run while a fault is armed, and the writes
 * counted are the request's.
 */
static void
checkpoint(void)
{
  sqlite3 *db;
  const char *path = api_printf("%s/db.sqlite3", api_server_dir());
  cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  sqlite3_busy_timeout(db, 30000);
  /* A read first: a connection opens the log only then, and a checkpoint
   * before it does nothing (and says so with -1). */
  cr_assert_eq(sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL),
               SQLITE_OK, "read: %s", sqlite3_errmsg(db));
  int logged = -1, copied = -1;
  int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logged, &copied);
  cr_assert_eq(rc, SQLITE_OK, "checkpoint: %s", sqlite3_errmsg(db));
  cr_assert(logged == 0 && copied == 0, "the log still holds %d frames (%d copied)", logged,
            copied);
  sqlite3_close(db);
}

/* ---- the scene: an event with one place, held, and one waiting ----------- */

static struct api_user organizer, holder, waiting, newcomer;

struct scene {
  long long event, ticket_type;
  long long held, waits;          /* the registrations of holder and waiting */
};

static void
cast(void)
{
  organizer = api_signup("olga", "organizer");
  holder = api_signup("hana", NULL);
  waiting = api_signup("wim", NULL);
  newcomer = api_signup("nina", NULL);
}

static long long
register_for(const struct api_user *who, const struct scene *s)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", s->event),
                                who->access, api_jsonf("{'ticket_type':%lld}", s->ticket_type));
  expect_status(r, 200);
  return api_id(r);
}

/* A new event whose one General place hana holds, with wim waiting for it. */
static struct scene
set_scene(void)
{
  struct scene s = {0};
  struct api_event e = api_create_event(organizer.access,
      "{'capacity':3,'ticket_types':[{'name':'General','price':'10.00','quantity':1}]}");
  s.event = e.id;
  s.ticket_type = e.ticket_types[0];
  s.held = register_for(&holder, &s);
  s.waits = register_for(&waiting, &s);
  return s;
}

static long long
count(const char *sql, long long arg)
{
  return api_db_int(sql, arg);
}

/* ---- the three requests, and their fates ------------------------------------ */

enum fate { UNTOUCHED, DONE };

struct operation {
  const char *name;
  struct api_resp *(*send)(const struct scene *s, long n);
  enum fate (*fate)(const struct scene *s, long n); /* all or nothing, or fails */
  long retried_status[2];   /* the same request again, by the first one's fate */
};

static struct api_resp *
send_registration(const struct scene *s, long n)
{
  (void)n;
  return api_attempt_json("POST", api_printf("/api/registrations/%lld/register/", s->event),
                          newcomer.access, api_jsonf("{'ticket_type':%lld}", s->ticket_type));
}

/* nina's registration, whole (waitlisted: the one place is hana's), or none. */
static enum fate
registration_fate(const struct scene *s, long n)
{
  (void)n;
  long long rows = count("SELECT COUNT(*) FROM registrations WHERE event_id = ?"
                         " AND cancelled_at IS NULL", s->event);
  long long notices = count("SELECT COUNT(*) FROM notifications WHERE event_id = ?"
                            " AND kind = 'registration_waitlisted'", s->event);
  if (rows == 2 && notices == 1)
    return UNTOUCHED;
  cr_assert(rows == 3 && notices == 2, "half a registration: %lld rows, %lld notices", rows,
            notices);
  return DONE;
}

static struct api_resp *
send_cancellation(const struct scene *s, long n)
{
  (void)n;
  return api_attempt_json("DELETE", api_printf("/api/registrations/%lld/", s->held),
                          holder.access, NULL);
}

/* hana's registration cancelled, her ticket void, wim promoted with a
 * ticket and a notice; or none of it. */
static enum fate
cancellation_fate(const struct scene *s, long n)
{
  (void)n;
  long long cancelled = count("SELECT COUNT(*) FROM registrations WHERE id = ?"
                              " AND cancelled_at IS NOT NULL", s->held);
  long long voided = 1 - count("SELECT COUNT(*) FROM tickets WHERE registration_id = ?", s->held);
  long long promoted = count("SELECT COUNT(*) FROM registrations WHERE id = ?"
                             " AND is_waitlisted = 0", s->waits);
  long long tickets = count("SELECT COUNT(*) FROM tickets WHERE registration_id = ?", s->waits);
  long long notices = count("SELECT COUNT(*) FROM notifications WHERE registration_id = ?"
                            " AND kind = 'registration_promoted'", s->waits);
  long long parts = cancelled + voided + promoted + tickets + notices;
  cr_assert(parts == 0 || parts == 5,
            "half a cancellation: cancelled %lld, ticket void %lld, promoted %lld, "
            "its ticket %lld, its notice %lld", cancelled, voided, promoted, tickets, notices);
  return parts ? DONE : UNTOUCHED;
}

static struct api_resp *
send_update(const struct scene *s, long n)
{
  return api_attempt_json("PATCH", api_printf("/api/events/%lld/update/", s->event),
                          organizer.access, api_jsonf("{'location':'Hall %ld','capacity':4}", n));
}

/* The new place and capacity, and a notice of it to each registrant; or
 * none of it. */
static enum fate
update_fate(const struct scene *s, long n)
{
  long long moved = count("SELECT COUNT(*) FROM events WHERE id = ? AND capacity = 4", s->event);
  const char *location = api_db_text(api_printf(
      "SELECT location FROM events WHERE id = %lld", s->event));
  long long notices = count("SELECT COUNT(*) FROM notifications WHERE event_id = ?"
                            " AND kind = 'event_updated'", s->event);
  bool there = strcmp(location, api_printf("Hall %ld", n)) == 0;
  if (!there && moved == 0 && notices == 0)
    return UNTOUCHED;
  cr_assert(there && moved == 1 && notices == 2,
            "half an update: location %s, capacity changed %lld, %lld notices", location, moved,
            notices);
  return DONE;
}

static const struct operation registration = {
  "a registration", send_registration, registration_fate, {200, 400}};
static const struct operation cancellation = {
  "a cancellation that promotes", send_cancellation, cancellation_fate, {204, 404}};
static const struct operation update = {
  "an event update", send_update, update_fate, {200, 200}};

/*
 * Runs op with the nth write (or sync) failing, for n = 1, 2, ... until
 * op succeeds without meeting the fault: every write it makes has failed
 * once. Returns how many n failed it.
 */
static long
fail_every_step(const struct operation *op, enum fault_kind kind)
{
  cast();
  long failed = 0;
  for (long n = 1;; n++) {
    cr_assert(n <= MAX_N, "%s still meets a fault at its write %ld", op->name, n);
    struct scene s = set_scene();
    checkpoint();
    fault_arm(kind, n, false);
    struct api_resp *r = op->send(&s, n);
    long met = fault_failures();
    fault_disarm();
    if (met == 0) {
      /* Past its last write: done, and done whole. */
      cr_assert(r->status == 200 || r->status == 204, "%s answered %ld: %s", op->name,
                r->status, r->body);
      cr_assert_eq(op->fate(&s, n), DONE);
      api_expect_database_consistent();
      break;
    }
    failed++;
    cr_assert_eq(r->status, 503, "%s with %s %ld failing answered %ld: %s", op->name,
                 kind == FAULT_WRITE ? "write" : "sync", n, r->status, r->body);
    expect_body(r, UNAVAILABLE);
    expect_header(r, "Retry-After", "1");
    enum fate first = op->fate(&s, n);
    if (kind == FAULT_WRITE)
      cr_assert_eq(first, UNTOUCHED, "%s whose write %ld failed is there", op->name, n);
    api_expect_database_consistent();
    /* The writer recovered: the same request again is answered as the
     * first one's fate says, and then it is done. */
    struct api_resp *again = op->send(&s, n);
    cr_assert_eq(again->status, op->retried_status[first], "%s again after %s %ld: %ld %s",
                 op->name, kind == FAULT_WRITE ? "write" : "sync", n, again->status,
                 again->body);
    cr_assert_eq(op->fate(&s, n), DONE);
    api_expect_database_consistent();
  }
  cr_log_info("%s: %ld %s faults, each answered 503", op->name, failed,
              kind == FAULT_WRITE ? "write" : "sync");
  return failed;
}

Test(io, every_failed_write_of_a_registration)
{
  cr_assert_gt(fail_every_step(&registration, FAULT_WRITE), 1);
}

Test(io, every_failed_write_of_a_cancellation_that_promotes)
{
  cr_assert_gt(fail_every_step(&cancellation, FAULT_WRITE), 1);
}

Test(io, every_failed_write_of_an_event_update)
{
  cr_assert_gt(fail_every_step(&update, FAULT_WRITE), 1);
}

Test(io, every_failed_sync_of_a_registration)
{
  cr_assert_geq(fail_every_step(&registration, FAULT_SYNC), 1);
}

Test(io, every_failed_sync_of_a_cancellation_that_promotes)
{
  cr_assert_geq(fail_every_step(&cancellation, FAULT_SYNC), 1);
}

Test(io, every_failed_sync_of_an_event_update)
{
  cr_assert_geq(fail_every_step(&update, FAULT_SYNC), 1);
}

/*
 * After a failed sync of the log, the kernel may have dropped what it held
 * for it, and a later sync of the same file can succeed without having
 * written it: no write is answered 2xx again until everything committed
 * is in the database file and synced (a checkpoint). While every sync
 * fails, so does every write, and reads go on.
 */
Test(io, no_write_is_answered_2xx_while_the_log_cannot_be_synced)
{
  cast();
  struct scene s = set_scene();
  long database_syncs = fault_database_syncs();
  fault_arm(FAULT_SYNC, 1, true);
  for (int i = 0; i < 3; i++) {
    struct api_resp *r = api_attempt_json("PATCH",
                                          api_printf("/api/events/%lld/update/", s.event),
                                          organizer.access, api_jsonf("{'title':'Try %d'}", i));
    cr_assert_eq(r->status, 503, "try %d while syncs fail: %ld %s", i, r->status, r->body);
    expect_body(r, UNAVAILABLE);
  }
  cr_assert_geq(fault_failures(), 3);
  /* Reads are served meanwhile. */
  expect_status(api_get(api_printf("/api/events/%lld/", s.event), NULL), 200);
  expect_status(api_get("/api/events/", NULL), 200);
  expect_status(api_get("/healthz", NULL), 200);
  fault_disarm();

  struct api_resp *r = api_patch(api_printf("/api/events/%lld/update/", s.event),
                                 organizer.access, api_json("{'title':'Synced'}"));
  expect_status(r, 200);
  expect_str(r, "title", "Synced");
  cr_assert_gt(fault_database_syncs(), database_syncs,
               "a write was answered 200 after a failed sync, before a checkpoint");
  api_expect_database_consistent();
}
