/*
 * http.h - what views see of HTTP: the request, path parameters, query
 * arguments, headers, the JSON body, and the replies.
 *
 * A view is called once per request with the whole body collected. It must
 * leave exactly one reply (http_reply_*); a view that leaves none is answered
 * 500 and logged. Per-request memory comes from req->arena and is freed when
 * the request completes.
 */
#ifndef EVENTAPI_HTTP_HTTP_H
#define EVENTAPI_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 12

enum http_method {
  HTTP_GET = 1 << 0,
  HTTP_HEAD = 1 << 1,
  HTTP_POST = 1 << 2,
  HTTP_PUT = 1 << 3,
  HTTP_PATCH = 1 << 4,
  HTTP_DELETE = 1 << 5,
  HTTP_OPTIONS = 1 << 6,
  HTTP_OTHER = 1 << 7,
};

struct http_request;
typedef void (*http_handler)(struct http_request *req);

enum route_flags {
  ROUTE_NO_AUTH = 1 << 0, /* ignores the Authorization header (token views) */
  ROUTE_UPLOAD = 1 << 1,  /* takes a file body up to HTTP_UPLOAD_LIMIT */
  ROUTE_ANY_HOST = 1 << 2, /* answers any Host header (probes, scrapers): no links in it */
  ROUTE_ONE_EVENT = 1 << 3, /* acts on the one event (or ticket) its path names */
};

/*
 * The scope (auth/principal.h) an API key needs to call a route, in its
 * flags: {HTTP_GET, "/api/events/", view, ROUTE_KEY(SCOPE_EVENTS_READ)}. A
 * route without one takes tokens only. A key that names an event may call
 * ROUTE_ONE_EVENT routes only (their views check the event).
 */
#define ROUTE_KEY(scope) ((unsigned)(scope) << 8)
#define ROUTE_KEY_SCOPE(flags) ((flags) >> 8)

#define HTTP_BODY_LIMIT (1024 * 1024)       /* JSON bodies */
#define HTTP_IMAGE_LIMIT (5 * 1024 * 1024)  /* an uploaded image */
#define HTTP_UPLOAD_LIMIT (HTTP_IMAGE_LIMIT + 64 * 1024) /* its body, with multipart framing */

/*
 * A route: one method on one path pattern. Patterns are written with their
 * trailing slash and Django-style parameters, "<int:id>" (a positive
 * integer) or "<str:code>" (one non-empty path segment).
 */
struct route {
  unsigned method; /* one or more enum http_method bits */
  const char *pattern;
  http_handler handler;
  unsigned flags;
};

struct http_header {
  const char *name, *value;
};

struct http_param;
struct http_conn;

struct http_request {
  arena_t arena;
  void *connection;                 /* struct MHD_Connection */
  struct http_conn *conn;           /* the connection's state (server.c) */
  enum http_method method;
  const char *method_name;
  const char *target;               /* the request target as sent: path?query */
  const char *path;                 /* percent-decoded */
  const char *query;                /* as sent, after '?'; "" for none */
  struct http_param *query_params;  /* decoded, in order (http/query.h) */
  size_t nquery_params;
  int target_error;                 /* enum http_target_error */
  const struct route *route;        /* the route; for ROUTER_NO_METHOD one of its path */
  int routed;                       /* enum router_result */
  unsigned allowed;                 /* the path's methods, when not routed */
  const char *params[HTTP_MAX_PARAMS]; /* in pattern order */
  int64_t ids[HTTP_MAX_PARAMS];        /* the <int:...> values, same order */
  int nparams;
  char request_id[65];
  bool started;                     /* the headers have been read */
  bool late;                        /* begun after the server began to stop */
  int64_t started_us;
  const char *client_ip;            /* http_client_ip(), once asked */
  char *kept;                       /* a stream's target and more, once its arena is freed (server.c) */

  /* The body, NUL-terminated (malloc'd, freed at completion). */
  char *body;
  size_t body_len, body_cap, body_limit;
  bool body_too_large;
  bool answered_early;              /* answered before the body ended: close after */
  json_t *json_body;                /* parsed by http_json_body() */

  /* A write's Idempotency-Key, as sent by a user (middleware_idempotency):
   * NULL when none is to be kept. The request it names: the hex SHA-256 of
   * its method, target and body. */
  const char *idempotency_key;
  char idempotency_fingerprint[65];

  /* Parked by http_suspend(): called again on resumption to reply. */
  void (*resumed)(struct http_request *req, void *arg);
  void *resumed_arg;
  bool suspended;                   /* set and cleared on the request's thread only */

  /* Set by the auth middleware when a valid token came with the request. */
  const struct principal *user;
  struct principal user_storage;

  /* The reply. */
  unsigned status;
  char *reply;                      /* malloc'd, or NULL for none */
  size_t reply_len;
  const char *reply_shared;         /* or bytes others share (http_reply_shared) */
  void (*reply_release)(void *arg); /* called once reply_shared is no longer used */
  void *reply_release_arg;
  uint64_t representation_len;      /* a 304's: the length its 200 would have */
  struct http_stream *stream;       /* a streamed body (http/stream.h), until queued */
  const char *content_type;
  struct http_header headers[HTTP_MAX_HEADERS];
  int nheaders;
  bool replied;
};

/*
 * Query-string argument name, decoded, or NULL; for a name given more than
 * once the last value, as Django's QueryDict.get. Borrowed for the request.
 */
const char *http_query(struct http_request *req, const char *name);

/* Request header name (case-insensitive), or NULL. */
const char *http_header(struct http_request *req, const char *name);

/*
 * The absolute base URL for links in answers, without a trailing slash:
 * PUBLIC_URL when set, else http:// and the request's Host header (when it
 * is a sane host[:port]), else the server's own address. Arena memory.
 */
const char *http_base_url(struct http_request *req);

/*
 * The absolute URL of this request's path with its query, limit and offset
 * set to the values given (offset 0 is left out), the other parameters kept,
 * sorted by name and URL-encoded: DRF's LimitOffsetPagination links.
 */
const char *http_page_url(struct http_request *req, int64_t limit, int64_t offset);

/*
 * The client's address as text: the peer's, or behind a proxy listed in
 * TRUSTED_PROXIES the one X-Forwarded-For names (http/address.h). Request
 * memory.
 */
const char *http_client_ip(struct http_request *req);

/*
 * The request body as a JSON object (DRF's request.data): an empty body is
 * {}. Like DRF's default parsers it reads JSON (application/json or any
 * application/...+json), application/x-www-form-urlencoded and the text
 * fields of multipart/form-data; a form becomes an object of strings (see
 * http/form.h). On another content type (415), malformed JSON (400 "JSON
 * parse error - ..."), a non-object (400 non_field_errors) or a malformed
 * form (400 "Form parse error - ..." or "Multipart form parse error - ...")
 * it replies and returns NULL. The object is borrowed: owned by the request.
 */
json_t *http_json_body(struct http_request *req);

/*
 * What http_json_body() reads, without a request: the body (len bytes) of
 * content type type (NULL when the request has none) as a new object the
 * caller owns. When the body is refused, returns NULL with the answer's
 * *status (400, 415, or 500 for out of memory) and its body in *error (a
 * new object the caller owns; NULL for 500); else *status is 0 and *error
 * NULL. arena holds the multipart parser's copies and the messages.
 */
json_t *http_body_parse(const char *type, const char *body, size_t len, arena_t *arena,
                        unsigned *status, json_t **error);

/*
 * Parks the request: the view returns without a reply, the server thread
 * goes on with other connections, and once http_resume() is called (from
 * any thread) resumed(req, arg) runs on the request's own thread and must
 * reply. Call it from the view, before starting whatever calls http_resume.
 */
void http_suspend(struct http_request *req,
                  void (*resumed)(struct http_request *req, void *arg), void *arg);

/* Wakes a request parked by http_suspend(); safe from any thread. */
void http_resume(struct http_request *req);

/* Adds a response header; name and value must live as long as the request. */
void http_add_header(struct http_request *req, const char *name, const char *value);

/* Replies status with body serialised compactly. Steals body (may be NULL). */
void http_reply_json(struct http_request *req, unsigned status, json_t *body);

/* Replies status with {"detail": detail}. */
void http_reply_detail(struct http_request *req, unsigned status, const char *detail);

/* Replies status with an empty body (204 and the like). */
void http_reply_empty(struct http_request *req, unsigned status);

/*
 * Replies 304 Not Modified. length is the size of the body a 200 would
 * carry: RFC 9110 allows a 304's Content-Length only when it equals that,
 * and libmicrohttpd always writes one.
 */
void http_reply_not_modified(struct http_request *req, uint64_t length);

/* Replies with bytes of content_type; takes ownership of the malloc'd data. */
void http_reply_bytes(struct http_request *req, unsigned status,
                      const char *content_type, char *data, size_t len);

/*
 * Replies with bytes that others share, without copying them: data stays
 * valid until release(arg) is called, which happens once, when the
 * response has been sent (or the request ends without it). A second reply
 * releases at once.
 */
void http_reply_shared(struct http_request *req, unsigned status, const char *content_type,
                       const char *data, size_t len, void (*release)(void *arg), void *arg);

/* 401 "Authentication credentials were not provided." with WWW-Authenticate. */
void http_reply_unauthenticated(struct http_request *req);

/* 403 "You do not have permission to perform this action." */
void http_reply_forbidden(struct http_request *req);

/* 404 {"detail": "Not found."} */
void http_reply_not_found(struct http_request *req);

/* 500 {"detail": "internal error"}, logging why with the request id. */
void http_reply_internal(struct http_request *req, const char *why);

/*
 * Answers rc, an error code (core/error.h) of a call that failed for a
 * reason other than the request's (the storage, mostly): 404 for a row
 * gone meanwhile, 409 for a constraint a concurrent change trips, 503 with
 * Retry-After for an unavailable or busy database, for a commit the disk
 * did not confirm (EVENTAPI_ENOTDURABLE) and for full storage
 * (EVENTAPI_EFULL, of the database or of the media folder), 500 (logged)
 * for anything else. Counted by class in http/stats.h.
 */
void http_reply_error(struct http_request *req, int rc);


/* Registers routes (a static table) before the server starts. */
int http_routes_add(const struct route *routes, size_t count);

/*
 * Loads the user of a token: 0 with *out and *active filled,
 * EVENTAPI_ENOTFOUND for a missing user, or another negative code for a
 * database failure. Set once by the users app.
 */
typedef int (*http_user_loader)(int64_t user_id, struct principal *out, bool *active);
void http_set_user_loader(http_user_loader loader);

/*
 * Loads the user of an API key (the text after "Api-Key "), as the user
 * loader does, with the key's id, scopes and event: EVENTAPI_ENOTFOUND
 * for a key that is not one (unknown, revoked, expired). Set once by the
 * users app.
 */
typedef int (*http_key_loader)(const char *key, struct principal *out, bool *active);
void http_set_key_loader(http_key_loader loader);

/*
 * Before the view of a write that a user sent with an Idempotency-Key
 * (req->idempotency_key set), the replayer answers it from what was kept
 * for that key (the first answer, 422 for another request, or a failure)
 * and returns true, or returns false for the view to run. Set by the app.
 */
typedef bool (*http_replayer)(struct http_request *req);
void http_set_replayer(http_replayer replayer);

/*
 * Undoes a reply not yet sent, and the headers added after the first
 * nheaders, so that another can be made (a reply made inside a unit of
 * work whose commit then failed).
 */
void http_reply_reset(struct http_request *req, int nheaders);

#endif
