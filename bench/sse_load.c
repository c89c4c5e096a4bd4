/*
 * sse_load.c - the load client of bench/streams.sh: opens many Server-Sent
 * Events streams of one event's availability, holds them, then makes
 * changes and times each one's arrival on every stream.
 *
 *   sse_load PORT EVENT STREAMS SOURCES HOLD_S REQUEST...
 *
 * STREAMS connections to 127.0.0.1:PORT, spread over SOURCES loopback
 * addresses (127.0.1.1, 127.0.1.2, ...) as if from that many hosts, each
 * asking for GET /api/events/EVENT/availability/stream. Once every stream
 * has its first message it prints "ready", then holds them HOLD_S seconds
 * (reading keep-alives; a stream that ends is an error). Then, for each
 * REQUEST (a file holding one raw HTTP request that changes the event's
 * places), it sends the request on a new connection and waits until every
 * stream has a message with a newer id, and prints how long the last one
 * took. Exits non-zero on any error. Only loopback addresses are used.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
  int fd;
  bool sent;            /* the request is out */
  bool ok;              /* answered 200 */
  long long id;         /* the newest "id:" seen; -1: none yet */
  double at;            /* when it arrived (seconds) */
  char line[256];       /* a line read in part */
  size_t len;
};

static struct conn *conns;
static int nconns, epfd, port;
static long long event;
static int errors;

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
connect_from(int source)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in from = {.sin_family = AF_INET};
  from.sin_addr.s_addr = htonl(0x7f000100u + (uint32_t)source); /* 127.0.1.x */
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (source > 0 && bind(fd, (struct sockaddr *)&from, sizeof from) != 0) {
    close(fd);
    return -1;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

/* One whole line of c's stream. */
static void
on_line(struct conn *c, const char *line)
{
  if (strncmp(line, "HTTP/1.1 ", 9) == 0) {
    c->ok = strncmp(line + 9, "200", 3) == 0;
    if (!c->ok) {
      fprintf(stderr, "sse_load: a stream was refused: %s\n", line);
      errors++;
    }
  } else if (strncmp(line, "id: ", 4) == 0) {
    c->id = atoll(line + 4);
    c->at = now();
  }
}

/* Reads what c has; false when it ended. */
static bool
on_readable(struct conn *c)
{
  char buf[4096];
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n == 0)
      return false;
    if (n < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        c->line[c->len] = '\0';
        if (c->len > 0 && c->line[c->len - 1] == '\r')
          c->line[c->len - 1] = '\0';
        on_line(c, c->line);
        c->len = 0;
      } else if (c->len < sizeof c->line - 1) {
        c->line[c->len++] = buf[i];
      }
    }
  }
}

static void
send_request(struct conn *c)
{
  char req[256];
  int n = snprintf(req, sizeof req,
                   "GET /api/events/%lld/availability/stream HTTP/1.1\r\n"
                   "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", event);
  if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
    fprintf(stderr, "sse_load: cannot send a request: %s\n", strerror(errno));
    errors++;
  }
  c->sent = true;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Runs the event loop up to until (seconds, monotonic), or until done(). */
static void
pump(double until, bool (*done)(void))
{
  struct epoll_event evs[512];
  while (!(done && done()) && now() < until && errors == 0) {
    int timeout = (int)((until - now()) * 1000) + 1;
    int n = epoll_wait(epfd, evs, 512, timeout > 100 ? 100 : timeout);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (!c->sent) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          fprintf(stderr, "sse_load: cannot connect: %s\n", strerror(err));
          errors++;
          return;
        }
        send_request(c);
      } else if (!on_readable(c)) {
        fprintf(stderr, "sse_load: a stream ended (id %lld)\n", c->id);
        errors++;
        return;
      }
    }
  }
}

static long long target; /* done_all: every stream has an id past this */

static bool
all_past(void)
{
  for (int i = 0; i < nconns; i++)
    if (conns[i].id <= target)
      return false;
  return true;
}

/* Sends the request in path on a new connection; its answer's status. */
static int
change(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  char req[16384];
  size_t len = fread(req, 1, sizeof req, f);
  fclose(f);
  int fd = connect_from(0);
  if (fd < 0)
    return -1;
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK); /* a plain blocking exchange */
  if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
    close(fd);
    return -1;
  }
  char answer[64] = "";
  ssize_t n = recv(fd, answer, sizeof answer - 1, 0);
  close(fd);
  return n > 12 ? atoi(answer + 9) : -1;
}

static int
by_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
  if (argc < 6) {
    fprintf(stderr, "usage: sse_load PORT EVENT STREAMS SOURCES HOLD_S REQUEST...\n");
    return 2;
  }
  port = atoi(argv[1]);
  event = atoll(argv[2]);
  nconns = atoi(argv[3]);
  int sources = atoi(argv[4]);
  double hold = atof(argv[5]);
  conns = calloc((size_t)nconns, sizeof *conns);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (conns == NULL || epfd < 0 || sources < 1 || sources > 250)
    return 2;

  double t0 = now();
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->id = -1;
    c->fd = connect_from(1 + i % sources);
    if (c->fd < 0) {
      fprintf(stderr, "sse_load: cannot open stream %d: %s\n", i, strerror(errno));
      return 1;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    if (i % 256 == 255)
      pump(now() + 0.001, NULL); /* keeps the listen queue short */
  }
  target = 0;
  pump(now() + 60, all_past);
  if (errors || !all_past()) {
    fprintf(stderr, "sse_load: not every stream got its first message\n");
    return 1;
  }
  long long first = conns[0].id;
  printf("ready: %d streams open, each with its first message, in %.2f s (version %lld)\n",
         nconns, now() - t0, first);
  fflush(stdout);

  pump(now() + hold, NULL);
  if (errors)
    return 1;
  printf("held: %d streams for %.0f s, none ended\n", nconns, hold);

  int failed = 0;
  for (int k = 6; k < argc; k++) {
    target = 0;
    for (int i = 0; i < nconns; i++)
      if (conns[i].id > target)
        target = conns[i].id;
    double start = now();
    int status = change(argv[k]);
    if (status != 200) {
      fprintf(stderr, "sse_load: the change was answered %d\n", status);
      return 1;
    }
    pump(start + 10, all_past);
    if (errors || !all_past()) {
      int missing = 0;
      for (int i = 0; i < nconns; i++)
        missing += conns[i].id <= target;
      printf("change %d: %d of %d streams had nothing after 10 s\n", k - 5, missing, nconns);
      failed = 1;
      continue;
    }
    double *lat = malloc((size_t)nconns * sizeof *lat);
    for (int i = 0; i < nconns; i++)
      lat[i] = (conns[i].at - start) * 1000;
    qsort(lat, (size_t)nconns, sizeof *lat, by_double);
    printf("change %d: on all %d streams in %.0f ms (first %.0f ms, median %.0f ms, p99 %.0f ms)\n",
           k - 5, nconns, lat[nconns - 1], lat[0], lat[nconns / 2],
           lat[(size_t)(nconns * 0.99)]);
    free(lat);
    fflush(stdout);
    pump(now() + 0.5, NULL); /* the next change is not coalesced with this one */
  }
  for (int i = 0; i < nconns; i++)
    close(conns[i].fd);
  return failed || errors;
}
