/*
 * idempotency.c - docs/api.md "Safe retries": a write sent with an
 * Idempotency-Key runs once; the same request again (its answer was lost)
 * gets the same answer, marked Idempotent-Replayed, and changes nothing;
 * another request with the key is 422; two at once run one; keys are each
 * user's own and last IDEMPOTENCY_KEY_TTL.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/api.h"

#define MISMATCH "{'detail':'This Idempotency-Key was used with another request (its method, " \
    "path or body differ). Use a new key for a new request.'}"
#define IN_PROGRESS "{'detail':'A request with this Idempotency-Key is still being processed. " \
    "Try again shortly.'}"

TestSuite(idempotency, .init = api_server_start, .fini = api_server_stop);

/* A JSON write as token with the Idempotency-Key key (NULL: none). */
static struct api_resp *keyed(const char *method, const char *path, const char *token,
                              const char *key, const char *json)
{
  /* "Name;" is how curl sends a header with an empty value. */
  const char *headers[] = {key == NULL  ? NULL
                           : key[0]     ? api_printf("Idempotency-Key: %s", key)
                                        : "Idempotency-Key;",
                           NULL};
  return api_request(method, path, token, json ? "application/json" : NULL, json,
                     json ? strlen(json) : 0, headers);
}

/* r2 is r1 again, byte for byte, marked as replayed; r1 was not. */
static void expect_replay(const struct api_resp *r1, const struct api_resp *r2)
{
  cr_assert_eq(r2->status, r1->status, "%ld then %ld: %s", r1->status, r2->status, r2->body);
  cr_assert_eq(r2->len, r1->len);
  cr_assert(memcmp(r1->body, r2->body, r1->len) == 0, "%s\n%s", r1->body, r2->body);
  cr_assert_null(api_header(r1, "Idempotent-Replayed"));
  expect_header(r2, "Idempotent-Replayed", "true");
  const char *type1 = api_header(r1, "Content-Type"), *type2 = api_header(r2, "Content-Type");
  cr_assert((type1 == NULL && type2 == NULL) || (type1 && type2 && strcmp(type1, type2) == 0),
            "Content-Type %s, then %s", type1 ? type1 : "none", type2 ? type2 : "none");
}

/* r is status with body json (single-quoted, as expect_body() takes it). */
static void expect_answer(const struct api_resp *r, long status, const char *json)
{
  expect_status(r, status);
  expect_body(r, json);
}

static long long count_of(const char *path, const char *token)
{
  struct api_resp *r = api_get(path, token);
  expect_status(r, 200);
  return (long long)json_array_size(r->json);
}

Test(idempotency, a_registration_retried_after_a_lost_answer_is_registered_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user ada = api_signup("ada", NULL);
  struct api_event e = api_create_event(olga.access, api_json("{'capacity':0}"));
  const char *path = api_printf("/api/registrations/%lld/register/", e.id);
  struct api_resp *first = keyed("POST", path, ada.access, "reg-7f3a", "{}");
  expect_status(first, 200);
  struct api_resp *again = keyed("POST", path, ada.access, "reg-7f3a", "{}");
  expect_replay(first, again);
  cr_assert_eq(count_of("/api/registrations/me/", ada.access), 1);
  /* Without the key, a second try is what it always was. */
  expect_answer(keyed("POST", path, ada.access, NULL, "{}"), 400,
                "{'non_field_errors':['You are already registered for this event.']}");

  /* The cancel, retried: 204 again, not 404. */
  const char *mine = api_printf("/api/registrations/%lld/", api_id(first));
  struct api_resp *cancelled = keyed("DELETE", mine, ada.access, "cancel-1", NULL);
  expect_status(cancelled, 204);
  expect_replay(cancelled, keyed("DELETE", mine, ada.access, "cancel-1", NULL));
  expect_status(keyed("DELETE", mine, ada.access, "cancel-2", NULL), 404);
  cr_assert_eq(count_of("/api/registrations/me/", ada.access), 0);
}

Test(idempotency, an_event_created_twice_with_one_key_exists_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *body = api_event_json("{'title':'Keyed night'}");
  struct api_resp *first = keyed("POST", "/api/events/create/", olga.access, "ev-1", body);
  expect_status(first, 200);
  struct api_resp *again = keyed("POST", "/api/events/create/", olga.access, "ev-1", body);
  expect_replay(first, again);
  cr_assert_eq(count_of("/api/events/?search=Keyed", NULL), 1);

  /* The same key with another body, path or method: 422, nothing done. */
  expect_answer(keyed("POST", "/api/events/create/", olga.access, "ev-1",
                    api_event_json("{'title':'Another night'}")), 422, MISMATCH);
  expect_answer(keyed("PATCH", api_printf("/api/events/%lld/update/", api_id(first)), olga.access,
                    "ev-1", api_json("{'title':'Renamed'}")), 422, MISMATCH);
  cr_assert_eq(count_of("/api/events/?search=Another", NULL), 0);
  expect_str(api_get(api_printf("/api/events/%lld/", api_id(first)), NULL), "title",
             "Keyed night");
}

Test(idempotency, only_a_change_is_kept_so_a_corrected_request_may_reuse_the_key)
{
  struct api_user olga = api_signup("olga", "organizer");
  /* Refused before any change: the key is not taken. */
  expect_status(keyed("POST", "/api/events/create/", olga.access, "fix-me",
                      api_event_json("{'capacity':-1}")), 400);
  struct api_resp *fixed = keyed("POST", "/api/events/create/", olga.access, "fix-me",
                                 api_event_json(NULL));
  expect_status(fixed, 200);
  cr_assert_null(api_header(fixed, "Idempotent-Replayed"));
}

Test(idempotency, two_requests_with_one_key_at_once_run_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *body = api_event_json("{'title':'Raced night'}");
  const char *const headers[] = {"Idempotency-Key: race-1", NULL};
  struct api_call calls[4];
  for (size_t i = 0; i < 4; i++)
    calls[i] = (struct api_call){.method = "POST", .path = "/api/events/create/",
                                 .token = olga.access, .body = body, .headers = headers};
  api_race(calls, 4);
  size_t ran = 0;
  struct api_resp *winner = NULL;
  for (size_t i = 0; i < 4; i++) {
    struct api_resp *r = calls[i].resp;
    if (r->status == 409) {
      expect_answer(r, 409, IN_PROGRESS);
      expect_header(r, "Retry-After", "1");
      continue;
    }
    expect_status(r, 200);
    if (api_header(r, "Idempotent-Replayed") == NULL) {
      ran++;
      winner = r;
    }
  }
  cr_assert_eq(ran, 1, "exactly one of the racing requests runs");
  for (size_t i = 0; i < 4; i++)
    if (calls[i].resp->status == 200 && calls[i].resp != winner)
      expect_replay(winner, calls[i].resp);
  cr_assert_eq(count_of("/api/events/?search=Raced", NULL), 1);
  /* And once it is done, a late repeat is the replay. */
  expect_replay(winner, keyed("POST", "/api/events/create/", olga.access, "race-1", body));
}

Test(idempotency, keys_are_each_users_own)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user otto = api_signup("otto", "organizer");
  const char *body = api_event_json("{'title':'Shared key'}");
  struct api_resp *a = keyed("POST", "/api/events/create/", olga.access, "same", body);
  struct api_resp *b = keyed("POST", "/api/events/create/", otto.access, "same", body);
  expect_status(a, 200);
  expect_status(b, 200);
  cr_assert_null(api_header(b, "Idempotent-Replayed"));
  cr_assert_neq(api_id(a), api_id(b));
  expect_int(b, "organizer", otto.id);
}

Test(idempotency, a_key_lasts_its_lifetime_then_runs_anew)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *body = api_event_json("{'title':'Expiring key'}");
  struct api_resp *first = keyed("POST", "/api/events/create/", olga.access, "old", body);
  expect_status(first, 200);
  api_clock_advance(23 * 3600);
  olga = api_login("olga", API_PASSWORD); /* its tokens ran out meanwhile */
  expect_replay(first, keyed("POST", "/api/events/create/", olga.access, "old", body));
  api_clock_advance(2 * 3600); /* 25 hours after: the key is gone */
  olga = api_login("olga", API_PASSWORD);
  struct api_resp *anew = keyed("POST", "/api/events/create/", olga.access, "old", body);
  expect_status(anew, 200);
  cr_assert_null(api_header(anew, "Idempotent-Replayed"));
  cr_assert_neq(api_id(anew), api_id(first));
  expect_replay(anew, keyed("POST", "/api/events/create/", olga.access, "old", body));
}

Test(idempotency, a_bad_key_is_400_and_anonymous_writes_ignore_it)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *body = api_event_json(NULL);
  const char *bad[] = {"", "tab\there", "caf\xc3\xa9", api_repeat('k', 256)};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_answer(keyed("POST", "/api/events/create/", olga.access, bad[i], body), 400,
                  "{'detail':'Idempotency-Key must be 1 to 255 printable ASCII characters.'}");
  expect_status(keyed("POST", "/api/events/create/", olga.access, api_repeat('k', 255), body),
                200);
  /* Sign-up has no user to keep a key for: each runs. */
  const char *una = api_json("{'username':'una','email':'una@example.com',"
                             "'password':'" API_PASSWORD "'}");
  expect_status(keyed("POST", "/api/users/register/", NULL, "signup", una), 201);
  expect_answer(keyed("POST", "/api/users/register/", NULL, "signup", una), 400,
                "{'username':['A user with that username already exists.'],"
                "'email':['A user with that email already exists.']}");
}
