/*
 * server.c - libmicrohttpd glue, the request pipeline, and the guard of
 * every connection.
 *
 *   accept:          refused at the connection limit, past the per-address
 *                    cap, or when the last quarter of the limit is kept for
 *                    addresses that hold few (on_accept)
 *   request line:    allocate the request, read the raw target (on_target)
 *   headers read:    refuse framing that cannot be trusted, or a declared
 *                    body over the limit (first on_request call)
 *   body callbacks:  collect up to the limit; past it, answer 413 at once
 *   last callback:   404/405 | host | auth -> view -> queue the reply
 *   completed:       access log, counters (http/stats.h), free everything
 *
 * A reaper thread holds every connection to its deadlines: the request line
 * and headers within HEADER_TIMEOUT, no pause longer than BODY_TIMEOUT in a
 * body, and between requests no longer than the idle timeout. A connection
 * past one is answered 408 (when a request had begun) and shut down, so a
 * flood of slow clients cannot hold the connection slots that normal ones
 * need.
 *
 * A reply is never queued on the first callback unless the request must be
 * refused before its body is read: libmicrohttpd would close a keep-alive
 * connection otherwise.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "http/address.h"
#include "http/hosts.h"
#include "http/middleware.h"
#include "http/query.h"
#include "http/router.h"
#include "http/stats.h"
#include "http/stream.h"

/* Once this share of CONNECTION_LIMIT is in use, an address holding
 * HEADROOM_PER_ADDRESS connections or more gets no new one. */
#define HEADROOM_NUM 3
#define HEADROOM_DEN 4
#define HEADROOM_PER_ADDRESS 8

/* How often the reaper looks, and how long an answered request's body is
 * still read (so the client sees the answer rather than a reset). */
#define REAPER_TICK_MS 100
#define DRAIN_MS 2000

enum conn_phase {
  PHASE_HEAD,    /* a request's line and headers are arriving */
  PHASE_BODY,    /* its body is arriving */
  PHASE_ACTIVE,  /* being handled and answered */
  PHASE_DRAIN,   /* answered early; the rest of the body is read and dropped */
  PHASE_IDLE,    /* between requests */
  PHASE_CLOSED,  /* past a deadline: shut down by the reaper */
};

/* One TCP connection, from accept to close: libmicrohttpd's socket context. */
struct http_conn {
  int fd;
  struct http_address peer;
  bool trusted;                /* the peer is a trusted proxy: not capped */
  bool begun;                  /* a request line has arrived on it */
  atomic_int phase;            /* enum conn_phase */
  atomic_int_fast64_t deadline_us;
  unsigned closed_status;      /* 408 when the reaper answered */
  size_t slot;                 /* in the server's table */
};

/* Open connections of one address (an open-addressing table entry). */
struct address_count {
  struct http_address addr;
  unsigned count;              /* 0: the entry is free */
};

struct http_server {
  struct MHD_Daemon *daemon;
  unsigned port;
  unsigned connection_limit, per_ip_limit, threads;
  int64_t header_timeout_us, body_timeout_us, idle_timeout_us;

  pthread_mutex_t lock;        /* guards everything below */
  struct http_conn **conns;    /* the open connections, unordered */
  size_t nconns, capconns;
  struct address_count *counts;
  size_t capcounts;            /* a power of two */

  pthread_t reaper;
  bool reaper_running, reaper_stop;
  pthread_cond_t reaper_wake;
};

static atomic_uint in_flight;
static atomic_bool stopping; /* http_server_stop() began: new requests get 503 */

/* What the guard did, for http_server_stats(). */
static atomic_uint open_connections;
static atomic_uint_fast64_t refused_limit, refused_per_address, refused_headroom,
    timed_out_head, timed_out_body;

unsigned
http_server_in_flight(void)
{
  return atomic_load(&in_flight);
}

void
http_server_stats(struct http_server_stats *out)
{
  out->open_connections = atomic_load(&open_connections);
  out->refused_limit = (uint64_t)atomic_load(&refused_limit);
  out->refused_per_address = (uint64_t)atomic_load(&refused_per_address);
  out->refused_headroom = (uint64_t)atomic_load(&refused_headroom);
  out->timed_out_head = (uint64_t)atomic_load(&timed_out_head);
  out->timed_out_body = (uint64_t)atomic_load(&timed_out_body);
}

/* ---- per-address counts ----------------------------------------------- */

static size_t
address_hash(const struct http_address *addr)
{
  uint64_t h = 1469598103934665603ull ^ (uint64_t)addr->family;
  for (size_t i = 0; i < sizeof addr->bytes; i++)
    h = (h ^ addr->bytes[i]) * 1099511628211ull;
  return (size_t)h;
}

static bool
address_equal(const struct http_address *a, const struct http_address *b)
{
  return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* The entry of addr, or the free entry where it would go. Under the lock. */
static struct address_count *
count_slot(struct http_server *srv, const struct http_address *addr)
{
  size_t mask = srv->capcounts - 1;
  for (size_t i = address_hash(addr) & mask;; i = (i + 1) & mask) {
    struct address_count *entry = &srv->counts[i];
    if (entry->count == 0 || address_equal(&entry->addr, addr))
      return entry;
  }
}

/* Removes the (now empty) entry at hole, shifting back those that probed
 * past it, so lookups need no tombstones. Under the lock. */
static void
count_remove(struct http_server *srv, struct address_count *hole)
{
  size_t mask = srv->capcounts - 1;
  size_t i = (size_t)(hole - srv->counts);
  for (size_t j = (i + 1) & mask; srv->counts[j].count != 0; j = (j + 1) & mask) {
    size_t home = address_hash(&srv->counts[j].addr) & mask;
    /* Entry j may fill the hole at i when its home lies cyclically in (j, i]. */
    bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      srv->counts[i] = srv->counts[j];
      srv->counts[j].count = 0;
      i = j;
    }
  }
  srv->counts[i].count = 0;
}

/* ---- connections -------------------------------------------------------- */

static int64_t
now_us(void)
{
  return time_monotonic_us();
}

static struct http_conn *
conn_of(struct MHD_Connection *connection)
{
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

/* "From whatever phase it is in" for conn_enter(). */
#define PHASE_ANY (-1)

/*
 * Moves conn to phase to, and starts that phase's deadline (0: none), when
 * it is in phase from (or any, for PHASE_ANY). Only the reaper races these
 * moves, and only to close: false when it did. The connection's own thread
 * makes every other move, so the deadline is set before the phase that
 * reads it.
 */
static bool
conn_enter(struct http_conn *conn, int from, enum conn_phase to, int64_t timeout_us)
{
  if (conn == NULL)
    return true;
  int64_t deadline = timeout_us > 0 ? now_us() + timeout_us : INT64_MAX;
  int phase = atomic_load(&conn->phase);
  for (;;) {
    if (phase == PHASE_CLOSED)
      return false;
    if (from != PHASE_ANY && phase != from)
      return true;
    atomic_store(&conn->deadline_us, deadline);
    if (atomic_compare_exchange_weak(&conn->phase, &phase, (int)to))
      return true;
  }
}

/* Answers on the socket itself, where libmicrohttpd cannot any more (a
 * deadline passed, or the body outgrew its limit mid-way). Small enough for
 * any socket buffer; a failed send changes nothing. */
static void
send_raw_reply(int fd, unsigned status, const char *reason, const char *detail)
{
  char body[256], head[512], date[64];
  int body_len = snprintf(body, sizeof body, "{\"detail\":\"%s\"}", detail);
  time_t now = time(NULL);
  struct tm tm;
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
  int head_len = snprintf(head, sizeof head,
                          "HTTP/1.1 %u %s\r\nDate: %s\r\nConnection: close\r\n"
                          "Content-Type: application/json; charset=utf-8\r\n"
                          "Content-Length: %d\r\n\r\n",
                          status, reason, date, body_len);
  if (body_len < 0 || head_len < 0 || (size_t)head_len + (size_t)body_len > sizeof head)
    return;
  memcpy(head + head_len, body, (size_t)body_len);
  ssize_t sent = send(fd, head, (size_t)head_len + (size_t)body_len, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)sent;
}

/*
 * Whether bytes came on the connection and none were written on it: the
 * kernel's own counts (TCP_INFO), since what libmicrohttpd read and wrote
 * is its own business. An answer the library gave itself (414, 431, 505)
 * was written, so it is never answered twice.
 */
static bool
unread_and_unanswered(int fd)
{
  struct tcp_info info;
  socklen_t len = sizeof info;
  memset(&info, 0, sizeof info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    return false;
  int unacked = 0;
  if (ioctl(fd, SIOCOUTQ, &unacked) != 0)
    return false;
  return info.tcpi_bytes_received > 0 && info.tcpi_bytes_acked == 0 && unacked == 0;
}

/* The access log's line and the count of an unreadable request line. */
static void
log_unparsed(const struct http_address *peer)
{
  char client[HTTP_ADDRESS_MAX];
  http_address_format(peer, client);
  log_access(&(struct log_access_record){
      .method = "-", .path = "-", .status = 400, .client = client});
  http_stats_request(HTTP_OTHER, NULL, 400, 0);
}

/* The running server, for http_server_before_shutdown(); and whether the
 * calling thread is the reaper (which shuts sockets down under the lock). */
static _Atomic(struct http_server *) running;
static _Thread_local bool reaping;

void
http_server_before_shutdown(int fd)
{
  struct http_server *srv = atomic_load(&running);
  if (srv == NULL || reaping)
    return;
  pthread_mutex_lock(&srv->lock);
  for (size_t i = 0; i < srv->nconns; i++) {
    struct http_conn *conn = srv->conns[i];
    if (conn->fd != fd)
      continue;
    /* No request line was ever read on it (on_target never ran), bytes came
     * and nothing went: the library is dropping what it could not read. */
    int phase = PHASE_HEAD;
    if (!conn->begun && unread_and_unanswered(fd) &&
        atomic_compare_exchange_strong(&conn->phase, &phase, PHASE_CLOSED)) {
      conn->closed_status = 400;
      send_raw_reply(fd, 400, "Bad Request", "Malformed request.");
      log_unparsed(&conn->peer);
    }
    break;
  }
  pthread_mutex_unlock(&srv->lock);
}

static void
on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
  struct http_server *srv = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    struct http_conn *conn = calloc(1, sizeof *conn);
    const union MHD_ConnectionInfo *fd_info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr_info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (conn == NULL || fd_info == NULL || addr_info == NULL) {
      free(conn);
      return; /* unguarded, but served: better than refusing on a failed malloc */
    }
    conn->fd = fd_info->connect_fd;
    http_address_from_sockaddr(addr_info->client_addr, &conn->peer);
    conn->trusted = http_proxies_trust(&conn->peer);
    atomic_init(&conn->phase, PHASE_HEAD);
    atomic_init(&conn->deadline_us, now_us() + srv->header_timeout_us);
    pthread_mutex_lock(&srv->lock);
    if (srv->nconns == srv->capconns) {
      size_t cap = srv->capconns ? 2 * srv->capconns : 64;
      struct http_conn **grown = realloc(srv->conns, cap * sizeof *grown);
      if (grown == NULL) {
        pthread_mutex_unlock(&srv->lock);
        free(conn);
        return;
      }
      srv->conns = grown;
      srv->capconns = cap;
    }
    conn->slot = srv->nconns;
    srv->conns[srv->nconns++] = conn;
    struct address_count *entry = count_slot(srv, &conn->peer);
    entry->addr = conn->peer;
    entry->count++;
    atomic_fetch_add(&open_connections, 1);
    pthread_mutex_unlock(&srv->lock);
    *socket_context = conn;
    return;
  }
  struct http_conn *conn = *socket_context;
  if (conn == NULL)
    return;
  /* libmicrohttpd closes the socket only after this returns: the reaper,
   * which shuts sockets down under the lock, never touches a reused fd. */
  pthread_mutex_lock(&srv->lock);
  struct http_conn *last = srv->conns[--srv->nconns];
  srv->conns[conn->slot] = last;
  last->slot = conn->slot;
  struct address_count *entry = count_slot(srv, &conn->peer);
  if (entry->count > 0 && --entry->count == 0)
    count_remove(srv, entry);
  atomic_fetch_sub(&open_connections, 1);
  pthread_mutex_unlock(&srv->lock);
  *socket_context = NULL;
  free(conn);
}

/*
 * The accept policy: the connection limit, for everyone; a cap per address
 * (trusted proxies carry many clients and have none); and headroom: once
 * most of the connection limit is in use, only addresses that hold few
 * connections may open more, so that a new client still gets in while one
 * crowd holds many.
 *
 * The limit is kept here, over all worker threads, and not by libmicrohttpd,
 * which splits it evenly between them: with the kernel handing connections
 * to the workers unevenly, one full worker would close a client silently
 * while the others had room. Workers accepting at the same instant may pass
 * it by one each (tables_init allows for that).
 */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
  (void)addrlen;
  struct http_server *srv = cls;
  struct http_address peer;
  bool known = http_address_from_sockaddr(addr, &peer);
  bool trusted = known && http_proxies_trust(&peer);
  pthread_mutex_lock(&srv->lock);
  size_t open = srv->nconns;
  unsigned held = known && !trusted ? count_slot(srv, &peer)->count : 0;
  pthread_mutex_unlock(&srv->lock);
  if (open >= srv->connection_limit) {
    atomic_fetch_add(&refused_limit, 1);
    return MHD_NO;
  }
  if (!known || trusted)
    return MHD_YES;
  if (held >= srv->per_ip_limit) {
    atomic_fetch_add(&refused_per_address, 1);
    return MHD_NO;
  }
  if ((uint64_t)open * HEADROOM_DEN >= (uint64_t)srv->connection_limit * HEADROOM_NUM &&
      held >= HEADROOM_PER_ADDRESS) {
    atomic_fetch_add(&refused_headroom, 1);
    return MHD_NO;
  }
  return MHD_YES;
}

/* Logs a connection the reaper closed before any request line arrived. */
static void
log_unstarted(const struct http_address *peer)
{
  char client[HTTP_ADDRESS_MAX];
  http_address_format(peer, client);
  log_access(&(struct log_access_record){
      .method = "-", .path = "-", .status = 408, .client = client});
  http_stats_request(HTTP_OTHER, NULL, 408, 0);
}

/* Shuts down every connection past its deadline. Under the lock. */
static void
reap(struct http_server *srv, int64_t now)
{
  for (size_t i = 0; i < srv->nconns; i++) {
    struct http_conn *conn = srv->conns[i];
    if (atomic_load(&conn->deadline_us) > now)
      continue;
    int phase = atomic_load(&conn->phase);
    if (phase == PHASE_ACTIVE || phase == PHASE_CLOSED)
      continue;
    if (!atomic_compare_exchange_strong(&conn->phase, &phase, PHASE_CLOSED))
      continue; /* it moved on meanwhile: its next deadline counts */
    if (phase == PHASE_HEAD) {
      atomic_fetch_add(&timed_out_head, 1);
      conn->closed_status = 408;
      send_raw_reply(conn->fd, 408, "Request Timeout",
                     "The request's headers did not arrive in time.");
      if (!conn->begun)
        log_unstarted(&conn->peer);
    } else if (phase == PHASE_BODY) {
      atomic_fetch_add(&timed_out_body, 1);
      conn->closed_status = 408;
      send_raw_reply(conn->fd, 408, "Request Timeout",
                     "The request body did not arrive in time.");
    }
    /* libmicrohttpd reads the end of the stream, closes, and tells us. */
    shutdown(conn->fd, SHUT_RDWR);
  }
}

static void *
reaper_main(void *arg)
{
  pthread_setname_np(pthread_self(), "http-reaper");
  struct http_server *srv = arg;
  reaping = true;
  pthread_mutex_lock(&srv->lock);
  while (!srv->reaper_stop) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += REAPER_TICK_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&srv->reaper_wake, &srv->lock, &until);
    if (!srv->reaper_stop)
      reap(srv, now_us());
  }
  pthread_mutex_unlock(&srv->lock);
  return NULL;
}

/* ---- requests ----------------------------------------------------------- */

static void
request_free(struct http_request *req)
{
  free(req->kept);
  json_decref(req->json_body);
  free(req->body);
  free(req->reply);
  if (req->stream)
    http_stream_unqueued(req);
  if (req->reply_release)
    req->reply_release(req->reply_release_arg);
  arena_free(&req->arena);
  free(req);
}

/*
 * libmicrohttpd's URI log callback: called with the raw target as soon as
 * the request line is read, before the headers. The request begins here.
 */
static void *
on_target(void *cls, const char *uri, struct MHD_Connection *connection)
{
  struct http_server *srv = cls;
  struct http_conn *conn = conn_of(connection);
  if (conn) {
    conn->begun = true;
    conn_enter(conn, PHASE_IDLE, PHASE_HEAD, srv->header_timeout_us);
  }
  struct http_request *req = calloc(1, sizeof *req);
  if (req == NULL)
    return NULL;
  req->connection = connection;
  req->conn = conn;
  req->started_us = time_monotonic_us();
  req->body_limit = HTTP_BODY_LIMIT;
  req->target = arena_strdup(&req->arena, uri);
  if (req->target == NULL) {
    request_free(req);
    return NULL;
  }
  const char *mark = strchr(req->target, '?');
  req->query = mark ? mark + 1 : "";
  req->target_error = http_target_parse(&req->arena, req->target, &req->path,
                                        &req->query_params, &req->nquery_params);
  if (req->path == NULL)
    req->path = "/";
  /*
   * libmicrohttpd parses the query itself right after this returns, keeping
   * every parameter in the connection's fixed memory pool; some hundreds of
   * them exhaust it, and 0.9.75 then leaves the request unanswered. The
   * query was just read above, so its copy in the library's own (writable)
   * read buffer is emptied: the library then sees a target without
   * parameters, and nothing of eventapi asks it for them.
   */
  char *query = strchr(uri, '?');
  if (query && query[1] != '\0')
    query[1] = '\0';
  return req;
}

static void
reply_too_large(struct http_request *req)
{
  http_reply_detail(req, 413,
      arena_printf(&req->arena, "Request body is too large (the limit is %zu bytes).",
                   req->body_limit));
}

/* Collects a piece of the body, or only counts it past the limit. */
static void
collect(struct http_request *req, const char *data, size_t size)
{
  if (req->body_too_large)
    return;
  if (size > req->body_limit - req->body_len) {
    req->body_too_large = true;
    free(req->body);
    req->body = NULL;
    req->body_len = 0;
    return;
  }
  if (req->body_len + size + 1 > req->body_cap) {
    size_t cap = req->body_cap ? req->body_cap : 4096;
    while (cap < req->body_len + size + 1)
      cap *= 2;
    char *grown = realloc(req->body, cap);
    if (grown == NULL) {
      req->body_too_large = true; /* answered 413: nothing half-kept */
      return;
    }
    req->body = grown;
    req->body_cap = cap;
  }
  memcpy(req->body + req->body_len, data, size);
  req->body_len += size;
  req->body[req->body_len] = '\0';
}

struct header_count {
  const char *name;
  unsigned count;
};

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  (void)value;
  struct header_count *c = cls;
  if (strcasecmp(key, c->name) == 0)
    c->count++;
  return MHD_YES;
}

static unsigned
header_count(struct MHD_Connection *connection, const char *name)
{
  struct header_count c = {name, 0};
  MHD_get_connection_values(connection, MHD_HEADER_KIND, count_header, &c);
  return c.count;
}

/* RFC 9110 5.1: a field name is a token. */
static enum MHD_Result
name_is_token(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  (void)value;
  bool *malformed = cls;
  static const char specials[] = "!#$%&'*+-.^_`|~";
  for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          strchr(specials, *c))) {
      *malformed = true;
      return MHD_NO;
    }
  }
  if (key[0] == '\0')
    *malformed = true;
  return *malformed ? MHD_NO : MHD_YES;
}

/*
 * Framing that cannot be trusted, refused before the body is read (the
 * connection closes after the answer). True when it replied.
 */
static bool
refuse_framing(struct MHD_Connection *connection, struct http_request *req)
{
  /* API.md: a malformed header line is 400 (libmicrohttpd takes a name with
   * a space in it, "Bad Name: v", as any other). */
  bool malformed = false;
  MHD_get_connection_values(connection, MHD_HEADER_KIND, name_is_token, &malformed);
  if (malformed) {
    http_reply_detail(req, 400, "Malformed request.");
    return true;
  }
  unsigned lengths = header_count(connection, MHD_HTTP_HEADER_CONTENT_LENGTH);
  unsigned codings = header_count(connection, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  /* RFC 9112 6.3: a proxy in front may read another length than ours. */
  if (lengths > 1) {
    http_reply_detail(req, 400, "Multiple Content-Length headers.");
    return true;
  }
  if (codings > 0 && lengths > 0) {
    http_reply_detail(req, 400, "Both Transfer-Encoding and Content-Length headers.");
    return true;
  }
  if (codings > 0) {
    const char *coding = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_TRANSFER_ENCODING);
    size_t len = coding ? strlen(coding) : 0;
    while (len > 0 && (coding[len - 1] == ' ' || coding[len - 1] == '\t'))
      len--;
    /* libmicrohttpd decodes "chunked" alone; anything else it would wait on. */
    if (codings > 1 || len != 7 || strncasecmp(coding, "chunked", 7) != 0) {
      /* A header's bytes, read as ISO-8859-1 as Django reads them. */
      char shown[2 * 64 + 1];
      text_latin1_to_utf8(coding ? coding : "", coding ? strnlen(coding, 64) : 0, shown,
                          sizeof shown);
      http_reply_detail(req, 501,
          arena_printf(&req->arena, "Transfer-Encoding \"%s\" is not supported.", shown));
      return true;
    }
  }
  const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (length && strtoull(length, NULL, 10) > req->body_limit) {
    req->body_too_large = true;
    reply_too_large(req);
    return true;
  }
  return false;
}

/* The Host header is one ALLOWED_HOSTS names; else replies 400. */
static bool
host_allowed(struct http_request *req)
{
  /* Probes and scrapers reach a node by its address; these answers hold no
   * links built from the Host header. */
  if (req->routed == ROUTER_FOUND && (req->route->flags & ROUTE_ANY_HOST))
    return true;
  const char *host = http_header(req, MHD_HTTP_HEADER_HOST);
  if (host == NULL)
    return true; /* HTTP/1.0: links use PUBLIC_URL or the server's address */
  char why[512];
  if (http_hosts_allow(host, why, sizeof why))
    return true;
  log_warn("rid=%s: %s", req->request_id, why);
  http_reply_detail(req, 400, why);
  return false;
}

static void
dispatch(struct http_request *req)
{
  enum router_result found = req->routed;
  unsigned allowed = req->allowed;
  middleware_cors(req, allowed);
  if (req->body_too_large) {
    reply_too_large(req);
    return;
  }
  if (req->target_error == HTTP_TARGET_NUL_IN_PATH || found == ROUTER_NO_PATH) {
    http_reply_not_found(req);
    return;
  }
  if (req->target_error == HTTP_TARGET_NUL_IN_QUERY) {
    http_reply_detail(req, 400, "Query parameters must not contain NUL characters.");
    return;
  }
  if (req->target_error == HTTP_TARGET_TOO_MANY_PARAMS) {
    http_reply_detail(req, 400,
        arena_printf(&req->arena, "Too many query parameters (the limit is %d).",
                     HTTP_QUERY_MAX_PARAMS));
    return;
  }
  if (req->target_error == HTTP_TARGET_NO_MEMORY) {
    http_reply_internal(req, "out of memory");
    return;
  }
  if (!host_allowed(req))
    return;
  if (found == ROUTER_NO_METHOD) {
    char *allow = arena_alloc(&req->arena, 64);
    if (allow == NULL) {
      http_reply_internal(req, "out of memory");
      return;
    }
    router_allow_header(allowed, allow, 64);
    http_add_header(req, "Allow", allow);
    if (req->method == HTTP_OPTIONS) {
      http_reply_empty(req, 200);
      return;
    }
    /* The request line's bytes, read as ISO-8859-1 as Django reads them. */
    char method[2 * 32 + 1];
    text_latin1_to_utf8(req->method_name, strnlen(req->method_name, 32), method, sizeof method);
    http_reply_detail(req, 405,
                      arena_printf(&req->arena, "Method \"%s\" not allowed.", method));
    return;
  }
  if (!middleware_authenticate(req) || !middleware_idempotency(req))
    return;
  req->route->handler(req);
  if (!req->replied && !req->suspended)
    http_reply_internal(req, "the view left no reply");
}

/*
 * A stream's request lives as long as its stream (on_completed comes at
 * its end), but once its answer is queued only the access log still reads
 * it: the method, target and client address are kept in one small block,
 * the caller's id in user_storage, and the arena with the rest (the view's
 * reads, the principal's strings) is freed. Thousands of open streams
 * then hold a few hundred bytes each here, not kilobytes. Out of memory,
 * everything is kept.
 */
static void
request_shed(struct http_request *req)
{
  const char *ip = http_client_ip(req);
  const char *method = req->method_name ? req->method_name : "-";
  size_t mlen = strlen(method), tlen = strlen(req->target), iplen = strlen(ip);
  char *kept = malloc(mlen + 1 + tlen + 1 + iplen + 1);
  if (kept == NULL)
    return;
  memcpy(kept, method, mlen + 1);
  memcpy(kept + mlen + 1, req->target, tlen + 1);
  memcpy(kept + mlen + 1 + tlen + 1, ip, iplen + 1);
  req->kept = kept;
  req->method_name = kept;
  req->target = kept + mlen + 1;
  const char *mark = strchr(req->target, '?');
  req->query = mark ? mark + 1 : "";
  req->client_ip = req->target + tlen + 1;
  req->path = NULL;
  req->query_params = NULL;
  req->nquery_params = 0;
  req->nparams = 0;
  req->nheaders = 0;
  req->content_type = NULL;
  req->idempotency_key = NULL;
  if (req->user) {
    struct principal who = {.id = req->user->id};
    req->user_storage = who;
    req->user = &req->user_storage;
  }
  json_decref(req->json_body);
  req->json_body = NULL;
  free(req->body);
  req->body = NULL;
  req->body_len = req->body_cap = 0;
  arena_free(&req->arena);
}

/* A 304's body is never read: this only keeps libmicrohttpd's API whole. */
static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
  (void)cls, (void)pos, (void)buf, (void)max;
  return MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result
queue_reply(struct MHD_Connection *connection, struct http_request *req)
{
  struct MHD_Response *response;
  bool stream = req->stream != NULL;
  if (req->stream) {
    /* A body that comes as it is made (http/stream.h). */
    response = http_stream_response(req);
  } else if (req->status == 304) {
    /* Its Content-Length is the 200's, as RFC 9110 allows: libmicrohttpd
     * writes one for every 304. */
    response = MHD_create_response_from_callback(req->representation_len, 4096, no_body,
                                                 NULL, NULL);
  } else if (req->reply_shared) {
    /* Shared bytes, sent from where they are: released with the response. */
    response = MHD_create_response_from_buffer_with_free_callback_cls(
        req->reply_len, (void *)req->reply_shared, req->reply_release, req->reply_release_arg);
    if (response != NULL)
      req->reply_release = NULL; /* the response's to call now */
  } else {
    response = MHD_create_response_from_buffer_with_free_callback(req->reply_len, req->reply,
                                                                  free);
    if (response != NULL)
      req->reply = NULL; /* owned by the response now */
  }
  if (response == NULL)
    return MHD_NO;
  if (req->content_type)
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
  for (int i = 0; i < req->nheaders; i++)
    MHD_add_response_header(response, req->headers[i].name, req->headers[i].value);
  /* API.md: every 401 carries the Bearer challenge. */
  if (req->status == 401)
    MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"api\"");
  enum MHD_Result ret = MHD_queue_response(connection, req->status, response);
  MHD_destroy_response(response);
  if (stream && ret == MHD_YES)
    request_shed(req);
  return ret;
}

/* The body outgrew its limit mid-way: answer 413 now and drop the rest. */
static void
answer_too_large_early(struct http_request *req)
{
  struct http_conn *conn = req->conn;
  if (conn == NULL || !conn_enter(conn, PHASE_ANY, PHASE_DRAIN, DRAIN_MS * 1000))
    return; /* answered at the end instead, or already closed */
  char detail[128];
  snprintf(detail, sizeof detail, "Request body is too large (the limit is %zu bytes).",
           req->body_limit);
  send_raw_reply(conn->fd, 413, "Content Too Large", detail);
  req->answered_early = true;
  req->status = 413;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
  struct http_server *srv = cls;
  (void)url;
  (void)version;
  struct http_request *req = *con_cls;
  if (req == NULL)
    return MHD_NO; /* out of memory when the request line came */
  if (!req->started) {
    req->started = true;
    /* In flight from here: a shut-down waits for requests whose headers
     * came, not for clients still dawdling over them. */
    atomic_fetch_add(&in_flight, 1);
    req->late = atomic_load(&stopping);
    if (!conn_enter(req->conn, PHASE_ANY, PHASE_BODY, srv->body_timeout_us))
      return MHD_NO; /* the reaper answered 408 */
    req->method = router_method(method);
    req->method_name = arena_strdup(&req->arena, method);
    if (req->method_name == NULL)
      return MHD_NO;
    middleware_request_id(req);
    req->routed = router_match(req, &req->allowed);
    if (req->routed == ROUTER_FOUND && (req->route->flags & ROUTE_UPLOAD))
      req->body_limit = HTTP_UPLOAD_LIMIT;
    if (refuse_framing(connection, req)) {
      conn_enter(req->conn, PHASE_ANY, PHASE_ACTIVE, 0);
      return queue_reply(connection, req);
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (req->answered_early) {
      *upload_data_size = 0; /* read and dropped */
      return MHD_YES;
    }
    if (req->conn)
      atomic_store(&req->conn->deadline_us, now_us() + srv->body_timeout_us);
    collect(req, upload_data, *upload_data_size);
    *upload_data_size = 0;
    if (req->body_too_large)
      answer_too_large_early(req);
    return MHD_YES;
  }
  if (req->suspended) {
    /* Woken by http_resume(): the view's second half answers. */
    void (*resumed)(struct http_request *, void *) = req->resumed;
    req->suspended = false;
    req->resumed = NULL;
    resumed(req, req->resumed_arg);
    if (!req->replied)
      http_reply_internal(req, "a resumed view left no reply");
    return queue_reply(connection, req);
  }
  if (req->answered_early)
    return MHD_NO; /* the body is read: close, the answer went out */
  if (req->replied)
    return MHD_YES; /* already answered (on the first callback) */
  if (!conn_enter(req->conn, PHASE_ANY, PHASE_ACTIVE, 0))
    return MHD_NO;
  if (req->late) {
    /* Begun after shut-down did: another node (or this one, restarted) serves it. */
    http_add_header(req, "Retry-After", "1");
    http_add_header(req, "Connection", "close");
    http_reply_detail(req, 503, "The server is shutting down; try again.");
    return queue_reply(connection, req);
  }
  dispatch(req);
  if (req->suspended)
    return MHD_YES; /* parked: answered once resumed */
  return queue_reply(connection, req);
}

void
http_suspend(struct http_request *req, void (*resumed)(struct http_request *, void *),
             void *arg)
{
  req->resumed = resumed;
  req->resumed_arg = arg;
  req->suspended = true;
  MHD_suspend_connection(req->connection);
}

void
http_resume(struct http_request *req)
{
  /* Touches nothing of req, which belongs to its own thread: that thread
   * calls the handler again, and so the resumption, once this is seen,
   * even if this comes before the view that suspended it has returned. */
  MHD_resume_connection(req->connection);
}

static void
on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  struct http_server *srv = cls;
  struct http_request *req = *con_cls;
  if (req == NULL)
    return;
  *con_cls = NULL;
  struct http_conn *conn = req->conn;
  conn_enter(conn, PHASE_ANY, PHASE_IDLE, srv->idle_timeout_us);
  int64_t duration_us = time_monotonic_us() - req->started_us;
  unsigned status = req->replied || req->answered_early ? req->status : 0;
  if (status == 0 && conn && conn->closed_status)
    status = conn->closed_status;
  if (status == 0) {
    /* An answer libmicrohttpd gave itself (library_errors.c). */
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_HTTP_STATUS);
    if (info)
      status = info->http_status;
  }
  const char *path = req->target ? arena_strndup(&req->arena, req->target,
                                                 strcspn(req->target, "?"))
                                  : NULL;
  log_access(&(struct log_access_record){
      .method = req->method_name ? req->method_name : "-",
      .path = path ? path : "-",
      .query = req->query,
      .status = status,
      .bytes = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? req->reply_len : 0,
      .micros = duration_us,
      .request_id = req->request_id[0] ? req->request_id : NULL,
      .client = http_client_ip(req),
      .user_id = req->user ? req->user->id : 0,
  });
  /* By route template, never by raw path: a path that matched no route
   * counts as unmatched; a request that got no answer, as status 0. */
  http_stats_request(req->method ? req->method : HTTP_OTHER,
                          req->routed == ROUTER_NO_PATH ? NULL : req->route, status,
                          duration_us);
  if (req->started)
    atomic_fetch_sub(&in_flight, 1);
  request_free(req);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t len = strlen(msg);
  while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
    msg[--len] = '\0';
  log_debug("http: %s", msg);
}

/* Table sizes: the open connections at most (the limit, and one more per
 * worker accepting at the same instant), and twice that for addresses. */
static int
tables_init(struct http_server *srv)
{
  size_t tracked = (size_t)srv->connection_limit + srv->threads;
  size_t cap = 16;
  while (cap < 2 * tracked + 2)
    cap *= 2;
  srv->counts = calloc(cap, sizeof *srv->counts);
  if (srv->counts == NULL)
    return EVENTAPI_ENOMEM;
  srv->capcounts = cap;
  return 0;
}

static void
server_free(struct http_server *srv)
{
  if (srv == NULL)
    return;
  free(srv->conns);
  free(srv->counts);
  pthread_cond_destroy(&srv->reaper_wake);
  pthread_mutex_destroy(&srv->lock);
  free(srv);
}

int
http_server_start(const struct http_server_options *opts, struct http_server **out)
{
  atomic_store(&stopping, false);
  struct sockaddr_storage addr = {0};
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
  if (inet_pton(AF_INET, opts->bind, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)opts->port);
  } else if (inet_pton(AF_INET6, opts->bind, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)opts->port);
    flags |= MHD_USE_IPv6;
  } else {
    log_error("http: BIND must be an IPv4 or IPv6 address, got \"%s\"", opts->bind);
    return EVENTAPI_EINVAL;
  }
  char err[160] = "";
  int rc = http_proxies_configure(opts->trusted_proxies, err, sizeof err);
  if (rc == EVENTAPI_EINVAL) {
    log_error("%s", err);
    return rc;
  }
  if (rc < 0 || http_hosts_configure(opts->allowed_hosts) < 0 ||
      middleware_cors_configure(opts->cors_allowed_origins) < 0)
    return EVENTAPI_ENOMEM;
  if (!http_library_errors_json())
    log_warn("http: libmicrohttpd's own error answers stay HTML in this build");
  struct http_server *srv = calloc(1, sizeof *srv);
  if (srv == NULL)
    return EVENTAPI_ENOMEM;
  pthread_mutex_init(&srv->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&srv->reaper_wake, &attr);
  pthread_condattr_destroy(&attr);
  srv->connection_limit = opts->connection_limit;
  srv->per_ip_limit = opts->per_ip_limit;
  srv->threads = opts->threads > 0 ? (unsigned)opts->threads : 1;
  srv->header_timeout_us = opts->header_timeout_ms * 1000;
  srv->body_timeout_us = opts->body_timeout_ms * 1000;
  /* Between requests: the idle timeout, and never less than a request's
   * head may take (0: as long as the client likes). */
  int64_t idle_us = (int64_t)opts->connection_timeout * 1000000;
  srv->idle_timeout_us = idle_us == 0 ? 0
                         : idle_us > srv->header_timeout_us ? idle_us : srv->header_timeout_us;
  if (tables_init(srv) < 0) {
    server_free(srv);
    return EVENTAPI_ENOMEM;
  }
  srv->daemon = MHD_start_daemon(
      flags, (uint16_t)opts->port, on_accept, srv, on_request, srv,
      /* First: the library logs while it reads the options that follow. */
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)opts->threads,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opts->connection_timeout,
      /* Each worker may take the whole limit: on_accept keeps the total. */
      MHD_OPTION_CONNECTION_LIMIT, srv->connection_limit * srv->threads,
      /* Headers of up to about the pool's size (CONNECTION_MEMORY_KB, 32
       * KiB by default). libmicrohttpd zeroes what it frees of it, so all
       * of it is resident while the connection is open (a stream's too). */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)(opts->connection_memory_kb ? opts->connection_memory_kb : 32) * 1024,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
      MHD_OPTION_URI_LOG_CALLBACK, on_target, srv,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
      MHD_OPTION_END);
  if (srv->daemon == NULL) {
    log_error("http: cannot listen on %s port %u (in use, or not an address of this host?)",
              opts->bind, opts->port);
    server_free(srv);
    return EVENTAPI_EIO;
  }
  if (pthread_create(&srv->reaper, NULL, reaper_main, srv) != 0) {
    MHD_stop_daemon(srv->daemon);
    server_free(srv);
    return EVENTAPI_ENOMEM;
  }
  srv->reaper_running = true;
  atomic_store(&running, srv);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = info ? info->port : opts->port;
  *out = srv;
  return 0;
}

unsigned
http_server_port(const struct http_server *srv)
{
  return srv->port;
}

void
http_server_drain(struct http_server *srv, int grace_ms)
{
  if (srv == NULL)
    return;
  /* No MHD_quiesce_daemon(): with a thread pool on epoll, libmicrohttpd
   * 0.9.75 can abort in MHD_stop_daemon() after it ("Failed to remove listen
   * FD from epoll set") when a pool thread has not yet taken the quiesce in.
   * Requests begun from now on are answered 503 instead; those in flight
   * finish. */
  atomic_store(&stopping, true);
  /* Streams never finish by themselves: they end now, and none stays
   * parked for MHD_stop_daemon() to find. */
  http_streams_end_all();
  for (int waited = 0; waited < grace_ms && atomic_load(&in_flight) > 0; waited += 10) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

void
http_server_stop(struct http_server *srv, int grace_ms)
{
  if (srv == NULL)
    return;
  http_server_drain(srv, grace_ms);
  if (srv->reaper_running) {
    pthread_mutex_lock(&srv->lock);
    srv->reaper_stop = true;
    pthread_cond_signal(&srv->reaper_wake);
    pthread_mutex_unlock(&srv->lock);
    pthread_join(srv->reaper, NULL);
  }
  struct http_server *self = srv;
  atomic_compare_exchange_strong(&running, &self, NULL);
  MHD_stop_daemon(srv->daemon);
  middleware_cors_free();
  http_hosts_free();
  http_proxies_free();
  server_free(srv);
}
