/*
 * form.h - HTML form bodies as request data: what DRF's FormParser and
 * MultiPartParser give a view, read the way Django's QueryDict reads them.
 *
 * A form becomes a JSON object of strings, so that every serializer reads
 * it as it reads JSON (DRF's fields take "5" for an integer, "true" for a
 * boolean, and so on, in JSON too). A name given more than once keeps its
 * last value (QueryDict.get). Forms carry no lists of objects: nested lists
 * stay JSON only.
 */
#ifndef EVENTAPI_HTTP_FORM_H
#define EVENTAPI_HTTP_FORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "http/http.h"

#define FORM_FIELDS_MAX 1000 /* Django's DATA_UPLOAD_MAX_NUMBER_FIELDS */

/* True when content_type names application/x-www-form-urlencoded. */
bool form_is_urlencoded(const char *content_type);

/*
 * Parses an application/x-www-form-urlencoded body (len bytes) into a new
 * object the caller owns, as Python's parse_qsl does for Django: pairs
 * separated by '&' (empty ones skipped), the name and the value split at
 * the first '=' (a pair without one has the value ""), '+' a space, %XX a
 * byte (a malformed escape stays as written). Returns 0 with *out; or
 * EVENTAPI_EINVAL with a static reason in *why when a decoded name or value
 * is not UTF-8 or holds a NUL, or there are more than FORM_FIELDS_MAX pairs
 * (counted as Django does, empty ones too); or EVENTAPI_ENOMEM.
 */
int form_parse_urlencoded(const char *body, size_t len, json_t **out, const char **why);

/*
 * The text fields of a multipart/form-data body (content_type its header)
 * as a new object the caller owns; file parts (those declaring a filename)
 * are left out. Returns 0 with *out; EVENTAPI_EINVAL with a static reason
 * in *why for a malformed body (multipart_each's) or a field whose name or
 * value is not UTF-8 or holds a NUL; or EVENTAPI_ENOMEM. arena holds the
 * parser's copies for the request.
 */
int form_parse_multipart(const char *content_type, const char *body, size_t len,
                         arena_t *arena, json_t **out, const char **why);

/*
 * DRF's Field.get_value for HTML form input: a blank value of a field that
 * is optional and takes neither a blank nor null counts as not given (a
 * form sends every input, filled in or not). When req's body is a form,
 * removes from body each of names (a NULL-terminated list of such fields)
 * whose value is "". JSON bodies are left alone: there "" is a value.
 */
void form_blank_as_absent(struct http_request *req, json_t *body, const char *const *names);

#endif
