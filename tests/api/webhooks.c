/*
 * webhooks.c - the webhooks API (docs/api.md, "Webhooks"): endpoints made,
 * listed, changed and deleted by organizers and admins; the secret shown
 * once, and never again; who may see and hook into which events; the URL
 * rule at creation (https:// only unless WEBHOOK_ALLOW_HTTP, and no
 * internal address however it is written, unless WEBHOOK_ALLOWED_NETWORKS
 * allows it).
 *
 * The server runs with WEBHOOK_ALLOW_HTTP=true and WEBHOOK_ALLOWED_NETWORKS
 * 127.0.0.0/8, so that webhooks may go to a receiver on loopback, and
 * without its worker thread (the tests deliver the outbox themselves).
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"

#define WEBHOOKS "/api/webhooks/"
#define WEBHOOK_KEYS "id", "owner", "url", "events", "event", "description", "is_active", \
    "created_at", "updated_at", "failing_since", "disabled_at"
#define NO_WEBHOOK "No Webhook matches the given query."
#define HOOK_URL "http://127.0.0.1:9/hook"

static void start(void)
{
  const char *env[] = {"WEBHOOK_ALLOW_HTTP", "true", "WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8",
                       "WORKER", "off", NULL};
  api_server_start_with(env);
}

/* The defaults: https:// only, no internal network allowed. */
static void start_strict(void)
{
  const char *env[] = {"WORKER", "off", NULL};
  api_server_start_with(env);
}

/* http:// allowed, but no internal network. */
static void start_http_only(void)
{
  const char *env[] = {"WEBHOOK_ALLOW_HTTP", "true", "WORKER", "off", NULL};
  api_server_start_with(env);
}

TestSuite(webhooks, .init = start, .fini = api_server_stop);

/* ---- helpers -------------------------------------------------------------- */

static const char *webhook_path(long long id) { return api_printf(WEBHOOKS "%lld/", id); }

/* Creates a webhook of token's from body (single-quoted JSON), asserting 201. */
static struct api_resp *create(const char *token, const char *body)
{
  struct api_resp *r = api_post(WEBHOOKS, token, api_json(body));
  expect_status(r, 201);
  return r;
}

/* A webhook of token's to HOOK_URL for events (a single-quoted JSON list). */
static long long hook(const char *token, const char *events)
{
  return api_id(create(token, api_printf("{'url':'" HOOK_URL "','events':%s}", events)));
}

/* The secret's form: whsec_ and the standard base64 of 24 bytes. */
static void expect_secret(const char *secret)
{
  expect_that(secret != NULL && strncmp(secret, "whsec_", 6) == 0, "secret %s",
              secret ? secret : "(none)");
  unsigned char key[64];
  size_t len = 0;
  expect_that(sodium_base642bin(key, sizeof key, secret + 6, strlen(secret + 6), NULL, &len,
                                NULL, sodium_base64_VARIANT_ORIGINAL) == 0,
              "not base64: %s", secret);
  expect_that(len == 24, "%zu bytes, not 24: %s", len, secret);
}

/* ---- creation --------------------------------------------------------------- */

Test(webhooks, an_organizer_creates_one_and_sees_its_secret_once)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *r = create(org.access,
      "{'url':'" HOOK_URL "','events':['event.updated','registration.created'],"
      "'description':'CRM sync'}");
  expect_keys(r, WEBHOOK_KEYS, "secret", NULL);
  expect_int(r, "owner", org.id);
  expect_str(r, "url", HOOK_URL);
  expect_null(r, "event");
  expect_str(r, "description", "CRM sync");
  expect_bool(r, "is_active", true);
  expect_null(r, "failing_since");
  expect_null(r, "disabled_at");
  /* In the API's order of types, whatever order they came in. */
  expect_that(json_equal(json_object_get(r->json, "events"),
                         api_keep_json(json_loads("[\"registration.created\",\"event.updated\"]",
                                                  0, NULL))),
              "events: %s", api_dump(json_object_get(r->json, "events")));
  const char *secret = json_string_value(json_object_get(r->json, "secret"));
  expect_secret(secret);
  long long id = api_id(r);

  /* Never again: not in the detail, the list, a change. */
  struct api_resp *detail = api_get(webhook_path(id), org.access);
  expect_status(detail, 200);
  expect_keys(detail, WEBHOOK_KEYS, NULL);
  struct api_resp *list = api_get(WEBHOOKS, org.access);
  expect_status(list, 200);
  expect_that(json_array_size(list->json) == 1, "%s", list->body);
  expect_keys(json_array_get(list->json, 0), WEBHOOK_KEYS, NULL);
  struct api_resp *changed = api_patch(webhook_path(id), org.access, "{\"description\":\"x\"}");
  expect_status(changed, 200);
  expect_keys(changed, WEBHOOK_KEYS, NULL);
  struct api_resp *all[] = {detail, list, changed};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    expect_that(strstr(all[i]->body, secret + 6) == NULL, "the secret shows: %s", all[i]->body);
}

Test(webhooks, each_webhook_has_a_secret_of_its_own)
{
  struct api_user org = api_signup("org", "organizer");
  const char *body = "{'url':'" HOOK_URL "','events':['ping']}";
  const char *a = json_string_value(json_object_get(create(org.access, body)->json, "secret"));
  const char *b = json_string_value(json_object_get(create(org.access, body)->json, "secret"));
  expect_secret(a);
  expect_secret(b);
  expect_that(strcmp(a, b) != 0, "the same secret twice: %s", a);
}

Test(webhooks, every_event_type_may_be_asked_for)
{
  struct api_user org = api_signup("org", "organizer");
  const char *types = "['registration.created','registration.waitlisted',"
                      "'registration.promoted','registration.cancelled','ticket.checked_in',"
                      "'event.created','event.updated','event.deleted','ping']";
  struct api_resp *r = create(org.access, api_printf("{'url':'" HOOK_URL "','events':%s}",
                                                     types));
  expect_that(json_equal(json_object_get(r->json, "events"),
                         api_keep_json(json_loads(api_json(types), 0, NULL))),
              "events: %s", r->body);
}

Test(webhooks, an_organizer_may_hook_into_one_of_their_events)
{
  struct api_user org = api_signup("org", "organizer");
  long long event = api_create_event(org.access, NULL).id;
  struct api_resp *r = create(org.access, api_printf(
      "{'url':'" HOOK_URL "','events':['event.updated'],'event':%lld}", event));
  expect_int(r, "event", event);
}

Test(webhooks, nobody_hooks_into_another_organizers_events)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user other = api_signup("other", "organizer");
  long long public_event = api_create_event(other.access, NULL).id;
  long long private_event = api_create_event(other.access, "{'visibility':'private'}").id;
  long long ids[] = {public_event, private_event, 999999};
  for (size_t i = 0; i < 3; i++) {
    struct api_resp *r = api_post(WEBHOOKS, org.access, api_jsonf(
        "{\"url\":\"" HOOK_URL "\",\"events\":[\"event.updated\"],\"event\":%lld}", ids[i]));
    expect_status(r, 400);
    /* The same answer whether it exists or not. */
    expect_field_errors(r, "event", api_printf("Invalid pk \"%lld\" - object does not exist.",
                                               ids[i]), NULL);
  }
  expect_that(json_array_size(api_get(WEBHOOKS, org.access)->json) == 0, "none was made");
}

Test(webhooks, an_admin_may_hook_into_any_event)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user admin = api_admin("boss");
  long long event = api_create_event(org.access, "{'visibility':'private'}").id;
  struct api_resp *r = create(admin.access, api_printf(
      "{'url':'" HOOK_URL "','events':['registration.created'],'event':%lld}", event));
  expect_int(r, "event", event);
  expect_int(r, "owner", admin.id);
}

Test(webhooks, what_a_body_must_hold)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *r = api_post(WEBHOOKS, org.access, "{}");
  expect_status(r, 400);
  expect_field_errors(r, "url", REQUIRED, NULL);
  expect_field_errors(r, "events", REQUIRED, NULL);

  r = api_post(WEBHOOKS, org.access, api_json("{'url':'" HOOK_URL "','events':[]}"));
  expect_status(r, 400);
  expect_field_errors(r, "events", "This selection may not be empty.", NULL);

  r = api_post(WEBHOOKS, org.access,
               api_json("{'url':'" HOOK_URL "','events':['event.updated','event.exploded',7]}"));
  expect_status(r, 400);
  expect_field_errors(r, "events", "\"event.exploded\" is not a valid choice.",
                      "\"7\" is not a valid choice.", NULL);

  r = api_post(WEBHOOKS, org.access, api_json("{'url':'" HOOK_URL "','events':'ping'}"));
  expect_status(r, 400);
  expect_field_errors(r, "events", "Expected a list of items but got type \"str\".", NULL);

  r = api_post(WEBHOOKS, org.access, api_json("{'url':'" HOOK_URL "','events':null}"));
  expect_status(r, 400);
  expect_field_errors(r, "events", "This field may not be null.", NULL);

  r = api_post(WEBHOOKS, org.access, api_jsonf("{\"url\":\"" HOOK_URL "\",\"events\":[\"ping\"],"
                                               "\"description\":\"%s\"}", api_repeat('d', 256)));
  expect_status(r, 400);
  expect_field_errors(r, "description", "Ensure this field has no more than 255 characters.",
                      NULL);

  r = api_post(WEBHOOKS, org.access, api_json("{'url':'not a url','events':['ping']}"));
  expect_status(r, 400);
  expect_that(json_array_size(json_object_get(r->json, "url")) == 1, "%s", r->body);

  r = api_post(WEBHOOKS, org.access, api_json("{'url':'" HOOK_URL "','events':['ping'],"
                                              "'is_active':'maybe'}"));
  expect_status(r, 400);
  expect_field_errors(r, "is_active", "Must be a valid boolean.", NULL);
}

Test(webhooks, a_webhook_may_be_made_inactive)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *r = create(org.access, "{'url':'" HOOK_URL "','events':['ping'],"
                                          "'is_active':false}");
  expect_bool(r, "is_active", false);
}

/* ---- who may do what --------------------------------------------------------- */

Test(webhooks, attendees_and_strangers_are_refused)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user attendee = api_signup("alice", NULL);
  long long id = hook(org.access, "['ping']");
  const char *body = api_json("{'url':'" HOOK_URL "','events':['ping']}");
  struct api_resp *answers[] = {
    api_get(WEBHOOKS, attendee.access),
    api_post(WEBHOOKS, attendee.access, body),
    api_get(webhook_path(id), attendee.access),
    api_patch(webhook_path(id), attendee.access, "{}"),
    api_delete(webhook_path(id), attendee.access),
    api_post(api_printf(WEBHOOKS "%lld/rotate-secret/", id), attendee.access, NULL),
  };
  for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
    expect_status(answers[i], 403);
    expect_detail(answers[i], NO_PERMISSION);
  }
  struct api_resp *anonymous[] = {
    api_get(WEBHOOKS, NULL),
    api_post(WEBHOOKS, NULL, body),
    api_get(webhook_path(id), NULL),
    api_delete(webhook_path(id), NULL),
  };
  for (size_t i = 0; i < sizeof anonymous / sizeof *anonymous; i++) {
    expect_status(anonymous[i], 401);
    expect_detail(anonymous[i], NO_CREDENTIALS);
  }
  expect_status(api_get(webhook_path(id), org.access), 200);
}

Test(webhooks, an_organizer_cannot_see_or_touch_anothers_webhooks)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user other = api_signup("other", "organizer");
  long long id = hook(org.access, "['ping']");
  hook(other.access, "['ping']");

  struct api_resp *list = api_get(WEBHOOKS, other.access);
  expect_status(list, 200);
  expect_that(json_array_size(list->json) == 1, "%s", list->body);
  expect_int(json_array_get(list->json, 0), "owner", other.id);

  struct api_resp *answers[] = {
    api_get(webhook_path(id), other.access),
    api_patch(webhook_path(id), other.access, "{\"is_active\":false}"),
    api_delete(webhook_path(id), other.access),
    api_post(api_printf(WEBHOOKS "%lld/rotate-secret/", id), other.access, NULL),
    api_get(webhook_path(999999), org.access),
  };
  for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
    expect_status(answers[i], 404);
    expect_detail(answers[i], NO_WEBHOOK);
  }
  struct api_resp *r = api_get(webhook_path(id), org.access);
  expect_status(r, 200);
  expect_bool(r, "is_active", true);
}

Test(webhooks, an_admin_sees_and_changes_every_webhook)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user admin = api_admin("boss");
  long long id = hook(org.access, "['ping']");
  hook(admin.access, "['ping']");
  struct api_resp *list = api_get(WEBHOOKS, admin.access);
  expect_that(json_array_size(list->json) == 2, "%s", list->body);
  expect_status(api_get(webhook_path(id), admin.access), 200);
  struct api_resp *r = api_patch(webhook_path(id), admin.access, "{\"is_active\":false}");
  expect_status(r, 200);
  expect_bool(r, "is_active", false);
  expect_int(r, "owner", org.id);
  expect_status(api_delete(webhook_path(id), admin.access), 204);
  expect_status(api_get(webhook_path(id), org.access), 404);
}

/* ---- changes --------------------------------------------------------------------- */

Test(webhooks, patch_changes_what_it_is_given)
{
  struct api_user org = api_signup("org", "organizer");
  long long event = api_create_event(org.access, NULL).id;
  struct api_resp *made = create(org.access, api_printf(
      "{'url':'" HOOK_URL "','events':['ping'],'event':%lld,'description':'a'}", event));
  long long id = api_id(made);
  api_clock_advance(5);
  struct api_resp *r = api_patch(webhook_path(id), org.access, api_json(
      "{'url':'http://127.0.0.2:9/other','events':['event.deleted','event.created'],"
      "'description':'b','is_active':false,'event':null,'owner':12345,'secret':'whsec_x'}"));
  expect_status(r, 200);
  expect_str(r, "url", "http://127.0.0.2:9/other");
  expect_that(json_equal(json_object_get(r->json, "events"),
                         api_keep_json(json_loads("[\"event.created\",\"event.deleted\"]", 0,
                                                  NULL))),
              "%s", r->body);
  expect_str(r, "description", "b");
  expect_bool(r, "is_active", false);
  /* Read-only: kept as created. */
  expect_int(r, "event", event);
  expect_int(r, "owner", org.id);
  expect_that(strcmp(json_string_value(json_object_get(r->json, "updated_at")),
                     json_string_value(json_object_get(made->json, "updated_at"))) != 0,
              "updated_at moved: %s", r->body);

  /* A partial change keeps the rest. */
  r = api_patch(webhook_path(id), org.access, "{\"description\":\"c\"}");
  expect_status(r, 200);
  expect_str(r, "url", "http://127.0.0.2:9/other");
  expect_bool(r, "is_active", false);

  r = api_patch(webhook_path(id), org.access, api_json("{'events':[],'url':'ftp://x/'}"));
  expect_status(r, 400);
  expect_field_errors(r, "events", "This selection may not be empty.", NULL);
  expect_that(json_array_size(json_object_get(r->json, "url")) == 1, "%s", r->body);

  r = api_put(webhook_path(id), org.access, "{}");
  expect_status(r, 405);
}

Test(webhooks, delete_removes_it)
{
  struct api_user org = api_signup("org", "organizer");
  long long id = hook(org.access, "['ping']");
  struct api_resp *r = api_delete(webhook_path(id), org.access);
  expect_status(r, 204);
  expect_empty_body(r);
  expect_status(api_get(webhook_path(id), org.access), 404);
  expect_status(api_delete(webhook_path(id), org.access), 404);
}

Test(webhooks, rotate_secret_shows_the_new_secret_once)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_resp *made = create(org.access, "{'url':'" HOOK_URL "','events':['ping']}");
  const char *old = json_string_value(json_object_get(made->json, "secret"));
  long long id = api_id(made);
  struct api_resp *r = api_post(api_printf(WEBHOOKS "%lld/rotate-secret/", id), org.access, NULL);
  expect_status(r, 200);
  expect_keys(r, WEBHOOK_KEYS, "secret", NULL);
  const char *fresh = json_string_value(json_object_get(r->json, "secret"));
  expect_secret(fresh);
  expect_that(strcmp(old, fresh) != 0, "the same secret: %s", fresh);
  struct api_resp *detail = api_get(webhook_path(id), org.access);
  expect_keys(detail, WEBHOOK_KEYS, NULL);
  expect_that(strstr(detail->body, fresh + 6) == NULL, "%s", detail->body);
}

Test(webhooks, the_list_paginates_as_the_event_list)
{
  struct api_user org = api_signup("org", "organizer");
  long long ids[3];
  for (int i = 0; i < 3; i++)
    ids[i] = hook(org.access, "['ping']");
  struct api_resp *r = api_get(WEBHOOKS, org.access);
  expect_status(r, 200);
  expect_header(r, "X-Total-Count", "3");
  expect_that(json_array_size(r->json) == 3, "%s", r->body);
  for (int i = 0; i < 3; i++)
    expect_int(json_array_get(r->json, (size_t)i), "id", ids[i]); /* oldest first */
  r = api_get(WEBHOOKS "?limit=2", org.access);
  expect_status(r, 200);
  expect_int(r, "count", 3);
  expect_str(r, "next", api_url(WEBHOOKS "?limit=2&offset=2"));
  expect_null(r, "previous");
  expect_that(json_array_size(json_object_get(r->json, "results")) == 2, "%s", r->body);
  r = api_get(WEBHOOKS "?limit=2&offset=2", org.access);
  expect_int(json_array_get(json_object_get(r->json, "results"), 0), "id", ids[2]);
  r = api_get(WEBHOOKS "?limit=0", org.access);
  expect_status(r, 400);
}

Test(webhooks, the_users_webhooks_go_with_the_user)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user admin = api_admin("boss");
  long long id = hook(org.access, "['ping']");
  expect_status(api_delete(api_user_path(org.id), admin.access), 204);
  expect_status(api_get(webhook_path(id), admin.access), 404);
}

/* ---- where a webhook may go -------------------------------------------------------- */

/* The URLs the rule refuses, each answered 400 with one reason about url. */
static void expect_refused(const char *token, const char *url, const char *says)
{
  struct api_resp *r = api_post(WEBHOOKS, token, api_jsonf(
      "{\"url\":\"%s\",\"events\":[\"ping\"]}", url));
  expect_status(r, 400);
  json_t *errors = json_object_get(r->json, "url");
  const char *message = json_string_value(json_array_get(errors, 0));
  expect_that(json_array_size(errors) == 1 && message && strstr(message, says),
              "%s: expected a reason with \"%s\": %s", url, says, r->body);
}

Test(webhook_urls, only_https_by_default, .init = start_strict, .fini = api_server_stop)
{
  struct api_user org = api_signup("org", "organizer");
  expect_refused(org.access, "http://hooks.example.com/x", "must begin with https://");
  expect_refused(org.access, "ftp://hooks.example.com/x", "must begin with https://");
  expect_refused(org.access, "https://user:pw@hooks.example.com/x", "user name or password");
  expect_refused(org.access, "https:///x", "no host");
  struct api_resp *r = create(org.access, "{'url':'https://hooks.example.com/x?k=1',"
                                          "'events':['ping']}");
  expect_str(r, "url", "https://hooks.example.com/x?k=1");
}

Test(webhook_urls, internal_addresses_are_refused_however_written, .init = start_http_only,
     .fini = api_server_stop)
{
  struct api_user org = api_signup("org", "organizer");
  expect_refused(org.access, "http://127.0.0.1:8000/", "loopback");
  expect_refused(org.access, "http://169.254.169.254/latest/meta-data/", "link-local");
  expect_refused(org.access, "http://[::1]:8000/", "loopback");
  expect_refused(org.access, "http://[::ffff:127.0.0.1]/", "loopback");
  expect_refused(org.access, "http://2130706433/", "loopback");   /* 127.0.0.1 in decimal */
  expect_refused(org.access, "http://0x7f.1/", "loopback");
  expect_refused(org.access, "http://017700000001/", "loopback"); /* in octal */
  expect_refused(org.access, "http://10.1.2.3/", "private");
  expect_refused(org.access, "http://192.168.0.10/", "private");
  expect_refused(org.access, "http://0.0.0.0/", "unspecified");
  expect_that(json_array_size(api_get(WEBHOOKS, org.access)->json) == 0, "none was made");
  /* A change is held to the same rule. */
  long long id = api_id(create(org.access, "{'url':'http://hooks.example.com/','events':['ping']}"));
  struct api_resp *r = api_patch(webhook_path(id), org.access,
                                 api_json("{'url':'http://169.254.169.254/'}"));
  expect_status(r, 400);
  expect_str(api_get(webhook_path(id), org.access), "url", "http://hooks.example.com/");
}

Test(webhooks, allowed_networks_let_loopback_in_but_no_more)
{
  struct api_user org = api_signup("org", "organizer");
  create(org.access, "{'url':'http://127.0.0.1:9/x','events':['ping']}");
  create(org.access, "{'url':'http://2130706433:9/x','events':['ping']}");
  expect_refused(org.access, "http://169.254.169.254/", "link-local");
  expect_refused(org.access, "http://[::1]:9/", "loopback");
}
