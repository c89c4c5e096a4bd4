/*
 * schema.c - the OpenAPI document at /api/schema/ against the server it
 * describes: every route of the router's table is documented and every
 * documented operation is served; every operation has an operationId and
 * responses; every $ref resolves; the YAML form reads back as the same
 * document. (That every answer of the whole API suite matches the document
 * is checked by the test client itself: support/client.c.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/router.h"
#include "ops/schema.h"
#include "support/api.h"
#include "support/schema_check.h"

/* With DOCS_ASSETS_DIR, so the one route registered only on demand
 * (/static/docs/<str:name>/) is in the table too. */
static void start(void)
{
  api_server_start_with((const char *const[]){"DOCS_ASSETS_DIR", "/tmp", NULL});
}

TestSuite(schema, .init = start, .fini = api_server_stop);

#define SCHEMA "/api/schema/"

static const char *const methods[] = {"get", "post", "put", "patch", "delete", NULL};
static const unsigned method_bits[] = {HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE};

static json_t *
fetch_document(void)
{
  struct api_resp *r = api_get(SCHEMA, NULL);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "application/vnd.oai.openapi+json; charset=utf-8");
  expect_that(json_is_object(r->json), "the document is not a JSON object");
  return r->json;
}

/* "/api/events/<int:id>/" -> "/api/events/{id}/" (harness memory). */
static const char *
openapi_path(const char *pattern)
{
  char out[512];
  size_t n = 0;
  for (const char *p = pattern; *p && n + 2 < sizeof out;) {
    if (*p == '<') {
      const char *colon = strchr(p, ':'), *close = strchr(p, '>');
      if (colon && close && colon < close) {
        n += (size_t)snprintf(out + n, sizeof out - n, "{%.*s}", (int)(close - colon - 1), colon + 1);
        p = close + 1;
        continue;
      }
    }
    out[n++] = *p++;
  }
  if (n == 0 || out[n - 1] != '/')
    out[n++] = '/';
  out[n] = '\0';
  return api_strdup(out);
}

struct walk {
  const json_t *doc;
  json_t *served; /* {"get /path/": true, ...} */
  char missing[4096];
};

static void
on_route(const struct route *route, void *ctx)
{
  struct walk *w = ctx;
  const char *path = openapi_path(route->pattern);
  const json_t *item = json_object_get(json_object_get(w->doc, "paths"), path);
  for (int i = 0; methods[i]; i++) {
    if (!(route->method & method_bits[i]))
      continue;
    json_object_set_new(w->served, api_printf("%s %s", methods[i], path), json_true());
    if (json_object_get(item, methods[i]) == NULL) {
      size_t len = strlen(w->missing);
      snprintf(w->missing + len, sizeof w->missing - len, "\n  %s %s (route %s)",
               methods[i], path, route->pattern);
    }
  }
}

Test(schema, every_route_is_documented_and_every_operation_served)
{
  json_t *doc = fetch_document();
  struct walk w = { .doc = doc, .served = api_keep_json(json_object()) };
  router_each(on_route, &w);
  expect_that(json_object_size(w.served) > 40, "the router serves only %zu operations?",
              json_object_size(w.served));
  expect_that(w.missing[0] == '\0', "routes missing from the OpenAPI document:%s", w.missing);

  char extra[4096] = "";
  const char *path;
  json_t *item;
  json_object_foreach(json_object_get(doc, "paths"), path, item) {
    const char *key;
    json_t *op;
    json_object_foreach(item, key, op) {
      if (strcmp(key, "parameters") == 0 || strcmp(key, "summary") == 0 ||
          strcmp(key, "description") == 0)
        continue;
      const char *name = api_printf("%s %s", key, path);
      if (json_object_get(w.served, name))
        continue;
      size_t len = strlen(extra);
      snprintf(extra + len, sizeof extra - len, "\n  %s", name);
    }
  }
  expect_that(extra[0] == '\0', "documented operations the router does not serve:%s", extra);
}

Test(schema, every_operation_has_an_operation_id_and_responses)
{
  json_t *doc = fetch_document();
  json_t *ids = api_keep_json(json_object());
  const char *path;
  json_t *item;
  json_object_foreach(json_object_get(doc, "paths"), path, item) {
    for (int i = 0; methods[i]; i++) {
      json_t *op = json_object_get(item, methods[i]);
      if (op == NULL)
        continue;
      const char *id = json_string_value(json_object_get(op, "operationId"));
      expect_that(id && *id, "%s %s has no operationId", methods[i], path);
      expect_that(json_object_get(ids, id) == NULL, "operationId %s used twice", id);
      json_object_set_new(ids, id, json_true());
      json_t *responses = json_object_get(op, "responses");
      expect_that(json_is_object(responses) && json_object_size(responses) > 0,
                  "%s %s has no responses", methods[i], path);
      expect_that(json_is_array(json_object_get(op, "security")) ||
                  json_is_array(json_object_get(doc, "security")),
                  "%s %s says nothing of security", methods[i], path);
      /* Every {param} of the path is declared. */
      for (const char *open = strchr(path, '{'); open; open = strchr(open + 1, '{')) {
        const char *name = api_printf("%.*s", (int)(strchr(open, '}') - open - 1), open + 1);
        bool declared = false;
        json_t *lists[2] = { json_object_get(item, "parameters"), json_object_get(op, "parameters") };
        for (int l = 0; l < 2; l++) {
          size_t k;
          json_t *param;
          json_array_foreach(lists[l], k, param) {
            const char *pname = json_string_value(json_object_get(param, "name"));
            declared = declared || (pname && strcmp(pname, name) == 0);
          }
        }
        expect_that(declared, "%s %s: path parameter %s is not declared", methods[i], path, name);
      }
    }
  }
}

/* Every "$ref" in value resolves in doc; where says where we are. */
static void
expect_refs_resolve(const json_t *doc, const json_t *value, const char *where, int *count)
{
  if (json_is_object(value)) {
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)value, key, member) {
      if (strcmp(key, "$ref") == 0) {
        (*count)++;
        expect_that(json_is_string(member) &&
                    schema_check_resolve(doc, json_string_value(member)) != NULL,
                    "%s: $ref %s does not resolve", where, json_string_value(member));
      } else {
        expect_refs_resolve(doc, member, api_printf("%s/%s", where, key), count);
      }
    }
  } else if (json_is_array(value)) {
    size_t i;
    const json_t *item;
    json_array_foreach(value, i, item)
      expect_refs_resolve(doc, item, api_printf("%s/%zu", where, i), count);
  }
}

Test(schema, every_ref_resolves)
{
  json_t *doc = fetch_document();
  int count = 0;
  expect_refs_resolve(doc, doc, "#", &count);
  expect_that(count > 100, "only %d $refs?", count);
  expect_str(doc, "openapi", "3.1.0");
  json_t *scheme = json_object_get(json_object_get(json_object_get(doc, "components"),
                                                   "securitySchemes"), "jwtAuth");
  expect_str(scheme, "type", "http");
  expect_str(scheme, "scheme", "bearer");
  expect_str(scheme, "bearerFormat", "JWT");
}

/* The client checks every answer against the document joined in the test's
 * own process (tests/support/client.c): it must be the one served. */
Test(schema, answers_are_checked_against_the_served_document)
{
  struct api_resp *r = api_get(SCHEMA, NULL);
  expect_status(r, 200);
  size_t len = 0;
  const char *text = ops_schema_text(OPS_SCHEMA_JSON, &len);
  cr_assert(text != NULL && ops_schema_document() != NULL);
  expect_that(r->len == len && memcmp(r->body, text, len) == 0,
              "the served bytes are not the document's compact JSON");
  expect_that(json_equal(r->json, ops_schema_document()),
              "the served document is not the one answers are checked against");
}

Test(schema, yaml_is_the_same_document)
{
  json_t *doc = fetch_document();
  struct api_resp *r = api_get(SCHEMA "?format=yaml", NULL);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "application/vnd.oai.openapi; charset=utf-8");
  expect_that(strncmp(r->body, "openapi: \"3.1.0\"\n", 17) == 0, "YAML starts: %.40s", r->body);
  if (system("/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1") != 0) {
    /* CI installs it: there, its absence is a failure, never a skip. */
    cr_assert(getenv("CI") == NULL, "python3-yaml is missing although CI installs it");
    cr_skip("python3-yaml is not installed (scripts/install-deps --test installs it): "
            "the YAML is not parsed back");
  }
  const char *path = api_printf("%s/openapi.yaml", api_server_dir());
  FILE *f = fopen(path, "w");
  cr_assert(f != NULL);
  fwrite(r->body, 1, r->len, f);
  fclose(f);
  FILE *p = popen(api_printf("/usr/bin/python3 -c 'import sys, json, yaml; "
                             "json.dump(yaml.safe_load(open(sys.argv[1], encoding=\"utf-8\")), sys.stdout)' %s",
                             path), "r");
  cr_assert(p != NULL);
  json_error_t error;
  json_t *parsed = json_loadf(p, 0, &error);
  int status = pclose(p);
  cr_assert_eq(status, 0, "PyYAML could not read the YAML");
  expect_that(parsed != NULL && json_equal(parsed, doc), "the YAML reads back as another document");
  json_decref(parsed);
}

Test(schema, any_caller_may_read_it_and_an_unknown_format_is_404)
{
  struct api_user alice = api_signup("alice", NULL);
  expect_status(api_get(SCHEMA, alice.access), 200);
  expect_status(api_get("/api/schema", NULL), 200);
  expect_status(api_get(SCHEMA "?format=json", NULL), 200);
  struct api_resp *r = api_get(SCHEMA "?format=xml", NULL);
  expect_status(r, 404);
  expect_detail(r, "Not found.");
  /* As everywhere, a bad token is 401 (DRF checks it on public views too). */
  expect_status(api_get(SCHEMA, "not-a-token"), 401);
  expect_status(api_request("HEAD", SCHEMA, NULL, NULL, NULL, 0, NULL), 200);
  r = api_post(SCHEMA, NULL, "{}");
  expect_status(r, 405);
}

/* The client's own checker: it must catch what it is there to catch. */
Test(schema, the_response_checker_catches_mismatches)
{
  json_t *doc = fetch_document();
  char err[2048];
  struct { const char *path, *template; } maps[] = {
    {"/api/events/create/", "/api/events/create/"},
    {"/api/events/5/", "/api/events/{id}/"},
    {"/api/events/5", "/api/events/{id}/"},
    {"/api/events/?limit=2&offset=2", "/api/events/"},
    {"/api/events/calendar.ics", "/api/events/calendar.ics/"},
    {"/api/registrations/me/", "/api/registrations/me/"},
    {"/api/registrations/12/", "/api/registrations/{id}/"},
    {"/media/0123456789abcdef0123456789abcdef.png", "/media/{name}/"},
    {"/api/tickets/9b2f0c7e-3d1a-4c55-8e0f-2a7d8c1b5e64/qr.svg", "/api/tickets/{code}/qr.svg/"},
  };
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
    const char *t = schema_check_template(doc, maps[i].path);
    expect_that(t && strcmp(t, maps[i].template) == 0, "%s maps to %s, not %s", maps[i].path,
                t ? t : "(none)", maps[i].template);
  }
  expect_that(schema_check_template(doc, "/api/users/abc/") == NULL, "a non-integer id matched");

  const char *json_type = "application/json; charset=utf-8";
  json_t *user = api_keep_json(json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "id", 1, "username", "a",
                                         "email", "a@example.com", "first_name", "", "last_name", "",
                                         "role", "attendee"));
  expect_that(schema_check_response(doc, "GET", "/api/users/me/", 200, json_type, user, 10, err, sizeof err),
              "a right answer is refused: %s", err);
  json_object_set_new(user, "role", json_string("boss"));
  expect_that(!schema_check_response(doc, "GET", "/api/users/me/", 200, json_type, user, 10, err, sizeof err),
              "a bad enum value passed");
  json_object_set_new(user, "role", json_string("admin"));
  json_object_set_new(user, "password", json_string("x"));
  expect_that(!schema_check_response(doc, "GET", "/api/users/me/", 200, json_type, user, 10, err, sizeof err),
              "an undocumented member passed");
  json_object_del(user, "password");
  json_object_del(user, "email");
  expect_that(!schema_check_response(doc, "GET", "/api/users/me/", 200, json_type, user, 10, err, sizeof err),
              "a missing member passed");
  expect_that(!schema_check_response(doc, "GET", "/api/users/me/", 418, json_type, user, 10, err, sizeof err),
              "an undocumented status passed");
  json_t *detail = api_keep_json(json_pack("{s:s}", "detail", "Method \"PUT\" not allowed."));
  expect_that(schema_check_response(doc, "PUT", "/api/users/", 405, json_type, detail, 10, err, sizeof err),
              "a 405 on an unserved method is refused: %s", err);
  expect_that(!schema_check_response(doc, "PUT", "/api/users/", 200, json_type, detail, 10, err, sizeof err),
              "a 200 on an unserved method passed");
  json_t *errors = api_keep_json(json_loads("{\"sessions\":[{},{\"title\":[\"This field is required.\"]}],"
                                            "\"ticket_types\":{\"non_field_errors\":[\"x\"]}}", 0, NULL));
  expect_that(schema_check_response(doc, "POST", "/api/events/create/", 400, json_type, errors, 10, err, sizeof err),
              "nested validation errors are refused: %s", err);
  json_t *bad_errors = api_keep_json(json_loads("{\"title\":\"This field is required.\"}", 0, NULL));
  expect_that(!schema_check_response(doc, "POST", "/api/events/create/", 400, json_type, bad_errors, 10, err, sizeof err),
              "a field error that is not a list passed");
  expect_that(!schema_check_response(doc, "DELETE", "/api/users/3/", 204, json_type, NULL, 5, err, sizeof err),
              "a body on a 204 passed");
  expect_that(!schema_check_response(doc, "GET", "/api/users/me/", 200, "text/html", NULL, 5, err, sizeof err),
              "an undocumented content type passed");
}
