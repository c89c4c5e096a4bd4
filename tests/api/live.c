/*
 * live.c - docs/api.md "Live availability": GET
 * /api/events/{id}/availability/stream, Server-Sent Events of an event's
 * places left. The current state first, then one message per change
 * (coalesced), ids that resume with Last-Event-ID, the end of a deleted
 * event's streams, the caps, and clients that vanish mid-stream.
 *
 * Streams are read as support/sse.h says; the same across nodes on one
 * PostgreSQL database is live_nodes.c.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/api.h"
#include "support/db.h"
#include "support/sse.h"

static void stop(void)
{
  api_expect_database_consistent();
  api_server_stop();
}

TestSuite(live, .init = api_server_start, .fini = stop);

static long long version_now(long long event)
{
  struct api_resp *r = api_get(api_printf("/api/events/%lld/availability/", event), NULL);
  expect_status(r, 200);
  return api_int(r->json, "version");
}

static void register_for(const char *token, long long event)
{
  expect_status(api_post(api_printf("/api/registrations/%lld/register/", event), token, "{}"),
                200);
}

Test(live, the_first_message_is_the_state_then_one_per_change)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':3}");
  struct sse *s = sse_open(0, e.id, NULL, NULL);
  sse_wait_for(s, "HTTP/1.1 200");
  sse_wait_for(s, "Content-Type: text/event-stream; charset=utf-8");
  sse_wait_for(s, "Cache-Control: no-cache");
  sse_wait_for(s, "retry: 2000\n\n");
  long long id;
  json_t *first = sse_next(s, &id);
  cr_expect_eq(api_int(first, "remaining"), 3, "%s", api_dump(first));
  cr_expect_eq(id, api_int(first, "version"), "the id is the version");
  cr_expect_eq(id, version_now(e.id));

  register_for(alice.access, e.id);
  long long id2;
  json_t *second = sse_next(s, &id2);
  cr_expect_eq(api_int(second, "confirmed"), 1, "%s", api_dump(second));
  cr_expect_gt(id2, id);
  register_for(bob.access, e.id);
  long long id3;
  json_t *third = sse_next(s, &id3);
  cr_expect_eq(api_int(third, "remaining"), 1, "%s", api_dump(third));
  cr_expect_gt(id3, id2);
  sse_close(s);
}

Test(live, last_event_id_resumes_without_a_gap)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':3}");
  long long seen = version_now(e.id);

  /* Up to date: nothing until the next change, which comes next. */
  struct sse *s = sse_open(0, e.id, NULL, api_printf("%lld", seen));
  sse_wait_for(s, "retry: 2000\n\n");
  register_for(alice.access, e.id);
  long long id;
  json_t *m = sse_next(s, &id);
  cr_expect_gt(id, seen);
  cr_expect_eq(api_int(m, "confirmed"), 1, "the change, not the state already seen");
  sse_close(s);

  /* Behind (a change happened while away): the current state at once. */
  register_for(bob.access, e.id);
  struct sse *t = sse_open(0, e.id, NULL, api_printf("%lld", id));
  long long now;
  json_t *current = sse_next(t, &now);
  cr_expect_eq(api_int(current, "confirmed"), 2, "%s", api_dump(current));
  cr_expect_eq(now, version_now(e.id));
  sse_close(t);
}

Test(live, a_rush_of_changes_is_coalesced_and_the_last_state_arrives)
{
  enum { N = 16 };
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access, "{'capacity':0}");
  struct sse *s = sse_open(0, e.id, NULL, NULL);
  long long id;
  sse_next(s, &id);
  struct api_call calls[N];
  for (int i = 0; i < N; i++) {
    struct api_user u = api_signup(api_printf("fan%d", i), NULL);
    calls[i] = (struct api_call){.method = "POST", .token = u.access,
                                 .path = api_printf("/api/registrations/%lld/register/", e.id)};
  }
  api_race(calls, N);
  for (int i = 0; i < N; i++)
    expect_status(calls[i].resp, 200);
  /* Messages come until one tells of all N; fewer than one per change. */
  int messages = 0;
  long long confirmed = 0, last = id;
  while (confirmed < N) {
    long long next;
    json_t *m = sse_next(s, &next);
    cr_assert_gt(next, last, "ids only grow");
    last = next;
    confirmed = api_int(m, "confirmed");
    messages++;
  }
  cr_expect_lt(messages, N, "%d messages for %d changes", messages, N);
  cr_expect_eq(last, version_now(e.id));
  sse_close(s);
}

Test(live, a_private_events_stream_is_refused_to_strangers)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user eve = api_signup("eve", NULL);
  struct api_event e = api_create_event(olga.access, "{'visibility':'private'}");
  const char *path = api_printf("/api/events/%lld/availability/stream", e.id);
  const char *not_found = "{'detail':'" NO_EVENT "'}";
  expect_body(api_get(path, NULL), not_found);
  expect_body(api_get(path, eve.access), not_found);
  expect_body(api_get("/api/events/999999/availability/stream", NULL), not_found);
  struct sse *s = sse_open(0, e.id, olga.access, NULL);
  long long id;
  cr_expect_eq(api_int(sse_next(s, &id), "event"), e.id);
  sse_close(s);
}

Test(live, a_deleted_event_ends_its_streams)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access, NULL);
  struct sse *s = sse_open(0, e.id, NULL, NULL);
  long long id;
  sse_next(s, &id);
  expect_status(api_delete(api_printf("/api/events/%lld/delete/", e.id), olga.access), 204);
  sse_wait_for(s, api_printf("event: deleted\ndata: {\"event\":%lld}\n\n", e.id));
  /* Then the body ends (the last chunk), and nothing more comes. */
  sse_wait_for(s, "\r\n0\r\n\r\n");
  sse_close(s);
}

Test(live, clients_that_vanish_mid_stream_leave_the_rest_served)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':5}");
  struct sse *streams[6];
  long long id;
  for (int i = 0; i < 6; i++) {
    streams[i] = sse_open(0, e.id, NULL, NULL);
    sse_next(streams[i], &id);
  }
  /* Half vanish, one of them with its request only half read. */
  for (int i = 0; i < 3; i++)
    sse_close(streams[i]);
  int half = api_connect_from(NULL, 0);
  const char *partial = api_printf("GET /api/events/%lld/availability/stream HTTP/1.1\r\n", e.id);
  cr_assert_eq(send(half, partial, strlen(partial), MSG_NOSIGNAL), (ssize_t)strlen(partial));
  close(half);
  register_for(alice.access, e.id);
  for (int i = 3; i < 6; i++)
    cr_expect_eq(api_int(sse_next(streams[i], &id), "confirmed"), 1);
  /* And the server goes on answering; its stop (the suite's) ends the rest. */
  expect_status(api_get("/healthz", NULL), 200);
}

/* ---- the caps ----------------------------------------------------------------- */

static void start_capped(void)
{
  static const char *const env[] = {"STREAMS_MAX", "3", "STREAMS_PER_CLIENT", "2", NULL};
  api_server_start_with(env);
}

TestSuite(live_caps, .init = start_capped, .fini = stop);

/* The stream's answer when it is refused: status and body, read to the end. */
static void expect_refused(long long event, const char *source)
{
  int fd = api_connect_from(source, 0);
  const char *request = api_printf("GET /api/events/%lld/availability/stream HTTP/1.1\r\n"
                                   "Host: 127.0.0.1\r\nConnection: close\r\n\r\n", event);
  cr_assert_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
  struct sse *s = sse_adopt(fd);
  sse_wait_for(s, "HTTP/1.1 503");
  sse_wait_for(s, "Retry-After: 5");
  sse_wait_for(s, "Too many live streams; try again later.");
  close(fd);
}

Test(live_caps, streams_are_capped_per_client_and_per_node)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access, NULL);
  long long id;
  struct sse *a = sse_open(0, e.id, NULL, NULL), *b = sse_open(0, e.id, NULL, NULL);
  sse_next(a, &id);
  sse_next(b, &id);
  expect_refused(e.id, NULL);                 /* a third from this address */

  /* Another address gets one: the node's third. Then the node is full. */
  int fd = api_connect_from("127.0.0.2", 0);
  const char *request = api_printf("GET /api/events/%lld/availability/stream HTTP/1.1\r\n"
                                   "Host: 127.0.0.1\r\n\r\n", e.id);
  cr_assert_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
  struct sse *c = sse_adopt(fd);
  sse_next(c, &id);
  expect_refused(e.id, "127.0.0.3");

  /* A stream that ends makes room, once the server has seen it go: at a
   * write to it that fails (the messages of changes, here). */
  sse_close(a);
  struct sse *d = NULL;
  for (int change = 0; d == NULL; change++) {
    cr_assert_lt(change, 20, "the closed stream's place never came free");
    register_for(api_signup(api_printf("fan%d", change), NULL).access, e.id);
    sse_next(b, &id); /* the change went to every stream, the closed one too */
    int probe = api_connect_from(NULL, 0);
    cr_assert_eq(send(probe, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
    struct sse *p = sse_adopt(probe);
    sse_wait_for(p, "HTTP/1.1 ");
    if (strstr(p->text, "HTTP/1.1 200"))
      d = p;
    else
      sse_close(p);
  }
  sse_next(d, &id);
}
