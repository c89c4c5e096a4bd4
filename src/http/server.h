/*
 * server.h - the HTTP server: libmicrohttpd's thread pool with epoll.
 */
#ifndef EVENTAPI_HTTP_SERVER_H
#define EVENTAPI_HTTP_SERVER_H

#include <stddef.h>

struct http_server_options {
  const char *bind;            /* an IPv4 or IPv6 address */
  unsigned port;               /* 0: any free port */
  unsigned threads;
  unsigned connection_timeout; /* seconds an idle connection is kept */
  unsigned connection_limit;
  unsigned per_ip_limit;
  const char *cors_allowed_origins;
};

struct http_server;

/* Starts serving the registered routes. Returns 0 or a negative code (logged). */
int http_server_start(const struct http_server_options *opts, struct http_server **out);

unsigned http_server_port(const struct http_server *srv);

/* Requests being handled right now. */
unsigned http_server_in_flight(void);

/*
 * Stops accepting, waits up to grace_ms for requests in flight, then closes
 * every connection and frees srv.
 */
void http_server_stop(struct http_server *srv, int grace_ms);

#endif
