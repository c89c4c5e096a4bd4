/*
 * server.h - the HTTP server: libmicrohttpd's thread pool with epoll.
 */
#ifndef EVENTAPI_HTTP_SERVER_H
#define EVENTAPI_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_server_options {
  const char *bind;            /* an IPv4 or IPv6 address */
  unsigned port;               /* 0: any free port */
  unsigned threads;
  unsigned connection_timeout; /* seconds an idle connection is kept */
  unsigned connection_limit;
  unsigned per_ip_limit;
  unsigned connection_memory_kb; /* each connection's buffer: its request's head must fit */
  int64_t header_timeout_ms;   /* the request line and headers arrive within this */
  int64_t body_timeout_ms;     /* the longest pause inside a body */
  const char *trusted_proxies; /* TRUSTED_PROXIES (http/address.h) */
  const char *allowed_hosts;   /* ALLOWED_HOSTS (http/hosts.h) */
  const char *cors_allowed_origins;
};

struct http_server;

/* Starts serving the registered routes. Returns 0 or a negative code (logged). */
int http_server_start(const struct http_server_options *opts, struct http_server **out);

unsigned http_server_port(const struct http_server *srv);

/*
 * True when libmicrohttpd's own error answers (a malformed request line,
 * oversized headers, a bad chunk) come out as JSON (library_errors.c), false
 * when this build or library keeps them HTML. The server logs the latter.
 */
bool http_library_errors_json(void);

/*
 * Called by library_errors.c's shutdown() before libmicrohttpd shuts a
 * socket down: a connection on which bytes came but no request line could
 * be read (the library drops those without a word) is answered 400
 * {"detail": "Malformed request."} first. Any other socket is left alone.
 */
void http_server_before_shutdown(int fd);

/* Requests being handled right now. */
unsigned http_server_in_flight(void);

/* What the connection guard has done since the process started. */
struct http_server_stats {
  unsigned open_connections;
  uint64_t refused_limit;        /* CONNECTION_LIMIT connections were open */
  uint64_t refused_per_address;  /* the address held PER_IP_CONNECTION_LIMIT */
  uint64_t refused_headroom;     /* kept for addresses that hold few */
  uint64_t timed_out_head;       /* answered 408: headers too slow */
  uint64_t timed_out_body;       /* answered 408: body too slow */
};
void http_server_stats(struct http_server_stats *out);

/*
 * Answers new requests 503 from now on and waits up to grace_ms for those
 * in flight (parked ones included) to finish; the server keeps running.
 */
void http_server_drain(struct http_server *srv, int grace_ms);

/*
 * Drains (as http_server_drain), then stops: closes every connection and
 * frees srv.
 */
void http_server_stop(struct http_server *srv, int grace_ms);

#endif
