#include "core/jsonutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/text.h"
#include "core/timefmt.h"

void
json_error_add(json_t *errors, const char *field, const char *message)
{
  json_t *list = json_object_get(errors, field);
  if (list == NULL) {
    list = json_array();
    json_object_set_new(errors, field, list);
  }
  json_array_append_new(list, json_string(message));
}

json_t *
json_errors_ordered(json_t *errors, const char *const *fields)
{
  json_t *ordered = json_object();
  for (; *fields; fields++) {
    json_t *list = json_object_get(errors, *fields);
    if (list)
      json_object_set(ordered, *fields, list);
  }
  const char *key;
  json_t *list;
  json_object_foreach(errors, key, list)
    if (!json_object_get(ordered, key))
      json_object_set(ordered, key, list);
  return ordered;
}

bool
json_errors_any(const json_t *errors)
{
  return json_object_size(errors) > 0;
}

static bool
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

enum field_result
json_field_string(json_t *obj, const char *name, const struct string_rules *rules,
                  json_t *errors, arena_t *arena, const char **out)
{
  json_t *value = json_object_get(obj, name);
  *out = NULL;
  if (value == NULL) {
    if (!rules->required)
      return FIELD_ABSENT;
    json_error_add(errors, name, "This field is required.");
    return FIELD_INVALID;
  }
  if (json_is_null(value)) {
    if (rules->allow_null)
      return FIELD_SET;
    json_error_add(errors, name, "This field may not be null.");
    return FIELD_INVALID;
  }
  const char *text;
  size_t len;
  char number[64];
  if (json_is_string(value)) {
    text = json_string_value(value);
    len = json_string_length(value);
  } else if (json_is_integer(value)) {
    len = (size_t)snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT,
                           json_integer_value(value));
    text = number;
  } else if (json_is_real(value)) {
    len = (size_t)snprintf(number, sizeof number, "%.17g", json_real_value(value));
    text = number;
  } else {
    json_error_add(errors, name, "Not a valid string.");
    return FIELD_INVALID;
  }
  if (!rules->keep_spaces) {
    while (len > 0 && is_space(*text)) {
      text++;
      len--;
    }
    while (len > 0 && is_space(text[len - 1]))
      len--;
  }
  char *copy = arena_strndup(arena, text, len);
  if (copy == NULL) {
    json_error_add(errors, name, "Out of memory.");
    return FIELD_INVALID;
  }
  if (len == 0 && !rules->allow_blank) {
    json_error_add(errors, name, "This field may not be blank.");
    return FIELD_INVALID;
  }
  if (rules->max_length && text_utf8_length(copy) > rules->max_length) {
    char msg[96];
    snprintf(msg, sizeof msg, "Ensure this field has no more than %zu characters.",
             rules->max_length);
    json_error_add(errors, name, msg);
    return FIELD_INVALID;
  }
  *out = copy;
  return FIELD_SET;
}

enum field_result
json_field_bool(json_t *obj, const char *name, bool required, json_t *errors, bool *out)
{
  static const char *const truthy[] = {"true", "1", "yes", "on", "t", "y"};
  static const char *const falsy[] = {"false", "0", "no", "off", "f", "n"};
  json_t *value = json_object_get(obj, name);
  if (value == NULL) {
    if (!required)
      return FIELD_ABSENT;
    json_error_add(errors, name, "This field is required.");
    return FIELD_INVALID;
  }
  if (json_is_boolean(value)) {
    *out = json_is_true(value);
    return FIELD_SET;
  }
  if (json_is_integer(value) && (json_integer_value(value) == 0 || json_integer_value(value) == 1)) {
    *out = json_integer_value(value) == 1;
    return FIELD_SET;
  }
  if (json_is_string(value)) {
    const char *s = json_string_value(value);
    for (size_t i = 0; i < sizeof truthy / sizeof truthy[0]; i++) {
      if (strcasecmp(s, truthy[i]) == 0) {
        *out = true;
        return FIELD_SET;
      }
      if (strcasecmp(s, falsy[i]) == 0) {
        *out = false;
        return FIELD_SET;
      }
    }
  }
  json_error_add(errors, name, json_is_null(value) ? "This field may not be null."
                                                   : "Must be a valid boolean.");
  return FIELD_INVALID;
}

json_t *
json_time(int64_t us)
{
  char text[TIME_ISO_MAX];
  time_format_iso(us, text);
  return json_string(text);
}

json_t *
json_time_or_null(int64_t us)
{
  return us ? json_time(us) : json_null();
}

json_t *
json_id_or_null(int64_t id)
{
  return id ? json_integer(id) : json_null();
}

void
json_set_string(json_t *obj, const char *key, const char *value)
{
  json_object_set_new(obj, key, value ? json_string(value) : json_null());
}

const char *
json_python_type(const json_t *value)
{
  switch (json_typeof(value)) {
  case JSON_OBJECT: return "dict";
  case JSON_ARRAY: return "list";
  case JSON_STRING: return "str";
  case JSON_INTEGER: return "int";
  case JSON_REAL: return "float";
  case JSON_TRUE:
  case JSON_FALSE: return "bool";
  default: return "NoneType";
  }
}

/* Parses a whole string as a decimal integer (Python's int(), roughly). */
static bool
parse_int_text(const char *s, int64_t *out)
{
  while (is_space(*s))
    s++;
  bool negative = *s == '-';
  if (*s == '-' || *s == '+')
    s++;
  if (*s < '0' || *s > '9')
    return false;
  int64_t value = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (value > (INT64_MAX - (*s - '0')) / 10)
      return false;
    value = value * 10 + (*s - '0');
  }
  if (*s == '.') /* DRF accepts "5.0" and "5." */
    for (s++; *s == '0'; s++)
      ;
  while (is_space(*s))
    s++;
  if (*s)
    return false;
  *out = negative ? -value : value;
  return true;
}

/* Whether min <= n <= max; if not, DRF's message for the bound is added to errors[name]. */
static bool
in_range(int64_t n, int64_t min, int64_t max, const char *name, json_t *errors)
{
  char msg[96];
  if (n < min)
    snprintf(msg, sizeof msg, "Ensure this value is greater than or equal to %lld.",
             (long long)min);
  else if (n > max)
    snprintf(msg, sizeof msg, "Ensure this value is less than or equal to %lld.", (long long)max);
  else
    return true;
  json_error_add(errors, name, msg);
  return false;
}

enum field_result
json_field_int(json_t *obj, const char *name, bool required, int64_t min, int64_t max,
               json_t *errors, int64_t *out)
{
  json_t *value = json_object_get(obj, name);
  if (value == NULL) {
    if (!required)
      return FIELD_ABSENT;
    json_error_add(errors, name, "This field is required.");
    return FIELD_INVALID;
  }
  int64_t n = 0;
  bool ok = false;
  if (json_is_integer(value)) {
    n = json_integer_value(value);
    ok = true;
  } else if (json_is_real(value)) {
    double d = json_real_value(value);
    ok = d > -9e18 && d < 9e18 && d == (double)(int64_t)d; /* range first: no UB cast */
    n = ok ? (int64_t)d : 0;
  } else if (json_is_string(value)) {
    ok = parse_int_text(json_string_value(value), &n);
  } else if (json_is_null(value)) {
    json_error_add(errors, name, "This field may not be null.");
    return FIELD_INVALID;
  }
  if (!ok) {
    json_error_add(errors, name, "A valid integer is required.");
    return FIELD_INVALID;
  }
  if (!in_range(n, min, max, name, errors))
    return FIELD_INVALID;
  *out = n;
  return FIELD_SET;
}

bool
json_int_text(const char *text, const char *name, int64_t min, int64_t max, json_t *errors,
              int64_t *out)
{
  char *end;
  long long n = strtoll(text, &end, 10);
  if (end == text || *end || text[0] == ' ' || text[0] == '+') {
    json_error_add(errors, name, "A valid integer is required.");
    return false;
  }
  if (!in_range(n, min, max, name, errors))
    return false;
  *out = n;
  return true;
}

enum field_result
json_field_datetime(json_t *obj, const char *name, bool required, json_t *errors, int64_t *out)
{
  json_t *value = json_object_get(obj, name);
  if (value == NULL) {
    if (!required)
      return FIELD_ABSENT;
    json_error_add(errors, name, "This field is required.");
    return FIELD_INVALID;
  }
  if (json_is_null(value)) {
    json_error_add(errors, name, "This field may not be null.");
    return FIELD_INVALID;
  }
  if (!json_is_string(value) || time_parse_iso(json_string_value(value), out) < 0) {
    json_error_add(errors, name,
                   "Datetime has wrong format. Use one of these formats instead: "
                   "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
    return FIELD_INVALID;
  }
  return FIELD_SET;
}
