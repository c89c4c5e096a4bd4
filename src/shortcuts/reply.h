/*
 * reply.h - a view's one error channel: an int rc (0, or a negative code of
 * core/error.h), answered in one place.
 *
 * Field errors are collected DRF-style into one errors object that the
 * request owns (errors_or_reply()); a function that added some returns
 * EVENTAPI_EINVAL, so that a view never tests the object and the code side
 * by side: it hands rc, with the errors and the message of a missing
 * object, to ok_or_reply() or object_or_404(), which answer any failure and
 * return whether the view goes on.
 */
#ifndef EVENTAPI_SHORTCUTS_REPLY_H
#define EVENTAPI_SHORTCUTS_REPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "http/http.h"

/*
 * A new, empty errors object owned by the request (released when it
 * completes), or NULL after replying 500 when out of memory.
 */
json_t *errors_or_reply(struct http_request *req);

/*
 * EVENTAPI_EINVAL when errors holds a message, else 0: field errors turned
 * into the one rc.
 */
int errors_rc(const json_t *errors);

/*
 * True when rc is 0. Otherwise answers it and returns false:
 * EVENTAPI_EINVAL with errors (not NULL) is 400 with the errors object,
 * EVENTAPI_ENOTFOUND with missing (not NULL) is 404 {"detail": missing},
 * anything else http_reply_error()'s answer (503 for an unavailable
 * database, 409 for a conflict, 500 logged, ...).
 */
bool ok_or_reply(struct http_request *req, int rc, json_t *errors, const char *missing);

/* True when errors holds no message; else replies 400 with them. */
bool valid_or_400(struct http_request *req, json_t *errors);

/*
 * rc of looking an object up: true when 0 (found); 404 {"detail": missing}
 * for EVENTAPI_ENOTFOUND, http_reply_error() for any other failure.
 */
bool object_or_404(struct http_request *req, int rc, const char *missing);

#endif
