/*
 * postgres_restart.c - PostgreSQL restarted under load (run only in the
 * PostgreSQL pass of the suite: scripts/with-postgres sets
 * EVENTAPI_TEST_POSTGRES_RESTART to the command that restarts its
 * cluster). Two `eventapi serve` nodes take registrations from 20 threads
 * while the database restarts: a request that meets the restart is
 * answered 503 (never 500, never a dead node), the nodes reconnect by
 * themselves, every 2xx registration is in the database afterwards, and
 * nothing is oversold.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/api.h"
#include "support/db.h"
#include "support/process.h"

#define NODES 2
#define THREADS 20
#define EACH 30      /* people per thread, at most */
#define AFTER 3      /* registrations each thread makes once the restart is over */
#define CAPACITY 150

static struct api_process nodes[NODES];

static void start(void)
{
  const char *env[] = {"WORKER", "off", NULL};
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

static void pause_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

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
  int committed_anyway;   /* a 503 whose retry found the registration made */
  int other;              /* anything else */
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
        l->unavailable++;
        pause_ms(50); /* Retry-After, as a client would, then again */
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
      l->other++;
      break;
    }
    l->done = k + 1;
    l->after += begun_after;
  }
  return NULL;
}

Test(postgres, a_restart_under_load_loses_no_2xx_and_oversells_nothing)
{
  const char *restart = getenv("EVENTAPI_TEST_POSTGRES_RESTART");
  cr_assert(restart != NULL, "EVENTAPI_TEST_POSTGRES_RESTART is not set: this suite runs "
                             "under scripts/with-postgres");
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *r = api_post(on(0, "/api/events/create/"), org.access,
      api_event_json(api_printf("{'title':'Restart','capacity':%d}", CAPACITY)));
  expect_status(r, 200);
  long long event = api_id(r);
  static struct load loads[THREADS];
  for (size_t t = 0; t < THREADS; t++) {
    loads[t] = (struct load){.thread = t, .event = event};
    for (size_t k = 0; k < EACH; k++)
      loads[t].tokens[k] = api_signup(api_printf("u%zu_%zu", t, k), NULL).access;
  }
  /* Every node thread holds a connection before the restart. */
  for (size_t i = 0; i < 4 * NODES; i++)
    expect_status(api_get(on(i, "/api/events/"), NULL), 200);

  pthread_t threads[THREADS];
  size_t started = 0;
  int error = 0;
  while (started < THREADS &&
         (error = pthread_create(&threads[started], NULL, register_through_restart,
                                 &loads[started])) == 0)
    started++;
  /* The load is running once registrations arrive: then restart. */
  long long arrived = 0;
  if (error == 0) {
    arrived = api_db_wait("SELECT count(*) FROM registrations WHERE event_id = ?", event,
                          THREADS, 60000);
    int rc = system(restart);
    cr_expect_eq(rc, 0, "the restart command failed: %s", restart);
  }
  atomic_store(&restarted, true);
  for (size_t t = 0; t < started; t++)
    pthread_join(threads[t], NULL);
  cr_assert_eq(error, 0, "pthread_create: %s", strerror(error));
  cr_assert_geq(arrived, THREADS, "the load did not begin");

  int unavailable = 0, other = 0, committed_anyway = 0;
  long long confirmed = 0, people = 0;
  for (size_t t = 0; t < THREADS; t++) {
    unavailable += loads[t].unavailable;
    committed_anyway += loads[t].committed_anyway;
    other += loads[t].other;
    people += (long long)loads[t].done;
    cr_expect_eq(loads[t].after, AFTER, "thread %zu ran out of people before the restart ended",
                 t);
    for (size_t k = 0; k < loads[t].done; k++)
      confirmed += loads[t].status[k] == 200 && !loads[t].waitlisted[k];
  }
  cr_expect_eq(other, 0, "only 200 and 503 may be answered (and a retry's 400 after a commit "
               "that the restart cut off)");
  cr_log_info("during the restart: %d answers 503, %d of them committed", unavailable,
              committed_anyway);
  cr_expect_gt(unavailable, 0, "no request met the restart: the test proves nothing");

  /* Both nodes are still up and serve from the restarted database. */
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
  cr_expect_leq(rows - confirmed, committed_anyway);
  cr_expect_leq(rows, CAPACITY, "not oversold");
  if (people >= CAPACITY)
    cr_expect_eq(rows, CAPACITY, "%lld asks for %d places: full", people, CAPACITY);
  cr_expect_eq(api_db_int("SELECT confirmed_count FROM events WHERE id = ?", event), rows);
  cr_expect_eq(api_db_int("SELECT count(*) FROM registrations WHERE event_id = ?", event),
               people, "each registered once, retries included");
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
