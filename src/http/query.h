/*
 * query.h - the request target, decoded: the path and the query string's
 * parameters.
 *
 * libmicrohttpd decodes both itself, stopping at an encoded NUL ("%00") so
 * that "/api/events/%00/" read as "/api/events/", and it keeps every
 * parameter in its connection's small memory pool, where a few hundred of
 * them leave no room to answer at all. eventapi reads the raw target
 * instead, as Django does: a path is percent-decoded, a query is split on
 * '&', '+' is a space, percent-escapes are decoded, a broken escape is kept
 * as it is, and invalid UTF-8 becomes U+FFFD. A NUL decoded anywhere is
 * refused.
 */
#ifndef EVENTAPI_HTTP_QUERY_H
#define EVENTAPI_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

/* Parameters in one query string at most (Django: DATA_UPLOAD_MAX_NUMBER_FIELDS). */
#define HTTP_QUERY_MAX_PARAMS 1000

struct http_param {
  const char *name, *value;
};

enum http_target_error {
  HTTP_TARGET_OK,
  HTTP_TARGET_NUL_IN_PATH,     /* "%00" in the path: no such resource */
  HTTP_TARGET_NUL_IN_QUERY,    /* "%00" in a name or value */
  HTTP_TARGET_TOO_MANY_PARAMS, /* more than HTTP_QUERY_MAX_PARAMS */
  HTTP_TARGET_NO_MEMORY,
};

/*
 * Splits the raw request target ("/path?query", not NUL-terminated inside)
 * into the decoded path and parameters, all in arena memory: *path, the
 * parameters in their order in *params and their count in *count.
 */
enum http_target_error http_target_parse(arena_t *arena, const char *target,
                                         const char **path,
                                         struct http_param **params, size_t *count);

/*
 * Percent-decodes s[0..len) into out, which holds len bytes: %XX escapes
 * become their byte (a broken one is kept as written), and '+' a space when
 * plus_is_space. Returns the length written; out is not NUL-terminated and
 * may hold any byte, NUL included.
 */
size_t http_percent_decode(const char *s, size_t len, bool plus_is_space, char *out);

#endif
