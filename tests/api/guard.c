/*
 * guard.c - the connection guard (src/http/server.c): slow clients are
 * answered 408 at their deadlines, one address cannot take more than its
 * share of the connections, the last quarter of them is kept for addresses
 * that hold few, and a normal client is served while a crowd of slow ones
 * holds what it may.
 *
 * Attackers connect from other loopback addresses (127.0.0.2 and up), as
 * separate hosts would; the harness's own client is 127.0.0.1.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/api.h"

#define CRLF "\r\n"

static void
send_text(int fd, const char *text)
{
  size_t len = strlen(text);
  cr_assert_eq(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len, "send: %s", strerror(errno));
}

/*
 * Reads until the server closes, or until wait_ms pass without a byte
 * (then the test fails: the server owes an answer). Harness-owned text.
 */
static const char *
read_to_close(int fd, int wait_ms)
{
  char *text = api_strdup("");
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, wait_ms);
    if (ready < 0 && errno == EINTR)
      continue;
    cr_assert(ready > 0, "no answer and no close within %d ms; so far: %s", wait_ms, text);
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof chunk - 1, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return text;
    chunk[n] = '\0';
    text = api_printf("%s%s", text, chunk);
  }
}

/* The status line and the body of a raw answer. */
static void
expect_raw_answer(const char *answer, const char *status_line, const char *body)
{
  cr_assert(strncmp(answer, status_line, strlen(status_line)) == 0,
            "expected \"%s\", got: %s", status_line, answer);
  cr_assert(strstr(answer, "\r\nContent-Type: application/json; charset=utf-8\r\n"),
            "not JSON: %s", answer);
  const char *start = strstr(answer, "\r\n\r\n");
  cr_assert_not_null(start, "%s", answer);
  cr_assert_str_eq(start + 4, body);
}

static double
refused(void)
{
  return api_metric("eventapi_http_connections_refused_total{reason=\"per_address\"}") +
         api_metric("eventapi_http_connections_refused_total{reason=\"headroom\"}");
}

/*
 * Waits until the server has decided on attempts connections opened since
 * its counters read open0 and refused0: each is open now or was refused.
 */
static void
wait_for_verdicts(double open0, double refused0, int attempts)
{
  for (int tries = 0; tries < 3000; tries++) {
    /* The scrape's own connection is one of the open ones, and was before. */
    double decided =
        (api_metric("eventapi_http_connections_open") - open0) + (refused() - refused0);
    if (decided >= attempts)
      return;
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  cr_assert_fail("the server did not take in %d connections", attempts);
}

/* Whether the server still holds fd open (refused ones read as closed). */
static bool
held_open(int fd)
{
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * One GET /healthz from source on a new connection, answered well before
 * the slow clients' HEADER_TIMEOUT (60 s) could have freed a slot: the
 * bound is one a healthy run never reaches, not a speed.
 */
static void
expect_served_from(const char *source)
{
  int fd = api_connect_from(source, 0);
  send_text(fd, "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF "Connection: close" CRLF CRLF);
  const char *answer = read_to_close(fd, 30000);
  close(fd);
  cr_assert(strncmp(answer, "HTTP/1.1 200 ", 13) == 0, "%s answered: %s", source, answer);
  cr_assert(strstr(answer, "{\"status\":\"ok\"}"), "%s", answer);
}

static void
start_slowloris(void)
{
  /* One libmicrohttpd thread: it alone holds the whole CONNECTION_LIMIT. */
  const char *env[] = {"CONNECTION_LIMIT", "200", "PER_IP_CONNECTION_LIMIT", "40",
                       "HEADER_TIMEOUT", "60s", "THREADS", "1", NULL};
  api_server_start_with(env);
}

Test(guard, a_crowd_of_slow_clients_cannot_keep_a_new_one_out, .init = start_slowloris,
     .fini = api_server_stop)
{
  enum { ADDRESSES = 4, EACH = 100 };
  double open0 = api_metric("eventapi_http_connections_open"), refused0 = refused();
  /* Slowloris: each sends the start of a request and never its end. */
  int fds[ADDRESSES][EACH];
  for (int a = 0; a < ADDRESSES; a++) {
    const char *source = api_printf("127.0.0.%d", 2 + a);
    for (int i = 0; i < EACH; i++) {
      fds[a][i] = api_connect_from(source, 0);
      send(fds[a][i], "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF, 38, MSG_NOSIGNAL);
    }
  }
  wait_for_verdicts(open0, refused0, ADDRESSES * EACH);

  /* No address holds more than PER_IP_CONNECTION_LIMIT; and since the last
   * quarter of the 200 is kept, the four hold at most 150 + 4 x 8. */
  int held_total = 0;
  for (int a = 0; a < ADDRESSES; a++) {
    int held = 0;
    for (int i = 0; i < EACH; i++)
      held += held_open(fds[a][i]);
    cr_expect(held <= 40, "127.0.0.%d holds %d connections", 2 + a, held);
    cr_expect(held >= 8, "127.0.0.%d holds only %d connections", 2 + a, held);
    held_total += held;
  }
  cr_expect(held_total <= 150 + 4 * 8, "the crowd holds %d connections", held_total);
  cr_expect_gt(api_metric("eventapi_http_connections_refused_total{reason=\"per_address\"}"), 0);
  cr_expect_gt(api_metric("eventapi_http_connections_refused_total{reason=\"headroom\"}"), 0);

  /* A new client, from an address of its own, is served at once, thrice. */
  for (int i = 0; i < 3; i++)
    expect_served_from("127.0.0.9");

  for (int a = 0; a < ADDRESSES; a++)
    for (int i = 0; i < EACH; i++)
      close(fds[a][i]);
}

static void
start_headroom(void)
{
  const char *env[] = {"CONNECTION_LIMIT", "40", "PER_IP_CONNECTION_LIMIT", "20",
                       "HEADER_TIMEOUT", "60s", "THREADS", "1", NULL};
  api_server_start_with(env);
}

/* Opens count connections from source; returns how many the server kept. */
static int
crowd_from(const char *source, int *fds, int count, double open0, double refused0,
           int *attempts)
{
  for (int i = 0; i < count; i++)
    fds[i] = api_connect_from(source, 0);
  *attempts += count;
  wait_for_verdicts(open0, refused0, *attempts);
  int held = 0;
  for (int i = 0; i < count; i++)
    held += held_open(fds[i]);
  return held;
}

Test(guard, the_last_quarter_is_kept_for_addresses_that_hold_few, .init = start_headroom,
     .fini = api_server_stop)
{
  /* The harness's own connection is one of the 40. */
  double open0 = api_metric("eventapi_http_connections_open"), refused0 = refused();
  int harness = (int)open0, attempts = 0;
  int first[25], second[20], third[20];
  /* One address takes its cap of 20... */
  cr_assert_eq(crowd_from("127.0.0.2", first, 25, open0, refused0, &attempts), 20);
  /* ...another what is left below the last quarter (30 of 40)... */
  cr_assert_eq(crowd_from("127.0.0.3", second, 20, open0, refused0, &attempts),
               30 - 20 - harness);
  /* ...and in the last quarter an address gets at most 8, */
  cr_assert_eq(crowd_from("127.0.0.4", third, 20, open0, refused0, &attempts), 8);
  cr_assert_eq(api_metric("eventapi_http_connections_refused_total{reason=\"per_address\"}"), 5);
  cr_assert_eq(api_metric("eventapi_http_connections_refused_total{reason=\"headroom\"}"),
               (20 - (30 - 20 - harness)) + 12);
  /* so that a fourth still gets in. */
  expect_served_from("127.0.0.5");

  for (int i = 0; i < 25; i++)
    close(first[i]);
  for (int i = 0; i < 20; i++)
    close(second[i]), close(third[i]);
}

static void
start_short_deadlines(void)
{
  /* Short enough to wait for, long enough that a whole request sent at
   * once meets them on a loaded machine. */
  const char *env[] = {"HEADER_TIMEOUT", "2s", "BODY_TIMEOUT", "2s", NULL};
  api_server_start_with(env);
}

TestSuite(deadlines, .init = start_short_deadlines, .fini = api_server_stop);

Test(deadlines, headers_that_never_end_are_answered_408)
{
  int fd = api_connect_from("127.0.0.2", 0);
  send_text(fd, "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF "X-Slow: 1" CRLF);
  expect_raw_answer(read_to_close(fd, 30000), "HTTP/1.1 408 Request Timeout",
                    "{\"detail\":\"The request's headers did not arrive in time.\"}");
  close(fd);
  cr_assert_eq(api_metric("eventapi_http_timeouts_total{phase=\"headers\"}"), 1);
}

Test(deadlines, a_silent_connection_is_answered_408)
{
  int fd = api_connect_from("127.0.0.2", 0);
  expect_raw_answer(read_to_close(fd, 30000), "HTTP/1.1 408 Request Timeout",
                    "{\"detail\":\"The request's headers did not arrive in time.\"}");
  close(fd);
}

Test(deadlines, a_kept_alive_connection_has_the_same_deadline_for_its_next_request)
{
  int fd = api_connect_from("127.0.0.2", 0);
  send_text(fd, "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF CRLF
                "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF);
  const char *answers = read_to_close(fd, 30000);
  close(fd);
  cr_assert(strncmp(answers, "HTTP/1.1 200 OK", 15) == 0, "%s", answers);
  const char *second = strstr(answers + 15, "HTTP/1.1 ");
  cr_assert_not_null(second, "%s", answers);
  expect_raw_answer(second, "HTTP/1.1 408 Request Timeout",
                    "{\"detail\":\"The request's headers did not arrive in time.\"}");
}

Test(deadlines, a_body_that_stops_is_answered_408)
{
  int fd = api_connect_from("127.0.0.2", 0);
  send_text(fd, "POST /api/users/register/ HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF
                "Content-Type: application/json" CRLF "Content-Length: 10" CRLF CRLF "{}");
  expect_raw_answer(read_to_close(fd, 30000), "HTTP/1.1 408 Request Timeout",
                    "{\"detail\":\"The request body did not arrive in time.\"}");
  close(fd);
  cr_assert_eq(api_metric("eventapi_http_timeouts_total{phase=\"body\"}"), 1);
  /* Nothing was half-written. */
  expect_status(api_post("/auth/token/", NULL, "{\"username\":\"x\",\"password\":\"y\"}"), 401);
}

Test(deadlines, a_chunk_that_never_arrives_is_answered_408)
{
  /* A chunk of 2^64 - 1 bytes: libmicrohttpd takes the size as it is and
   * waits for the data, which stops; the body deadline answers. */
  int fd = api_connect_from("127.0.0.2", 0);
  send_text(fd, "POST /api/users/register/ HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF
                "Content-Type: application/json" CRLF "Transfer-Encoding: chunked" CRLF CRLF
                "ffffffffffffffff" CRLF "{}" CRLF "0" CRLF CRLF);
  expect_raw_answer(read_to_close(fd, 30000), "HTTP/1.1 408 Request Timeout",
                    "{\"detail\":\"The request body did not arrive in time.\"}");
  close(fd);
}

Test(deadlines, a_normal_request_is_not_hurried)
{
  /* The control: a whole request well within its deadlines is served. */
  int fd = api_connect_from("127.0.0.2", 0);
  send_text(fd, "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF "Connection: close" CRLF CRLF);
  const char *answer = read_to_close(fd, 30000);
  close(fd);
  cr_assert(strncmp(answer, "HTTP/1.1 200 OK", 15) == 0, "%s", answer);
  cr_assert_eq(api_metric("eventapi_http_timeouts_total{phase=\"headers\"}"), 0);
}
