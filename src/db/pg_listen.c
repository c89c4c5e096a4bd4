/*
 * pg_listen.c - PostgreSQL's NOTIFY and LISTEN, behind db_notify() and
 * db_listen() (db.h). Private to src/db/.
 *
 * A listener is one thread with one connection of its own, which does
 * nothing but wait for notices: on its socket and on a pipe that tells it
 * to stop. A connection lost (the server restarted, its backend killed)
 * is made again, as often as it takes; the listener's owner is told once
 * it listens again, since notices sent in between are gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "db/backend.h"

#define CONNECT_TIMEOUT "5"
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000

struct db_listener {
  pthread_t thread;
  int wake[2];                 /* a byte written to wake[1] stops the thread */
  char *target, *channel;
  struct db_listen_calls calls;
};

int
db_pg_notify(db_t *db, const char *channel, const char *payload)
{
  return db_exec(db, "SELECT pg_notify(?, ?)", NULL, "ss", channel, payload);
}

static void
ignore_notice(void *arg, const char *message)
{
  (void)arg, (void)message;
}

/* A connection that listens on l's channel, or NULL with why in err. */
static PGconn *
listen_connect(struct db_listener *l, char *err, size_t errlen)
{
  /* As pg_open(): the URL (dbname, expanded) may override the defaults
   * before it. Keepalives find a connection whose peer vanished without
   * closing it, which a connection that only waits would never notice. */
  const char *const keys[] = {"application_name", "connect_timeout", "dbname",
                              "keepalives", "keepalives_idle", "keepalives_interval",
                              "keepalives_count", NULL};
  const char *const values[] = {"eventapi listener", CONNECT_TIMEOUT, l->target,
                                "1", "30", "10", "3", NULL};
  PGconn *conn = PQconnectdbParams(keys, values, 1);
  if (conn == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (PQstatus(conn) == CONNECTION_OK) {
    /* The server's notices (its last words when the connection is cut)
     * would go to stderr; what matters is logged below. */
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    char *name = PQescapeIdentifier(conn, l->channel, strlen(l->channel));
    char sql[160];
    if (name != NULL && snprintf(sql, sizeof sql, "LISTEN %s", name) < (int)sizeof sql) {
      PGresult *res = PQexec(conn, sql);
      bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
      PQclear(res);
      PQfreemem(name);
      if (ok && PQsetnonblocking(conn, 1) == 0)
        return conn;
    } else {
      PQfreemem(name);
    }
  }
  const char *msg = PQerrorMessage(conn);
  snprintf(err, errlen, "%.*s", (int)strcspn(msg, "\n"), *msg ? msg : "LISTEN failed");
  PQfinish(conn);
  return NULL;
}

/* Waits up to ms (-1: for ever) for fd to be readable or a stop; true on a stop. */
static bool
wait_for(struct db_listener *l, int fd, int ms, bool *readable)
{
  struct pollfd fds[2] = {{.fd = l->wake[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
  int n;
  do
    n = poll(fds, fd >= 0 ? 2 : 1, ms);
  while (n < 0 && errno == EINTR);
  if (readable)
    *readable = n > 0 && fd >= 0 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP));
  return n > 0 && (fds[0].revents & POLLIN);
}

static void *
listen_main(void *arg)
{
  struct db_listener *l = arg;
  PGconn *conn = NULL;
  int retry_ms = RETRY_FIRST_MS;
  bool deaf = false; /* said so in the log */
  for (;;) {
    if (conn == NULL) {
      char err[256];
      conn = listen_connect(l, err, sizeof err);
      if (conn == NULL) {
        if (!deaf)
          log_warn("db: cannot listen for %s notices: %s; trying again", l->channel, err);
        deaf = true;
        if (wait_for(l, -1, retry_ms, NULL))
          break;
        retry_ms = retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2;
        continue;
      }
      if (deaf)
        log_info("db: listening for %s notices again", l->channel);
      deaf = false;
      retry_ms = RETRY_FIRST_MS;
      l->calls.resumed(l->calls.arg);
    }
    bool readable;
    if (wait_for(l, PQsocket(conn), -1, &readable))
      break;
    if (!readable)
      continue;
    if (!PQconsumeInput(conn) || PQstatus(conn) == CONNECTION_BAD) {
      const char *msg = PQerrorMessage(conn);
      log_warn("db: lost the connection listening for %s notices: %.*s; reconnecting",
               l->channel, (int)strcspn(msg, "\n"), *msg ? msg : "closed");
      deaf = true;
      PQfinish(conn);
      conn = NULL;
      continue;
    }
    PGnotify *notice;
    while ((notice = PQnotifies(conn)) != NULL) {
      l->calls.heard(notice->extra, l->calls.arg);
      PQfreemem(notice);
    }
  }
  PQfinish(conn);
  return NULL;
}

static void
listener_free(struct db_listener *l)
{
  if (l->wake[0] >= 0)
    close(l->wake[0]);
  if (l->wake[1] >= 0)
    close(l->wake[1]);
  free(l->target);
  free(l->channel);
  free(l);
}

int
db_pg_listen(const char *target, const char *channel, const struct db_listen_calls *calls,
             struct db_listener **out)
{
  *out = NULL;
  struct db_listener *l = calloc(1, sizeof *l);
  if (l == NULL)
    return EVENTAPI_ENOMEM;
  l->wake[0] = l->wake[1] = -1;
  l->calls = *calls;
  l->target = strdup(target);
  l->channel = strdup(channel);
  if (l->target == NULL || l->channel == NULL || pipe2(l->wake, O_CLOEXEC) != 0 ||
      pthread_create(&l->thread, NULL, listen_main, l) != 0) {
    listener_free(l);
    return EVENTAPI_ENOMEM;
  }
  *out = l;
  return 0;
}

void
db_pg_listen_stop(struct db_listener *l)
{
  ssize_t n;
  do
    n = write(l->wake[1], "", 1);
  while (n < 0 && errno == EINTR);
  pthread_join(l->thread, NULL);
  listener_free(l);
}
