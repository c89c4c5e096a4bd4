/*
 * schema_check.h - checks answers against the OpenAPI document: a JSON
 * Schema validator (the 2020-12 subset OpenAPI 3.1 documents use) and the
 * lookup of an answer's schema from its method, path and status.
 *
 * Supported keywords: type (a name or a list, "null" included), properties,
 * required, additionalProperties, items, minItems, maxItems, minProperties,
 * maxProperties, enum, const, $ref (to "#/..." in the same document), oneOf,
 * anyOf, allOf, not, minimum, maximum, minLength, maxLength. format, pattern,
 * examples and descriptions are ignored.
 */
#ifndef EVENTAPI_TESTS_SCHEMA_CHECK_H
#define EVENTAPI_TESTS_SCHEMA_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Whether instance is valid against schema; $refs resolve in root. On
 * failure err receives where and why ("/results/0/id: expected integer").
 */
bool schema_check_value(const json_t *root, const json_t *schema,
                        const json_t *instance, char *err, size_t errlen);

/* The "#/a/b" JSON pointer target in root, or NULL. */
const json_t *schema_check_resolve(const json_t *root, const char *ref);

/*
 * The path template of doc's "paths" that serves path (its query ignored;
 * the trailing slash optional): literal segments win over parameters, and
 * an integer parameter matches digits only. NULL when none does.
 */
const char *schema_check_template(const json_t *doc, const char *path);

/*
 * Checks one answer against doc: the operation for method and path, the
 * response for status (or "default"), its media type against content_type,
 * and a JSON body (json, parsed from a body of body_len bytes) against the
 * schema of "application/json". An unknown path, OPTIONS, and bodies of
 * other media types are checked no further than their status and type; a
 * method the path does not serve must be 405 (or the 413 any path gives).
 * A 431 is libmicrohttpd's own answer to oversized headers, given before any
 * route: it is not held to the document.
 * True when it conforms; otherwise false with err saying why.
 */
bool schema_check_response(const json_t *doc, const char *method,
                           const char *path, long status,
                           const char *content_type, const json_t *json,
                           size_t body_len, char *err, size_t errlen);

#endif
