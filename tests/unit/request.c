/*
 * request.c - the request body as request data (http_body_parse in
 * src/http/request.c): what http_json_body() answers, without a server.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/text.h"
#include "http/http.h"

static arena_t arena;

static void
teardown(void)
{
  arena_free(&arena);
}

TestSuite(request, .fini = teardown);

/* The detail of a refusal; asserts the status first. */
static const char *
refused(const char *type, const char *body, unsigned want)
{
  unsigned status;
  json_t *error;
  json_t *data = http_body_parse(type, body, strlen(body), &arena, &status, &error);
  cr_assert_null(data);
  cr_assert_eq(status, want);
  cr_assert_not_null(error, "a %u needs its body", want);
  const char *detail = json_string_value(json_object_get(error, "detail"));
  cr_assert_not_null(detail);
  detail = arena_strdup(&arena, detail);
  json_decref(error);
  return detail;
}

Test(request, json_forms_and_empty_bodies)
{
  unsigned status;
  json_t *error;
  json_t *data = http_body_parse("application/json", "{\"a\":1}", 7, &arena, &status, &error);
  cr_assert_not_null(data);
  cr_assert_eq(status, 0);
  cr_assert_null(error);
  cr_assert_eq(json_integer_value(json_object_get(data, "a")), 1);
  json_decref(data);
  data = http_body_parse("application/x-www-form-urlencoded", "a=b", 3, &arena, &status, &error);
  cr_assert_str_eq(json_string_value(json_object_get(data, "a")), "b");
  json_decref(data);
  data = http_body_parse(NULL, "", 0, &arena, &status, &error);
  cr_assert(json_is_object(data) && json_object_size(data) == 0);
  json_decref(data);
}

Test(request, refusals_as_drf_words_them)
{
  cr_assert_str_eq(refused("text/plain; charset=utf-8", "{}", 415),
                   "Unsupported media type \"text/plain\" in request.");
  cr_assert_str_eq(refused(NULL, "{}", 415), "Unsupported media type \"\" in request.");
  cr_assert(strncmp(refused("application/json", "{", 400), "JSON parse error - ", 19) == 0);
  unsigned status;
  json_t *error;
  cr_assert_null(http_body_parse("application/json", "[1]", 3, &arena, &status, &error));
  cr_assert_eq(status, 400);
  cr_assert_str_eq(json_string_value(json_array_get(json_object_get(error, "non_field_errors"), 0)),
                   "Invalid data. Expected a dictionary, but got list.");
  json_decref(error);
}

/*
 * A Content-Type is bytes, which Django reads as ISO-8859-1: a byte above
 * 0x7f is shown as that character, in UTF-8, never left raw to make the
 * JSON answer impossible (a 500). Found by fuzz/json_body.c.
 */
Test(request, a_media_type_outside_ascii_is_read_as_latin1)
{
  const char *detail = refused("text/\xa9", "{}", 415);
  cr_assert_str_eq(detail, "Unsupported media type \"text/\xc2\xa9\" in request.");
  detail = refused("\xff\xfe/\xe9", "{}", 415);
  cr_assert_str_eq(detail, "Unsupported media type \"\xc3\xbf\xc3\xbe/\xc3\xa9\" in request.");
  cr_assert(text_valid_utf8(detail, strlen(detail)));
}

/*
 * jansson's reason may quote the body where it broke off: half a character,
 * or bytes that are not UTF-8. They are shown as U+FFFD, so that the 400
 * can be made (it was a 500). Found by fuzz/users.c.
 */
Test(request, a_json_error_quoting_broken_text_is_repaired)
{
  const char *detail = refused("application/json", "{\"a\": \"\\u\xe2\x80\x8b" "540d\"}", 400);
  cr_assert(strncmp(detail, "JSON parse error - ", 19) == 0, "%s", detail);
  cr_assert(text_valid_utf8(detail, strlen(detail)), "%s", detail);
  detail = refused("application/json", "{\"a\": tru\xff}", 400);
  cr_assert(text_valid_utf8(detail, strlen(detail)), "%s", detail);
}
