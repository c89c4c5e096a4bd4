/*
 * scaleout.c - DESIGN.md "Scale-out": three `eventapi serve` nodes and two
 * `eventapi worker` processes on one database (the SQLite file of the run,
 * or PostgreSQL when the suite runs there), all started by the test. Every
 * promise of API.md holds across them: 300 registrations from 60 threads
 * spread over the nodes never oversell an event or a ticket type and the
 * counters equal the rows; concurrent cancels promote the waitlist in
 * order; a token from one node works on the others; a ticket checked in
 * on two nodes at once counts once; every notification is mailed exactly
 * once by the two workers.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/db.h"
#include "support/process.h"
#include "support/smtp.h"

#define NODES 3
#define WORKERS 2

static struct api_process nodes[NODES], workers[WORKERS];

static void start(void)
{
  smtp_start();
  const char *env[] = {"EMAIL_URL", api_strdup(smtp_url()), "WORKER", "off",
                       "EMAIL_RETRY_DELAY", "100ms", NULL};
  api_server_start_with(env);
  const char *serve[] = {"serve", NULL}, *work[] = {"worker", NULL};
  const char *threads[] = {"THREADS", "4", NULL};
  for (size_t i = 0; i < NODES; i++)
    api_process_start(&nodes[i], serve, threads);
  for (size_t i = 0; i < WORKERS; i++)
    api_process_start(&workers[i], work, NULL);
}

static void stop(void)
{
  for (size_t i = 0; i < NODES; i++)
    api_process_kill(&nodes[i], SIGTERM);
  for (size_t i = 0; i < WORKERS; i++)
    api_process_kill(&workers[i], SIGTERM);
  api_server_stop();
  smtp_cleanup();
}

TestSuite(scaleout, .init = start, .fini = stop, .timeout = 300);

/* path on node i (round robin). */
static const char *on(size_t i, const char *path)
{
  return api_printf("http://127.0.0.1:%u%s", nodes[i % NODES].port, path);
}

/* ---- never oversold --------------------------------------------------------- */

enum { PEOPLE = 300, ROUND = 60, ROUNDS = PEOPLE / ROUND };

Test(scaleout, three_nodes_never_oversell)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *r = api_post(on(0, "/api/events/create/"), org.access, api_event_json(
      "{'title':'Arena','capacity':120,'ticket_types':["
      "{'name':'Floor','price':'50.00','quantity':60},"
      "{'name':'Balcony','price':'30.00','quantity':45},"
      "{'name':'Standing','price':'20.00','quantity':0}]}"));
  expect_status(r, 200);
  long long event = api_id(r);
  long long types[3];
  for (size_t k = 0; k < 3; k++)
    types[k] = api_int(json_array_get(json_object_get(r->json, "ticket_types"), k), "id");
  static const char *tokens[PEOPLE];
  for (size_t who = 0; who < PEOPLE; who++)
    tokens[who] = api_signup(api_printf("fan%zu", who), NULL).access;

  /* Five races of 60 at once, spread over the nodes; a third ask for each
   * ticket type. */
  long long confirmed = 0;
  for (size_t round = 0; round < ROUNDS; round++) {
    static struct api_call calls[ROUND];
    for (size_t i = 0; i < ROUND; i++) {
      size_t who = round * ROUND + i;
      calls[i] = (struct api_call){
        .method = "POST", .path = on(who, api_printf("/api/registrations/%lld/register/", event)),
        .token = tokens[who], .body = api_printf("{\"ticket_type\":%lld}", types[who % 3]),
      };
    }
    api_race(calls, ROUND);
    for (size_t i = 0; i < ROUND; i++) {
      expect_status(calls[i].resp, 200);
      confirmed += !json_is_true(json_object_get(calls[i].resp->json, "is_waitlisted"));
    }
  }
  long long rows = api_db_int("SELECT count(*) FROM registrations WHERE event_id = ?"
                              " AND cancelled_at IS NULL AND is_waitlisted = 0", event);
  cr_expect_eq(rows, confirmed, "the answers agree with the rows");
  cr_expect_eq(rows, 120, "the event filled: 100 asks for each of 60, 45 and unlimited places");
  cr_expect_eq(api_db_int("SELECT confirmed_count FROM events WHERE id = ?", event), rows);
  for (size_t k = 0; k < 3; k++) {
    long long trows = api_db_int("SELECT count(*) FROM registrations WHERE ticket_type_id = ?"
                                 " AND cancelled_at IS NULL AND is_waitlisted = 0", types[k]);
    cr_expect_eq(api_db_int("SELECT confirmed_count FROM ticket_types WHERE id = ?", types[k]),
                 trows);
    if (k < 2)
      cr_expect_leq(trows, k == 0 ? 60 : 45, "ticket type %zu oversold: %lld", k, trows);
  }
  cr_expect_eq(api_db_int("SELECT count(*) FROM registrations WHERE event_id = ?", event),
               PEOPLE, "every registration stored once");
  cr_expect_eq(api_db_int("SELECT count(*) FROM tickets t JOIN registrations r"
                          " ON r.id = t.registration_id WHERE r.event_id = ?", event), rows);

  /* Every notification (300 registration mails) is mailed once, by the two
   * workers: wait until all are recorded sent, then stop the workers (each
   * finishes the message in hand) before counting what arrived. */
  long long mails = api_db_wait("SELECT count(*) FROM outbox WHERE state = 'sent'", 0,
                                PEOPLE, 120000);
  cr_assert_eq(mails, PEOPLE, "sent %lld of %d", mails, PEOPLE);
  for (size_t i = 0; i < WORKERS; i++)
    cr_expect_eq(api_process_kill(&workers[i], SIGTERM), 0, "worker %zu stops cleanly", i);
  json_t *all = smtp_messages();
  cr_expect_eq(json_array_size(all), PEOPLE, "received %zu", json_array_size(all));
  cr_expect_eq(api_db_int("SELECT count(*) FROM outbox WHERE attempts > 1", 0), 0,
               "each claimed once: %s",
               api_db_text("SELECT coalesce(string_agg(id || ' tried ' || attempts || ': '"
                           " || coalesce(last_error, 'no error'), '; '), '')"
                           " FROM outbox WHERE attempts > 1"));
  json_t *seen = json_object();
  size_t i;
  json_t *m;
  json_array_foreach(all, i, m) {
    const char *id = json_string_value(json_object_get(m, "message_id"));
    cr_expect(json_object_get(seen, id) == NULL, "Message-ID %s twice", id);
    json_object_set_new(seen, id, json_true());
  }
  json_decref(seen);
}

/* ---- cancels promote in order -------------------------------------------------- */

Test(scaleout, concurrent_cancels_on_many_nodes_promote_in_order)
{
  enum { CAPACITY = 6, WAITING = 10 };
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *r = api_post(on(1, "/api/events/create/"), org.access,
                                api_event_json("{'title':'Club','capacity':6}"));
  expect_status(r, 200);
  long long event = api_id(r);
  const char *register_path = api_printf("/api/registrations/%lld/register/", event);
  struct api_call cancels[CAPACITY];
  long long waiting[WAITING];
  const char *waiting_tokens[WAITING];
  for (size_t i = 0; i < CAPACITY + WAITING; i++) {
    struct api_user u = api_signup(api_printf("guest%zu", i), NULL);
    r = api_post(on(i, register_path), u.access, "{}");
    expect_status(r, 200);
    cr_assert_eq(json_is_true(json_object_get(r->json, "is_waitlisted")), i >= CAPACITY);
    if (i < CAPACITY)
      cancels[i] = (struct api_call){
        .method = "DELETE", .path = on(i + 1, api_printf("/api/registrations/%lld/", api_id(r))),
        .token = u.access,
      };
    else {
      waiting[i - CAPACITY] = api_id(r);
      waiting_tokens[i - CAPACITY] = u.access;
    }
  }
  /* Half the confirmed cancel at once, each on another node. */
  api_race(cancels, CAPACITY / 2);
  for (size_t i = 0; i < CAPACITY / 2; i++)
    expect_status(cancels[i].resp, 204);
  /* The three oldest waiting got the places, in order; the others wait. */
  for (size_t i = 0; i < WAITING; i++) {
    r = api_get(on(i, api_printf("/api/registrations/%lld/", waiting[i])), waiting_tokens[i]);
    expect_status(r, 200);
    cr_expect_eq(json_is_true(json_object_get(r->json, "is_waitlisted")), i >= CAPACITY / 2,
                 "waiting #%zu", i);
  }
  cr_expect_eq(api_db_int("SELECT confirmed_count FROM events WHERE id = ?", event), CAPACITY);
  cr_expect_eq(api_db_int("SELECT count(*) FROM registrations WHERE event_id = ?"
                          " AND cancelled_at IS NULL AND is_waitlisted = 0", event), CAPACITY);
}

/* ---- tokens and check-ins across nodes -------------------------------------------- */

Test(scaleout, a_token_from_one_node_works_on_the_others)
{
  api_signup("ada", NULL);
  struct api_resp *r = api_post(on(0, "/auth/token/"), NULL,
                                api_json("{'username':'ada','password':'" API_PASSWORD "'}"));
  expect_status(r, 200);
  const char *access = json_string_value(json_object_get(r->json, "access"));
  const char *refresh = json_string_value(json_object_get(r->json, "refresh"));
  for (size_t i = 0; i < NODES; i++) {
    r = api_get(on(i, "/api/users/me/"), access);
    expect_status(r, 200);
    expect_str(r, "username", "ada");
  }
  /* Logged out on one node: refused on every other. */
  expect_status(api_post(on(1, "/auth/token/blacklist/"), NULL,
                         api_jsonf("{\"refresh\":\"%s\"}", refresh)), 200);
  expect_status(api_post(on(2, "/auth/token/refresh/"), NULL,
                         api_jsonf("{\"refresh\":\"%s\"}", refresh)), 401);
}

Test(scaleout, a_ticket_checked_in_on_two_nodes_counts_once)
{
  enum { TICKETS = 10 };
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *created = api_post(on(2, "/api/events/create/"), org.access,
                                      api_event_json("{'title':'Gate','capacity':0}"));
  expect_status(created, 200);
  long long event = api_id(created);
  for (size_t i = 0; i < TICKETS; i++) {
    struct api_user u = api_signup(api_printf("holder%zu", i), NULL);
    struct api_resp *r = api_post(on(i, api_printf("/api/registrations/%lld/register/", event)),
                                  u.access, "{}");
    const char *code = json_string_value(json_object_get(json_object_get(r->json, "ticket"),
                                                         "code"));
    cr_assert(code != NULL, "%s", r->body);
    const char *path = api_printf("/api/tickets/%s/check-in/", code);
    struct api_call scans[2] = {
      {.method = "POST", .path = on(i, path), .token = org.access},
      {.method = "POST", .path = on(i + 1, path), .token = org.access},
    };
    api_race(scans, 2);
    long ok = (scans[0].resp->status == 200) + (scans[1].resp->status == 200);
    long again = (scans[0].resp->status == 409) + (scans[1].resp->status == 409);
    cr_expect(ok == 1 && again == 1, "ticket %zu: %ld and %ld", i, scans[0].resp->status,
              scans[1].resp->status);
  }
}
