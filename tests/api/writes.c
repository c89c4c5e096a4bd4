/*
 * writes.c - the write path (src/db/write.c): units of work committed
 * together, a unit that fails alone, and every answered write durable
 * through a kill -9.
 *
 * The batch tests force large batches with WRITE_BATCH_WAIT (the writer
 * waits for company before each transaction) and read the writer's own
 * counters from /metrics to know how the units were batched. On PostgreSQL
 * there is no writer: each unit is its own transaction, and the same
 * requests must give the same answers.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "support/api.h"
#include "support/db.h"
#include "support/process.h"

#define CROWD 12

/* One sample of /metrics, 0 when absent. */
static long long
metric(const char *name)
{
  struct api_resp *r = api_get("/metrics", NULL);
  expect_status(r, 200);
  size_t len = strlen(name);
  for (const char *line = r->body; line && *line;) {
    if (strncmp(line, name, len) == 0 && line[len] == ' ')
      return atoll(line + len + 1);
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  return 0;
}

/* ---- requests sent at once, behind a barrier ---------------------------- */

struct call {
  const char *path, *token, *body;
  struct api_resp *resp;
};

static pthread_barrier_t barrier;

static void *
run_call(void *arg)
{
  struct call *c = arg;
  pthread_barrier_wait(&barrier);
  c->resp = api_post(c->path, c->token, c->body);
  return NULL;
}

/* Sends every call at once from a thread of its own; returns once all are answered. */
static void
at_once(struct call *calls, size_t count)
{
  pthread_t threads[64];
  cr_assert_leq(count, 64);
  cr_assert_eq(pthread_barrier_init(&barrier, NULL, (unsigned)count), 0);
  for (size_t i = 0; i < count; i++)
    cr_assert_eq(pthread_create(&threads[i], NULL, run_call, &calls[i]), 0);
  for (size_t i = 0; i < count; i++)
    pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&barrier);
}

static long long
create_event(const char *token, int capacity)
{
  struct api_resp *r = api_post("/api/events/create/", token, api_jsonf(
      "{'title':'Opening night','date_time':'%s','location':'Berlin','capacity':%d}",
      api_iso_from_now(30 * 86400), capacity));
  expect_status(r, 200);
  return api_id(r);
}

/* The attendees, signed up at once (as one batch, where batches are). */
static void
sign_up_crowd(struct api_user *crowd, size_t count)
{
  struct call calls[CROWD + 1];
  for (size_t i = 0; i < count; i++)
    calls[i] = (struct call){"/api/users/register/", NULL,
                             api_jsonf("{'username':'fan%zu','email':'fan%zu@example.com',"
                                       "'password':'" API_PASSWORD "'}", i, i)};
  at_once(calls, count);
  for (size_t i = 0; i < count; i++) {
    expect_status(calls[i].resp, 201);
    crowd[i] = api_login(api_printf("fan%zu", i), API_PASSWORD);
  }
}

static void
expect_counters_match_rows(long long event)
{
  long long rows = api_db_int("SELECT COUNT(*) FROM registrations WHERE event_id = ?"
                              " AND cancelled_at IS NULL AND is_waitlisted = 0", event);
  long long counter = api_db_int("SELECT confirmed_count FROM events WHERE id = ?", event);
  long long tickets = api_db_int("SELECT COUNT(*) FROM tickets t JOIN registrations r"
                                 " ON r.id = t.registration_id WHERE r.event_id = ?", event);
  cr_assert_eq(counter, rows, "events.confirmed_count %lld, confirmed rows %lld", counter, rows);
  cr_assert_eq(tickets, rows, "%lld tickets for %lld confirmed registrations", tickets, rows);
}

static void
start_batching(void)
{
  /* Every transaction waits half a second for company: requests sent at
   * once share one. No mail worker: its claims would be transactions too,
   * and the counts here are the requests'. */
  const char *env[] = {"WRITE_BATCH_WAIT", "500ms", "WRITE_BATCH_MAX", "1000",
                       "WORKER", "off", NULL};
  api_server_start_with(env);
}

TestSuite(writes, .init = start_batching, .fini = api_server_stop);

Test(writes, requests_sent_at_once_commit_together)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long event = create_event(olga.access, 0);
  struct api_user crowd[CROWD];
  sign_up_crowd(crowd, CROWD);
  long long batches = metric("eventapi_db_write_batches_total");
  long long units = metric("eventapi_db_write_units_total");
  struct call calls[CROWD];
  const char *path = api_printf("/api/registrations/%lld/register/", event);
  for (size_t i = 0; i < CROWD; i++)
    calls[i] = (struct call){path, crowd[i].access, "{}"};
  at_once(calls, CROWD);
  for (size_t i = 0; i < CROWD; i++)
    expect_status(calls[i].resp, 200);
  if (api_on_postgres()) {
    cr_assert_eq(metric("eventapi_db_write_units_total"), units, "no writer on PostgreSQL");
    return;
  }
  /* All of them in one or two transactions, or a few more on a machine
   * too busy to send them within half a second of each other. */
  long long ran = metric("eventapi_db_write_units_total") - units;
  long long taken = metric("eventapi_db_write_batches_total") - batches;
  cr_assert_eq(ran, CROWD, "%lld units for %d registrations", ran, CROWD);
  cr_assert(taken >= 1 && taken < CROWD, "%d registrations in %lld transactions", CROWD, taken);
  expect_counters_match_rows(event);
}

/*
 * The wait for company is a real wait: a write alone waits it out before
 * its transaction begins (a bound below, which no machine's load can
 * break). It once timed the monotonic clock against a wall-clock
 * condition variable, and so never waited at all.
 */
Test(writes, a_lone_write_waits_for_company)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long event = create_event(olga.access, 0);
  int64_t began = time_monotonic_us();
  expect_status(api_post(api_printf("/api/registrations/%lld/register/", event), olga.access,
                         "{}"), 200);
  int64_t took_ms = (time_monotonic_us() - began) / 1000;
  if (!api_on_postgres())
    cr_assert_geq(took_ms, 500, "a lone write committed after %lld ms, without waiting the "
                  "500 ms of WRITE_BATCH_WAIT", (long long)took_ms);
}

/* Everyone registers for a new event, and the first of them twice at the
 * same moment: both pass the view's check, and the second unit's insert
 * then fails on the unique index after it took a place. Returns whether
 * the writer ran a batch again with savepoints meanwhile. */
static bool
register_crowd_and_one_twice(const char *organizer, struct api_user *crowd)
{
  long long event = create_event(organizer, 0);
  long long replays = metric("eventapi_db_write_replays_total");
  struct call calls[CROWD + 1];
  const char *path = api_printf("/api/registrations/%lld/register/", event);
  for (size_t i = 0; i < CROWD; i++)
    calls[i] = (struct call){path, crowd[i].access, "{}"};
  calls[CROWD] = (struct call){path, crowd[0].access, "{}"};
  at_once(calls, CROWD + 1);
  int refused = 0;
  for (size_t i = 0; i <= CROWD; i++) {
    if (calls[i].resp->status == 400) {
      cr_assert(i == 0 || i == CROWD, "%zu was refused", i);
      expect_body(calls[i].resp, "{'non_field_errors':['" ALREADY "']}");
      refused++;
    } else {
      expect_status(calls[i].resp, 200);
      expect_bool(calls[i].resp, "is_waitlisted", false);
    }
  }
  cr_assert_eq(refused, 1);
  long long confirmed = api_db_int("SELECT COUNT(*) FROM registrations WHERE event_id = ?"
                                   " AND cancelled_at IS NULL", event);
  cr_assert_eq(confirmed, CROWD);
  expect_counters_match_rows(event);
  return metric("eventapi_db_write_replays_total") > replays;
}

Test(writes, a_unit_that_fails_mid_batch_fails_alone)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user crowd[CROWD];
  sign_up_crowd(crowd, CROWD);
  /* The pair shares a batch unless the machine is too busy to send them
   * within half a second; then they fail or pass apart, and the same is
   * tried again, each time with every answer checked. */
  bool replayed = false;
  int attempts = api_on_postgres() ? 1 : 5;
  for (int attempt = 0; attempt < attempts && !replayed; attempt++)
    replayed = register_crowd_and_one_twice(olga.access, crowd);
  if (!api_on_postgres())
    cr_assert(replayed, "the duplicate never shared a batch with the others");
}

Test(writes, a_unit_refused_before_it_writes_needs_no_replay)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long replays = metric("eventapi_db_write_replays_total");
  /* Two categories of one name at once: the second unit finds the name
   * taken under the lock, before it writes anything. */
  struct call calls[2] = {
    {"/api/events/categories/", olga.access, "{\"name\":\"Jazz\"}", NULL},
    {"/api/events/categories/", olga.access, "{\"name\":\"jazz\"}", NULL},
  };
  at_once(calls, 2);
  int made = 0;
  for (int i = 0; i < 2; i++) {
    if (calls[i].resp->status == 201) {
      made++;
    } else {
      expect_status(calls[i].resp, 400);
      expect_body(calls[i].resp, "{'name':['category with this name already exists.']}");
    }
  }
  cr_assert_eq(made, 1);
  if (!api_on_postgres())
    cr_assert_eq(metric("eventapi_db_write_replays_total"), replays);
}

Test(writes, a_full_event_in_one_batch_is_never_oversold)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long event = create_event(olga.access, 5);
  struct api_user crowd[CROWD];
  sign_up_crowd(crowd, CROWD);
  struct call calls[CROWD];
  const char *path = api_printf("/api/registrations/%lld/register/", event);
  for (size_t i = 0; i < CROWD; i++)
    calls[i] = (struct call){path, crowd[i].access, "{}"};
  at_once(calls, CROWD);
  int confirmed = 0, waiting = 0;
  for (size_t i = 0; i < CROWD; i++) {
    expect_status(calls[i].resp, 200);
    if (json_is_true(json_object_get(calls[i].resp->json, "is_waitlisted")))
      waiting++;
    else
      confirmed++;
  }
  cr_assert_eq(confirmed, 5);
  cr_assert_eq(waiting, CROWD - 5);
  expect_counters_match_rows(event);
}

/* ---- checkpoints beside a busy writer (SQLite) ------------------------------ */

#define RUSHERS 8       /* threads, one attendee each */
#define RUSH_EVENTS 60  /* each attendee registers for every one of them */

static void
start_small_checkpoints(void)
{
  /* The log is copied beside the writer from 64 pages on, and by the
   * writer itself at twice that: a short rush crosses both often. */
  const char *env[] = {"SQLITE_CHECKPOINT_PAGES", "64", "WORKER", "off", NULL};
  api_server_start_with(env);
}

struct rusher {
  const struct api_user *user;
  const long long *events;
  int answered;            /* 200s */
  int other;               /* the first other status, 0: none */
};

static void *
rush(void *arg)
{
  struct rusher *r = arg;
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < RUSH_EVENTS; i++) {
    struct api_resp *resp = api_post(
        api_printf("/api/registrations/%lld/register/", r->events[i]), r->user->access, "{}");
    if (resp->status == 200)
      r->answered++;
    else if (r->other == 0)
      r->other = resp->status;
  }
  return NULL;
}

TestSuite(checkpoints, .init = start_small_checkpoints, .fini = api_server_stop);

Test(checkpoints, a_rush_keeps_the_log_short_while_a_thread_beside_the_writer_copies_it)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long events[RUSH_EVENTS];
  for (int i = 0; i < RUSH_EVENTS; i++)
    events[i] = create_event(olga.access, 0);
  struct api_user crowd[RUSHERS];
  sign_up_crowd(crowd, RUSHERS);
  long long beside_before = metric("eventapi_db_checkpoints_total{by=\"beside\"}");
  if (!api_on_postgres()) /* the log's file emptied: it measures the rush alone */
    cr_assert_eq(api_db_int("PRAGMA wal_checkpoint(TRUNCATE)", 0), 0, "a checkpoint was busy");

  struct rusher rushers[RUSHERS];
  pthread_t threads[RUSHERS];
  cr_assert_eq(pthread_barrier_init(&barrier, NULL, RUSHERS), 0);
  for (int t = 0; t < RUSHERS; t++) {
    rushers[t] = (struct rusher){.user = &crowd[t], .events = events};
    cr_assert_eq(pthread_create(&threads[t], NULL, rush, &rushers[t]), 0);
  }
  for (int t = 0; t < RUSHERS; t++)
    pthread_join(threads[t], NULL);
  pthread_barrier_destroy(&barrier);
  for (int t = 0; t < RUSHERS; t++)
    cr_assert_eq(rushers[t].answered, RUSH_EVENTS, "attendee %d: %d of %d answered 200, then %d",
                 t, rushers[t].answered, RUSH_EVENTS, rushers[t].other);
  for (int i = 0; i < RUSH_EVENTS; i++)
    expect_counters_match_rows(events[i]);
  api_expect_database_consistent();

  long long beside = metric("eventapi_db_checkpoints_total{by=\"beside\"}") - beside_before;
  if (api_on_postgres()) {
    cr_assert_eq(beside, 0, "PostgreSQL has no write-ahead log of ours to copy");
    return;
  }
  cr_assert_gt(beside, 0, "the thread beside the writer never copied the log");
  /* The log's file keeps the largest size it ever had: each frame is a
   * 4 KiB page and a 24-byte header. With no checkpoint the rush writes
   * about 4,400 frames; with them the log starts over at 128 (twice
   * 64) plus the frames of the batch that crossed that, or soon after
   * when a reader held an older snapshot. */
  struct stat wal;
  cr_assert_eq(stat(api_printf("%s/db.sqlite3-wal", api_server_dir()), &wal), 0);
  long long frames = ((long long)wal.st_size - 32) / (4096 + 24);
  cr_log_info("%lld checkpoints beside the writer; the log's peak: %lld frames", beside, frames);
  cr_assert_leq(frames, 1024, "the log grew to %lld frames", frames);
}

/* ---- durability: kill -9 in the middle of writes ------------------------- */

#define ROUNDS 10
#define THREADS 8
#define PER_THREAD 6

struct writer_thread {
  const char *base;                 /* the child node's address */
  long long event;
  const struct api_user *users;     /* PER_THREAD of them */
  long long answered[PER_THREAD];   /* registration ids answered 200; 0: none */
  int tried;
};

static atomic_int answered_total;

static void *
register_until_killed(void *arg)
{
  struct writer_thread *w = arg;
  const char *path = api_printf("%s/api/registrations/%lld/register/", w->base, w->event);
  for (int i = 0; i < PER_THREAD; i++) {
    struct api_resp *r = api_post(path, w->users[i].access, "{}");
    w->tried++;
    if (r->status != 200)
      break; /* the node is gone */
    w->answered[i] = api_id(r);
    atomic_fetch_add(&answered_total, 1);
  }
  return NULL;
}

/* Every registration answered 200 is there, whole: its ticket and its mail. */
static void
expect_answered_registrations_kept(const struct writer_thread *w)
{
  for (int i = 0; i < PER_THREAD; i++) {
    long long id = w->answered[i];
    if (id == 0)
      continue;
    cr_assert_eq(api_db_int("SELECT COUNT(*) FROM registrations WHERE id = ?"
                            " AND cancelled_at IS NULL", id), 1,
                 "registration %lld was answered 200 and is gone", id);
    cr_assert_eq(api_db_int("SELECT COUNT(*) FROM tickets WHERE registration_id = ?", id), 1,
                 "registration %lld lost its ticket", id);
    cr_assert_eq(api_db_int("SELECT COUNT(*) FROM notifications WHERE registration_id = ?"
                            " AND kind = 'registration_confirmed'", id), 1,
                 "registration %lld lost its confirmation mail", id);
  }
}

/* Nothing is half there: each registration of the event is whole. */
static void
expect_nothing_half_written(long long event)
{
  long long registrations = api_db_int("SELECT COUNT(*) FROM registrations WHERE event_id = ?",
                                       event);
  long long tickets = api_db_int("SELECT COUNT(*) FROM tickets t JOIN registrations r"
                                 " ON r.id = t.registration_id WHERE r.event_id = ?", event);
  long long mails = api_db_int("SELECT COUNT(*) FROM notifications WHERE event_id = ?"
                               " AND kind = 'registration_confirmed'", event);
  cr_assert_eq(tickets, registrations, "%lld registrations, %lld tickets", registrations, tickets);
  cr_assert_eq(mails, registrations, "%lld registrations, %lld mails", registrations, mails);
  expect_counters_match_rows(event);
}

Test(durability, every_answered_registration_survives_kill_9, .init = api_server_start,
     .fini = api_server_stop, .timeout = 300)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long events[ROUNDS];
  for (int round = 0; round < ROUNDS; round++)
    events[round] = create_event(olga.access, 0);
  struct api_user users[THREADS * PER_THREAD];
  for (int i = 0; i < THREADS * PER_THREAD; i++)
    users[i] = api_signup(api_printf("fan%d", i), NULL);
  unsigned seed = (unsigned)getpid();
  const char *const node_env[] = {"WORKER", "off", "SQLITE_CHECKPOINT_PAGES", "64", NULL};
  for (int round = 0; round < ROUNDS; round++) {
    struct api_process node;
    /* No mail worker in the node: the mails are checked as written. The
     * log is copied into the database file often, so that kills land in
     * the middle of checkpoints too. */
    api_process_start(&node, (const char *const[]){"serve", NULL}, node_env);
    const char *base = api_printf("http://127.0.0.1:%u", node.port);
    /* Killed after a random number of answers, with more in flight. */
    int kill_after = 1 + rand_r(&seed) % (THREADS * PER_THREAD / 2);
    atomic_store(&answered_total, 0);
    struct writer_thread w[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
      w[t] = (struct writer_thread){.base = base, .event = events[round],
                                    .users = &users[t * PER_THREAD]};
      cr_assert_eq(pthread_create(&threads[t], NULL, register_until_killed, &w[t]), 0);
    }
    while (atomic_load(&answered_total) < kill_after) {
      struct timespec pause = {0, 1000 * 1000};
      nanosleep(&pause, NULL); /* polls the count; the kill moment is what varies */
    }
    api_process_kill(&node, SIGKILL);
    for (int t = 0; t < THREADS; t++)
      pthread_join(threads[t], NULL);
    /* A node started on the database again recovers what was committed. */
    struct api_process again;
    api_process_start(&again, (const char *const[]){"serve", NULL}, node_env);
    expect_status(api_get(api_printf("http://127.0.0.1:%u/healthz", again.port), NULL), 200);
    api_process_kill(&again, SIGTERM);
    for (int t = 0; t < THREADS; t++)
      expect_answered_registrations_kept(&w[t]);
    expect_nothing_half_written(events[round]);
  }
}
