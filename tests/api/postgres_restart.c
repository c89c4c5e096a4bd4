/*
 * postgres_restart.c - PostgreSQL gone and back, under load (run only in
 * the PostgreSQL pass of the suite: scripts/with-postgres sets
 * EVENTAPI_TEST_POSTGRES_RESTART, _STOP and _START to the commands that
 * restart, stop and start its cluster). Two `eventapi serve` nodes take
 * registrations from 20 threads while the database restarts, is stopped
 * for a few seconds and started again, or has the nodes' backends killed
 * one after the other (a network cut, mid-commit as often as not): a
 * request that meets the outage is answered 503 (never 500, never a dead
 * node), and only while the database is down; the nodes reconnect by
 * themselves and serve again within seconds; every 2xx registration is in
 * the database afterwards, nothing is oversold, and the counters equal
 * the rows they count.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <stdio.h>

#include "core/timefmt.h"
#include "support/api.h"
#include "support/db.h"
#include "support/process.h"

#define NODES 2
#define THREADS 20
#define EACH 30      /* people per thread, at most */
#define AFTER 3      /* registrations each thread makes once the restart is over */
#define CAPACITY 150
/* How soon after the database is back every node serves again: a bound a
 * loaded machine meets (a node reconnects on its next request), not a
 * speed. */
#define BACK_WITHIN_MS 5000

static struct api_process nodes[NODES];

static void start(void)
{
  /* Hashing as cheap as libsodium allows: 600 people sign up per test. */
  const char *env[] = {"WORKER", "off", "ARGON2_MEMLIMIT_KIB", "8", NULL};
  api_server_start_with(env);
  const char *serve[] = {"serve", NULL};
  const char *threads[] = {"THREADS", "4", NULL};
  for (size_t i = 0; i < NODES; i++)
    api_process_start(&nodes[i], serve, threads);
}

static void stop(void)
{
  for (size_t i = 0; i < NODES; i++)
    api_process_kill(&nodes[i], SIGTERM);
  api_server_stop();
}

TestSuite(postgres, .init = start, .fini = stop, .timeout = 300);

static const char *on(size_t i, const char *path)
{
  return api_printf("http://127.0.0.1:%u%s", nodes[i % NODES].port, path);
}

/* Set by the test once the restart command has returned. */
static atomic_bool restarted;

struct load {
  size_t thread;
  long long event;
  const char *tokens[EACH];
  size_t done;            /* people whose registration got its answer */
  size_t after;           /* of them, begun once the restart was over */
  long status[EACH];
  long long id[EACH];     /* of each 200 */
  bool waitlisted[EACH];
  int unavailable;        /* 503s met (each retried until answered) */
  int64_t first_503_us, last_503_us; /* when they were answered (monotonic) */
  int committed_anyway;   /* a 503 whose retry found the registration made */
  int other;              /* anything else */
  long other_status;      /* the first of them */
  const char *other_body;
};

/*
 * Registers one person after another, without a pause, until AFTER of them
 * began once the restart was over: the load runs before, during and after
 * it, whatever it takes.
 */
static void *register_through_restart(void *arg)
{
  struct load *l = arg;
  for (size_t k = 0; k < EACH && l->after < AFTER; k++) {
    bool begun_after = atomic_load(&restarted);
    const char *path = api_printf("/api/registrations/%lld/register/", l->event);
    for (int tries = 0; tries < 200; tries++) {
      struct api_resp *r = api_post(on(l->thread + k + (size_t)tries, path), l->tokens[k], "{}");
      l->status[k] = r->status;
      if (r->status == 200) {
        l->id[k] = (long long)json_integer_value(json_object_get(r->json, "id"));
        l->waitlisted[k] = json_is_true(json_object_get(r->json, "is_waitlisted"));
        break;
      }
      if (r->status == 503) {
        int64_t now = time_monotonic_us();
        if (l->unavailable++ == 0)
          l->first_503_us = now;
        l->last_503_us = now;
        api_pause_ms(50); /* Retry-After, as a client would, then again */
        continue;
      }
      /* A commit cut by the restart may have been made after all: its
       * retry is then refused as a second registration. */
      const char *already = "You are already registered for this event.";
      json_t *errors = json_object_get(r->json, "non_field_errors");
      if (r->status == 400 && tries > 0 &&
          strcmp(json_string_value(json_array_get(errors, 0)) ?: "", already) == 0) {
        l->committed_anyway++;
        break;
      }
      if (l->other++ == 0) {
        l->other_status = r->status;
        l->other_body = r->body;
      }
      break;
    }
    l->done = k + 1;
    l->after += begun_after;
  }
  return NULL;
}

static void cut_connections(void *arg, long long event);

/* What an outage did to the load. */
struct outcome {
  int64_t began_us, ended_us;   /* the outage, as the test made it (monotonic) */
  int unavailable, committed_anyway;
  int64_t first_503_us, last_503_us;
};

/*
 * Runs the load over every node from THREADS threads, makes the outage
 * (outage(arg, the event registered for)) once registrations arrive, and lets the load go on until
 * each thread has begun AFTER registrations after it. Then checks what
 * every outage must leave: only 200 and 503 were answered (and a retry's
 * 400 after a commit the outage cut off), both nodes are alive and serve,
 * every 200 is in the database, nothing is oversold, the counter equals
 * the rows, everyone is registered once.
 */
static struct outcome
through_outage(const char *name, void (*outage)(void *arg, long long event), void *arg)
{
  struct outcome o = {0};
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *r = api_post(on(0, "/api/events/create/"), org.access,
      api_event_json(api_printf("{'title':'%s','capacity':%d}", name, CAPACITY)));
  expect_status(r, 200);
  long long event = api_id(r);
  static struct load loads[THREADS];
  for (size_t t = 0; t < THREADS; t++) {
    loads[t] = (struct load){.thread = t, .event = event};
    for (size_t k = 0; k < EACH; k++)
      loads[t].tokens[k] = api_signup(api_printf("u%zu_%zu", t, k), NULL).access;
  }
  /* Every node thread holds a connection before the outage. */
  for (size_t i = 0; i < 4 * NODES; i++)
    expect_status(api_get(on(i, "/api/events/"), NULL), 200);

  atomic_store(&restarted, false);
  pthread_t threads[THREADS];
  size_t started = 0;
  int error = 0;
  while (started < THREADS &&
         (error = pthread_create(&threads[started], NULL, register_through_restart,
                                 &loads[started])) == 0)
    started++;
  /* The load is running once registrations arrive: then the outage. */
  long long arrived = 0;
  if (error == 0) {
    arrived = api_db_wait("SELECT count(*) FROM registrations WHERE event_id = ?", event,
                          THREADS, 60000);
    o.began_us = time_monotonic_us();
    outage(arg, event);
    o.ended_us = time_monotonic_us();
  }
  atomic_store(&restarted, true);
  for (size_t t = 0; t < started; t++)
    pthread_join(threads[t], NULL);
  cr_assert_eq(error, 0, "pthread_create: %s", strerror(error));
  cr_assert_geq(arrived, THREADS, "the load did not begin");

  int other = 0;
  long long confirmed = 0, people = 0, after = 0;
  for (size_t t = 0; t < THREADS; t++) {
    const struct load *l = &loads[t];
    o.committed_anyway += l->committed_anyway;
    other += l->other;
    cr_expect_eq(l->other, 0, "thread %zu was answered %ld: %s", t, l->other_status,
                 l->other_body ? l->other_body : "");
    if (l->unavailable) {
      if (o.unavailable == 0 || l->first_503_us < o.first_503_us)
        o.first_503_us = l->first_503_us;
      if (l->last_503_us > o.last_503_us)
        o.last_503_us = l->last_503_us;
    }
    o.unavailable += l->unavailable;
    people += (long long)l->done;
    after += l->after;
    if (outage != cut_connections)
      cr_expect_eq(l->after, AFTER, "thread %zu ran out of people before the outage ended", t);
    for (size_t k = 0; k < l->done; k++)
      confirmed += l->status[k] == 200 && !l->waitlisted[k];
  }
  cr_expect_eq(other, 0, "only 200 and 503 may be answered (and a retry's 400 after a commit "
               "that the outage cut off)");
  /* The cuts run as long as most of the load, which goes at each thread's
   * own pace: some threads end with them, as long as others go on. */
  cr_expect_gt(after, 0, "no registration was made once the outage was over");
  cr_log_info("%s: %d answers 503, %d of them committed", name, o.unavailable,
              o.committed_anyway);

  /* Both nodes are still up and serve from the database. */
  for (size_t i = 0; i < NODES; i++) {
    cr_expect_eq(api_process_wait(&nodes[i], 0), -1, "node %zu died", i);
    expect_status(api_get(on(i, "/api/events/"), NULL), 200);
  }
  /* Every 200 is in the database, and nothing is oversold. */
  for (size_t t = 0; t < THREADS; t++)
    for (size_t k = 0; k < loads[t].done; k++)
      if (loads[t].status[k] == 200)
        cr_expect_eq(api_db_int("SELECT count(*) FROM registrations WHERE id = ?",
                                loads[t].id[k]), 1, "registration %lld lost", loads[t].id[k]);
  long long rows = api_db_int("SELECT count(*) FROM registrations WHERE event_id = ?"
                              " AND cancelled_at IS NULL AND is_waitlisted = 0", event);
  cr_expect_geq(rows, confirmed, "every confirmed answer is a confirmed row");
  cr_expect_leq(rows - confirmed, o.committed_anyway);
  cr_expect_leq(rows, CAPACITY, "not oversold");
  if (people >= CAPACITY)
    cr_expect_eq(rows, CAPACITY, "%lld asks for %d places: full", people, CAPACITY);
  cr_expect_eq(api_db_int("SELECT confirmed_count FROM events WHERE id = ?", event), rows);
  cr_expect_eq(api_db_int("SELECT count(*) FROM registrations WHERE event_id = ?", event),
               people, "each registered once, retries included");
  api_expect_database_consistent();
  return o;
}

/* 503s came while the database was down, and only then (or a moment
 * after, while a node reconnects). */
static void
expect_503s_only_while_down(const struct outcome *o)
{
  cr_expect_gt(o->unavailable, 0, "no request met the outage: the test proves nothing");
  if (o->unavailable == 0)
    return;
  cr_expect_geq(o->first_503_us, o->began_us, "a 503 %lld ms before the database went down",
                (long long)(o->began_us - o->first_503_us) / 1000);
  cr_expect_leq(o->last_503_us, o->ended_us + BACK_WITHIN_MS * 1000,
                "a 503 %lld ms after the database was back",
                (long long)(o->last_503_us - o->ended_us) / 1000);
}

static void
run_command(void *arg, long long event)
{
  (void)event;
  const char *command = arg;
  cr_expect_eq(system(command), 0, "the command failed: %s", command);
}

static const char *
command(const char *name)
{
  const char *value = getenv(name);
  cr_assert(value != NULL, "%s is not set: this suite runs under scripts/with-postgres", name);
  return value;
}

Test(postgres, a_restart_under_load_loses_no_2xx_and_oversells_nothing)
{
  struct outcome o = through_outage("Restart", run_command,
                                    (void *)command("EVENTAPI_TEST_POSTGRES_RESTART"));
  expect_503s_only_while_down(&o);
}

/* The database stopped, left down for a while, and started again. */
static void
stop_and_start(void *arg, long long event)
{
  (void)arg;
  run_command((void *)command("EVENTAPI_TEST_POSTGRES_STOP"), event);
  api_pause_ms(2000);
  run_command((void *)command("EVENTAPI_TEST_POSTGRES_START"), event);
}

Test(postgres, a_database_gone_for_seconds_answers_503_until_it_is_back)
{
  struct outcome o = through_outage("Gone", stop_and_start, NULL);
  expect_503s_only_while_down(&o);
}

/* libpq's notices: a backend that ended by itself before its kill. */
static void
ignore_notice(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

/*
 * A network cut mid-commit: one of the nodes' backends killed from
 * pg_stat_activity every few milliseconds while most of the load runs,
 * one that is running a statement (a commit, as often as not) or is inside
 * a transaction when there is one.
 */
static void
cut_connections(void *arg, long long event)
{
  int *killed = arg;
  PGconn *conn = PQconnectdb(getenv("DATABASE_URL"));
  cr_assert(PQstatus(conn) == CONNECTION_OK, "connect: %s", PQerrorMessage(conn));
  PQsetNoticeProcessor(conn, ignore_notice, NULL);
  PQclear(PQexec(conn, "SET application_name = 'eventapi-test-cutter'"));
  /* Until half the load is through, or a minute at most. */
  long long until = THREADS * EACH / 2;
  const char *registered = api_printf("SELECT count(*) FROM registrations WHERE event_id = %lld",
                                      event);
  for (int i = 0; i < 3000; i++) {
    PGresult *res = PQexec(conn, registered);
    cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(conn));
    long long count = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (count >= until)
      break;
    res = PQexec(conn,
        "SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND application_name = 'eventapi'"
        " ORDER BY state IN ('active', 'idle in transaction') DESC, random() LIMIT 1) AS one");
    cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(conn));
    *killed += atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    api_pause_ms(20);
  }
  PQfinish(conn);
}

Test(postgres, backends_killed_mid_commit_lose_no_2xx_and_oversell_nothing)
{
  int killed = 0;
  struct outcome o = through_outage("Cut", cut_connections, &killed);
  cr_log_info("%d backends killed", killed);
  cr_expect_gt(killed, 0);
  cr_expect_gt(o.unavailable, 0, "no request met a cut connection: the test proves nothing");
  /* Back at once: the next request of each thread reconnects. */
  cr_expect_leq(o.last_503_us, o.ended_us + BACK_WITHIN_MS * 1000,
                "a 503 %lld ms after the last cut", (long long)(o.last_503_us - o.ended_us) / 1000);
}

/* One GET of path on a connection of its own to node i (of NODES, round); its status. */
static long get_on_new_connection(size_t i, const char *path)
{
  api_server_attach(nodes[i % NODES].port);
  const char *request = api_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Connection: close\r\n\r\n", path);
  return api_raw(request, strlen(request))->status;
}

Test(postgres, a_restart_while_the_nodes_sit_idle_costs_no_request)
{
  const char *restart = getenv("EVENTAPI_TEST_POSTGRES_RESTART");
  cr_assert(restart != NULL, "EVENTAPI_TEST_POSTGRES_RESTART is not set: this suite runs "
                             "under scripts/with-postgres");
  /* Connections spread over the nodes' threads, each of which opens its own
   * database connection on its first request. */
  for (size_t n = 0; n < 16 * NODES; n++)
    cr_assert_eq(get_on_new_connection(n, "/api/events/"), 200);
  cr_assert_eq(system(restart), 0, "the restart command failed: %s", restart);

  /* Every thread finds its connection dead at its next use, and opens a
   * new one before it answers: nothing in the log of a client. */
  int answered = 0;
  for (size_t n = 0; n < 16 * NODES; n++) {
    long status = get_on_new_connection(n, n % 2 ? "/api/events/" : "/healthz");
    cr_expect_eq(status, 200, "request %zu after the restart: %ld", n, status);
    answered += status == 200;
  }
  cr_assert_eq(answered, 16 * NODES);
  for (size_t i = 0; i < NODES; i++)
    cr_expect_eq(api_process_wait(&nodes[i], 0), -1, "node %zu died", i);
}
