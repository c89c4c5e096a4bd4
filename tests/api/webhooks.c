/*
 * webhooks.c - the webhooks API (docs/api.md, "Webhooks"): endpoints made,
 * listed, changed and deleted by organizers and admins; the secret shown
 * once, and never again; who may see and hook into which events; the URL
 * rule at creation (https:// only unless WEBHOOK_ALLOW_HTTP, and no
 * internal address however it is written, unless WEBHOOK_ALLOWED_NETWORKS
 * allows it).
 *
 * Then delivery, to a real HTTP receiver on loopback (webhook_receiver.py,
 * receiver.h) that checks every signature with the Python and JavaScript
 * examples of docs/api.md as they are written there: each event type
 * arrives once at each webhook that wants it, carrying the resource as
 * the API shows it; a change rolled back sends nothing; a 500, an answer
 * later than WEBHOOK_TIMEOUT_SECONDS, a closed connection and a redirect
 * (not followed) are tried again under the same webhook-id, and a
 * delivery dies after the schedule; a rotated secret signs beside the new
 * one for a day; inactive and deleted webhooks get nothing; a host name
 * that leads to loopback gets nothing; a worker killed mid-delivery is
 * made good by another; two workers send each delivery once. Deliveries
 * are listed with each try's answer and sent again under their webhook-id
 * on request; an endpoint failing every delivery for 5 days is turned off
 * and its owner emailed, once.
 *
 * The server runs with WEBHOOK_ALLOW_HTTP=true and WEBHOOK_ALLOWED_NETWORKS
 * 127.0.0.0/8, so that webhooks may go to a receiver on loopback, and
 * without its worker thread: a test delivers the outbox itself
 * (api_deliver_mail(), `eventapi worker --once` in-process) after moving
 * the clock, never waiting for time to pass.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"
#include "support/db.h"
#include "support/process.h"
#include "support/receiver.h"
#include "support/smtp.h"

#define WEBHOOKS "/api/webhooks/"
#define WEBHOOK_KEYS "id", "owner", "url", "events", "event", "description", "is_active", \
    "created_at", "updated_at", "failing_since", "disabled_at"
#define NO_WEBHOOK "No Webhook matches the given query."
#define HOOK_URL "http://127.0.0.1:9/hook"
/* A bound on waits for what other processes do; never reached when all is well. */
#define WAIT_MS 60000

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
                      "'event.created','event.updated','event.deleted','ping',"
                      "'ticket.check_in_undone']";
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

Test(webhooks, a_user_may_have_twenty)
{
  struct api_user org = api_signup("org", "organizer");
  long long first = 0;
  for (int i = 0; i < 20; i++) {
    long long id = hook(org.access, "['ping']");
    first = first ? first : id;
  }
  struct api_resp *r = api_post(WEBHOOKS, org.access,
                                api_json("{'url':'https://hooks.example.com/x','events':['ping']}"));
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['You may have at most 20 webhooks."
                 " Delete one you no longer use.']}");
  /* The limit is each user's own. */
  hook(api_signup("other", "organizer").access, "['ping']");
  expect_status(api_delete(webhook_path(first), org.access), 204);
  hook(org.access, "['ping']");
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
  /* http:// goes to this machine only; elsewhere, https://. */
  expect_refused(org.access, "http://hooks.example.com/", "to this machine only");
  expect_refused(org.access, "http://93.184.215.14/", "to this machine only");
  /* A change is held to the same rules. */
  long long id = api_id(create(org.access, "{'url':'https://hooks.example.com/','events':['ping']}"));
  struct api_resp *r = api_patch(webhook_path(id), org.access,
                                 api_json("{'url':'http://169.254.169.254/'}"));
  expect_status(r, 400);
  r = api_patch(webhook_path(id), org.access, api_json("{'url':'http://hooks.example.com/'}"));
  expect_status(r, 400);
  expect_str(api_get(webhook_path(id), org.access), "url", "https://hooks.example.com/");
}

Test(webhooks, allowed_networks_let_loopback_in_but_no_more)
{
  struct api_user org = api_signup("org", "organizer");
  create(org.access, "{'url':'http://127.0.0.1:9/x','events':['ping']}");
  create(org.access, "{'url':'http://2130706433:9/x','events':['ping']}");
  create(org.access, "{'url':'http://localhost:9/x','events':['ping']}");
  create(org.access, "{'url':'http://receiver.localhost:9/x','events':['ping']}");
  expect_refused(org.access, "http://hooks.example.com/", "to this machine only");
  expect_refused(org.access, "http://169.254.169.254/", "link-local");
  expect_refused(org.access, "http://[::1]:9/", "loopback");
}

/* ---- delivery, to a real receiver ------------------------------------------------ */

/*
 * The receiver (webhook_receiver.py: every signature checked with the
 * Python and JavaScript examples of docs/api.md), then the server sending
 * to it, and extra settings. The receiver checks each request with both
 * examples (a Node.js process each time) before it answers, which a
 * loaded machine can make take more than a second: WEBHOOK_TIMEOUT_SECONDS
 * is 10, and only the test of the timeout sees it pass (a receiver that
 * hangs for 30 s).
 */
static void start_receiving_with(const char *const *extra)
{
  receiver_start();
  const char *env[24] = {"WEBHOOK_ALLOW_HTTP", "true", "WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8",
                         "WEBHOOK_TIMEOUT_SECONDS", "10", "WORKER", "off"};
  size_t n = 8;
  for (const char *const *pair = extra; pair && pair[0] && n < 22; pair += 2) {
    env[n++] = pair[0];
    env[n++] = pair[1];
  }
  env[n] = NULL;
  api_server_start_with(env);
}

static void start_receiving(void) { start_receiving_with(NULL); }

static void stop_receiving(void)
{
  api_server_stop();
  receiver_cleanup();
}

/* Delivers what is due now (the receiver told the server's clock first). */
static void deliver(void)
{
  receiver_clock(api_now());
  api_deliver_mail();
}

/* A webhook of token's to the receiver's path, with fields (single-quoted
 * JSON members: "'events':['ping']"); the receiver checks with its secret. */
struct hook {
  long long id;
  const char *path;
  const char *secret;
};

static struct hook hook_at(const char *token, const char *path, const char *fields)
{
  struct api_resp *r = api_post(WEBHOOKS, token, api_jsonf("{\"url\":\"%s\",%s}",
                                                           receiver_url(path), fields));
  expect_status(r, 201);
  struct hook h = {api_id(r), path,
                   api_strdup(json_string_value(json_object_get(r->json, "secret")))};
  receiver_secrets(path, h.secret);
  return h;
}

static const char *str_of(json_t *json, const char *key)
{
  const char *s = json_string_value(json_object_get(json, key));
  return s ? s : "";
}

/* A request's header (names in lower case), or "". */
static const char *header_of(json_t *request, const char *name)
{
  return str_of(json_object_get(request, "headers"), name);
}

/* The body of a request, parsed (harness-owned). */
static json_t *body_of(json_t *request)
{
  json_t *body = json_loads(str_of(request, "body"), 0, NULL);
  expect_that(body != NULL, "not JSON: %s", api_dump(request));
  return api_keep_json(body);
}

/*
 * Every documented example accepted the request with the secret(s) the
 * receiver was given for its path, in order (want: true, or false, for
 * each); the JavaScript one unless there is no Node.js.
 */
static void expect_verified_as(json_t *request, const bool *want, size_t count)
{
  json_t *python = json_object_get(request, "python");
  json_t *node = json_object_get(request, "node");
  expect_that(json_array_size(python) == count, "checked with %zu secrets: %s", count,
              api_dump(request));
  for (size_t i = 0; i < count; i++) {
    expect_that(json_is_true(json_array_get(python, i)) == want[i],
                "Python example, secret %zu: %s", i, api_dump(request));
    expect_that(json_is_null(node) || json_is_true(json_array_get(node, i)) == want[i],
                "JavaScript example, secret %zu: %s", i, api_dump(request));
  }
}

static void expect_verified(json_t *request)
{
  bool yes = true;
  expect_verified_as(request, &yes, 1);
}

/* The types of the requests to path, in order of arrival (harness-owned). */
static json_t *types_to(const char *path)
{
  json_t *types = api_keep_json(json_array());
  size_t i;
  json_t *request;
  json_array_foreach(receiver_requests_to(path), i, request) {
    expect_verified(request);
    json_array_append_new(types, json_string(str_of(body_of(request), "type")));
  }
  return types;
}

/* How often type is in types. */
static size_t count_of(json_t *types, const char *type)
{
  size_t n = 0, i;
  json_t *t;
  json_array_foreach(types, i, t)
    n += strcmp(json_string_value(t), type) == 0;
  return n;
}

/* The request to path whose body's type is type, the only one; fails otherwise. */
static json_t *only(const char *path, const char *type)
{
  json_t *found = NULL;
  size_t i, n = 0;
  json_t *request;
  json_array_foreach(receiver_requests_to(path), i, request)
    if (strcmp(str_of(body_of(request), "type"), type) == 0) {
      found = request;
      n++;
    }
  expect_that(n == 1, "%zu %s to %s: %s", n, type, path, api_dump(receiver_requests_to(path)));
  return found;
}

static long long registration_for(const char *token, long long event)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event), token,
                                "{}");
  expect_status(r, 200);
  return api_id(r);
}

#define ALL_TYPES "['registration.created','registration.waitlisted','registration.promoted'," \
    "'registration.cancelled','ticket.checked_in','event.created','event.updated'," \
    "'event.deleted','ticket.check_in_undone']"

TestSuite(webhook_delivery, .init = start_receiving, .fini = stop_receiving);

Test(webhook_delivery, each_event_type_arrives_once_per_matching_webhook)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user other = api_signup("other", "organizer");
  struct api_user admin = api_admin("boss");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  hook_at(org.access, "/all", "'events':" ALL_TYPES);
  hook_at(admin.access, "/admin", "'events':" ALL_TYPES);
  hook_at(other.access, "/other", "'events':" ALL_TYPES);

  struct api_event jazz = api_create_event(org.access, "{'title':'Jazz','capacity':1}");
  struct api_event folk = api_create_event(org.access, "{'title':'Folk'}");
  hook_at(org.access, "/jazz", api_printf("'events':['registration.created'],'event':%lld",
                                          jazz.id));
  hook_at(org.access, "/folk", api_printf("'events':['event.deleted'],'event':%lld", folk.id));

  long long alice_reg = registration_for(alice.access, jazz.id);   /* created */
  long long bob_reg = registration_for(bob.access, jazz.id);       /* waitlisted */
  expect_status(api_delete(api_printf("/api/registrations/%lld/", alice_reg), alice.access),
                204);                                             /* cancelled, promoted */
  struct api_resp *bobs = api_get(api_printf("/api/registrations/%lld/", bob_reg), bob.access);
  const char *code = str_of(json_object_get(bobs->json, "ticket"), "code");
  expect_status(api_post(api_printf("/api/tickets/%s/check-in/", code), org.access, NULL), 200);
  expect_status(api_delete(api_printf("/api/tickets/%s/check-in/", code), org.access), 200);
  expect_status(api_patch(api_printf("/api/events/%lld/update/", jazz.id), org.access,
                          "{\"title\":\"Jazz Night\"}"), 200);
  expect_status(api_delete(api_printf("/api/events/%lld/delete/", folk.id), org.access), 204);
  expect_that(receiver_count() == 0, "nothing before the worker runs");
  deliver();

  const char *both[] = {"/all", "/admin"};
  for (size_t i = 0; i < 2; i++) {
    json_t *types = types_to(both[i]);
    expect_that(json_array_size(types) == 10, "%s got %s", both[i], api_dump(types));
    expect_that(count_of(types, "event.created") == 2, "%s", api_dump(types));
    const char *once[] = {"registration.created", "registration.waitlisted",
                          "registration.cancelled", "registration.promoted",
                          "ticket.checked_in", "ticket.check_in_undone", "event.updated",
                          "event.deleted"};
    for (size_t j = 0; j < sizeof once / sizeof *once; j++)
      expect_that(count_of(types, once[j]) == 1, "%s: %s in %s", both[i], once[j],
                  api_dump(types));
  }
  expect_that(json_array_size(types_to("/jazz")) == 1, "%s",
              api_dump(receiver_requests_to("/jazz")));
  expect_that(json_array_size(types_to("/folk")) == 1, "%s",
              api_dump(receiver_requests_to("/folk")));
  expect_that(json_array_size(receiver_requests_to("/other")) == 0, "not another's events");

  /* What each carries: the resource as the API shows it. */
  json_t *created = body_of(only("/jazz", "registration.created"));
  expect_keys(created, "type", "timestamp", "data", NULL);
  json_t *data = json_object_get(created, "data");
  expect_keys(data, "id", "user", "event", "ticket_type", "registered_at", "is_waitlisted",
              "ticket", NULL);
  expect_int(data, "id", alice_reg);
  expect_int(data, "user", alice.id);
  expect_bool(data, "is_waitlisted", false);
  expect_that(json_is_object(json_object_get(data, "ticket")), "%s", api_dump(data));
  json_t *cancelled = json_object_get(body_of(only("/all", "registration.cancelled")), "data");
  expect_int(cancelled, "id", alice_reg);
  expect_null(cancelled, "ticket");
  json_t *promoted = json_object_get(body_of(only("/all", "registration.promoted")), "data");
  expect_int(promoted, "id", bob_reg);
  expect_str(json_object_get(promoted, "ticket"), "code", code);
  json_t *checked = json_object_get(body_of(only("/admin", "ticket.checked_in")), "data");
  expect_str(checked, "code", code);
  expect_bool(checked, "is_checked_in", true);
  json_t *undone = json_object_get(body_of(only("/admin", "ticket.check_in_undone")), "data");
  expect_str(undone, "code", code);
  expect_bool(undone, "is_checked_in", false);
  expect_null(undone, "checked_in_at");
  json_t *updated = json_object_get(body_of(only("/all", "event.updated")), "data");
  expect_keys(updated, EVENT_KEYS);
  expect_str(updated, "title", "Jazz Night");
  json_t *deleted = json_object_get(body_of(only("/folk", "event.deleted")), "data");
  expect_int(deleted, "id", folk.id);
  expect_str(deleted, "title", "Folk");
  /* The event as GET shows it, byte for byte. */
  json_t *now = api_get(api_printf("/api/events/%lld/", jazz.id), org.access)->json;
  expect_that(json_equal(now, updated), "%s\n%s", api_dump(now), api_dump(updated));

  /* The headers, each try's. */
  json_t *one = only("/jazz", "registration.created");
  expect_that(strcmp(header_of(one, "content-type"), "application/json") == 0, "%s",
              api_dump(one));
  expect_that(strncmp(header_of(one, "user-agent"), "eventapi/", 9) == 0, "%s", api_dump(one));
  expect_that(strlen(header_of(one, "webhook-id")) > 0, "%s", api_dump(one));
  expect_that(llabs(atoll(header_of(one, "webhook-timestamp")) - api_now()) <= 5, "%s",
              api_dump(one));
  expect_that(strncmp(header_of(one, "webhook-signature"), "v1,", 3) == 0, "%s",
              api_dump(one));
  /* Every delivery is recorded sent, tried once. */
  expect_that(api_db_int("SELECT count(*) FROM outbox WHERE channel = 'webhook'"
                         " AND state = 'sent' AND attempts = 1", 0) == 22,
              "%lld", api_db_int("SELECT count(*) FROM outbox WHERE channel = 'webhook'", 0));
}

Test(webhook_delivery, a_change_rolled_back_sends_nothing)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user admin = api_admin("boss");
  hook_at(admin.access, "/admin", "'events':['event.deleted']");
  long long event = api_create_event(org.access, NULL).id;
  registration_for(api_signup("alice", NULL).access, event);
  /* The deletion writes its event.deleted, then fails at its last
   * statement (a trigger refuses it): the whole change is undone. */
  if (api_on_postgres()) {
    api_db_rows("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END $$", 0);
    api_db_rows("CREATE TRIGGER refuse BEFORE DELETE ON events"
                " FOR EACH ROW EXECUTE FUNCTION refuse()", 0);
  } else {
    api_db_rows("CREATE TRIGGER refuse BEFORE DELETE ON events"
                " BEGIN SELECT RAISE(ABORT, 'refused'); END", 0);
  }
  const char *path = api_printf("/api/events/%lld/delete/", event);
  expect_status(api_delete(path, org.access), 409);
  expect_status(api_get(api_printf("/api/events/%lld/", event), org.access), 200);
  expect_that(api_db_int("SELECT count(*) FROM outbox WHERE channel = 'webhook'", 0) == 0,
              "no webhook written");
  deliver();
  expect_that(receiver_count() == 0, "%s", api_dump(receiver_requests()));

  /* The same deletion, let through, sends it. */
  api_db_rows(api_on_postgres() ? "DROP TRIGGER refuse ON events" : "DROP TRIGGER refuse", 0);
  expect_status(api_delete(path, org.access), 204);
  deliver();
  json_t *deleted = json_object_get(body_of(only("/admin", "event.deleted")), "data");
  expect_int(deleted, "id", event);
  expect_that(receiver_count() == 1, "%s", api_dump(receiver_requests()));
}

/* The delivery to path, as the outbox holds it: its state and tries. */
static const char *state_of(long long webhook)
{
  return api_db_text(api_printf("SELECT state FROM outbox WHERE source = 'webhook:%lld'"
                                " ORDER BY id DESC LIMIT 1", webhook));
}

static long long attempts_of(long long webhook)
{
  return api_db_int(api_printf("SELECT attempts FROM outbox WHERE source = 'webhook:%lld'"
                               " ORDER BY id DESC LIMIT 1", webhook), 0);
}

static const char *error_of(long long webhook)
{
  const char *error = api_db_text(api_printf("SELECT last_error FROM outbox"
                                             " WHERE source = 'webhook:%lld'"
                                             " ORDER BY id DESC LIMIT 1", webhook));
  return error ? error : "";
}

/* Pings h (asserting 202) and delivers; the delivery's answer. */
static struct api_resp *ping(const char *token, struct hook h)
{
  struct api_resp *r = api_post(api_printf(WEBHOOKS "%lld/ping/", h.id), token, NULL);
  expect_status(r, 202);
  return r;
}

Test(webhook_delivery, the_documented_examples_refuse_what_another_secret_signed)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['ping']");
  const char *other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const char *secrets[] = {h.secret, other, NULL};
  receiver_secrets_list("/crm", secrets);
  ping(org.access, h);
  deliver();
  json_t *request = json_array_get(receiver_requests(), 0);
  bool want[] = {true, false};
  expect_verified_as(request, want, 2);
  /* Node.js runs the JavaScript example wherever it is installed. */
  if (system("node --version >/dev/null 2>&1") == 0)
    expect_that(json_is_array(json_object_get(request, "node")), "JavaScript not checked: %s",
                api_dump(request));
  /* A stale timestamp is refused too: the receiver's clock a day ahead. */
  receiver_clock(api_now() + 86400);
  ping(org.access, h);
  api_deliver_mail();
  request = json_array_get(receiver_requests(), 1);
  bool stale[] = {false, false};
  expect_verified_as(request, stale, 2);
}

/* A failed first try, then a retry about 5 s later that the receiver takes:
 * the same webhook-id and body, signed anew at its own time. */
static void expect_retried_after(struct hook h, const char *what)
{
  expect_that(receiver_count() == 1, "%s: one try: %s", what, api_dump(receiver_requests()));
  expect_that(strcmp(state_of(h.id), "pending") == 0, "%s: pending", what);
  expect_that(attempts_of(h.id) == 1, "%s", what);
  deliver();
  expect_that(receiver_count() == 1, "%s: not again before its time", what);
  api_clock_advance(6);
  deliver();
  json_t *got = receiver_requests();
  expect_that(json_array_size(got) == 2, "%s: %s", what, api_dump(got));
  json_t *first = json_array_get(got, 0), *second = json_array_get(got, 1);
  expect_verified(first);
  expect_verified(second);
  expect_that(strcmp(header_of(first, "webhook-id"), header_of(second, "webhook-id")) == 0,
              "%s: the same webhook-id: %s", what, api_dump(got));
  expect_that(strcmp(str_of(first, "body"), str_of(second, "body")) == 0, "%s", what);
  expect_that(atoll(header_of(second, "webhook-timestamp")) >=
              atoll(header_of(first, "webhook-timestamp")) + 5, "%s: %s", what, api_dump(got));
  expect_that(strcmp(state_of(h.id), "sent") == 0, "%s: sent", what);
  expect_that(attempts_of(h.id) == 2, "%s", what);
}

Test(webhook_delivery, a_500_is_tried_again_under_the_same_webhook_id)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['ping']");
  receiver_answer("/crm", "{'status':500,'body':'down for maintenance'}");
  ping(org.access, h);
  deliver();
  expect_that(strcmp(error_of(h.id), "HTTP 500") == 0, "%s", error_of(h.id));
  expect_that(api_db_int(api_printf("SELECT last_status FROM outbox WHERE source ="
                                    " 'webhook:%lld'", h.id), 0) == 500, "the status kept");
  expect_that(strcmp(api_db_text(api_printf("SELECT last_response FROM outbox WHERE source ="
                                            " 'webhook:%lld'", h.id)),
                     "down for maintenance") == 0, "the answer kept");
  expect_retried_after(h, "500");
}

Test(webhook_delivery, an_answer_later_than_the_timeout_is_a_failure)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/slow", "'events':['ping']");
  receiver_answer("/slow", "{'hang':30}");
  ping(org.access, h);
  deliver(); /* gives up after WEBHOOK_TIMEOUT_SECONDS, 10 */
  expect_that(strstr(error_of(h.id), "WEBHOOK_TIMEOUT_SECONDS") != NULL, "%s", error_of(h.id));
  expect_retried_after(h, "a hang");
}

Test(webhook_delivery, a_closed_connection_is_a_failure)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/flaky", "'events':['ping']");
  receiver_answer("/flaky", "{'close':true}");
  ping(org.access, h);
  deliver();
  expect_that(error_of(h.id)[0] != '\0', "a reason");
  expect_retried_after(h, "a closed connection");
}

Test(webhook_delivery, a_redirect_is_not_followed)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/moved", "'events':['ping']");
  receiver_answer("/moved", api_printf("{'status':302,'location':'%s'}",
                                       receiver_url("/elsewhere")));
  ping(org.access, h);
  deliver();
  expect_that(strcmp(error_of(h.id), "HTTP 302: redirects are not followed") == 0, "%s",
              error_of(h.id));
  expect_that(json_array_size(receiver_requests_to("/elsewhere")) == 0, "not followed");
  expect_retried_after(h, "a redirect");
  expect_that(json_array_size(receiver_requests_to("/elsewhere")) == 0, "never followed");
}

Test(webhook_delivery, a_delivery_dies_after_the_schedule)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/down", "'events':['ping']");
  for (int i = 0; i < 8; i++)
    receiver_answer("/down", "{'status':503}");
  ping(org.access, h);
  /* About 5 s, 5 min, 30 min, 2 h, 5 h and 10 h apart, each give or take a tenth. */
  const long long waits[] = {5, 300, 1800, 7200, 18000, 36000};
  deliver();
  for (size_t i = 0; i < 6; i++) {
    expect_that(receiver_count() == i + 1, "try %zu: %s", i + 1, api_dump(receiver_requests()));
    api_clock_advance(waits[i] * 9 / 10 - 1);
    deliver();
    expect_that(receiver_count() == i + 1, "not before %lld s less a tenth", waits[i]);
    api_clock_advance(waits[i] / 5 + 2);
    deliver();
  }
  expect_that(receiver_count() == 7, "seven tries: %s", api_dump(receiver_requests()));
  expect_that(strcmp(state_of(h.id), "dead") == 0, "dead");
  api_clock_advance(48 * 3600);
  deliver();
  expect_that(receiver_count() == 7, "no eighth");
  json_t *got = receiver_requests();
  for (size_t i = 0; i < 7; i++) {
    expect_verified(json_array_get(got, i));
    expect_that(strcmp(header_of(json_array_get(got, i), "webhook-id"),
                       header_of(json_array_get(got, 0), "webhook-id")) == 0, "the same id");
  }
}

Test(webhook_delivery, a_rotated_secret_signs_beside_the_new_one_for_a_day)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['ping']");
  struct api_resp *r = api_post(api_printf(WEBHOOKS "%lld/rotate-secret/", h.id), org.access,
                                NULL);
  expect_status(r, 200);
  const char *fresh = str_of(r->json, "secret");
  const char *both[] = {h.secret, fresh, NULL};
  receiver_secrets_list("/crm", both);
  ping(org.access, h);
  deliver();
  json_t *request = json_array_get(receiver_requests(), 0);
  bool both_verify[] = {true, true};
  expect_verified_as(request, both_verify, 2);
  expect_that(strchr(header_of(request, "webhook-signature"), ' ') != NULL,
              "two signatures: %s", api_dump(request));

  api_clock_advance(24 * 3600 + 60);
  org = api_login("org", API_PASSWORD); /* the token of a day ago has expired */
  ping(org.access, h);
  deliver();
  request = json_array_get(receiver_requests(), 1);
  bool new_only[] = {false, true};
  expect_verified_as(request, new_only, 2);
  expect_that(strchr(header_of(request, "webhook-signature"), ' ') == NULL,
              "one signature: %s", api_dump(request));
}

Test(webhook_delivery, an_inactive_webhook_is_sent_nothing)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':" ALL_TYPES);
  expect_status(api_patch(webhook_path(h.id), org.access, "{\"is_active\":false}"), 200);
  long long event = api_create_event(org.access, NULL).id;
  registration_for(api_signup("alice", NULL).access, event);
  struct api_resp *r = api_post(api_printf(WEBHOOKS "%lld/ping/", h.id), org.access, NULL);
  expect_status(r, 409);
  expect_detail(r, "This webhook is not active.");
  deliver();
  expect_that(receiver_count() == 0, "%s", api_dump(receiver_requests()));

  /* Turned off with a retry pending: that one dies at its try, unsent. */
  expect_status(api_patch(webhook_path(h.id), org.access, "{\"is_active\":true}"), 200);
  receiver_answer("/crm", "{'status':500}");
  ping(org.access, h);
  deliver();
  expect_status(api_patch(webhook_path(h.id), org.access, "{\"is_active\":false}"), 200);
  api_clock_advance(10);
  deliver();
  expect_that(receiver_count() == 1, "%s", api_dump(receiver_requests()));
  expect_that(strcmp(state_of(h.id), "dead") == 0, "dead");
  expect_that(strstr(error_of(h.id), "not active") != NULL, "%s", error_of(h.id));
}

Test(webhook_delivery, a_user_made_inactive_is_sent_nothing_more)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user admin = api_admin("boss");
  long long event = api_create_event(org.access, NULL).id;
  struct hook h = hook_at(org.access, "/crm", "'events':['event.updated','ping']");
  receiver_answer("/crm", "{'status':500}");
  ping(org.access, h);
  deliver();
  expect_status(api_patch(api_user_path(org.id), admin.access, "{\"is_active\":false}"), 200);
  api_clock_advance(10);
  deliver();
  expect_that(receiver_count() == 1, "%s", api_dump(receiver_requests()));
  expect_that(strcmp(state_of(h.id), "dead") == 0, "dead");
  expect_that(strstr(error_of(h.id), "owner is not active") != NULL, "%s", error_of(h.id));
  /* Nor is anything new written for them: an admin's edit of their event. */
  expect_status(api_patch(api_printf("/api/events/%lld/update/", event), admin.access,
                          "{\"title\":\"Renamed\"}"), 200);
  expect_that(api_db_int(api_printf("SELECT count(*) FROM outbox WHERE source = 'webhook:%lld'",
                                    h.id), 0) == 1, "one delivery, the ping");
}

Test(webhook_delivery, a_deleted_webhook_is_sent_nothing_more)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['event.created','ping']");
  receiver_answer("/crm", "{'status':500}");
  ping(org.access, h);
  deliver();
  api_create_event(org.access, NULL);
  expect_status(api_delete(webhook_path(h.id), org.access), 204);
  api_clock_advance(3600);
  deliver();
  expect_that(receiver_count() == 1, "%s", api_dump(receiver_requests()));
  expect_that(api_db_int(api_printf("SELECT count(*) FROM outbox WHERE source = 'webhook:%lld'"
                                    " AND state = 'pending'", h.id), 0) == 0, "dropped");
}

Test(webhook_delivery, ping_sends_a_ping)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['event.created']");
  struct api_resp *r = ping(org.access, h);
  expect_keys(r, "id", "message_id", "type", "status", "attempts", "response_status",
              "response_body", "error", "created_at", "next_attempt_at", "sent_at", "payload",
              NULL);
  expect_str(r, "type", "ping");
  expect_str(r, "status", "pending");
  expect_int(r, "attempts", 0);
  expect_null(r, "sent_at");
  deliver();
  json_t *request = only("/crm", "ping");
  expect_verified(request);
  expect_that(strcmp(header_of(request, "webhook-id"), str_of(r->json, "message_id")) == 0,
              "%s", api_dump(request));
  json_t *body = body_of(request);
  expect_that(json_equal(body, json_object_get(r->json, "payload")), "%s", api_dump(body));
  expect_int(json_object_get(body, "data"), "webhook", h.id);
  /* Neither the secret nor its key are in the outbox. */
  expect_that(api_db_int("SELECT count(*) FROM outbox WHERE payload LIKE '%whsec%'"
                         " OR target LIKE '%whsec%'", 0) == 0, "no secret in the outbox");
  struct api_user other = api_signup("other", "organizer");
  expect_status(api_post(api_printf(WEBHOOKS "%lld/ping/", h.id), other.access, NULL), 404);
}

/* Webhooks may reach 127.0.0.0/8 only by WEBHOOK_ALLOWED_NETWORKS. */
static void start_receiving_unallowed(void)
{
  const char *none[] = {"WEBHOOK_ALLOWED_NETWORKS", "", NULL};
  start_receiving_with(none);
}

Test(webhook_delivery_unallowed, a_name_that_resolves_to_loopback_gets_nothing,
     .init = start_receiving_unallowed, .fini = stop_receiving)
{
  struct api_user org = api_signup("org", "organizer");
  const char *url = receiver_url("/x"); /* http://127.0.0.1:<port>/x */
  const char *named = api_printf("http://localhost%s", strchr(url + strlen("http://"), ':'));
  struct api_resp *r = api_post(WEBHOOKS, org.access, api_jsonf(
      "{\"url\":\"%s\",\"events\":[\"ping\"]}", url));
  expect_status(r, 400);
  expect_that(strstr(r->body, "loopback") != NULL, "%s", r->body);
  /* A name passes when it is given, and is judged where it leads when sent. */
  r = api_post(WEBHOOKS, org.access, api_jsonf("{\"url\":\"%s\",\"events\":[\"ping\"]}",
                                               named));
  expect_status(r, 201);
  struct hook h = {api_id(r), "/x", NULL};
  ping(org.access, h);
  deliver();
  expect_that(receiver_count() == 0, "%s", api_dump(receiver_requests()));
  expect_that(strcmp(state_of(h.id), "dead") == 0, "dead at once");
  expect_that(strstr(error_of(h.id), "loopback") != NULL, "%s", error_of(h.id));
}

/* ---- workers in processes of their own ------------------------------------------------ */

Test(webhook_delivery, a_worker_killed_mid_delivery_is_made_good_after)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['ping']");
  receiver_answer("/crm", "{'hang':60}");
  ping(org.access, h);
  struct api_process worker;
  const char *work[] = {"worker", NULL};
  const char *patient[] = {"WEBHOOK_TIMEOUT_SECONDS", "30", NULL};
  api_process_start(&worker, work, patient);
  expect_that(json_array_size(receiver_wait(1, WAIT_MS)) == 1, "the worker sent it");
  api_process_kill(&worker, SIGKILL);
  expect_that(strcmp(state_of(h.id), "pending") == 0, "no outcome recorded");
  expect_that(attempts_of(h.id) == 1, "one try");

  /* Once the killed worker's claim ran out (twice the timeout, and 5 s),
   * another takes the message over. */
  api_clock_advance(70);
  deliver();
  json_t *got = receiver_requests();
  expect_that(json_array_size(got) == 2, "%s", api_dump(got));
  expect_verified(json_array_get(got, 1));
  expect_that(strcmp(header_of(json_array_get(got, 0), "webhook-id"),
                     header_of(json_array_get(got, 1), "webhook-id")) == 0, "%s", api_dump(got));
  expect_that(strcmp(state_of(h.id), "sent") == 0, "sent");
  expect_that(attempts_of(h.id) == 2, "two tries");
}

Test(webhook_delivery, two_workers_send_each_delivery_once)
{
  enum { PEOPLE = 20 };
  struct api_user org = api_signup("org", "organizer");
  hook_at(org.access, "/crm", "'events':['registration.created']");
  long long event = api_create_event(org.access, "{'capacity':0}").id;
  for (int i = 0; i < PEOPLE; i++)
    registration_for(api_signup(api_printf("p%d", i), NULL).access, event);
  receiver_clock(api_now());
  struct api_process workers[2];
  const char *work[] = {"worker", NULL};
  for (size_t i = 0; i < 2; i++)
    api_process_start(&workers[i], work, NULL);
  receiver_wait(PEOPLE, WAIT_MS);
  /* Each finishes the delivery in hand: nothing can come after they exit. */
  for (size_t i = 0; i < 2; i++)
    expect_that(api_process_kill(&workers[i], SIGTERM) == 0, "a clean stop");
  json_t *got = receiver_requests();
  expect_that(json_array_size(got) == PEOPLE, "%zu requests", json_array_size(got));
  for (size_t i = 0; i < json_array_size(got); i++) {
    expect_verified(json_array_get(got, i));
    for (size_t j = i + 1; j < json_array_size(got); j++)
      expect_that(strcmp(header_of(json_array_get(got, i), "webhook-id"),
                         header_of(json_array_get(got, j), "webhook-id")) != 0,
                  "each once: %s", header_of(json_array_get(got, i), "webhook-id"));
  }
  expect_that(api_db_int("SELECT count(*) FROM outbox WHERE channel = 'webhook'"
                         " AND state = 'sent' AND attempts = 1", 0) == PEOPLE, "each tried once");
}

/* ---- deliveries: the log, and sending again ---------------------------------------- */

#define DELIVERY_KEYS "id", "message_id", "type", "status", "attempts", "response_status", \
    "response_body", "error", "created_at", "next_attempt_at", "sent_at", "payload", NULL
#define NO_DELIVERY "No Delivery matches the given query."

static const char *deliveries_path(long long webhook)
{
  return api_printf(WEBHOOKS "%lld/deliveries/", webhook);
}

static const char *redeliver_path(long long webhook, long long delivery)
{
  return api_printf(WEBHOOKS "%lld/deliveries/%lld/redeliver/", webhook, delivery);
}

Test(webhook_delivery, the_deliveries_show_each_try)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['ping']");
  receiver_answer("/crm", api_printf("{'status':500,'body':'%s'}", api_repeat('x', 3000)));
  long long id = api_id(ping(org.access, h));
  deliver();

  struct api_resp *r = api_get(deliveries_path(h.id), org.access);
  expect_status(r, 200);
  expect_header(r, "X-Total-Count", "1");
  json_t *d = json_array_get(r->json, 0);
  expect_keys(d, DELIVERY_KEYS);
  expect_int(d, "id", id);
  expect_str(d, "type", "ping");
  expect_str(d, "status", "pending");
  expect_int(d, "attempts", 1);
  expect_int(d, "response_status", 500);
  expect_str(d, "response_body", api_repeat('x', 1024)); /* its first 1 KB */
  expect_str(d, "error", "HTTP 500");
  expect_null(d, "sent_at");
  long long next = api_parse_iso_us(str_of(d, "next_attempt_at"));
  expect_that(next >= api_now_us() + 4000000 && next <= api_now_us() + 6000000,
              "tried again about 5 s later: %s", api_dump(d));
  json_t *got = json_array_get(receiver_requests(), 0);
  expect_that(strcmp(str_of(d, "message_id"), header_of(got, "webhook-id")) == 0, "%s",
              api_dump(d));
  expect_that(json_equal(json_object_get(d, "payload"), body_of(got)), "%s", api_dump(d));

  api_clock_advance(6);
  deliver();
  d = json_array_get(api_get(deliveries_path(h.id), org.access)->json, 0);
  expect_str(d, "status", "sent");
  expect_int(d, "attempts", 2);
  expect_int(d, "response_status", 200);
  expect_str(d, "response_body", "ok");
  expect_null(d, "error");
  expect_null(d, "next_attempt_at");
  expect_time_within(d, "sent_at", api_now_us() - 1000000, api_now_us() + 1000000);

  /* Newest first, paginated as the event list. */
  long long second = api_id(ping(org.access, h)), third = api_id(ping(org.access, h));
  r = api_get(api_printf("%s?limit=2", deliveries_path(h.id)), org.access);
  expect_status(r, 200);
  expect_int(r, "count", 3);
  json_t *results = json_object_get(r->json, "results");
  expect_int(json_array_get(results, 0), "id", third);
  expect_int(json_array_get(results, 1), "id", second);
  expect_str(r, "next", api_url(api_printf("%s?limit=2&offset=2", deliveries_path(h.id))));
  expect_status(api_get(api_printf("%s?offset=-1&limit=2", deliveries_path(h.id)), org.access),
                400);
}

Test(webhook_delivery, the_deliveries_are_the_owners_alone)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user other = api_signup("other", "organizer");
  struct api_user admin = api_admin("boss");
  struct hook h = hook_at(org.access, "/crm", "'events':['ping']");
  struct hook theirs = hook_at(other.access, "/theirs", "'events':['ping']");
  long long id = api_id(ping(org.access, h));
  long long their_delivery = api_id(ping(other.access, theirs));
  deliver();
  expect_status(api_get(deliveries_path(h.id), other.access), 404);
  expect_status(api_post(redeliver_path(h.id, id), other.access, NULL), 404);
  expect_status(api_get(deliveries_path(h.id), api_signup("alice", NULL).access), 403);
  expect_status(api_get(deliveries_path(h.id), NULL), 401);
  expect_that(json_array_size(api_get(deliveries_path(h.id), admin.access)->json) == 1,
              "an admin sees them");
  /* Another webhook's delivery is not one of this webhook's. */
  struct api_resp *r = api_post(redeliver_path(h.id, their_delivery), org.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NO_DELIVERY);
  expect_status(api_post(redeliver_path(h.id, 999999), org.access, NULL), 404);
}

Test(webhook_delivery, a_delivery_is_sent_again_under_its_webhook_id)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/crm", "'events':['event.created']");
  api_create_event(org.access, NULL);
  deliver();
  json_t *first = json_array_get(api_get(deliveries_path(h.id), org.access)->json, 0);
  expect_str(first, "status", "sent");

  struct api_resp *r = api_post(redeliver_path(h.id, api_int(first, "id")), org.access, NULL);
  expect_status(r, 202);
  expect_keys(r, DELIVERY_KEYS);
  expect_str(r, "status", "pending");
  expect_int(r, "attempts", 0);
  expect_str(r, "message_id", str_of(first, "message_id"));
  expect_that(json_equal(json_object_get(r->json, "payload"), json_object_get(first, "payload")),
              "the same body: %s", r->body);
  expect_that(api_id(r) != api_int(first, "id"), "a delivery of its own");
  /* Not twice at once. */
  struct api_resp *again = api_post(redeliver_path(h.id, api_id(r)), org.access, NULL);
  expect_status(again, 409);
  expect_detail(again, "This delivery is still pending.");

  deliver();
  json_t *got = receiver_requests();
  expect_that(json_array_size(got) == 2, "%s", api_dump(got));
  expect_verified(json_array_get(got, 1));
  expect_that(strcmp(header_of(json_array_get(got, 0), "webhook-id"),
                     header_of(json_array_get(got, 1), "webhook-id")) == 0, "%s", api_dump(got));
  expect_that(strcmp(str_of(json_array_get(got, 0), "body"),
                     str_of(json_array_get(got, 1), "body")) == 0, "%s", api_dump(got));
  expect_that(json_array_size(api_get(deliveries_path(h.id), org.access)->json) == 2, "two");

  /* Not to a webhook turned off. */
  expect_status(api_patch(webhook_path(h.id), org.access, "{\"is_active\":false}"), 200);
  r = api_post(redeliver_path(h.id, api_int(first, "id")), org.access, NULL);
  expect_status(r, 409);
  expect_detail(r, "This webhook is not active.");
}

Test(webhook_delivery, a_dead_delivery_is_sent_again_to_the_url_as_it_is_now)
{
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/old", "'events':['ping']");
  receiver_secrets("/new", h.secret);
  for (int i = 0; i < 7; i++)
    receiver_answer("/old", "{'status':410}");
  long long id = api_id(ping(org.access, h));
  deliver();
  for (int i = 0; i < 6; i++) {
    api_clock_advance(12 * 3600);
    deliver();
  }
  org = api_login("org", API_PASSWORD);
  json_t *dead = json_array_get(api_get(deliveries_path(h.id), org.access)->json, 0);
  expect_str(dead, "status", "dead");
  expect_int(dead, "attempts", 7);
  expect_int(dead, "response_status", 410);

  expect_status(api_patch(webhook_path(h.id), org.access,
                          api_jsonf("{\"url\":\"%s\"}", receiver_url("/new"))), 200);
  struct api_resp *r = api_post(redeliver_path(h.id, id), org.access, NULL);
  expect_status(r, 202);
  deliver();
  json_t *request = only("/new", "ping");
  expect_verified(request);
  expect_that(strcmp(header_of(request, "webhook-id"), str_of(dead, "message_id")) == 0, "%s",
              api_dump(request));
  json_t *now = json_array_get(api_get(deliveries_path(h.id), org.access)->json, 0);
  expect_int(now, "id", api_id(r));
  expect_str(now, "status", "sent");
}

/* ---- an endpoint failing for days ----------------------------------------------------- */

/* The receiver, the test SMTP server, and the server mailing it. */
static void start_watching(void)
{
  smtp_start();
  const char *env[] = {"EMAIL_URL", api_strdup(smtp_url()), "EMAIL_FROM",
                       "Events <events@example.com>", NULL};
  start_receiving_with(env);
}

static void stop_watching(void)
{
  stop_receiving();
  smtp_cleanup();
}

/* Moves the clock by seconds and delivers, as a worker that kept running. */
static void later(long long seconds)
{
  api_clock_advance(seconds);
  deliver();
}

static json_t *webhook_now(long long id)
{
  struct api_user admin = api_login("boss", API_PASSWORD);
  struct api_resp *r = api_get(webhook_path(id), admin.access);
  expect_status(r, 200);
  return r->json;
}

Test(webhook_watch, an_endpoint_failing_5_days_is_turned_off_and_its_owner_told,
     .init = start_watching, .fini = stop_watching)
{
  api_admin("boss");
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/down", "'events':['event.created','ping'],"
                                               "'description':'Badge printer'");
  for (int i = 0; i < 40; i++)
    receiver_answer("/down", "{'status':500}");
  long long t0 = api_now_us();
  api_create_event(org.access, NULL);
  deliver();
  later(120);
  json_t *w = webhook_now(h.id);
  /* Since its first failed delivery was written. */
  expect_time_within(w, "failing_since", t0, t0 + 2000000);
  expect_bool(w, "is_active", true);

  /* Dead after the schedule, about 17.5 hours later; still on after 4 days. */
  for (int i = 0; i < 8; i++)
    later(12 * 3600);
  w = webhook_now(h.id);
  expect_bool(w, "is_active", true);
  expect_null(w, "disabled_at");
  expect_that(smtp_count() == 0, "no mail yet");

  /* 5 days after the first failure, with a dead delivery among them. */
  long long before = api_now_us() + (24 * 3600 + 60) * 1000000LL;
  later(24 * 3600 + 60);
  w = webhook_now(h.id);
  expect_bool(w, "is_active", false);
  expect_time_within(w, "disabled_at", before, api_now_us());
  expect_time_within(w, "failing_since", t0, t0 + 2000000);
  json_t *mail = smtp_wait(1, WAIT_MS);
  expect_that(json_array_size(mail) == 1, "one mail: %s", api_dump(mail));
  json_t *m = json_array_get(mail, 0);
  expect_that(strcmp(json_string_value(json_array_get(json_object_get(m, "rcpt_tos"), 0)),
                     "org@example.com") == 0, "%s", api_dump(m));
  expect_that(strcmp(str_of(m, "subject"), "Webhook turned off: Badge printer") == 0, "%s",
              str_of(m, "subject"));
  expect_that(strstr(str_of(m, "text"), "has been turned off") != NULL, "%s", str_of(m, "text"));

  /* Off: nothing is written for it any more, and it is told once. */
  size_t received = receiver_count();
  api_create_event(api_login("org", API_PASSWORD).access, NULL);
  later(2 * 24 * 3600);
  expect_that(receiver_count() == received, "nothing more sent");
  expect_that(smtp_count() == 1, "told once");

  /* Turned on again, it starts afresh. */
  org = api_login("org", API_PASSWORD);
  struct api_resp *r = api_patch(webhook_path(h.id), org.access, "{\"is_active\":true}");
  expect_status(r, 200);
  expect_null(r, "failing_since");
  expect_null(r, "disabled_at");
  later(120);
  w = webhook_now(h.id);
  expect_bool(w, "is_active", true);
  expect_null(w, "failing_since");
}

Test(webhook_watch, a_delivery_that_succeeds_ends_the_failing, .init = start_watching,
     .fini = stop_watching)
{
  api_admin("boss");
  struct api_user org = api_signup("org", "organizer");
  struct hook h = hook_at(org.access, "/flaky", "'events':['ping']");
  receiver_answer("/flaky", "{'status':500}");
  ping(org.access, h);
  deliver();
  later(120);
  expect_that(json_is_string(json_object_get(webhook_now(h.id), "failing_since")),
              "failing: %s", api_dump(webhook_now(h.id)));
  /* Its retry succeeded (it was due long ago). */
  later(120);
  expect_null(webhook_now(h.id), "failing_since");
  expect_that(strcmp(state_of(h.id), "sent") == 0, "sent");

  /* Failures for days that each end in a success never turn it off. */
  for (int day = 0; day < 7; day++) {
    receiver_answer("/flaky", "{'status':500}");
    ping(api_login("org", API_PASSWORD).access, h);
    later(60);
    later(24 * 3600);
  }
  expect_bool(webhook_now(h.id), "is_active", true);
  expect_that(smtp_count() == 0, "no mail");
}

/* docs/api.md "Waitlist offers": a place held for the next in line is
 * announced as registration.offered, with its deadline; its acceptance as
 * registration.promoted. */
Test(webhook_delivery, an_offer_and_its_acceptance_are_announced)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  hook_at(org.access, "/offers", "'events':['registration.offered','registration.promoted']");
  struct api_event jazz = api_create_event(org.access,
                                           "{'capacity':1,'waitlist_offer_hours':6}");
  long long alice_reg = registration_for(alice.access, jazz.id);
  long long bob_reg = registration_for(bob.access, jazz.id);
  expect_status(api_delete(api_printf("/api/registrations/%lld/", alice_reg), alice.access),
                204);
  deliver();
  json_t *offered = json_object_get(body_of(only("/offers", "registration.offered")), "data");
  expect_keys(offered, "id", "user", "event", "ticket_type", "registered_at", "is_waitlisted",
              "ticket", "offer_expires_at", NULL);
  expect_int(offered, "id", bob_reg);
  expect_bool(offered, "is_waitlisted", true);
  expect_null(offered, "ticket");
  long long until = api_parse_iso_us(str_of(offered, "offer_expires_at"));
  expect_that(until > api_now_us() + 5 * 3600 * 1000000LL, "held 6 hours: %s", api_dump(offered));

  expect_status(api_post(api_printf("/api/registrations/%lld/accept/", bob_reg), bob.access,
                         "{}"), 200);
  deliver();
  json_t *promoted = json_object_get(body_of(only("/offers", "registration.promoted")), "data");
  expect_int(promoted, "id", bob_reg);
  expect_bool(promoted, "is_waitlisted", false);
  expect_that(json_is_object(json_object_get(promoted, "ticket")), "%s", api_dump(promoted));
}
