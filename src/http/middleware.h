/*
 * middleware.h - what runs around every view: request ids, authentication,
 * CORS. Private to src/http/.
 */
#ifndef EVENTAPI_HTTP_MIDDLEWARE_H
#define EVENTAPI_HTTP_MIDDLEWARE_H

#include <stdbool.h>

#include "http/http.h"

/* Takes a sane X-Request-Id from the request, else makes one. */
void middleware_request_id(struct http_request *req);

/*
 * Authenticates a Bearer token as SimpleJWT does. Returns true when the
 * request may go on (anonymous or authenticated: req->user), false after
 * replying 401 (or 503 when the database is down).
 */
bool middleware_authenticate(struct http_request *req);

/*
 * A write's Idempotency-Key (docs/api.md, "Safe retries"): 400 when it is
 * not 1 to 255 printable ASCII characters; for a user's write, the key is
 * set on the request and the replayer (http_set_replayer) may answer it.
 * Returns true when the view is to run.
 */
bool middleware_idempotency(struct http_request *req);

/*
 * Sets the CORS allow-list from CORS_ALLOWED_ORIGINS (comma separated
 * origins, or "*"). Returns 0 or EVENTAPI_ENOMEM.
 */
int middleware_cors_configure(const char *origins);
void middleware_cors_free(void);

/*
 * Adds CORS headers to the reply of an allowed Origin; for a preflight
 * (OPTIONS with Access-Control-Request-Method) also the allowed methods and
 * headers. allowed is the path's method mask.
 */
void middleware_cors(struct http_request *req, unsigned allowed);

#endif
