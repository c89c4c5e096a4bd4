/*
 * server.c - libmicrohttpd glue and the request pipeline:
 *
 *   first callback: allocate the request, route it, check the declared size
 *   body callbacks: collect up to the limit, count (not keep) the excess
 *   last callback:  413 | 404/405 | auth -> view -> queue the reply
 *   completed:      access log, free everything
 *
 * A reply is never queued on the first callback unless the request must be
 * refused before its body is read: libmicrohttpd would close a keep-alive
 * connection otherwise.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "http/middleware.h"
#include "http/router.h"
#include "ops/metrics.h"

struct http_server {
  struct MHD_Daemon *daemon;
  unsigned port;
};

static atomic_uint in_flight;
static atomic_bool stopping; /* http_server_stop() began: new requests get 503 */

unsigned
http_server_in_flight(void)
{
  return atomic_load(&in_flight);
}

static struct http_request *
request_new(struct MHD_Connection *connection, const char *url, const char *method)
{
  struct http_request *req = calloc(1, sizeof *req);
  if (req == NULL)
    return NULL;
  req->connection = connection;
  req->started_us = time_monotonic_us();
  req->method = router_method(method);
  req->method_name = arena_strdup(&req->arena, method);
  req->path = arena_strdup(&req->arena, url);
  req->body_limit = HTTP_BODY_LIMIT;
  if (req->method_name == NULL || req->path == NULL) {
    arena_free(&req->arena);
    free(req);
    return NULL;
  }
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
  if (found == ROUTER_NO_PATH) {
    http_reply_not_found(req);
    return;
  }
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
    http_reply_detail(req, 405,
                      arena_printf(&req->arena, "Method \"%.32s\" not allowed.", req->method_name));
    return;
  }
  if (!middleware_authenticate(req))
    return;
  req->route->handler(req);
  if (!req->replied)
    http_reply_internal(req, "the view left no reply");
}

static enum MHD_Result
queue_reply(struct MHD_Connection *connection, struct http_request *req)
{
  struct MHD_Response *response = MHD_create_response_from_buffer(
      req->reply_len, req->reply, MHD_RESPMEM_MUST_FREE);
  if (response == NULL)
    return MHD_NO;
  req->reply = NULL; /* owned by the response now */
  if (req->content_type)
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
  for (int i = 0; i < req->nheaders; i++)
    MHD_add_response_header(response, req->headers[i].name, req->headers[i].value);
  /* API.md: every 401 carries the Bearer challenge. */
  if (req->status == 401)
    MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"api\"");
  enum MHD_Result ret = MHD_queue_response(connection, req->status, response);
  MHD_destroy_response(response);
  return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
  (void)cls;
  (void)version;
  struct http_request *req = *con_cls;
  if (req == NULL) {
    req = request_new(connection, url, method);
    if (req == NULL)
      return MHD_NO;
    *con_cls = req;
    atomic_fetch_add(&in_flight, 1);
    req->late = atomic_load(&stopping);
    middleware_request_id(req);
    req->routed = router_match(req, &req->allowed);
    if (req->routed == ROUTER_FOUND && (req->route->flags & ROUTE_UPLOAD))
      req->body_limit = HTTP_UPLOAD_LIMIT;
    const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, NULL, 10) > req->body_limit) {
      /* Refused before reading: the connection closes after the reply. */
      req->body_too_large = true;
      reply_too_large(req);
      return queue_reply(connection, req);
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    collect(req, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (req->replied)
    return MHD_YES; /* already answered (413 on the first callback) */
  if (req->late) {
    /* Begun after shut-down did: another node (or this one, restarted) serves it. */
    http_add_header(req, "Retry-After", "1");
    http_add_header(req, "Connection", "close");
    http_reply_detail(req, 503, "The server is shutting down; try again.");
    return queue_reply(connection, req);
  }
  dispatch(req);
  return queue_reply(connection, req);
}

static void
on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  (void)cls;
  (void)connection;
  struct http_request *req = *con_cls;
  if (req == NULL)
    return;
  *con_cls = NULL;
  int64_t duration_us = time_monotonic_us() - req->started_us;
  log_access(req->method_name, req->path,
             req->replied ? req->status : 0,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? req->reply_len : 0,
             duration_us, req->request_id);
  /* By route template, never by raw path: a request that matched no route
   * (404, 405) counts as unmatched; one that got no reply, as status 0. */
  metrics_observe_request(req->method,
                          req->routed == ROUTER_FOUND ? req->route : NULL,
                          req->replied ? req->status : 0, duration_us);
  json_decref(req->json_body);
  free(req->body);
  free(req->reply);
  arena_free(&req->arena);
  free(req);
  atomic_fetch_sub(&in_flight, 1);
}

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

int
http_server_start(const struct http_server_options *opts, struct http_server **out)
{
  atomic_store(&stopping, false);
  struct sockaddr_storage addr = {0};
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG;
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
  if (middleware_cors_configure(opts->cors_allowed_origins) < 0)
    return EVENTAPI_ENOMEM;
  struct http_server *srv = calloc(1, sizeof *srv);
  if (srv == NULL)
    return EVENTAPI_ENOMEM;
  srv->daemon = MHD_start_daemon(
      flags, (uint16_t)opts->port, NULL, NULL, on_request, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)opts->threads,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opts->connection_timeout,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)opts->connection_limit,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)opts->per_ip_limit,
      /* Headers of up to ~32 KiB; libmicrohttpd clears it per request. */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
      MHD_OPTION_END);
  if (srv->daemon == NULL) {
    log_error("http: cannot listen on %s port %u (in use, or not an address of this host?)",
              opts->bind, opts->port);
    free(srv);
    return EVENTAPI_EIO;
  }
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
http_server_stop(struct http_server *srv, int grace_ms)
{
  if (srv == NULL)
    return;
  /* No MHD_quiesce_daemon(): with a thread pool on epoll, libmicrohttpd
   * 0.9.75 can abort in MHD_stop_daemon() after it ("Failed to remove listen
   * FD from epoll set") when a pool thread has not yet taken the quiesce in.
   * Requests begun from now on are answered 503 instead; those in flight
   * finish, then the daemon stops and closes the listening socket. */
  atomic_store(&stopping, true);
  for (int waited = 0; waited < grace_ms && atomic_load(&in_flight) > 0; waited += 10) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(srv->daemon);
  middleware_cors_free();
  free(srv);
}
