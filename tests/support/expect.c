/*
 * expect.c - assertions on the server's answers, reported at the test's
 * line with the request and the body that failed them.
 */
#include "support/api.h"

#include <criterion/abort.h>
#include <criterion/criterion.h>
#include <criterion/event.h>
#include <criterion/stats.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void expect_fail_at(const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  char *message = NULL;
  va_start(ap, fmt);
  if (vasprintf(&message, fmt, ap) < 0)
    message = NULL;
  va_end(ap);
  struct criterion_assert_stats stats = {
    .message = message ? message : "(out of memory)",
    .passed = false,
    .line = (unsigned)line,
    .file = file,
  };
  criterion_send_assert(&stats);
  free(message);
  criterion_abort_test();
}

/* "POST /api/users/register/ -> 400 {...}" for failure messages. */
static const char *describe(const struct api_resp *r)
{
  if (!r)
    return "(a json value)";
  if (r->status == 0)
    return api_printf("%s %s -> no answer: %s", r->method, r->path, r->error);
  return api_printf("%s %s -> %ld %.600s%s", r->method, r->path, r->status,
                    r->body, r->len > 600 ? "..." : "");
}

static const char *dumps(const json_t *json)
{
  if (!json)
    return "(none)";
  char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
  if (!text)
    return "(unprintable)";
  api_keep(text, free);
  return text;
}

json_t *expect_json_of_resp(struct api_resp *r)
{
  return r->json;
}

json_t *expect_json_of_json(json_t *json)
{
  return json;
}

struct api_resp *expect_resp_of_resp(struct api_resp *r)
{
  return r;
}

struct api_resp *expect_resp_of_json(json_t *json)
{
  (void)json;
  return NULL;
}

void expect_that_at(const char *file, int line, bool ok, const char *fmt, ...)
{
  if (ok)
    return;
  va_list ap;
  char *message = NULL;
  va_start(ap, fmt);
  if (vasprintf(&message, fmt, ap) < 0)
    message = NULL;
  va_end(ap);
  if (message)
    api_keep(message, free);
  expect_fail_at(file, line, "%s", message ? message : "(out of memory)");
}

void expect_status_at(const char *file, int line, const struct api_resp *r,
                      long status)
{
  if (r->status != status)
    expect_fail_at(file, line, "expected status %ld: %s", status, describe(r));
}

/* The member key of an object, failing when json is not an object. */
static json_t *member(const char *file, int line, const struct api_resp *r,
                      const json_t *json, const char *key)
{
  if (!json_is_object(json))
    expect_fail_at(file, line, "expected a JSON object with \"%s\": %s", key,
                   r ? describe(r) : dumps(json));
  return json_object_get(json, key);
}

void expect_keys_at(const char *file, int line, const struct api_resp *r,
                    const json_t *json, ...)
{
  if (!json_is_object(json))
    expect_fail_at(file, line, "expected a JSON object: %s",
                   r ? describe(r) : dumps(json));
  va_list ap;
  size_t expected = 0;
  va_start(ap, json);
  for (const char *key; (key = va_arg(ap, const char *));) {
    expected++;
    if (!json_object_get(json, key)) {
      va_end(ap);
      expect_fail_at(file, line, "expected key \"%s\" in %s", key,
                     r ? describe(r) : dumps(json));
    }
  }
  va_end(ap);
  if (json_object_size(json) != expected)
    expect_fail_at(file, line, "expected exactly %zu keys, got %zu: %s",
                   expected, json_object_size(json),
                   r ? describe(r) : dumps(json));
}

void expect_str_at(const char *file, int line, const struct api_resp *r,
                   const json_t *json, const char *key, const char *value)
{
  json_t *got = member(file, line, r, json, key);
  if (!json_is_string(got) || strcmp(json_string_value(got), value) != 0)
    expect_fail_at(file, line, "expected \"%s\": \"%s\", got %s in %s", key,
                   value, dumps(got), r ? describe(r) : dumps(json));
}

void expect_str_prefix_at(const char *file, int line, const struct api_resp *r,
                          const json_t *json, const char *key, const char *prefix)
{
  json_t *got = member(file, line, r, json, key);
  if (!json_is_string(got) ||
      strncmp(json_string_value(got), prefix, strlen(prefix)) != 0)
    expect_fail_at(file, line, "expected \"%s\" to start with \"%s\", got %s in %s",
                   key, prefix, dumps(got), r ? describe(r) : dumps(json));
}

void expect_int_at(const char *file, int line, const struct api_resp *r,
                   const json_t *json, const char *key, long long value)
{
  json_t *got = member(file, line, r, json, key);
  if (!json_is_integer(got) || json_integer_value(got) != value)
    expect_fail_at(file, line, "expected \"%s\": %lld, got %s in %s", key, value,
                   dumps(got), r ? describe(r) : dumps(json));
}

void expect_bool_at(const char *file, int line, const struct api_resp *r,
                    const json_t *json, const char *key, bool value)
{
  json_t *got = member(file, line, r, json, key);
  if (!json_is_boolean(got) || json_is_true(got) != value)
    expect_fail_at(file, line, "expected \"%s\": %s, got %s in %s", key,
                   value ? "true" : "false", dumps(got),
                   r ? describe(r) : dumps(json));
}

void expect_null_at(const char *file, int line, const struct api_resp *r,
                    const json_t *json, const char *key)
{
  json_t *got = member(file, line, r, json, key);
  if (!json_is_null(got))
    expect_fail_at(file, line, "expected \"%s\": null, got %s in %s", key,
                   dumps(got), r ? describe(r) : dumps(json));
}

void expect_no_key_at(const char *file, int line, const struct api_resp *r,
                      const json_t *json, const char *key)
{
  if (member(file, line, r, json, key))
    expect_fail_at(file, line, "expected no \"%s\" in %s", key,
                   r ? describe(r) : dumps(json));
}

void expect_body_at(const char *file, int line, const struct api_resp *r,
                    const char *json)
{
  json_error_t error;
  json_t *expected = json_loads(api_json(json), JSON_DECODE_ANY, &error);
  if (!expected)
    expect_fail_at(file, line, "bad expected JSON %s: %s", json, error.text);
  api_keep_json(expected);
  if (!r->json || !json_equal(r->json, expected))
    expect_fail_at(file, line, "expected body %s: %s", dumps(expected), describe(r));
}

void expect_empty_body_at(const char *file, int line, const struct api_resp *r)
{
  if (r->len != 0)
    expect_fail_at(file, line, "expected an empty body: %s", describe(r));
}

void expect_detail_at(const char *file, int line, const struct api_resp *r,
                      const char *detail)
{
  json_t *expected = api_keep_json(json_pack("{s:s}", "detail", detail));
  if (!r->json || !json_equal(r->json, expected))
    expect_fail_at(file, line, "expected body %s: %s", dumps(expected), describe(r));
}

/* The list of messages of field, failing when there is none. */
static json_t *field_list(const char *file, int line, const struct api_resp *r,
                          const char *field)
{
  json_t *list = member(file, line, r, r->json, field);
  if (!json_is_array(list))
    expect_fail_at(file, line, "expected a list of errors for \"%s\": %s",
                   field, describe(r));
  return list;
}

void expect_field_error_at(const char *file, int line, const struct api_resp *r,
                           const char *field, const char *message)
{
  json_t *list = field_list(file, line, r, field);
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    if (json_is_string(item) && strcmp(json_string_value(item), message) == 0)
      return;
  }
  expect_fail_at(file, line, "expected \"%s\" to list \"%s\": %s", field,
                 message, describe(r));
}

void expect_field_errors_at(const char *file, int line, const struct api_resp *r,
                            const char *field, ...)
{
  json_t *list = field_list(file, line, r, field);
  json_t *expected = api_keep_json(json_array());
  va_list ap;
  va_start(ap, field);
  for (const char *message; (message = va_arg(ap, const char *));)
    json_array_append_new(expected, json_string(message));
  va_end(ap);
  if (!json_equal(list, expected))
    expect_fail_at(file, line, "expected \"%s\": %s: %s", field,
                   dumps(expected), describe(r));
}

void expect_header_at(const char *file, int line, const struct api_resp *r,
                      const char *name, const char *value)
{
  const char *got = api_header(r, name);
  if (!got || strcmp(got, value) != 0)
    expect_fail_at(file, line, "expected header %s: %s, got %s: %s", name,
                   value, got ? got : "(none)", describe(r));
}

/* Whether the comma-separated list holds item (case-insensitive). */
static bool list_has(const char *list, const char *item)
{
  size_t n = strlen(item);
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *end = p;
    while (*end && *end != ',')
      end++;
    const char *last = end;
    while (last > p && last[-1] == ' ')
      last--;
    if ((size_t)(last - p) == n && strncasecmp(p, item, n) == 0)
      return true;
    p = end;
  }
  return false;
}

void expect_header_lists_at(const char *file, int line, const struct api_resp *r,
                            const char *name, ...)
{
  const char *got = api_header(r, name);
  if (!got)
    expect_fail_at(file, line, "expected a header %s: %s", name, describe(r));
  va_list ap;
  va_start(ap, name);
  for (const char *item; (item = va_arg(ap, const char *));) {
    if (!list_has(got, item)) {
      va_end(ap);
      expect_fail_at(file, line, "expected header %s (%s) to list %s: %s", name,
                     got, item, describe(r));
    }
  }
  va_end(ap);
}

void expect_header_not_lists_at(const char *file, int line,
                                const struct api_resp *r, const char *name,
                                const char *item)
{
  const char *got = api_header(r, name);
  if (got && list_has(got, item))
    expect_fail_at(file, line, "expected header %s (%s) not to list %s: %s",
                   name, got, item, describe(r));
}

void expect_json_response_at(const char *file, int line, const struct api_resp *r)
{
  expect_header_at(file, line, r, "Content-Type", "application/json; charset=utf-8");
  if (!r->json)
    expect_fail_at(file, line, "expected a JSON body: %s", describe(r));
}

void expect_alive_at(const char *file, int line)
{
  struct api_resp *r = api_get("/api/users/me/", NULL);
  expect_status_at(file, line, r, 401);
  expect_detail_at(file, line, r, "Authentication credentials were not provided.");
}

void expect_time_within_at(const char *file, int line, const struct api_resp *r,
                           const json_t *json, const char *key, long long from_us,
                           long long to_us)
{
  json_t *got = member(file, line, r, json, key);
  if (!json_is_string(got))
    expect_fail_at(file, line, "expected a timestamp \"%s\", got %s in %s", key, dumps(got),
                   r ? describe(r) : dumps(json));
  long long us = api_parse_iso_us(json_string_value(got));
  if (us < from_us || us > to_us)
    expect_fail_at(file, line, "expected \"%s\" within [%lld, %lld] us, got %s (%lld) in %s",
                   key, from_us, to_us, json_string_value(got), us,
                   r ? describe(r) : dumps(json));
}
