/*
 * live_nodes.c - docs/api.md "Live availability" across nodes: two
 * `eventapi serve` processes on one PostgreSQL database (run only in the
 * PostgreSQL pass). A change made through one node reaches the streams of
 * the other by the NOTIFY that commits with it; a node whose listening
 * connection is cut reconnects by itself and sends its streams whatever
 * changed while it could not hear.
 */
#include <criterion/criterion.h>
#include <signal.h>

#include "support/api.h"
#include "support/db.h"
#include "support/process.h"
#include "support/sse.h"

#define NODES 2

static struct api_process nodes[NODES];

/* The listening connections on the test's database (every process has one). */
#define LISTENERS                                                                   \
  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'eventapi listener'" \
  " AND datname = current_database()"

static void start(void)
{
  api_server_start();
  const char *serve[] = {"serve", "--no-worker", NULL};
  for (size_t i = 0; i < NODES; i++)
    api_process_start(&nodes[i], serve, NULL);
  /* Each process listens once its listener has connected: then, and only
   * then, does a change elsewhere reach it. */
  long long listening = api_db_wait(LISTENERS, 0, NODES + 1, 20000);
  cr_assert_eq(listening, NODES + 1, "%lld of %d processes listen", listening, NODES + 1);
}

static void stop(void)
{
  for (size_t i = 0; i < NODES; i++)
    cr_expect_eq(api_process_kill(&nodes[i], SIGTERM), 0, "node %zu stops cleanly", i);
  api_expect_database_consistent();
  api_server_stop();
}

TestSuite(live_nodes, .init = start, .fini = stop);

static const char *on(size_t node, const char *path)
{
  return api_printf("http://127.0.0.1:%u%s", nodes[node].port, path);
}

static void register_on(size_t node, const char *token, long long event)
{
  const char *path = api_printf("/api/registrations/%lld/register/", event);
  expect_status(api_post(on(node, path), token, "{}"), 200);
}

Test(live_nodes, a_change_on_one_node_reaches_the_streams_of_every_node)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':4}");
  struct sse *s0 = sse_open(nodes[0].port, e.id, NULL, NULL);
  struct sse *s1 = sse_open(nodes[1].port, e.id, NULL, NULL);
  struct sse *here = sse_open(0, e.id, NULL, NULL);
  long long id0, id1, idh;
  cr_expect_eq(api_int(sse_next(s0, &id0), "remaining"), 4);
  cr_expect_eq(api_int(sse_next(s1, &id1), "remaining"), 4);
  cr_expect_eq(api_int(sse_next(here, &idh), "remaining"), 4);

  register_on(0, alice.access, e.id);
  json_t *m1 = sse_next(s1, &id1);
  cr_expect_eq(api_int(m1, "confirmed"), 1, "node 1 heard of node 0's change: %s", api_dump(m1));
  cr_expect_eq(api_int(sse_next(s0, &id0), "confirmed"), 1);
  cr_expect_eq(api_int(sse_next(here, &idh), "confirmed"), 1);
  cr_expect_eq(id0, id1, "the same version on every node");

  register_on(1, bob.access, e.id);
  cr_expect_eq(api_int(sse_next(s0, &id0), "remaining"), 2);
  cr_expect_eq(api_int(sse_next(s1, &id1), "remaining"), 2);
  cr_expect_eq(api_int(sse_next(here, &idh), "remaining"), 2);
  cr_expect_eq(id0, id1);
  cr_expect_eq(id1, idh);

  /* The organizer's change of capacity travels the same way. */
  expect_status(api_patch(on(1, api_printf("/api/events/%lld/update/", e.id)), olga.access,
                          "{\"capacity\":10}"), 200);
  cr_expect_eq(api_int(sse_next(s0, &id0), "remaining"), 8);
  cr_expect_eq(api_int(sse_next(here, &idh), "remaining"), 8);
}

Test(live_nodes, a_node_whose_listening_connection_is_cut_catches_up)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access, "{'capacity':4}");
  struct sse *s = sse_open(nodes[1].port, e.id, NULL, NULL);
  long long id;
  cr_expect_eq(api_int(sse_next(s, &id), "capacity"), 4);

  /* A change that nobody announces (made in the database directly), then
   * every listening connection cut: each node reconnects, reads its
   * watched events again, and sends what changed while it was deaf. */
  cr_assert_eq(api_db_int("UPDATE events SET capacity = 7, version = version + 1"
                          " WHERE id = ? RETURNING capacity", e.id), 7);
  cr_assert_geq(api_db_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                           " WHERE application_name = 'eventapi listener'"
                           " AND datname = current_database()", 0), NODES + 1);
  long long next;
  json_t *m = sse_next(s, &next);
  cr_expect_eq(api_int(m, "capacity"), 7, "%s", api_dump(m));
  cr_expect_gt(next, id);
  cr_expect_eq(api_db_wait(LISTENERS, 0, NODES + 1, 20000), NODES + 1, "every node listens again");

  /* And hears the others again. */
  struct api_user alice = api_signup("alice", NULL);
  register_on(0, alice.access, e.id);
  cr_expect_eq(api_int(sse_next(s, &next), "confirmed"), 1);
}
