/*
 * keys.c - docs/api.md "API keys": made with a token and shown once, kept
 * as a hash, used as "Authorization: Api-Key", held to their scopes and
 * their event, and never more than their user may do: revoked, expired,
 * or their user inactive or gone, they open nothing.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/api.h"
#include "support/db.h"

#define KEYS "/api/keys/"
#define KEY_KEYS "id", "name", "prefix", "scopes", "event", "expires_at", "last_used_at", \
    "created_at"
#define INVALID "{'detail':'Invalid API key.','code':'api_key_not_valid'}"
#define NOT_HERE "{'detail':'API keys may not be used here.'}"

TestSuite(keys, .init = api_server_start, .fini = api_server_stop);

/* ---- helpers ------------------------------------------------------------ */

/* A request with "Authorization: Api-Key key" (json NULL: no body). */
static struct api_resp *with_key(const char *method, const char *path, const char *key,
                                 const char *json)
{
  const char *headers[] = {api_printf("Authorization: Api-Key %s", key), NULL};
  return api_request(method, path, NULL, json ? "application/json" : NULL, json,
                     json ? strlen(json) : 0, headers);
}

/* Makes a key of token's (body: single-quoted JSON), asserting 201; the key. */
static const char *make_key(const char *token, const char *body)
{
  struct api_resp *r = api_post(KEYS, token, api_json(body));
  expect_status(r, 201);
  return api_strdup(json_string_value(json_object_get(r->json, "key")));
}

/* An event of token's, with one ticket type; its id, and its ticket type in *type. */
static long long ticketed_event(const char *token, long long *type)
{
  struct api_event e = api_create_event(token, api_json(
      "{'capacity':0,'ticket_types':[{'name':'General','price':'10','quantity':0}]}"));
  *type = e.ticket_types[0];
  return e.id;
}

static const char *hold(const char *token, long long event, long long type)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event), token,
                                api_jsonf("{\"ticket_type\":%lld}", type));
  expect_status(r, 200);
  return api_ticket_code(r);
}

static const char *check_in_path(const char *code)
{
  return api_printf("/api/tickets/%s/check-in/", code);
}

/* ---- made once, kept as a hash ----------------------------------------------- */

Test(keys, a_key_is_shown_once_and_kept_only_as_a_hash)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long before = api_now_us();
  struct api_resp *r = api_post(KEYS, olga.access,
                                api_json("{'name':'Door scanner','scopes':['checkin','events:read']}"));
  long long after = api_now_us();
  expect_status(r, 201);
  expect_keys(r, KEY_KEYS, "key", NULL);
  const char *key = json_string_value(json_object_get(r->json, "key"));
  cr_assert(key && strlen(key) == 47 && strncmp(key, "eak_", 4) == 0, "key: %s", r->body);
  cr_assert(strspn(key + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            == 43, "not base64url: %s", key);
  expect_str(r, "prefix", api_printf("%.12s", key));
  expect_str(r, "name", "Door scanner");
  /* In the documented order, whatever the order sent. */
  cr_assert_str_eq(api_dump(json_object_get(r->json, "scopes")), "[\"events:read\",\"checkin\"]");
  expect_null(r, "event");
  expect_null(r, "expires_at");
  expect_null(r, "last_used_at");
  expect_time_within(r, "created_at", before, after);

  /* Listed without it. */
  r = api_get(KEYS, olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  expect_keys(json_array_get(r->json, 0), KEY_KEYS, NULL);
  cr_assert(strstr(r->body, key) == NULL, "the list shows the key: %s", r->body);
  /* Stored as a SHA-256 and its first characters, never itself. */
  const char *row = api_db_text("SELECT hash || ' ' || prefix || ' ' || name FROM api_keys");
  cr_assert(strstr(row, key) == NULL && strstr(row, key + 12) == NULL, "stored: %s", row);
  cr_assert_eq(strcspn(row, " "), 64, "not a hex SHA-256: %s", row);
  /* Two keys are never the same. */
  cr_assert_str_neq(make_key(olga.access, "{'name':'b','scopes':['checkin']}"), key);
}

/* ---- held to their scopes ---------------------------------------------------- */

Test(keys, a_key_does_what_its_scopes_allow_and_nothing_else)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long type, event = ticketed_event(olga.access, &type);
  const char *code = hold(alice.access, event, type);
  const char *key = make_key(olga.access, "{'name':'door','scopes':['checkin']}");

  struct api_resp *r = with_key("POST", check_in_path(code), key, NULL);
  expect_status(r, 200);
  expect_bool(r, "is_checked_in", true);
  /* Written down as olga's. */
  cr_assert_eq(api_db_int("SELECT by_id FROM check_in_audit WHERE event_id = ?", event), olga.id);
  expect_status(with_key("GET", api_printf("/api/events/%lld/check-ins/stats/", event), key,
                         NULL), 200);

  r = with_key("GET", "/api/events/", key, NULL);
  expect_status(r, 403);
  expect_body(r, "{'detail':'This API key does not have the scope \\\"events:read\\\".'}");
  r = with_key("GET", api_printf("/api/events/%lld/registrations/", event), key, NULL);
  expect_body(r, "{'detail':'This API key does not have the scope \\\"registrations:read\\\".'}");
  /* Token-only routes refuse every key: a key cannot make another, nor
   * change its user. */
  expect_status(r = with_key("GET", "/api/users/me/", key, NULL), 403);
  expect_body(r, NOT_HERE);
  expect_body(with_key("POST", KEYS, key, "{\"name\":\"x\",\"scopes\":[\"checkin\"]}"), NOT_HERE);
  expect_body(with_key("POST", "/api/users/me/password/", key, "{}"), NOT_HERE);

  /* Wider scopes open what they name. */
  const char *reader = make_key(olga.access,
                                "{'name':'reader','scopes':['events:read','registrations:read']}");
  expect_status(with_key("GET", "/api/events/", reader, NULL), 200);
  r = with_key("GET", api_printf("/api/events/%lld/registrations/", event), reader, NULL);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1);
  expect_body(with_key("PATCH", api_printf("/api/events/%lld/update/", event), reader,
                       "{\"title\":\"x\"}"),
              "{'detail':'This API key does not have the scope \\\"events:write\\\".'}");
  const char *writer = make_key(olga.access, "{'name':'w','scopes':['events:write']}");
  r = with_key("PATCH", api_printf("/api/events/%lld/update/", event), writer,
               "{\"title\":\"Renamed by a key\"}");
  expect_status(r, 200);
  expect_str(r, "title", "Renamed by a key");
}

Test(keys, a_key_never_does_more_than_its_user)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long type, event = ticketed_event(olga.access, &type);
  const char *code = hold(alice.access, event, type);
  /* Alice's key with every scope is still Alice: not at the door. */
  const char *key = make_key(alice.access, "{'name':'all','scopes':['events:read',"
                             "'events:write','registrations:read','checkin','webhooks']}");
  expect_status(with_key("POST", check_in_path(code), key, NULL), 403);
  expect_status(with_key("PATCH", api_printf("/api/events/%lld/update/", event), key,
                         "{\"title\":\"x\"}"), 403);
  expect_status(with_key("GET", "/api/webhooks/", key, NULL), 403);
  expect_status(with_key("POST", "/api/events/create/", key, api_event_json(NULL)), 403);
}

Test(keys, a_key_for_one_event_reaches_that_event_only)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long type1, one = ticketed_event(olga.access, &type1);
  long long type2, two = ticketed_event(olga.access, &type2);
  const char *mine = hold(alice.access, one, type1);
  const char *other = hold(alice.access, two, type2);
  struct api_resp *r = api_post(KEYS, olga.access, api_jsonf(
      "{\"name\":\"gate\",\"scopes\":[\"checkin\",\"events:read\"],\"event\":%lld}", one));
  expect_status(r, 201);
  expect_int(r, "event", one);
  const char *key = json_string_value(json_object_get(r->json, "key"));

  expect_status(with_key("POST", check_in_path(mine), key, NULL), 200);
  r = with_key("POST", check_in_path(other), key, NULL);
  expect_status(r, 404);
  expect_body(r, "{'detail':'No Ticket matches the given query.'}");
  expect_status(with_key("GET", api_printf("/api/events/%lld/", one), key, NULL), 200);
  r = with_key("GET", api_printf("/api/events/%lld/", two), key, NULL);
  expect_status(r, 404);
  expect_body(r, "{'detail':'No Event matches the given query.'}");
  r = with_key("GET", api_printf("/api/events/%lld/check-ins/", two), key, NULL);
  expect_status(r, 404);
  /* Lists span events: not for a key of one. */
  r = with_key("GET", "/api/events/", key, NULL);
  expect_status(r, 403);
  expect_body(r, api_printf("{'detail':'This API key is for event %lld only.'}", one));
  cr_assert_eq(api_db_int("SELECT count(*) FROM tickets t JOIN registrations r"
                          " ON r.id = t.registration_id WHERE r.event_id = ?"
                          " AND t.checked_in_at IS NOT NULL", two), 0);
}

/* ---- revoked, expired, or their user gone --------------------------------------- */

Test(keys, a_revoked_expired_or_unknown_key_opens_nothing)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user mallory = api_signup("mallory", "organizer");
  const char *key = make_key(olga.access, "{'name':'k','scopes':['events:read']}");
  long long id = api_db_int("SELECT id FROM api_keys WHERE user_id = ?", olga.id);
  expect_status(with_key("GET", "/api/events/", key, NULL), 200);

  /* Another user's key is not theirs to revoke. */
  expect_body(api_delete(api_printf(KEYS "%lld/", id), mallory.access),
              "{'detail':'No API key matches the given query.'}");
  cr_assert_eq(json_array_size(api_get(KEYS, mallory.access)->json), 0);
  expect_status(api_delete(api_printf(KEYS "%lld/", id), olga.access), 204);
  struct api_resp *r = with_key("GET", "/api/events/", key, NULL);
  expect_status(r, 401);
  expect_body(r, INVALID);
  expect_status(api_delete(api_printf(KEYS "%lld/", id), olga.access), 404);

  /* One that expires works until then. */
  const char *brief = make_key(olga.access, api_printf(
      "{'name':'brief','scopes':['events:read'],'expires_at':'%s'}", api_iso_from_now(60)));
  expect_status(with_key("GET", "/api/events/", brief, NULL), 200);
  api_clock_advance(61);
  expect_body(with_key("GET", "/api/events/", brief, NULL), INVALID);

  /* Made up, cut short, one character off, or with nothing after the word. */
  char forged[64];
  snprintf(forged, sizeof forged, "%s", key);
  forged[20] = forged[20] == 'A' ? 'B' : 'A';
  const char *bad[] = {"eak_", "eak_x", forged, api_repeat('a', 47), "Bearer"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_body(with_key("GET", "/api/events/", bad[i], NULL), INVALID);
  const char *headers[] = {"Authorization: Api-Key", NULL};
  r = api_request("GET", "/api/events/", NULL, NULL, NULL, 0, headers);
  expect_status(r, 401);
  const char *two_words[] = {api_printf("Authorization: Api-Key %s %s", key, key), NULL};
  expect_status(api_request("GET", "/api/events/", NULL, NULL, NULL, 0, two_words), 401);
}

Test(keys, a_key_loses_its_power_when_its_user_does)
{
  struct api_user admin = api_admin("root");
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user alice = api_signup("alice", NULL);
  long long type, event = ticketed_event(olga.access, &type);
  const char *first = hold(alice.access, event, type);
  expect_status(api_post(api_printf("/api/events/%lld/staff/", event), olga.access,
                         api_jsonf("{\"user\":%lld}", vera.id)), 201);
  const char *key = make_key(vera.access, "{'name':'vera at the door','scopes':['checkin']}");
  expect_status(with_key("POST", check_in_path(first), key, NULL), 200);

  /* Off the staff: the key is no more at the door than Vera is. */
  expect_status(api_delete(api_printf("/api/events/%lld/staff/%lld/", event, vera.id),
                           olga.access), 204);
  expect_status(with_key("DELETE", check_in_path(first), key, NULL), 404);

  /* Olga made inactive: her key with her. */
  const char *olgas = make_key(olga.access, "{'name':'o','scopes':['checkin']}");
  expect_status(with_key("DELETE", check_in_path(first), olgas, NULL), 200);
  expect_status(api_patch(api_user_path(olga.id), admin.access, "{\"is_active\":false}"), 200);
  struct api_resp *r = with_key("POST", check_in_path(first), olgas, NULL);
  expect_status(r, 401);
  expect_body(r, "{'detail':'User is inactive','code':'user_inactive'}");
  /* Vera deleted: her keys go with her. */
  expect_status(api_delete(api_user_path(vera.id), admin.access), 204);
  cr_assert_eq(api_db_int("SELECT count(*) FROM api_keys WHERE user_id = ?", vera.id), 0);
  expect_body(with_key("POST", check_in_path(first), key, NULL), INVALID);
}

/* ---- what a key is made of ---------------------------------------------------- */

Test(keys, a_key_is_refused_with_reasons_for_bad_fields)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user mallory = api_signup("mallory", "organizer");
  long long type, hers = ticketed_event(mallory.access, &type);
  struct {
    const char *body, *answer;
  } cases[] = {
    {"{}", "{'name':['This field is required.'],'scopes':['This field is required.']}"},
    {"{'name':'','scopes':['checkin']}", "{'name':['This field may not be blank.']}"},
    {"{'name':'k','scopes':'checkin'}",
     "{'scopes':['Expected a list of items but got type \\\"str\\\".']}"},
    {"{'name':'k','scopes':[]}", "{'scopes':['This selection may not be empty.']}"},
    {"{'name':'k','scopes':['checkin','admin']}",
     "{'scopes':['\\\"admin\\\" is not a valid choice.']}"},
    {"{'name':'k','scopes':['checkin'],'event':'x'}",
     "{'event':['Incorrect type. Expected pk value, received str.']}"},
    {"{'name':'k','scopes':['checkin'],'event':99999}",
     "{'event':['Invalid pk \\\"99999\\\" - object does not exist.']}"},
    {"{'name':'k','scopes':['checkin'],'expires_at':'2000-01-01T00:00:00Z'}",
     "{'expires_at':['Ensure this value is in the future.']}"},
    {"{'name':'k','scopes':['checkin'],'expires_at':'soon'}",
     "{'expires_at':['Datetime has wrong format. Use one of these formats instead: "
     "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].']}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct api_resp *r = api_post(KEYS, olga.access, api_json(cases[i].body));
    expect_status(r, 400);
    expect_body(r, cases[i].answer);
  }
  /* Another organizer's event is not one to make a key for. */
  struct api_resp *r = api_post(KEYS, olga.access, api_jsonf(
      "{\"name\":\"k\",\"scopes\":[\"checkin\"],\"event\":%lld}", hers));
  expect_body(r, api_printf("{'event':['Invalid pk \\\"%lld\\\" - object does not exist.']}",
                            hers));
  cr_assert_eq(api_db_int("SELECT count(*) FROM api_keys WHERE user_id = ?", olga.id), 0);
  expect_status(api_post(KEYS, NULL, api_json("{'name':'k','scopes':['checkin']}")), 401);

  /* At most 20 a user. */
  for (int i = 0; i < 20; i++)
    make_key(olga.access, "{'name':'k','scopes':['checkin']}");
  r = api_post(KEYS, olga.access, api_json("{'name':'k','scopes':['checkin']}"));
  expect_body(r, "{'non_field_errors':['You may have at most 20 API keys. "
                 "Revoke one you no longer use.']}");
}

Test(keys, a_keys_last_use_is_written_down)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *key = make_key(olga.access, "{'name':'k','scopes':['webhooks']}");
  long long id = api_db_int("SELECT id FROM api_keys WHERE user_id = ?", olga.id);
  long long before = api_now_us();
  expect_status(with_key("GET", "/api/webhooks/", key, NULL), 200);
  long long after = api_now_us();
  api_db_wait("SELECT count(*) FROM api_keys WHERE id = ? AND last_used_at IS NOT NULL", id, 1,
              10000);
  struct api_resp *r = api_get(KEYS, olga.access);
  expect_time_within(json_array_get(r->json, 0), "last_used_at", before, after);
}

/* GET /api/events/door/ to a key: the scanner's event picker. */
Test(keys, a_scanner_key_lists_the_events_of_its_door)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long type;
  long long one = ticketed_event(olga.access, &type);
  long long two = ticketed_event(olga.access, &type);
  const char *any = make_key(olga.access, "{'name':'Any door','scopes':['checkin']}");
  const char *single = make_key(olga.access, api_printf(
      "{'name':'Hall B','scopes':['checkin','registrations:read'],'event':%lld}", two));
  const char *reader = make_key(olga.access, "{'name':'Site','scopes':['events:read']}");

  struct api_resp *r = with_key("GET", "/api/events/door/", any, NULL);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  r = with_key("GET", "/api/events/door/", single, NULL);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  cr_assert_eq(api_int(json_array_get(r->json, 0), "id"), two);
  cr_assert_neq(two, one);
  r = with_key("GET", "/api/events/door/", reader, NULL);
  expect_status(r, 403);
}
