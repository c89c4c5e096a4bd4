/*
 * faults_clients.c - slow and abusive clients, against the server's own
 * limits and deadlines (src/http/server.c; settings in src/core/config.c).
 *
 * A flood of 1,000 connections that never finish a request, half of them
 * idle and half sending a byte at a time (slowloris), does not keep a
 * normal client out: it is served while the flood holds its connections,
 * because the last quarter of CONNECTION_LIMIT is kept for addresses that
 * hold few; and the trickle does not stretch HEADER_TIMEOUT, which closes
 * the whole flood. CONNECTION_LIMIT holds over all worker threads: no
 * connection under it is closed because one thread took more than its
 * share, and the one past it is refused. Clients that stop reading a large answer hold no worker
 * thread: with a single one, others are served while their answers wait,
 * and each is dropped at CONNECTION_TIMEOUT if it never reads again.
 *
 * The deadlines given to the normal client are bounds a loaded machine
 * meets, well below the slow clients' own deadlines (so that no slot was
 * freed by a timeout meanwhile, which the tests also check): they say
 * "served while the flood holds", not how fast.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "support/api.h"

#define CRLF "\r\n"

/* A normal client's request is answered within this, while slow ones hold
 * their connections for HEADER_TIMEOUT (10 s) at least. */
#define SERVED_WITHIN_MS 3000

/* Room for the flood's descriptors and the in-process server's own. */
static void
raise_open_files(rlim_t want)
{
  struct rlimit lim;
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur >= want)
    return;
  cr_assert(lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= want,
            "the test needs %lu open files and the hard limit is %lu (ulimit -Hn)",
            (unsigned long)want, (unsigned long)lim.rlim_max);
  lim.rlim_cur = want;
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0, "setrlimit: %s", strerror(errno));
}

/* Whether the server still holds fd open with nothing to read on it
 * (refused and closed ones read as closed). */
static bool
held_open(int fd)
{
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * GET path from 127.0.0.1 on a new connection, read to its end; fails the
 * test unless it is answered 200 within SERVED_WITHIN_MS.
 */
static void
expect_served(const char *path)
{
  int64_t began = time_monotonic_us();
  int fd = api_connect_from("127.0.0.1", 0);
  const char *request =
      api_printf("GET %s HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF "Connection: close" CRLF CRLF,
                 path);
  cr_assert_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
  char head[64] = "";
  size_t got = 0;
  for (;;) {
    int64_t left_ms = SERVED_WITHIN_MS - (time_monotonic_us() - began) / 1000;
    cr_assert_gt(left_ms, 0, "GET %s: no answer within %d ms (so far: %s)", path,
                 SERVED_WITHIN_MS, head);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, (int)left_ms) <= 0)
      continue;
    char chunk[16384];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    size_t keep = got < sizeof head - 1 ? sizeof head - 1 - got : 0;
    memcpy(head + got, chunk, (size_t)n < keep ? (size_t)n : keep);
    got += (size_t)n < keep ? (size_t)n : keep;
  }
  close(fd);
  cr_assert(strncmp(head, "HTTP/1.1 200 ", 13) == 0, "GET %s answered: %s", path, head);
}

/* ---- a flood of connections that never finish a request ---------------------- */

#define ADDRESSES 20
#define EACH 50          /* 1,000 in all, each address below its cap of 64 */

static int flood[ADDRESSES * EACH];
static atomic_bool trickling;

/* Slowloris: the odd connections each get one more byte of a header that
 * never ends, every 200 ms. */
static void *
trickle(void *arg)
{
  (void)arg;
  static const char head[] = "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF "X-Slow: ";
  for (size_t sent = 0; atomic_load(&trickling); sent++) {
    char byte = sent < sizeof head - 1 ? head[sent] : 'a';
    for (size_t i = 1; i < ADDRESSES * EACH; i += 2)
      send(flood[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT); /* closed ones: ignored */
    api_pause_ms(200);
  }
  return NULL;
}

static int
count_held(void)
{
  int held = 0;
  for (size_t i = 0; i < ADDRESSES * EACH; i++)
    held += held_open(flood[i]);
  return held;
}

static void
start_flood(void)
{
  raise_open_files(4096);
  /* The defaults (src/core/config.c), written out: the harness raises the
   * per-address cap for its races. THREADS stays the harness's 4. */
  const char *env[] = {"CONNECTION_LIMIT", "1024", "PER_IP_CONNECTION_LIMIT", "64",
                       "HEADER_TIMEOUT", "10s", "BODY_TIMEOUT", "10s",
                       "CONNECTION_TIMEOUT", "30", NULL};
  api_server_start_with(env);
}

static double
refused(void)
{
  return api_metric("eventapi_http_connections_refused_total{reason=\"limit\"}") +
         api_metric("eventapi_http_connections_refused_total{reason=\"per_address\"}") +
         api_metric("eventapi_http_connections_refused_total{reason=\"headroom\"}");
}

static double
timed_out(void)
{
  return api_metric("eventapi_http_timeouts_total{phase=\"headers\"}");
}

/*
 * The connections open before the flood: the scrape's own, and sometimes
 * the one of the scrape before it, which the server has not yet seen
 * closed. Counted in the baseline, that one would leave the flood one
 * short of "decided" once it closes: so the least of a few scrapes.
 */
static double
settled_open(void)
{
  double least = api_metric("eventapi_http_connections_open");
  for (int i = 0; i < 4; i++) {
    api_pause_ms(20);
    double open = api_metric("eventapi_http_connections_open");
    if (open < least)
      least = open;
  }
  return least;
}

Test(flood, a_thousand_slow_connections_do_not_keep_a_normal_client_out, .init = start_flood,
     .fini = api_server_stop, .timeout = 120)
{
  double timeouts0 = timed_out();
  double open0 = settled_open(), refused0 = refused();
  int64_t began = time_monotonic_us();
  for (int a = 0; a < ADDRESSES; a++)
    for (int i = 0; i < EACH; i++)
      flood[a * EACH + i] = api_connect_from(api_printf("127.0.0.%d", 2 + a), 0);
  int64_t connected_ms = (time_monotonic_us() - began) / 1000;
  atomic_store(&trickling, true);
  pthread_t trickler;
  cr_assert_eq(pthread_create(&trickler, NULL, trickle, NULL), 0);
  /* Every connection is decided on: held open, or refused at accept. */
  double most_open = 0, most_decided = 0;
  int64_t most_decided_ms = 0;
  for (;;) {
    double open = api_metric("eventapi_http_connections_open") - open0;
    double decided = open + (refused() - refused0);
    if (decided >= ADDRESSES * EACH)
      break;
    if (open > most_open)
      most_open = open;
    if (decided > most_decided) {
      most_decided = decided;
      most_decided_ms = (time_monotonic_us() - began) / 1000;
    }
    /* A deadline a loaded machine meets: the accepts, not their speed.
     * Should it pass, say where the accepts stopped. */
    cr_assert_lt(time_monotonic_us() - began, INT64_C(60000000),
                 "the server took in %.0f of %d connections in 60 s (%.0f open, %.0f refused;"
                 " %d still open on this side). The connects took %lld ms; at most %.0f were"
                 " decided (at %lld ms) and %.0f open at once; %.0f closed at HEADER_TIMEOUT",
                 decided, ADDRESSES * EACH, open, refused() - refused0, count_held(),
                 (long long)connected_ms, most_decided, (long long)most_decided_ms, most_open,
                 timed_out() - timeouts0);
    api_pause_ms(10);
  }
  int held = count_held();
  cr_log_info("the flood holds %d connections; %.0f refused", held, refused() - refused0);
  /* The flood holds all it may: three quarters of the 1,024 and a few. */
  cr_assert_geq(held, 768 - (int)open0, "the flood holds only %d connections", held);
  cr_assert_gt(refused() - refused0, 0, "nothing was refused: the flood did not fill the server");

  /* A normal client is served, again and again, while the flood holds. */
  const char *paths[] = {"/healthz", "/api/events/", "/api/events/categories/"};
  for (int i = 0; i < 12; i++)
    expect_served(paths[i % 3]);
  int64_t served_ms = (time_monotonic_us() - began) / 1000;
  cr_assert_eq(timed_out(), timeouts0,
               "a slow connection was closed meanwhile: the client may have had its slot");
  cr_assert_geq(count_held(), held - 1, "the flood let its connections go meanwhile");
  cr_log_info("served while the flood held, %lld ms after it began", (long long)served_ms);

  /* The trickle does not stretch HEADER_TIMEOUT: every slow connection is
   * closed (408) once it passes, bytes coming or not. */
  int still = held;
  for (int waited = 0; (still = count_held()) > 0 && waited < 30000; waited += 100)
    api_pause_ms(100);
  int64_t closed_ms = (time_monotonic_us() - began) / 1000;
  cr_assert_eq(still, 0, "%d slow connections still open %lld ms after they began", still,
               (long long)closed_ms);
  cr_assert_geq(closed_ms, 10000 - 1000, "closed after %lld ms, before HEADER_TIMEOUT",
                (long long)closed_ms);
  cr_assert_geq(timed_out() - timeouts0, held, "not every slow connection was answered 408");
  atomic_store(&trickling, false);
  pthread_join(trickler, NULL);
  for (size_t i = 0; i < ADDRESSES * EACH; i++)
    close(flood[i]);
  expect_served("/healthz");
}

/* ---- the connection limit, over all worker threads -------------------------- */

#define LIMIT 40
#define UNDER 36         /* each from its own address: no cap or headroom applies */

static int under[UNDER + LIMIT];

static void
start_small_limit(void)
{
  /* Four workers (the harness's THREADS) share a limit of 40; the slow
   * connections' deadline is far beyond the test. */
  const char *env[] = {"CONNECTION_LIMIT", "40", "PER_IP_CONNECTION_LIMIT", "64",
                       "HEADER_TIMEOUT", "60s", NULL};
  api_server_start_with(env);
}

/* Whether the server closed fd (refused it) within wait_ms. */
static bool
closed_within(int fd, int wait_ms)
{
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  if (poll(&pfd, 1, wait_ms) <= 0)
    return false;
  char byte;
  return recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK) <= 0;
}

/* Whether GET /healthz on a new connection is answered 200 within 3 s. */
static bool
answered(void)
{
  int fd = api_connect_from("127.0.0.1", 0);
  static const char request[] =
      "GET /healthz HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF "Connection: close" CRLF CRLF;
  send(fd, request, sizeof request - 1, MSG_NOSIGNAL);
  char head[16] = "";
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  ssize_t n = poll(&pfd, 1, 3000) > 0 ? recv(fd, head, sizeof head - 1, 0) : -1;
  close(fd);
  return n >= 13 && strncmp(head, "HTTP/1.1 200 ", 13) == 0;
}

Test(limit, every_connection_under_the_limit_is_held_however_the_threads_share_them,
     .init = start_small_limit, .fini = api_server_stop, .timeout = 120)
{
  /* Each worker alone could take a quarter of the limit (10): the kernel
   * hands connections to them unevenly, and none may be closed for it. */
  double open0 = settled_open();
  for (int i = 0; i < UNDER; i++)
    under[i] = api_connect_from(api_printf("127.0.1.%d", 1 + i), 0);
  int64_t began = time_monotonic_us();
  while (api_metric("eventapi_http_connections_open") - open0 < UNDER &&
         time_monotonic_us() - began < INT64_C(30000000))
    api_pause_ms(10);
  int held = 0;
  for (int i = 0; i < UNDER; i++)
    held += held_open(under[i]);
  cr_assert_eq(held, UNDER, "%d of %d connections under the limit of %d are held (%.0f open)",
               held, UNDER, LIMIT, api_metric("eventapi_http_connections_open") - open0);
  cr_assert_eq(api_metric("eventapi_http_connections_refused_total{reason=\"limit\"}"), 0);

  /* Up to the limit, and past it: the one too many is refused at accept. */
  int n = UNDER;
  for (; n < LIMIT - (int)open0; n++)
    under[n] = api_connect_from(api_printf("127.0.1.%d", 1 + n), 0);
  /* Every one taken in first (the scrapes reuse the connection counted in
   * open0): a worker may still be accepting the last ones. */
  began = time_monotonic_us();
  while (api_metric("eventapi_http_connections_open") - open0 < n &&
         time_monotonic_us() - began < INT64_C(30000000))
    api_pause_ms(10);
  cr_assert_eq(api_metric("eventapi_http_connections_open"), LIMIT, "not at the limit");
  int extra = api_connect_from("127.0.2.1", 0);
  cr_assert(closed_within(extra, 5000), "a connection past the limit of %d was held", LIMIT);
  close(extra);
  for (int i = 0; i < n; i++)
    cr_assert(held_open(under[i]), "connection %d of %d, at the limit, was closed", i, n);

  /* Once some close, clients are served again, and the refusal was counted. */
  for (int i = 0; i < 4; i++)
    close(under[--n]);
  bool served = false;
  for (int tries = 0; !served && tries < 100; tries++) {
    served = answered();
    if (!served)
      api_pause_ms(50);
  }
  cr_assert(served, "no client was served after connections closed");
  cr_assert_geq(api_metric("eventapi_http_connections_refused_total{reason=\"limit\"}"), 1);
  while (n > 0)
    close(under[--n]);
}

/* ---- clients that stop reading a large answer -------------------------------- */

#define STALLED 8
/* Under the 5 MiB limit, and more than the server's socket may buffer for
 * a client that reads nothing (Linux lets a send buffer grow to 4 MiB,
 * tcp_wmem): the answer waits on the client. */
#define IMAGE_SIZE (5200 * 1000)

static void
start_one_thread(void)
{
  /* One worker thread: a stalled answer that held it would stop everything. */
  const char *env[] = {"THREADS", "1", "CONNECTION_TIMEOUT", "30", NULL};
  api_server_start_with(env);
}

static void
start_short_connection_timeout(void)
{
  const char *env[] = {"THREADS", "1", "CONNECTION_TIMEOUT", "2", NULL};
  api_server_start_with(env);
}

/* An event with a large image; the image's path ("/media/..."). */
static const char *
large_image(void)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access, NULL);
  size_t len;
  const unsigned char *png = api_png(IMAGE_SIZE, &len);
  struct api_resp *r = api_request("PUT", api_printf("/api/events/%lld/image/", e.id),
                                   olga.access, "image/png", png, len, NULL);
  expect_status(r, 200);
  const char *url = json_string_value(json_object_get(r->json, "image"));
  cr_assert(url != NULL && strstr(url, "/media/") != NULL, "image: %s", r->body);
  return api_strdup(strstr(url, "/media/"));
}

/*
 * Asks for path on a connection that then reads nothing. Its receive
 * buffer is small, yet larger than two of loopback's segments: with less,
 * the kernel would advertise no window at all once the client reads
 * again, and leave the server to probe for one at growing intervals.
 */
static int
stall(const char *path)
{
  int fd = api_connect_from("127.0.0.1", 128 * 1024);
  const char *request = api_printf("GET %s HTTP/1.1" CRLF "Host: 127.0.0.1" CRLF
                                   "Connection: close" CRLF CRLF, path);
  cr_assert_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
  return fd;
}

/* The requests being answered, this scrape not counted. */
static int
in_flight(void)
{
  return (int)api_metric("eventapi_http_requests_in_flight") - 1;
}

/* Reads fd to its end (or until 30 s without a byte); the bytes read. */
static size_t
drain(int fd, char *head, size_t head_size)
{
  size_t got = 0;
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, 30000);
    if (ready < 0 && errno == EINTR)
      continue;
    cr_assert_gt(ready, 0, "the server neither sent nor closed for 30 s");
    char chunk[65536];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return got;
    if (got < head_size - 1) {
      size_t keep = head_size - 1 - got < (size_t)n ? head_size - 1 - got : (size_t)n;
      memcpy(head + got, chunk, keep);
      head[got + keep] = '\0';
    }
    got += (size_t)n;
  }
}

Test(stalled, a_client_that_stops_reading_holds_no_worker_thread, .init = start_one_thread,
     .fini = api_server_stop, .timeout = 120)
{
  const char *image = large_image();
  int fds[STALLED];
  for (int i = 0; i < STALLED; i++)
    fds[i] = stall(image);
  /* Their answers are begun and cannot end: the client reads nothing. */
  for (int tries = 0; in_flight() < STALLED; tries++) {
    cr_assert_lt(tries, 500, "only %d of the %d large answers are under way", in_flight(),
                 STALLED);
    api_pause_ms(10);
  }
  api_pause_ms(500);
  cr_assert_eq(in_flight(), STALLED, "a stalled answer ended by itself");

  /* The one worker thread serves others meanwhile. */
  const char *paths[] = {"/healthz", "/api/events/", "/api/schema/"};
  for (int i = 0; i < 9; i++)
    expect_served(paths[i % 3]);
  cr_assert_eq(in_flight(), STALLED, "the stalled answers were dropped, not held");

  /* And the stalled answers resume, whole, once their clients read. */
  for (int i = 0; i < STALLED; i++) {
    char head[2048] = "";
    size_t got = drain(fds[i], head, sizeof head);
    close(fds[i]);
    cr_assert(strncmp(head, "HTTP/1.1 200 ", 13) == 0, "%s", head);
    const char *body = strstr(head, CRLF CRLF);
    cr_assert(body != NULL, "%s", head);
    cr_assert_eq(got - (size_t)(body + 4 - head), (size_t)IMAGE_SIZE,
                 "answer %d: %zu bytes of a %d-byte image", i, got - (size_t)(body + 4 - head),
                 IMAGE_SIZE);
  }
  for (int tries = 0; in_flight() > 0; tries++) {
    cr_assert_lt(tries, 500, "%d answers still under way", in_flight());
    api_pause_ms(10);
  }
}

Test(stalled, a_client_that_never_reads_again_is_dropped_at_the_connection_timeout,
     .init = start_short_connection_timeout, .fini = api_server_stop, .timeout = 120)
{
  const char *image = large_image();
  int64_t began = time_monotonic_us();
  int fd = stall(image);
  for (int tries = 0; in_flight() < 1; tries++) {
    cr_assert_lt(tries, 500, "the large answer never began");
    api_pause_ms(10);
  }
  /* Once CONNECTION_TIMEOUT (2 s) passes without progress, the server
   * lets the connection go: what was sent can be read, then its end. */
  for (int tries = 0; in_flight() > 0; tries++) {
    cr_assert_lt(tries, 3000, "the stalled answer is still held after %lld ms",
                 (long long)(time_monotonic_us() - began) / 1000);
    api_pause_ms(10);
  }
  int64_t dropped_ms = (time_monotonic_us() - began) / 1000;
  cr_assert_geq(dropped_ms, 2000 - 100, "dropped after %lld ms, before CONNECTION_TIMEOUT",
                (long long)dropped_ms);
  char head[2048] = "";
  size_t got = drain(fd, head, sizeof head);
  close(fd);
  cr_assert_lt(got, (size_t)IMAGE_SIZE, "the whole answer went through a closed window");
  expect_served("/healthz");
}
