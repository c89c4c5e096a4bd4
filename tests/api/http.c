/*
 * http.c - API.md "Conventions" as seen on the wire: JSON and request ids
 * on every answer, the router (404, 405, OPTIONS, trailing slashes), body
 * limits and malformed bodies, hostile bytes, and kept-alive connections.
 * After every hostile request the server must still answer.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "support/api.h"

#define ME "/api/users/me/"
#define REGISTER "/api/users/register/"
#define ONE_MIB 1048576

TestSuite(http, .init = api_server_start, .fini = api_server_stop);

static const char *const sign_up_body =
    "{\"username\":\"alice\",\"email\":\"alice@example.com\",\"password\":\"" API_PASSWORD "\"}";

static struct api_resp *post_bytes(const char *path, const char *content_type,
                                   const void *body, size_t len)
{
  return api_request("POST", path, NULL, content_type, body, len, NULL);
}

/* Whether id looks like one the server made: 32 hex digits. */
static bool is_generated_id(const char *id)
{
  if (!id || strlen(id) != 32)
    return false;
  for (const char *p = id; *p; p++)
    if (!isxdigit((unsigned char)*p))
      return false;
  return true;
}

/* The X-Request-Id answered to a GET of me sending header (or none). */
static const char *request_id_for(const char *header)
{
  const char *const headers[] = { header, NULL };
  struct api_resp *r = api_request("GET", ME, NULL, NULL, NULL, 0, header ? headers : NULL);
  expect_status(r, 401);
  return api_header(r, "X-Request-Id");
}

/* The body is {"non_field_errors": ["Invalid data. Expected a dictionary, ..."]}. */
static void expect_not_a_dictionary(struct api_resp *r)
{
  expect_status(r, 400);
  expect_keys(r, "non_field_errors", NULL);
  json_t *errors = json_object_get(r->json, "non_field_errors");
  expect_that(json_is_array(errors) && json_array_size(errors) == 1,
              "one non-field error: %s", r->body);
  const char *message = json_string_value(json_array_get(errors, 0));
  const char *prefix = "Invalid data. Expected a dictionary, but got ";
  expect_that(message && strncmp(message, prefix, strlen(prefix)) == 0,
              "not-a-dictionary message: %s", r->body);
}

/* ---- JSON answers ------------------------------------------------------- */

Test(http, answers_are_compact_utf8_json)
{
  struct api_resp *answers[] = {
    post_bytes(REGISTER, "application/json", sign_up_body, strlen(sign_up_body)),
    post_bytes(REGISTER, "application/json", "{}", 2),
    api_get(ME, NULL),
    api_get("/nope/", NULL),
    api_delete(REGISTER, NULL),
  };
  long statuses[] = { 201, 400, 401, 404, 405 };
  for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
    expect_status(answers[i], statuses[i]);
    expect_json_response(answers[i]);
    char *compact = json_dumps(answers[i]->json, JSON_COMPACT);
    api_keep(compact, free);
    expect_that(strcmp(compact, answers[i]->body) == 0,
                "not compact JSON: %s", answers[i]->body);
  }
}

Test(http, json_with_a_charset_is_accepted)
{
  struct api_resp *r = post_bytes(REGISTER, "application/json; charset=utf-8",
                                  sign_up_body, strlen(sign_up_body));
  expect_status(r, 201);
  expect_str(r, "username", "alice");
}

/* ---- request ids -------------------------------------------------------- */

Test(http, sane_request_ids_are_echoed)
{
  const char *sane[] = { "abc", "1", "req-42.retry_1:a", "A.b-C_d:E",
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
  for (size_t i = 0; i < sizeof sane / sizeof *sane; i++) {
    const char *echoed = request_id_for(api_printf("X-Request-Id: %s", sane[i]));
    expect_that(echoed && strcmp(echoed, sane[i]) == 0,
                "X-Request-Id %s came back as %s", sane[i], echoed ? echoed : "(none)");
  }
}

Test(http, request_ids_are_generated_when_absent)
{
  const char *first = request_id_for(NULL);
  const char *second = request_id_for(NULL);
  expect_that(is_generated_id(first), "generated id: %s", first ? first : "(none)");
  expect_that(is_generated_id(second), "generated id: %s", second ? second : "(none)");
  expect_that(strcmp(first, second) != 0, "two requests got the same id %s", first);

  struct api_resp *r = api_get("/nope/", NULL);
  expect_that(is_generated_id(api_header(r, "X-Request-Id")), "a 404 carries an id too");
  r = post_bytes(REGISTER, "application/json", sign_up_body, strlen(sign_up_body));
  expect_status(r, 201);
  expect_that(is_generated_id(api_header(r, "X-Request-Id")), "a 201 carries an id too");
}

Test(http, unsafe_request_ids_are_replaced)
{
  const char *unsafe[] = {
    "X-Request-Id: <script>alert(1)</script>",
    "X-Request-Id: a b",
    "X-Request-Id: a/b",
    "X-Request-Id: a\"b",
    "X-Request-Id: ${jndi:ldap://x}",
    "X-Request-Id: caf\xc3\xa9",
    "X-Request-Id: \xff\xfe",
    "X-Request-Id;", /* empty */
    api_printf("X-Request-Id: %s", api_repeat('a', 65)),
    api_printf("X-Request-Id: %s", api_repeat('b', 5000)),
  };
  for (size_t i = 0; i < sizeof unsafe / sizeof *unsafe; i++) {
    const char *echoed = request_id_for(unsafe[i]);
    expect_that(is_generated_id(echoed), "%.80s came back as %.80s", unsafe[i],
                echoed ? echoed : "(none)");
  }
}

/* ---- the router --------------------------------------------------------- */

Test(http, unknown_paths_are_404)
{
  const char *paths[] = { "/nope/", "/api/nope/", "/api/users/me/extra/",
                          "/api/users/1/2/", "/auth/token/extra/", "/api/users/abc/",
                          "/API/USERS/ME/", "/api/users//me/" };
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
    struct api_resp *r = api_get(paths[i], NULL);
    expect_status(r, 404);
    expect_json_response(r);
    expect_detail(r, "Not found.");
  }
  struct api_resp *r = api_post("/nope/", NULL, "{}");
  expect_status(r, 404);
  expect_detail(r, "Not found.");
}

Test(http, user_path_with_a_non_numeric_id_is_404_for_the_admin_too)
{
  struct api_user root = api_admin("root");
  struct api_resp *r = api_get("/api/users/abc/", root.access);
  expect_status(r, 404);
  expect_detail(r, "Not found.");

  r = api_get("/api/users/99999999999999999999999999/", root.access);
  expect_status(r, 404);
  expect_keys(r, "detail", NULL);
}

Test(http, paths_without_the_trailing_slash_answer_the_same)
{
  struct api_resp *r = post_bytes("/api/users/register", "application/json",
                                  sign_up_body, strlen(sign_up_body));
  expect_status(r, 201);
  expect_keys(r, USER_KEYS);

  r = api_post("/auth/token", NULL,
               api_json("{'username':'alice','password':'" API_PASSWORD "'}"));
  expect_status(r, 200);
  const char *access = json_string_value(json_object_get(r->json, "access"));

  struct api_resp *with = api_get(ME, access);
  struct api_resp *without = api_get("/api/users/me", access);
  expect_status(with, 200);
  expect_status(without, 200);
  cr_assert_str_eq(with->body, without->body);

  r = api_get("/api/users/me", NULL);
  expect_status(r, 401);
  expect_detail(r, "Authentication credentials were not provided.");
}

Test(http, other_methods_on_a_known_path_are_405_with_allow)
{
  struct api_user alice = api_signup("alice", NULL);

  struct api_resp *r = api_delete(ME, alice.access);
  expect_status(r, 405);
  expect_json_response(r);
  expect_detail(r, "Method \"DELETE\" not allowed.");
  expect_header_lists(r, "Allow", "GET", "PUT", "PATCH", "OPTIONS", NULL);
  expect_header_not_lists(r, "Allow", "DELETE");
  expect_header_not_lists(r, "Allow", "POST");

  r = api_post(ME, alice.access, "{}");
  expect_status(r, 405);
  expect_detail(r, "Method \"POST\" not allowed.");

  r = api_get(REGISTER, NULL);
  expect_status(r, 405);
  expect_detail(r, "Method \"GET\" not allowed.");
  expect_header_lists(r, "Allow", "POST", "OPTIONS", NULL);
  expect_header_not_lists(r, "Allow", "GET");

  r = api_get("/auth/token/", NULL);
  expect_status(r, 405);
  expect_detail(r, "Method \"GET\" not allowed.");
  expect_header_lists(r, "Allow", "POST", NULL);

  r = api_delete("/api/users/me", alice.access);
  expect_status(r, 405);
  expect_detail(r, "Method \"DELETE\" not allowed.");
}

Test(http, admin_paths_answer_405_with_their_methods)
{
  struct api_user root = api_admin("root");
  struct api_resp *r = api_put("/api/users/", root.access, "{}");
  expect_status(r, 405);
  expect_detail(r, "Method \"PUT\" not allowed.");
  expect_header_lists(r, "Allow", "GET", NULL);

  r = api_post(api_user_path(root.id), root.access, "{}");
  expect_status(r, 405);
  expect_detail(r, "Method \"POST\" not allowed.");
  expect_header_lists(r, "Allow", "GET", "PATCH", "DELETE", NULL);
}

Test(http, options_answers_the_allowed_methods)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_options(ME, alice.access);
  expect_status(r, 200);
  expect_header_lists(r, "Allow", "GET", "PUT", "PATCH", "OPTIONS", NULL);
  expect_header_not_lists(r, "Allow", "DELETE");

  r = api_options(REGISTER, NULL);
  expect_status(r, 200);
  expect_header_lists(r, "Allow", "POST", "OPTIONS", NULL);
}

/* ---- body limits -------------------------------------------------------- */

/* A sign-up body padded with spaces to exactly len bytes. */
static char *padded_sign_up(size_t len)
{
  char *body = api_repeat(' ', len);
  memcpy(body, sign_up_body, strlen(sign_up_body));
  return body;
}

Test(http, body_of_exactly_one_mib_is_read)
{
  struct api_resp *r = post_bytes(REGISTER, "application/json", padded_sign_up(ONE_MIB),
                                  ONE_MIB);
  expect_status(r, 201);
  expect_str(r, "username", "alice");
}

Test(http, body_over_one_mib_is_413)
{
  struct api_resp *r = post_bytes(REGISTER, "application/json", padded_sign_up(ONE_MIB + 1),
                                  ONE_MIB + 1);
  expect_status(r, 413);
  expect_json_response(r);
  expect_detail(r, "Request body is too large (the limit is 1048576 bytes).");
  expect_alive();
  /* Nothing was signed up: the name is still free. */
  expect_status(post_bytes(REGISTER, "application/json", sign_up_body,
                           strlen(sign_up_body)), 201);
}

Test(http, huge_body_is_413)
{
  size_t size = 8 * ONE_MIB;
  struct api_resp *r = post_bytes(REGISTER, "application/json", padded_sign_up(size), size);
  expect_status(r, 413);
  expect_keys(r, "detail", NULL);
  expect_alive();
}

Test(http, chunked_body_is_read)
{
  struct api_resp *r = api_request_chunked("POST", REGISTER, NULL, "application/json",
                                           sign_up_body, strlen(sign_up_body));
  expect_status(r, 201);
  expect_str(r, "username", "alice");
}

Test(http, chunked_body_over_one_mib_is_413)
{
  size_t size = 2 * ONE_MIB;
  struct api_resp *r = api_request_chunked("POST", REGISTER, NULL, "application/json",
                                           padded_sign_up(size), size);
  expect_status(r, 413);
  expect_keys(r, "detail", NULL);
  expect_alive();
  expect_status(post_bytes(REGISTER, "application/json", sign_up_body,
                           strlen(sign_up_body)), 201);
}

/* ---- malformed bodies --------------------------------------------------- */

Test(http, text_plain_is_415)
{
  struct api_resp *r = post_bytes(REGISTER, "text/plain", sign_up_body, strlen(sign_up_body));
  expect_status(r, 415);
  expect_json_response(r);
  expect_detail(r, "Unsupported media type \"text/plain\" in request.");
  expect_alive();
}

Test(http, malformed_json_is_400_parse_error)
{
  const char *bad[] = { "{", "{\"username\":}", "nul", "{'username':'alice'}",
                        "{} trailing", "\"unterminated", "{\"a\":1,}", "[1,2" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct api_resp *r = post_bytes(REGISTER, "application/json", bad[i], strlen(bad[i]));
    expect_status(r, 400);
    expect_json_response(r);
    expect_keys(r, "detail", NULL);
    expect_str_prefix(r, "detail", "JSON parse error - ");
  }
  expect_alive();
}

Test(http, a_list_is_not_a_dictionary)
{
  struct api_resp *r = post_bytes(REGISTER, "application/json", "[]", 2);
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['Invalid data. Expected a dictionary, but got list.']}");
}

Test(http, other_json_values_are_not_a_dictionary)
{
  const char *values[] = { "[{\"username\":\"alice\"}]", "\"text\"", "42", "null", "true",
                           "1.5" };
  for (size_t i = 0; i < sizeof values / sizeof *values; i++)
    expect_not_a_dictionary(post_bytes(REGISTER, "application/json", values[i],
                                       strlen(values[i])));
  expect_not_a_dictionary(api_post("/auth/token/", NULL, "[]"));
  expect_alive();
}

Test(http, deeply_nested_json_is_400)
{
  size_t depth = 100000;
  char *open = api_repeat('[', depth);
  expect_status(post_bytes(REGISTER, "application/json", open, depth), 400);

  char *balanced = api_repeat('[', 2 * depth);
  memset(balanced + depth, ']', depth);
  expect_status(post_bytes(REGISTER, "application/json", balanced, 2 * depth), 400);

  char *nested = api_repeat(' ', 5 * depth);
  for (size_t i = 0; i < depth; i++)
    memcpy(nested + 5 * i, "{\"a\":", 5);
  expect_status(post_bytes(REGISTER, "application/json", nested, 5 * depth), 400);
  expect_alive();
}

Test(http, invalid_utf8_is_400)
{
  const char *bad[] = {
    "{\"username\":\"\xff\xfe\",\"email\":\"x@example.com\",\"password\":\"" API_PASSWORD "\"}",
    "{\"username\":\"\xc0\xaf\",\"email\":\"x@example.com\",\"password\":\"" API_PASSWORD "\"}",
    "{\"username\":\"a\xed\xa0\x80\",\"email\":\"x@example.com\",\"password\":\"" API_PASSWORD "\"}",
    "{\"username\":\"\\ud800\",\"email\":\"x@example.com\",\"password\":\"" API_PASSWORD "\"}",
    "{\"\xff\":1}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct api_resp *r = post_bytes(REGISTER, "application/json", bad[i], strlen(bad[i]));
    expect_status(r, 400);
    expect_json_response(r);
  }
  expect_alive();
}

Test(http, nul_in_json_is_400)
{
  const char *escaped = "{\"username\":\"a\\u0000b\",\"email\":\"x@example.com\","
                        "\"password\":\"" API_PASSWORD "\"}";
  expect_status(post_bytes(REGISTER, "application/json", escaped, strlen(escaped)), 400);

  const char raw[] = "{\"username\":\"a\0b\",\"email\":\"x@example.com\","
                     "\"password\":\"" API_PASSWORD "\"}";
  expect_status(post_bytes(REGISTER, "application/json", raw, sizeof raw - 1), 400);

  const char after[] = "{}\0{}";
  expect_status(post_bytes("/auth/token/", "application/json", after, sizeof after - 1), 400);
  expect_alive();
}

Test(http, empty_json_body_is_an_empty_object)
{
  struct api_resp *r = post_bytes(REGISTER, "application/json", "", 0);
  expect_status(r, 400);
  expect_body(r, "{'username':['This field is required.'],"
                 "'email':['This field is required.'],"
                 "'password':['This field is required.']}");

  r = post_bytes("/auth/token/", "application/json", NULL, 0);
  expect_status(r, 400);
  expect_body(r, "{'username':['This field is required.'],'password':['This field is required.']}");
}

/* ---- form bodies (DRF's FormParser and MultiPartParser) ----------------- */

#define FORM "application/x-www-form-urlencoded"
#define BOUNDARY "xYzZY-eventapi-7d1"
#define MULTIPART "multipart/form-data; boundary=" BOUNDARY

static struct api_resp *post_form(const char *path, const char *form)
{
  return post_bytes(path, FORM, form, strlen(form));
}

/*
 * A multipart/form-data body of the parts given as (name, filename, value)
 * triples, filename NULL for a text field, ended by a NULL name.
 * Harness-owned.
 */
static const char *multipart(const char *name, ...)
{
  va_list ap;
  va_start(ap, name);
  const char *body = "";
  for (; name; name = va_arg(ap, const char *)) {
    const char *filename = va_arg(ap, const char *);
    const char *value = va_arg(ap, const char *);
    body = api_printf("%s--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"%s%s%s\r\n"
                      "%s\r\n%s\r\n", body, name, filename ? "; filename=\"" : "",
                      filename ? filename : "", filename ? "\"" : "",
                      filename ? "Content-Type: application/octet-stream\r\n" : "", value);
  }
  va_end(ap);
  return api_printf("%s--" BOUNDARY "--\r\n", body);
}

static struct api_resp *post_multipart(const char *path, const char *body)
{
  return post_bytes(path, MULTIPART, body, strlen(body));
}

Test(http, a_form_urlencoded_sign_up_is_read_as_drf_reads_it)
{
  /* Percent escapes (%40 is @), + for a space, an empty value. */
  struct api_resp *r = post_form(REGISTER, "username=ali%63e&email=alice%40example.com"
                                 "&password=" API_PASSWORD "&first_name=Alice+Liddell"
                                 "&last_name=&unknown=1");
  expect_status(r, 201);
  expect_json_response(r);
  expect_body(r, "{'id':1,'username':'alice','email':'alice@example.com',"
                 "'first_name':'Alice Liddell','last_name':'','role':'attendee'}");

  /* A charset parameter, escapes of multi-byte UTF-8, %2B for a plus, a
   * malformed escape kept as written, raw UTF-8, empty pairs. */
  const char *form = "username=bob&&email=bob%40example.com&password=" API_PASSWORD
                     "&first_name=%C3%89mile%2B1+%zz%&last_name=Müller&";
  r = post_bytes(REGISTER, FORM "; charset=UTF-8", form, strlen(form));
  expect_status(r, 201);
  expect_str(r, "first_name", "\xc3\x89mile+1 %zz%");
  expect_str(r, "last_name", "M\xc3\xbcller");
}

Test(http, a_repeated_form_field_keeps_its_last_value)
{
  struct api_resp *r = post_form(REGISTER, "username=bob&username=carol&email=carol%40example.com"
                                 "&password=x&password=" API_PASSWORD "&role=organizer");
  expect_status(r, 201);
  expect_str(r, "username", "carol");
  expect_str(r, "role", "organizer");
  expect_status(api_get(ME, api_login("carol", API_PASSWORD).access), 200);
}

/* DRF: in HTML form input a blank optional field that takes neither blank nor null is not given. */
Test(http, a_blank_optional_choice_in_a_form_is_not_given)
{
  struct api_resp *r = post_form(REGISTER, "username=dan&email=dan%40example.com&password="
                                 API_PASSWORD "&role=");
  expect_status(r, 201);
  expect_str(r, "role", "attendee");
  r = post_form(REGISTER, "username=eve&email=eve%40example.com&password=" API_PASSWORD "&role");
  expect_status(r, 201);
  expect_str(r, "role", "attendee");
  /* Required fields are not: blank is blank, as in JSON. */
  r = post_form(REGISTER, "username=&email=&password=");
  expect_status(r, 400);
  expect_body(r, "{'username':['This field may not be blank.'],"
                 "'email':['This field may not be blank.'],"
                 "'password':['This field may not be blank.']}");
  /* In JSON a blank choice is a choice. */
  r = api_post(REGISTER, NULL, api_json("{'username':'fay','email':'fay@example.com',"
                                        "'password':'" API_PASSWORD "','role':''}"));
  expect_status(r, 400);
  expect_body(r, "{'role':['\\\"\\\" is not a valid choice.']}");
}

Test(http, an_empty_form_is_an_empty_object)
{
  struct api_resp *r = post_form(REGISTER, "");
  expect_status(r, 400);
  expect_body(r, "{'username':['This field is required.'],"
                 "'email':['This field is required.'],"
                 "'password':['This field is required.']}");
  r = post_form(REGISTER, "&&");
  expect_status(r, 400);
  expect_keys(r, "username", "email", "password", NULL);
}

Test(http, a_form_that_is_not_utf8_is_400)
{
  const char *bad[] = {
    "username=%FF&email=x%40example.com&password=" API_PASSWORD,
    "username=\xff&email=x%40example.com&password=" API_PASSWORD,
    "user%C0%AFname=x&email=x%40example.com&password=" API_PASSWORD,
    "username=a%ED%A0%80&email=x%40example.com&password=" API_PASSWORD,
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct api_resp *r = post_form(REGISTER, bad[i]);
    expect_status(r, 400);
    expect_json_response(r);
    expect_detail(r, "Form parse error - A field name or value is not valid UTF-8.");
  }
  struct api_resp *r = post_form(REGISTER, "username=a%00b&email=x%40example.com&password="
                                 API_PASSWORD);
  expect_status(r, 400);
  expect_detail(r, "Form parse error - A field name or value holds a NUL character.");
  const char raw[] = "username=a\0b&email=x%40example.com";
  r = post_bytes(REGISTER, FORM, raw, sizeof raw - 1);
  expect_status(r, 400);
  expect_detail(r, "Form parse error - A field name or value holds a NUL character.");
  expect_alive();
  /* Nothing was signed up: the email is still free. */
  expect_status(post_form(REGISTER, "username=x&email=x%40example.com&password=" API_PASSWORD),
                201);
}

Test(http, a_form_of_more_than_1000_fields_is_400)
{
  /* Django's DATA_UPLOAD_MAX_NUMBER_FIELDS counts the pairs, empty ones too. */
  const char *fields = "email=gil%40example.com&password=" API_PASSWORD;
  for (int i = 0; i < 997; i++)
    fields = api_printf("%s&f%d=", fields, i); /* 999 pairs */
  struct api_resp *r = post_form(REGISTER, api_printf("%s&&username=gil", fields));
  expect_status(r, 400);
  expect_json_response(r);
  expect_detail(r, "Form parse error - Too many fields (the limit is 1000).");
  r = post_form(REGISTER, api_printf("%s&username=gil", fields));
  expect_status(r, 201);
}

Test(http, multipart_text_fields_are_read_and_files_ignored)
{
  const char *body = multipart("username", NULL, "hal", "email", NULL, "hal@example.com",
                               "password", NULL, API_PASSWORD,
                               "first_name", NULL, "Hal \xe2\x9c\x93",
                               "last_name", "notes.txt", "a file, not a field",
                               "role", NULL, "attendee", "role", NULL, "organizer", NULL);
  struct api_resp *r = post_multipart(REGISTER, body);
  expect_status(r, 201);
  expect_json_response(r);
  expect_str(r, "username", "hal");
  expect_str(r, "first_name", "Hal \xe2\x9c\x93");
  expect_str(r, "last_name", "");
  expect_str(r, "role", "organizer");
}

Test(http, malformed_multipart_is_400)
{
  const char *body = multipart("username", NULL, "ivy", NULL);
  struct api_resp *r = post_bytes(REGISTER, "multipart/form-data", body, strlen(body));
  expect_status(r, 400);
  expect_json_response(r);
  expect_detail(r, "Multipart form parse error - Invalid boundary in multipart: None");
  r = post_bytes(REGISTER, MULTIPART, body, strlen(body) - 4);
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "Multipart form parse error - ");
  body = multipart("username", NULL, "iv\xff", "email", NULL, "ivy@example.com",
                   "password", NULL, API_PASSWORD, NULL);
  r = post_multipart(REGISTER, body);
  expect_status(r, 400);
  expect_detail(r, "Multipart form parse error - A field name or value is not valid UTF-8.");
  /* A file that is not UTF-8 is ignored with the rest of the file. */
  body = multipart("username", NULL, "ivy", "email", NULL, "ivy@example.com",
                   "password", NULL, API_PASSWORD, "photo", "a.jpg", "\xff\xd8\xff", NULL);
  expect_status(post_multipart(REGISTER, body), 201);
  expect_alive();
}

Test(http, other_content_types_are_still_415)
{
  const char *types[] = { "application/xml", "multipart/mixed; boundary=x", "text/html",
                          "application/x-www-form-urlencodedx" };
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    struct api_resp *r = post_bytes(REGISTER, types[i], "username=a", 10);
    expect_status(r, 415);
    expect_json_response(r);
    expect_str_prefix(r, "detail", "Unsupported media type \"");
  }
}

/* ---- hostile bytes on the wire ------------------------------------------ */

Test(http, truncated_body_is_dropped_harmlessly)
{
  size_t len = strlen(sign_up_body);
  const char *request = api_printf("POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Content-Length: %zu\r\n\r\n%.*s",
                                   len, (int)(len - 10), sign_up_body);
  api_raw_abort(request, strlen(request));
  api_raw_abort(request, strlen(request) - len + 10); /* headers and a little */
  const char *headers_only = "POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len";
  api_raw_abort(headers_only, strlen(headers_only));

  expect_alive();
  /* The truncated sign-up did not happen. */
  expect_status(post_bytes(REGISTER, "application/json", sign_up_body, len), 201);
}

Test(http, a_raw_request_is_answered)
{
  /* The control for the hostile requests: the raw client reads answers. */
  const char *request = "GET " ME " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  struct api_resp *r = api_raw(request, strlen(request));
  expect_status(r, 401);
  expect_detail(r, "Authentication credentials were not provided.");
}

/* A raw request and the answer API.md (or DRF) gives it. */
struct raw_case {
  const char *request;
  long status;
  const char *body; /* single-quoted JSON */
};

static void expect_raw_cases(const struct raw_case *cases, size_t count)
{
  for (size_t i = 0; i < count; i++) {
    struct api_resp *r = api_raw(cases[i].request, strlen(cases[i].request));
    expect_that(r->status == cases[i].status, "request %zu: expected %ld, got %ld %s (%s)", i,
                cases[i].status, r->status, r->body, r->error);
    expect_header(r, "Content-Type", "application/json; charset=utf-8");
    expect_body(r, cases[i].body);
    expect_alive();
  }
}

#define HOST "Host: 127.0.0.1\r\n"
#define NOT_PROVIDED "{'detail':'Authentication credentials were not provided.'}"
#define MALFORMED "{'detail':'Malformed request.'}"
#define NOT_FOUND "{'detail':'Not found.'}"

Test(http, malformed_request_lines_get_their_answers)
{
  static const struct raw_case cases[] = {
    /* Without Host (HTTP/1.0 has none), links fall back to the server's own
     * address: served as any request. */
    {"GET " ME " HTTP/1.1\r\n\r\n", 401, NOT_PROVIDED},
    /* Any token is a method (RFC 9110): one this path does not serve. */
    {"G@T " ME " HTTP/1.1\r\n" HOST "\r\n", 405, "{'detail':'Method \\\"G@T\\\" not allowed.'}"},
    {"BREW " ME " HTTP/1.1\r\n" HOST "\r\n", 405, "{'detail':'Method \\\"BREW\\\" not allowed.'}"},
    {"GET /%00 HTTP/1.1\r\n" HOST "\r\n", 404, NOT_FOUND},
    /* /me reads no query: broken escapes there change nothing. */
    {"GET /api/users/me/?a=%zz&%ff=\xff HTTP/1.1\r\n" HOST "\r\n", 401, NOT_PROVIDED},
    {"GET /api/users/\x01/ HTTP/1.1\r\n" HOST "\r\n", 404, NOT_FOUND},
    {"GET /api/users/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n" HOST "\r\n", 404, NOT_FOUND},
  };
  expect_raw_cases(cases, sizeof cases / sizeof *cases);
}

Test(http, unparsable_request_lines_are_answered_400)
{
  /* libmicrohttpd cannot split these into method, path and version; API.md
   * promises an answer all the same, never a closed connection. */
  const char *garbage[] = { "GARBAGE\r\n\r\n", "\x01\x02\x03\x04\x05\r\n\r\n", "GET\r\n\r\n" };
  for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
    struct api_resp *r = api_raw(garbage[i], strlen(garbage[i]));
    expect_that(r->status == 400, "garbage request line %zu: %ld %s (%s)", i, r->status,
                r->body, r->error);
    expect_header(r, "Content-Type", "application/json; charset=utf-8");
    expect_header(r, "Connection", "close");
    expect_body(r, MALFORMED);
    expect_alive();
  }
}

Test(http, long_request_line_is_414)
{
  const char *request = api_printf("GET /%s HTTP/1.1\r\n" HOST "\r\n",
                                   api_repeat('a', 100000));
  struct api_resp *r = api_raw(request, strlen(request));
  expect_status(r, 414);
  expect_header(r, "Content-Type", "application/json; charset=utf-8");
  expect_body(r, "{'detail':'The request line or its headers are too large.'}");
  expect_alive();
}

/*
 * Everything the server writes for request until it closes (5 s at most),
 * NUL-terminated.
 */
static const char *raw_until_close(const char *request)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert(fd >= 0);
  struct sockaddr_in addr = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)api_server_port())};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
  cr_assert(send(fd, request, strlen(request), MSG_NOSIGNAL) == (ssize_t)strlen(request));
  struct timeval timeout = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char *out = api_strdup("");
  char chunk[4096];
  ssize_t n;
  while ((n = recv(fd, chunk, sizeof chunk - 1, 0)) > 0) {
    chunk[n] = '\0';
    out = api_printf("%s%s", out, chunk);
  }
  close(fd);
  return out;
}

/*
 * The framing libmicrohttpd refuses itself, with a Content-Length it cannot
 * read or hold. 0.9.75 writes the status line and headers of these answers
 * twice before the body (docs/design.md), so the answer is held to its
 * status, type and final body on the raw bytes, every head alike.
 */
static void expect_library_answer(const char *request, const char *status_line,
                                  const char *body)
{
  const char *all = raw_until_close(request);
  const char *head = api_printf("%s\r\n", status_line);
  expect_that(strncmp(all, head, strlen(head)) == 0, "expected %s: %s", status_line, all);
  const char *end = api_printf("\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
  size_t len = strlen(all);
  expect_that(len >= strlen(end) && strcmp(all + len - strlen(end), end) == 0,
              "expected the body %s at the end: %s", body, all);
  for (const char *at = all; (at = strstr(at, "HTTP/1.1 ")); at++)
    expect_that(strncmp(at, head, strlen(head)) == 0 &&
                strstr(at, "Content-Type: application/json; charset=utf-8\r\n") != NULL,
                "another head in: %s", all);
  expect_alive();
}

Test(http, hostile_framing_headers_get_their_answers)
{
  expect_library_answer("GET " ME " HTTP/1.1\r\n" HOST "Content-Length: abc\r\n\r\n",
                        "HTTP/1.1 400 Bad Request",
                        "{\"detail\":\"Malformed Content-Length header.\"}");
  expect_library_answer("GET " ME " HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n",
                        "HTTP/1.1 400 Bad Request",
                        "{\"detail\":\"Malformed Content-Length header.\"}");
  expect_library_answer("POST " REGISTER " HTTP/1.1\r\n" HOST
                        "Content-Type: application/json\r\n"
                        "Content-Length: 99999999999999999999999\r\n\r\n{}",
                        "HTTP/1.1 413 Content Too Large",
                        "{\"detail\":\"Request body is too large.\"}");
  static const struct raw_case cases[] = {
    {"POST " REGISTER " HTTP/1.1\r\n" HOST "Content-Type: application/json\r\n"
     "Content-Length: 7\r\nContent-Length: 2\r\n\r\n{}     ",
     400, "{'detail':'Multiple Content-Length headers.'}"},
    {"GET " ME " HTTP/1.1\r\n" HOST "NoColonHere\r\n\r\n", 400, MALFORMED},
    {"GET " ME " HTTP/1.1\r\n" HOST "Bad Name: v\r\n\r\n", 400, MALFORMED},
    /* RFC 9112 5.2: an obsolete folded line may be read as one. */
    {"GET " ME " HTTP/1.1\r\n" HOST "X-Folded: a\r\n b\r\n\r\n", 401, NOT_PROVIDED},
    {"POST " REGISTER " HTTP/1.1\r\n" HOST "Content-Type: application/json\r\n"
     "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
     400, "{'detail':'Malformed chunked request body.'}"},
  };
  expect_raw_cases(cases, sizeof cases / sizeof *cases);
}

#define TOKEN_NOT_VALID "{'detail':'Given token not valid for any token type'," \
    "'code':'token_not_valid','messages':[{'token_class':'AccessToken'," \
    "'token_type':'access','message':'Token is invalid or expired'}]}"

Test(http, hostile_header_values_get_their_answers)
{
  const char *host = api_repeat('h', 4000);
  const struct {
    const char *header;
    long status;
    const char *body;
  } cases[] = {
    {api_printf("Authorization: Bearer %s", api_repeat('a', 20000)), 401, TOKEN_NOT_VALID},
    {"Authorization: Bearer a.b.c", 401, TOKEN_NOT_VALID},
    {"Authorization: Bearer \x7f\x01\x02", 401, TOKEN_NOT_VALID},
    {"Authorization: Bearer ....", 401, TOKEN_NOT_VALID},
    {"Authorization: Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoxfQ.", 401, TOKEN_NOT_VALID},
    /* SimpleJWT takes "Bearer" only, as written, and splits on white space. */
    {"Authorization: bearer abc", 401, NOT_PROVIDED},
    {"Authorization: Bearer  abc", 401, TOKEN_NOT_VALID},
    /* curl's way to send the header with an empty value. */
    {"Authorization;", 401, NOT_PROVIDED},
    {"Authorization: \xff\xfe", 401, NOT_PROVIDED},
    {api_printf("Host: %s", host), 400,
     /* Django's text, the host shown clipped to 200 characters. */
     api_printf("{'detail':'Invalid HTTP_HOST header: \\u0027%s\\u0027. The domain name "
                "provided is not valid according to RFC 1034/1035.'}", api_repeat('h', 200))},
    {"Content-Type: application/json; charset=\xff", 401, NOT_PROVIDED},
    {api_printf("Accept: %s", api_repeat(',', 8000)), 401, NOT_PROVIDED},
    {"If-None-Match: \"\xff", 401, NOT_PROVIDED},
    {"Origin: null", 401, NOT_PROVIDED},
    {"X-Forwarded-For: ::1, 999.999.999.999, <script>", 401, NOT_PROVIDED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *const headers[] = { cases[i].header, NULL };
    struct api_resp *r = api_request("GET", ME, NULL, NULL, NULL, 0, headers);
    expect_that(r->status == cases[i].status, "header %zu: expected %ld, got %ld %.300s", i,
                cases[i].status, r->status, r->body);
    expect_json_response(r);
    expect_body(r, cases[i].body);
    if (cases[i].status == 401)
      expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
    expect_alive();
  }
}

Test(http, a_cookie_too_large_for_the_header_pool_is_431)
{
  /* libmicrohttpd copies a Cookie header into the connection's 32 KiB pool
   * beside the headers; one of 20 KB does not fit twice. Its 0.9.75 then
   * writes the status line twice, so only the status is held to here. */
  const char *request = api_printf("GET " ME " HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n",
                                   api_repeat('c', 20000));
  struct api_resp *r = api_raw(request, strlen(request));
  expect_status(r, 431);
  expect_alive();
}

Test(http, many_headers_are_431)
{
  const char *headers[201];
  for (int i = 0; i < 200; i++)
    headers[i] = api_printf("X-Filler-%d: %s", i, api_repeat('v', 100));
  headers[200] = NULL;
  struct api_resp *r = api_request("GET", ME, NULL, NULL, NULL, 0, headers);
  expect_status(r, 431);
  expect_json_response(r);
  expect_body(r, "{'detail':'The request line or its headers are too large.'}");
  expect_alive();
}

/* ---- connections -------------------------------------------------------- */

Test(http, connections_are_kept_alive)
{
  struct api_resp *first = api_get(ME, NULL);
  struct api_resp *second = api_get(ME, NULL);
  expect_status(first, 401);
  expect_status(second, 401);
  cr_assert_eq(first->num_connects, 1);
  cr_assert_eq(second->num_connects, 0, "the second request opened a new connection");
}

Test(http, connections_survive_error_answers)
{
  expect_status(api_get(ME, NULL), 401);
  struct api_resp *answers[] = {
    api_get("/nope/", NULL),
    api_delete(REGISTER, NULL),
    post_bytes(REGISTER, "application/json", "{", 1),
    post_bytes(REGISTER, "application/json", "{}", 2),
    post_bytes(REGISTER, "application/json", sign_up_body, strlen(sign_up_body)),
    api_get(ME, "garbage"),
  };
  long statuses[] = { 404, 405, 400, 400, 201, 401 };
  for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
    expect_status(answers[i], statuses[i]);
    cr_assert_eq(answers[i]->num_connects, 0, "%s %s closed the connection",
                 answers[i]->method, answers[i]->path);
  }
}

/* ---- framing the HTTP library refuses, answered in JSON ------------------ */

/* A raw answer: status, JSON Content-Type, and the exact body. */
static void expect_raw_json(struct api_resp *r, long status, const char *body)
{
  expect_status(r, status);
  expect_header(r, "Content-Type", "application/json; charset=utf-8");
  expect_body(r, body);
}

Test(http, an_unsupported_http_version_is_505_json)
{
  const char *request = "GET " ME " HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n";
  expect_raw_json(api_raw(request, strlen(request)), 505,
                  "{'detail':'HTTP version not supported.'}");
  expect_alive();
}

Test(http, bad_chunk_syntax_is_400_json)
{
  const char *request = "POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "zz\r\n{}\r\n0\r\n\r\n";
  expect_raw_json(api_raw(request, strlen(request)), 400,
                  "{'detail':'Malformed chunked request body.'}");
  expect_alive();
}

Test(http, a_chunk_size_past_64_bits_is_413_json)
{
  const char *request = "POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "fffffffffffffffff\r\n{}\r\n0\r\n\r\n";
  expect_raw_json(api_raw(request, strlen(request)), 413,
                  "{'detail':'Request body is too large.'}");
  expect_alive();
}

Test(http, oversized_headers_are_431_json)
{
  const char *request = api_printf("GET " ME " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n",
                                   api_repeat('a', 40000));
  expect_raw_json(api_raw(request, strlen(request)), 431,
                  "{'detail':'The request line or its headers are too large.'}");
  expect_alive();
}

/* A header of size bytes on GET /healthz: the answer's status. */
static long with_header_of(size_t size)
{
  const char *request = api_printf("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "X-Big: %s\r\n\r\n", api_repeat('a', size));
  return api_raw(request, strlen(request))->status;
}

Test(http, headers_of_12_kib_fit_the_default_connection_memory)
{
  cr_expect_eq(with_header_of(12 * 1024), 200);
}

static void start_with_small_connections(void)
{
  const char *env[] = {"CONNECTION_MEMORY_KB", "8", NULL};
  api_server_start_with(env);
}

/* CONNECTION_MEMORY_KB, for a node of many live streams: less memory each
 * connection, and smaller heads with it, refused as any head too large. */
Test(connection_memory, a_smaller_buffer_takes_smaller_heads, .init = start_with_small_connections,
     .fini = api_server_stop)
{
  cr_expect_eq(with_header_of(3 * 1024), 200);
  const char *request = api_printf("GET " ME " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n",
                                   api_repeat('a', 12 * 1024));
  expect_raw_json(api_raw(request, strlen(request)), 431,
                  "{'detail':'The request line or its headers are too large.'}");
  expect_alive();
}

Test(http, transfer_codings_other_than_chunked_are_501)
{
  const char *codings[] = {"identity", "gzip, chunked", "chunked, gzip", "gzip"};
  for (size_t i = 0; i < sizeof codings / sizeof *codings; i++) {
    const char *request = api_printf("POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     "Content-Type: application/json\r\n"
                                     "Transfer-Encoding: %s\r\n\r\n{}", codings[i]);
    expect_raw_json(api_raw(request, strlen(request)), 501,
                    api_jsonf("{'detail':'Transfer-Encoding \\\"%s\\\" is not supported.'}",
                              codings[i]));
  }
  expect_alive();
}

Test(http, two_content_lengths_are_400)
{
  /* A proxy in front may read the other one: request smuggling. */
  const char *request = "POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: 2\r\nContent-Length: 7\r\n\r\n{}     ";
  expect_raw_json(api_raw(request, strlen(request)), 400,
                  "{'detail':'Multiple Content-Length headers.'}");
  const char *both = "POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: 7\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
  expect_raw_json(api_raw(both, strlen(both)), 400,
                  "{'detail':'Both Transfer-Encoding and Content-Length headers.'}");
  expect_alive();
}

/* ---- the request target ---------------------------------------------------- */

Test(http, a_thousand_query_parameters_are_read_and_one_more_is_400)
{
  /* libmicrohttpd alone left ~470 of them unanswered. */
  char *query = api_strdup("a=b");
  for (int i = 1; i < 1000; i++)
    query = api_printf("%s&a=b", query);
  struct api_resp *r = api_get(api_printf("/api/events/?%s", query), NULL);
  expect_status(r, 200);
  r = api_get(api_printf("/api/events/?%s&a=b", query), NULL);
  expect_status(r, 400);
  expect_detail(r, "Too many query parameters (the limit is 1000).");
  expect_alive();
}

Test(http, a_nul_in_the_path_is_404_and_in_the_query_400)
{
  struct api_resp *r = api_get("/api/events/%00/", NULL);
  expect_status(r, 404);
  expect_detail(r, "Not found.");
  const char *queries[] = {"ordering=id%00;drop", "limit=5%00zz", "search%00=x"};
  for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
    r = api_get(api_printf("/api/events/?%s", queries[i]), NULL);
    expect_status(r, 400);
    expect_detail(r, "Query parameters must not contain NUL characters.");
  }
}

Test(http, a_repeated_query_parameter_takes_its_last_value)
{
  /* Django's QueryDict.get: the last one. */
  struct api_resp *r = api_get("/api/events/?limit=-1&limit=3", NULL);
  expect_status(r, 200);
  expect_int(r, "count", 0);
  r = api_get("/api/events/?limit=3&limit=-1", NULL);
  expect_status(r, 400);
}

/* ---- ALLOWED_HOSTS ----------------------------------------------------------- */

static struct api_resp *get_with_host(const char *path, const char *host)
{
  const char *const headers[] = { api_printf("Host: %s", host), NULL };
  return api_request("GET", path, NULL, NULL, NULL, 0, headers);
}

Test(http, a_host_not_allowed_is_400_as_django_says)
{
  struct api_resp *r = get_with_host("/api/events/", "evil.example:8000");
  expect_status(r, 400);
  expect_detail(r, "Invalid HTTP_HOST header: 'evil.example:8000'. You may need to add "
                   "'evil.example' to ALLOWED_HOSTS.");
  r = get_with_host("/api/events/", "bad/host");
  expect_status(r, 400);
  expect_detail(r, "Invalid HTTP_HOST header: 'bad/host'. The domain name provided is not "
                   "valid according to RFC 1034/1035.");
  /* The local names of the default. */
  expect_status(get_with_host("/api/events/", "localhost:8000"), 200);
  expect_status(get_with_host("/api/events/", "app.localhost"), 200);
  expect_status(get_with_host("/api/events/", "[::1]:8000"), 200);
}

Test(http, probes_and_scrapers_answer_any_host)
{
  expect_status(get_with_host("/healthz", "10.1.2.3:8000"), 200);
  expect_status(get_with_host("/metrics", "node-7.internal"), 200);
}

static void start_with_allowed_hosts(void)
{
  const char *env[] = {"ALLOWED_HOSTS", ".example.com", NULL};
  api_server_start_with(env);
}

Test(allowed_hosts, links_are_built_only_from_allowed_hosts, .init = start_with_allowed_hosts,
     .fini = api_server_stop)
{
  struct api_resp *r = get_with_host("/api/events/?limit=1&offset=1", "api.example.com");
  expect_status(r, 200);
  expect_str(r, "previous", "http://api.example.com/api/events/?limit=1");
  expect_status(get_with_host("/api/events/", "example.com"), 200);
  expect_status(get_with_host("/api/events/", "badexample.com"), 400);
  expect_status(get_with_host("/api/events/", "127.0.0.1"), 400);
}

/* ---- TRUSTED_PROXIES ----------------------------------------------------------- */

/* A failed login of username, forwarded for client (NULL: no header). */
static long failed_login(const char *username, const char *client)
{
  const char *const headers[] = { client ? api_printf("X-Forwarded-For: %s", client) : NULL,
                                  NULL };
  const char *body = api_jsonf("{'username':'%s','password':'wrong-password'}", username);
  return api_request("POST", "/auth/token/", NULL, "application/json", body, strlen(body),
                     headers)->status;
}

static void start_behind_a_proxy(void)
{
  const char *env[] = {"TRUSTED_PROXIES", "127.0.0.1", "LOGIN_MAX_FAILURES", "3", NULL};
  api_server_start_with(env);
}

Test(proxies, behind_a_trusted_proxy_the_forwarded_client_is_throttled,
     .init = start_behind_a_proxy, .fini = api_server_stop)
{
  for (int i = 0; i < 3; i++)
    cr_assert_eq(failed_login("ann", "203.0.113.7"), 401);
  cr_assert_eq(failed_login("ann", "203.0.113.7"), 429);
  /* Another client behind the same proxy is not. */
  cr_assert_eq(failed_login("ann", "203.0.113.8"), 401);
  /* A forged hop left of the proxy's own changes nothing. */
  cr_assert_eq(failed_login("ann", "198.51.100.1, 203.0.113.7"), 429);
}

static void start_without_proxies(void)
{
  const char *env[] = {"LOGIN_MAX_FAILURES", "3", NULL};
  api_server_start_with(env);
}

Test(proxies, without_trusted_proxies_the_header_is_ignored, .init = start_without_proxies,
     .fini = api_server_stop)
{
  for (int i = 0; i < 3; i++)
    cr_assert_eq(failed_login("ann", api_printf("203.0.113.%d", i)), 401);
  /* All came from 127.0.0.1, whatever they said. */
  cr_assert_eq(failed_login("ann", "203.0.113.99"), 429);
}

/* ---- conditional GET ----------------------------------------------------------- */

Test(http, a_304_carries_the_length_of_its_200)
{
  struct api_user olga = api_signup("olga", "organizer");
  expect_status(api_post("/api/events/create/", olga.access, api_json(
      "{'title':'Jazz Night','date_time':'{Y}-05-01T18:00:00Z','location':'Berlin',"
      "'capacity':10}")), 200);
  struct api_resp *full = api_get("/api/events/", NULL);
  expect_status(full, 200);
  const char *etag = api_header(full, "ETag");
  cr_assert_not_null(etag);
  const char *const headers[] = { api_printf("If-None-Match: %s", etag), NULL };
  struct api_resp *r = api_request("GET", "/api/events/", NULL, NULL, NULL, 0, headers);
  expect_status(r, 304);
  expect_header(r, "Content-Length", api_printf("%zu", full->len));
  cr_assert_eq(r->len, 0);
  expect_header(r, "ETag", etag);
}

/* ---- the access log ---------------------------------------------------------- */

/*
 * Sends one GET as user (with a request id of its own) while the server's
 * stderr goes to a file, and returns the log line that names the request.
 */
static const char *access_line_of(const char *path, const struct api_user *user,
                                  const char *request_id)
{
  const char *file = api_printf("%s/stderr.log", api_server_dir());
  int saved = dup(2);
  int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC | O_APPEND, 0600);
  cr_assert(saved >= 0 && fd >= 0);
  cr_assert(dup2(fd, 2) == 2);
  close(fd);
  const char *const headers[] = { api_printf("X-Request-Id: %s", request_id), NULL };
  struct api_resp *r = api_request("GET", path, user->access, NULL, NULL, 0, headers);
  expect_status(r, 200);
  /* The line is written once the answer is sent: wait for it. */
  const char *line = NULL;
  for (int tries = 0; tries < 3000 && line == NULL; tries++) {
    FILE *log = fopen(file, "r");
    char buf[8192];
    while (log && fgets(buf, sizeof buf, log))
      if (strstr(buf, request_id))
        line = api_strdup(buf);
    if (log)
      fclose(log);
    if (line == NULL) {
      struct timespec pause = {0, 10 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
  }
  dup2(saved, 2);
  close(saved);
  cr_assert_not_null(line, "no access line for %s", request_id);
  return line;
}

static void start_with_json_logs(void)
{
  const char *env[] = {"LOG_LEVEL", "info", "LOG_FORMAT", "json", NULL};
  api_server_start_with(env);
}

Test(access_log, json_lines_carry_query_client_and_user, .init = start_with_json_logs,
     .fini = api_server_stop)
{
  struct api_user ann = api_signup("ann", "attendee");
  const char *line = access_line_of("/api/events/?limit=2&search=a%20b", &ann, "rid-json-1");
  json_error_t error;
  json_t *record = api_keep_json(json_loads(line, 0, &error));
  cr_assert_not_null(record, "%s: %s", error.text, line);
  cr_assert_str_eq(json_string_value(json_object_get(record, "type")), "access");
  cr_assert_str_eq(json_string_value(json_object_get(record, "level")), "info");
  cr_assert_str_eq(json_string_value(json_object_get(record, "method")), "GET");
  cr_assert_str_eq(json_string_value(json_object_get(record, "path")), "/api/events/");
  cr_assert_str_eq(json_string_value(json_object_get(record, "query")), "limit=2&search=a%20b");
  cr_assert_eq(json_integer_value(json_object_get(record, "status")), 200);
  cr_assert_str_eq(json_string_value(json_object_get(record, "client")), "127.0.0.1");
  cr_assert_eq(json_integer_value(json_object_get(record, "user")), ann.id);
  cr_assert_str_eq(json_string_value(json_object_get(record, "request_id")), "rid-json-1");
  cr_assert(json_integer_value(json_object_get(record, "bytes")) > 0);
  cr_assert(json_is_integer(json_object_get(record, "duration_us")));
  cr_assert(json_is_string(json_object_get(record, "time")));
}

static void start_with_text_logs(void)
{
  const char *env[] = {"LOG_LEVEL", "info", NULL};
  api_server_start_with(env);
}

Test(access_log, text_lines_carry_query_client_and_user, .init = start_with_text_logs,
     .fini = api_server_stop)
{
  struct api_user ann = api_signup("ann", "attendee");
  const char *line = access_line_of("/api/events/?limit=2", &ann, "rid-text-1");
  cr_assert(strstr(line, " info 127.0.0.1 GET \"/api/events/?limit=2\" 200 "), "%s", line);
  cr_assert(strstr(line, api_printf(" user=%lld rid=rid-text-1", (long long)ann.id)), "%s", line);
}

/* ---- header bytes outside ASCII ------------------------------------------ */

/*
 * Header values are bytes, which Django reads as ISO-8859-1: a Content-Type
 * or Host with a byte above 0x7f gets its 4xx with the byte shown as that
 * character, never a 500. Found by fuzz/json_body.c and fuzz/hosts.c.
 */
Test(http, header_bytes_outside_ascii_are_read_as_latin1)
{
  struct api_resp *r = post_bytes(REGISTER, "text/\xa9", "{}", 2);
  expect_status(r, 415);
  expect_detail(r, "Unsupported media type \"text/\xc2\xa9\" in request.");
  r = get_with_host("/api/events/", "\xe9vil.example");
  expect_status(r, 400);
  expect_detail(r, "Invalid HTTP_HOST header: '\xc3\xa9vil.example'. The domain name provided "
                   "is not valid according to RFC 1034/1035.");
}

/*
 * The same for the request line's method and for Transfer-Encoding, whose
 * values the 405 and 501 answers show.
 */
Test(http, method_and_transfer_encoding_bytes_are_read_as_latin1)
{
  const char *request = "G\xe9T " ME " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  struct api_resp *r = api_raw(request, strlen(request));
  expect_status(r, 405);
  expect_detail(r, "Method \"G\xc3\xa9T\" not allowed.");
  request = "POST " REGISTER " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gz\xe9p\r\n"
            "Content-Type: application/json\r\n\r\n";
  r = api_raw(request, strlen(request));
  expect_status(r, 501);
  expect_detail(r, "Transfer-Encoding \"gz\xc3\xa9p\" is not supported.");
  expect_alive();
}
