/*
 * jsonutil.h - DRF-style field reading and error collection with jansson.
 *
 * Validation collects every field's messages into one errors object,
 * {"field": ["message", ...]}, before answering, as DRF does.
 */
#ifndef EVENTAPI_CORE_JSONUTIL_H
#define EVENTAPI_CORE_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/* Appends message to errors[field] (created on first use). */
void json_error_add(json_t *errors, const char *field, const char *message);

/*
 * A copy of errors with the keys of fields (a NULL-terminated list) first, in
 * that order, then the rest: DRF reports errors in the serializer's field
 * order. The caller owns the result.
 */
json_t *json_errors_ordered(json_t *errors, const char *const *fields);

/* True when errors holds at least one message. */
bool json_errors_any(const json_t *errors);

enum field_result {
  FIELD_ABSENT = 0,  /* not in the body (and not required) */
  FIELD_SET = 1,     /* *out holds the value */
  FIELD_INVALID = -1 /* a message was added to errors */
};

struct string_rules {
  bool required;
  bool allow_blank;
  bool allow_null;   /* null gives FIELD_SET with *out = NULL */
  bool keep_spaces;  /* DRF trims by default; passwords are kept as sent */
  size_t max_length; /* in characters; 0: no limit */
};

/*
 * Reads a DRF CharField from obj: strings as they are, numbers as their text,
 * anything else "Not a valid string.". *out points into arena memory.
 */
enum field_result json_field_string(json_t *obj, const char *name,
                                    const struct string_rules *rules,
                                    json_t *errors, arena_t *arena,
                                    const char **out);

/* Reads a DRF BooleanField (true/false, 1/0, "true"/"false", ...). */
enum field_result json_field_bool(json_t *obj, const char *name, bool required,
                                  json_t *errors, bool *out);

/*
 * Reads a DRF IntegerField: integers, integral reals, and strings of them;
 * "A valid integer is required." otherwise, then the bounds' messages.
 */
enum field_result json_field_int(json_t *obj, const char *name, bool required,
                                 int64_t min, int64_t max, json_t *errors, int64_t *out);

/*
 * Reads text (a query parameter's value: an optional minus and decimal
 * digits, nothing around them) as an integer within [min, max]: true with
 * *out, else false with DRF's message added to errors under name, as
 * json_field_int gives them.
 */
bool json_int_text(const char *text, const char *name, int64_t min, int64_t max,
                   json_t *errors, int64_t *out);

/*
 * Reads a DRF DateTimeField (ISO 8601, any offset, normalised to UTC
 * microseconds); DRF's wrong-format message otherwise.
 */
enum field_result json_field_datetime(json_t *obj, const char *name, bool required,
                                      json_t *errors, int64_t *out);

/* A time (microseconds since the epoch) as ISO 8601 text, as the API writes it. */
json_t *json_time(int64_t us);

/* As json_time(), or JSON null for 0 (no time). */
json_t *json_time_or_null(int64_t us);

/* A related object's id, or JSON null for 0 (none). */
json_t *json_id_or_null(int64_t id);

/* Sets obj[key] to a string, or JSON null when value is NULL. */
void json_set_string(json_t *obj, const char *key, const char *value);

/* Python's name for value's type ("dict", "list", "str", "int", "float",
 * "bool", "NoneType"), as DRF's messages show it. */
const char *json_python_type(const json_t *value);

#endif
