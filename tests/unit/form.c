/*
 * form.c - HTML form bodies read as Django's QueryDict reads them
 * (http/form.h): urlencoded pairs and the text fields of multipart bodies.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/error.h"
#include "http/form.h"

static arena_t arena;
static json_t *parsed;

static void
teardown(void)
{
  json_decref(parsed);
  arena_free(&arena);
}

TestSuite(form, .fini = teardown);

/* Parses form (len bytes) and expects the object given as JSON text. */
static void
expect_form(const char *form, size_t len, const char *json)
{
  const char *why = NULL;
  json_decref(parsed);
  parsed = NULL;
  int rc = form_parse_urlencoded(form, len, &parsed, &why);
  cr_assert_eq(rc, 0, "\"%s\": %s", form, why ? why : "");
  json_t *expected = json_loads(json, 0, NULL);
  cr_assert_not_null(expected, "bad expectation %s", json);
  char *got = json_dumps(parsed, JSON_COMPACT | JSON_SORT_KEYS);
  cr_assert(json_equal(parsed, expected), "\"%s\" gave %s, expected %s", form, got, json);
  free(got);
  json_decref(expected);
}

#define expect_parsed(form, json) expect_form((form), strlen(form), (json))

static const char *
refused(const char *form, size_t len)
{
  const char *why = NULL;
  json_t *out = (json_t *)1;
  cr_assert_eq(form_parse_urlencoded(form, len, &out, &why), EVENTAPI_EINVAL, "\"%s\"", form);
  cr_assert_null(out);
  return why;
}

Test(form, recognises_the_urlencoded_type)
{
  cr_assert(form_is_urlencoded("application/x-www-form-urlencoded"));
  cr_assert(form_is_urlencoded("Application/X-WWW-Form-URLEncoded ; charset=utf-8"));
  cr_assert(!form_is_urlencoded("application/x-www-form-urlencodedx"));
  cr_assert(!form_is_urlencoded("application/json"));
  cr_assert(!form_is_urlencoded(""));
}

Test(form, pairs_as_parse_qsl_reads_them)
{
  expect_parsed("", "{}");
  expect_parsed("a=1&b=two", "{\"a\":\"1\",\"b\":\"two\"}");
  expect_parsed("a=1&&b=2&", "{\"a\":\"1\",\"b\":\"2\"}");
  expect_parsed("flag&empty=", "{\"flag\":\"\",\"empty\":\"\"}");
  expect_parsed("=5", "{\"\":\"5\"}");
  expect_parsed("a=b=c", "{\"a\":\"b=c\"}");
  expect_parsed("a=1;b=2", "{\"a\":\"1;b=2\"}"); /* only '&' separates */
  expect_parsed("a=1&a=2&a=3", "{\"a\":\"3\"}");   /* QueryDict.get: the last */
}

Test(form, escapes_and_plus)
{
  expect_parsed("first+name=Ada+Lovelace", "{\"first name\":\"Ada Lovelace\"}");
  expect_parsed("e=a%40b.c%2Bd%2b", "{\"e\":\"a@b.c+d+\"}");
  expect_parsed("t=%C3%A9t%C3%A9", "{\"t\":\"\\u00e9t\\u00e9\"}");
  expect_parsed("t=caf\xc3\xa9", "{\"t\":\"caf\\u00e9\"}");
  /* Malformed escapes are kept as written, as Python's unquote does. */
  expect_parsed("p=100%&q=%zz&r=%4&s=%%41", "{\"p\":\"100%\",\"q\":\"%zz\",\"r\":\"%4\",\"s\":\"%A\"}");
}

Test(form, refuses_what_is_not_utf8_or_holds_nul)
{
  const char *not_utf8 = "A field name or value is not valid UTF-8.";
  const char *nul = "A field name or value holds a NUL character.";
  cr_assert_str_eq(refused("a=%FF", 5), not_utf8);
  cr_assert_str_eq(refused("%C3=1", 5), not_utf8);
  cr_assert_str_eq(refused("a=\xc3", 3), not_utf8);
  cr_assert_str_eq(refused("a=%ED%A0%80", 11), not_utf8); /* a surrogate */
  cr_assert_str_eq(refused("a=%00", 5), nul);
  cr_assert_str_eq(refused("a\0=1", 4), nul);
}

Test(form, counts_fields_as_django_does)
{
  char form[4096];
  size_t len = 0;
  for (int i = 0; i < 999; i++)
    form[len++] = '&';
  expect_form(form, len, "{}"); /* 1000 empty fields */
  form[len++] = '&';
  cr_assert_str_eq(refused(form, len), "Too many fields (the limit is 1000).");
}

Test(form, multipart_text_fields_become_strings)
{
  const char *body = "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nJazz\r\n"
                     "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nJazz 2\r\n"
                     "--b\r\nContent-Disposition: form-data; name=\"poster\"; filename=\"a.png\"\r\n"
                     "\r\n\x89PNG\xff\r\n"
                     "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n\r\n--b--\r\n";
  const char *why = NULL;
  cr_assert_eq(form_parse_multipart("multipart/form-data; boundary=b", body, strlen(body),
                                    &arena, &parsed, &why), 0, "%s", why ? why : "");
  json_t *expected = json_loads("{\"title\":\"Jazz 2\",\"note\":\"\"}", 0, NULL);
  cr_assert(json_equal(parsed, expected));
  json_decref(expected);
}

Test(form, multipart_refuses_malformed_bodies_and_bad_text)
{
  const char *why = NULL;
  json_t *out = NULL;
  const char *bad = "--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n\xff\r\n--b--\r\n";
  cr_assert_eq(form_parse_multipart("multipart/form-data; boundary=b", bad, strlen(bad), &arena,
                                    &out, &why), EVENTAPI_EINVAL);
  cr_assert_null(out);
  cr_assert_str_eq(why, "A field name or value is not valid UTF-8.");
  const char nul[] = "--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\na\0b\r\n--b--\r\n";
  cr_assert_eq(form_parse_multipart("multipart/form-data; boundary=b", nul, sizeof nul - 1,
                                    &arena, &out, &why), EVENTAPI_EINVAL);
  cr_assert_str_eq(why, "A field name or value holds a NUL character.");
  const char *open = "--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nx";
  cr_assert_eq(form_parse_multipart("multipart/form-data; boundary=b", open, strlen(open),
                                    &arena, &out, &why), EVENTAPI_EINVAL);
  cr_assert_str_eq(why, "The body has no closing boundary.");
  cr_assert_null(out);
}
