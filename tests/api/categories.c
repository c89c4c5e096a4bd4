/*
 * categories.c - API.md "Categories": the list by name, one category, who
 * may create, change and delete them, the slug made from the name, the
 * uniqueness of names and slugs, and events losing a deleted category.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/api.h"

#define CATEGORIES "/api/events/categories/"
#define CATEGORY_KEYS "id", "name", "slug", NULL

#define NO_CATEGORY "No Category matches the given query."
#define NAME_TAKEN "category with this name already exists."
#define SLUG_TAKEN "category with this slug already exists."
/* DRF's SlugField message (ModelSerializer drops Django's validate_slug). */
#define SLUG_INVALID \
  "Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."

TestSuite(categories, .init = api_server_start, .fini = api_server_stop);

static const char *category_path(long long id)
{
  return api_printf(CATEGORIES "%lld/", id);
}

/* POSTs a category (single-quoted JSON) as token. */
static struct api_resp *post_category(const char *token, const char *single_quoted_json)
{
  return api_post(CATEGORIES, token, api_json(single_quoted_json));
}

/* The list's "name" values joined by "|". */
static const char *listed_names(struct api_resp *r)
{
  expect_status(r, 200);
  expect_that(json_is_array(r->json), "expected an array: %s", r->body);
  const char *names = "";
  size_t i;
  json_t *item;
  json_array_foreach(r->json, i, item) {
    expect_keys(item, CATEGORY_KEYS);
    names = api_printf("%s%s%s", names, i ? "|" : "",
                       json_string_value(json_object_get(item, "name")));
  }
  return names;
}

static void expect_names(struct api_resp *r, const char *names)
{
  const char *got = listed_names(r);
  expect_that(strcmp(got, names) == 0, "expected categories %s, got %s", names, got);
}

/* api_event_json() with "category": category_id (0: null). */
static const char *in_category(long long category_id)
{
  return category_id ? api_printf("{'category':%lld}", category_id) : "{'category':null}";
}

/* ---- list and detail ---------------------------------------------------- */

Test(categories, list_is_an_empty_array_at_first)
{
  struct api_resp *r = api_get(CATEGORIES, NULL);
  expect_status(r, 200);
  expect_json_response(r);
  expect_body(r, "[]");
}

Test(categories, list_is_for_anyone_and_ordered_by_name)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", "attendee");
  api_create_category(olga.access, "Theatre");
  api_create_category(olga.access, "Art");
  api_create_category(olga.access, "Music");
  api_create_category(olga.access, "Dance");

  expect_names(api_get(CATEGORIES, NULL), "Art|Dance|Music|Theatre");
  expect_names(api_get(CATEGORIES, alice.access), "Art|Dance|Music|Theatre");
  expect_names(api_get(CATEGORIES, olga.access), "Art|Dance|Music|Theatre");
  /* The path without its trailing slash answers the same. */
  expect_names(api_get("/api/events/categories", NULL), "Art|Dance|Music|Theatre");
}

Test(categories, detail_answers_one_category_to_anyone)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_category(olga.access, "Live Music");

  struct api_resp *r = api_get(category_path(id), NULL);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, CATEGORY_KEYS);
  expect_int(r, "id", id);
  expect_str(r, "name", "Live Music");
  expect_str(r, "slug", "live-music");

  struct api_user alice = api_signup("alice", "attendee");
  expect_str(api_get(category_path(id), alice.access), "name", "Live Music");
}

Test(categories, detail_of_a_missing_category_is_404)
{
  struct api_resp *r = api_get(category_path(424242), NULL);
  expect_status(r, 404);
  expect_json_response(r);
  expect_detail(r, NO_CATEGORY);
}

/* ---- create ------------------------------------------------------------- */

Test(categories, organizer_creates_a_category)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = post_category(olga.access, "{'name':'Jazz','slug':'jazz-club'}");
  expect_status(r, 201);
  expect_json_response(r);
  expect_keys(r, CATEGORY_KEYS);
  long long id = api_id(r);
  expect_str(r, "name", "Jazz");
  expect_str(r, "slug", "jazz-club");

  r = api_get(category_path(id), NULL);
  expect_status(r, 200);
  expect_str(r, "slug", "jazz-club");
  expect_names(api_get(CATEGORIES, NULL), "Jazz");
}

Test(categories, admin_creates_a_category)
{
  struct api_user root = api_admin("root");
  struct api_resp *r = post_category(root.access, "{'name':'Sports'}");
  expect_status(r, 201);
  expect_keys(r, CATEGORY_KEYS);
  expect_str(r, "name", "Sports");
  expect_str(r, "slug", "sports");
}

Test(categories, attendee_may_not_create)
{
  struct api_user alice = api_signup("alice", "attendee");
  struct api_resp *r = post_category(alice.access, "{'name':'Jazz'}");
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  expect_body(api_get(CATEGORIES, NULL), "[]");
}

Test(categories, anonymous_may_not_create)
{
  struct api_resp *r = post_category(NULL, "{'name':'Jazz'}");
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
  expect_body(api_get(CATEGORIES, NULL), "[]");
}

Test(categories, slug_is_made_from_the_name)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = post_category(olga.access, "{'name':'Rock & Roll Nights'}");
  expect_status(r, 201);
  expect_str(r, "name", "Rock & Roll Nights");
  expect_str(r, "slug", "rock-roll-nights");

  r = post_category(olga.access, "{'name':'  Hip-Hop -- 1973  '}");
  expect_status(r, 201);
  expect_str(r, "name", "Hip-Hop -- 1973");
  expect_str(r, "slug", "hip-hop-1973");
}

Test(categories, slug_made_from_a_name_with_accents_drops_only_the_accents)
{
  /* Django's slugify folds to ASCII (NFKD) before dropping the rest. */
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = post_category(olga.access, "{'name':'Caf\u00e9 \u00dcber Alles'}");
  expect_status(r, 201);
  expect_str(r, "name", "Caf\u00e9 \u00dcber Alles");
  expect_str(r, "slug", "cafe-uber-alles");
}

Test(categories, taken_generated_slug_gets_a_number)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = post_category(olga.access, "{'name':'Rock & Roll'}");
  expect_status(r, 201);
  expect_str(r, "slug", "rock-roll");

  r = post_category(olga.access, "{'name':'Rock Roll'}");
  expect_status(r, 201);
  expect_str(r, "name", "Rock Roll");
  expect_str(r, "slug", "rock-roll-2");

  r = post_category(olga.access, "{'name':'Rock, Roll!'}");
  expect_status(r, 201);
  expect_str(r, "slug", "rock-roll-3");
}

Test(categories, given_slug_is_kept_as_sent)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = post_category(olga.access, "{'name':'Electronic','slug':'EDM_1977'}");
  expect_status(r, 201);
  expect_str(r, "slug", "EDM_1977");
}

Test(categories, invalid_given_slug_is_refused)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = post_category(olga.access, "{'name':'Jazz','slug':'a b'}");
  expect_status(r, 400);
  expect_keys(r, "slug", NULL);
  expect_field_errors(r, "slug", SLUG_INVALID, NULL);

  r = post_category(olga.access, "{'name':'Jazz','slug':'caf\u00e9'}");
  expect_status(r, 400);
  expect_keys(r, "slug", NULL);
  expect_body(api_get(CATEGORIES, NULL), "[]");
}

Test(categories, name_is_required_and_not_blank)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = post_category(olga.access, "{}");
  expect_status(r, 400);
  expect_body(r, "{'name':['This field is required.']}");

  r = post_category(olga.access, "{'name':'   '}");
  expect_status(r, 400);
  expect_body(r, "{'name':['This field may not be blank.']}");

  r = post_category(olga.access, "{'name':null}");
  expect_status(r, 400);
  expect_body(r, "{'name':['This field may not be null.']}");
  expect_body(api_get(CATEGORIES, NULL), "[]");
}

Test(categories, name_taken_in_any_case_is_refused)
{
  struct api_user olga = api_signup("olga", "organizer");
  api_create_category(olga.access, "Jazz");

  struct api_resp *r = post_category(olga.access, "{'name':'JAZZ','slug':'other-jazz'}");
  expect_status(r, 400);
  expect_body(r, "{'name':['" NAME_TAKEN "']}");

  r = post_category(olga.access, "{'name':'jazz'}");
  expect_status(r, 400);
  expect_field_errors(r, "name", NAME_TAKEN, NULL);
  expect_names(api_get(CATEGORIES, NULL), "Jazz");
}

Test(categories, given_slug_taken_is_refused)
{
  struct api_user olga = api_signup("olga", "organizer");
  api_create_category(olga.access, "Jazz");

  struct api_resp *r = post_category(olga.access, "{'name':'Free Jazz','slug':'jazz'}");
  expect_status(r, 400);
  expect_body(r, "{'slug':['" SLUG_TAKEN "']}");
  expect_names(api_get(CATEGORIES, NULL), "Jazz");
}

Test(categories, create_and_update_take_form_bodies)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *form = "name=Jazz+%26+Blues&slug=";
  struct api_resp *r = api_request("POST", CATEGORIES, olga.access,
                                   "application/x-www-form-urlencoded", form, strlen(form), NULL);
  expect_status(r, 201);
  /* A blank optional slug in a form is not given: made from the name. */
  expect_body(r, api_printf("{'id':%lld,'name':'Jazz & Blues','slug':'jazz-blues'}", api_id(r)));
  long long id = api_id(r);

  struct api_user root = api_admin("root");
  const char *body = "--B\r\nContent-Disposition: form-data; name=\"slug\"\r\n\r\njazz\r\n--B--\r\n";
  r = api_request("PATCH", category_path(id), root.access, "multipart/form-data; boundary=B",
                  body, strlen(body), NULL);
  expect_status(r, 200);
  expect_str(r, "slug", "jazz");
  expect_str(r, "name", "Jazz & Blues");
  form = "name=&slug=no+spaces";
  r = api_request("PUT", category_path(id), root.access, "application/x-www-form-urlencoded",
                  form, strlen(form), NULL);
  expect_status(r, 400);
  expect_keys(r, "name", "slug", NULL);
  expect_field_errors(r, "name", "This field may not be blank.", NULL);
  expect_field_errors(r, "slug", SLUG_INVALID, NULL);
}

Test(categories, malformed_bodies_are_client_errors)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_post(CATEGORIES, olga.access, "{\"name\": ");
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "JSON parse error - ");

  r = api_post(CATEGORIES, olga.access, "[\"Jazz\"]");
  expect_status(r, 400);
  expect_json_response(r);

  r = api_request("POST", CATEGORIES, olga.access, "text/plain", "name=Jazz", 9, NULL);
  expect_status(r, 415);

  r = post_category(olga.access, api_printf("{'name':'%s'}", api_repeat('n', 101)));
  expect_status(r, 400);
  expect_field_errors(r, "name", "Ensure this field has no more than 100 characters.", NULL);
  expect_body(api_get(CATEGORIES, NULL), "[]");
  expect_alive();
}

/* ---- update and delete -------------------------------------------------- */

Test(categories, admin_puts_a_new_name_and_slug)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user root = api_admin("root");
  long long id = api_create_category(olga.access, "Jazz");

  struct api_resp *r = api_put(category_path(id), root.access,
                               api_json("{'name':'Blues','slug':'blues'}"));
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, CATEGORY_KEYS);
  expect_int(r, "id", id);
  expect_str(r, "name", "Blues");
  expect_str(r, "slug", "blues");

  r = api_get(category_path(id), NULL);
  expect_str(r, "name", "Blues");
  expect_str(r, "slug", "blues");
}

Test(categories, admin_patches_only_what_is_sent)
{
  struct api_user root = api_admin("root");
  long long id = api_create_category(root.access, "Jazz");

  struct api_resp *r = api_patch(category_path(id), root.access, api_json("{'slug':'all-jazz'}"));
  expect_status(r, 200);
  expect_str(r, "name", "Jazz");
  expect_str(r, "slug", "all-jazz");

  r = api_patch(category_path(id), root.access, api_json("{'name':'Jazz & Soul'}"));
  expect_status(r, 200);
  expect_str(r, "name", "Jazz & Soul");
  expect_str(r, "slug", "all-jazz");

  r = api_get(category_path(id), NULL);
  expect_str(r, "name", "Jazz & Soul");
  expect_str(r, "slug", "all-jazz");
}

Test(categories, put_requires_the_name)
{
  struct api_user root = api_admin("root");
  long long id = api_create_category(root.access, "Jazz");
  struct api_resp *r = api_put(category_path(id), root.access, api_json("{'slug':'x'}"));
  expect_status(r, 400);
  expect_body(r, "{'name':['This field is required.']}");
  expect_str(api_get(category_path(id), NULL), "slug", "jazz");
}

Test(categories, update_may_keep_its_own_name_but_not_take_another)
{
  struct api_user root = api_admin("root");
  long long jazz = api_create_category(root.access, "Jazz");
  api_create_category(root.access, "Blues");

  struct api_resp *r = api_put(category_path(jazz), root.access,
                               api_json("{'name':'JAZZ','slug':'jazz'}"));
  expect_status(r, 200);
  expect_str(r, "name", "JAZZ");

  r = api_patch(category_path(jazz), root.access, api_json("{'name':'blues'}"));
  expect_status(r, 400);
  expect_body(r, "{'name':['" NAME_TAKEN "']}");

  r = api_patch(category_path(jazz), root.access, api_json("{'slug':'blues'}"));
  expect_status(r, 400);
  expect_body(r, "{'slug':['" SLUG_TAKEN "']}");

  r = api_patch(category_path(jazz), root.access, api_json("{'slug':'not valid'}"));
  expect_status(r, 400);
  expect_keys(r, "slug", NULL);

  r = api_get(category_path(jazz), NULL);
  expect_str(r, "name", "JAZZ");
  expect_str(r, "slug", "jazz");
}

Test(categories, only_admins_change_or_delete)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", "attendee");
  long long id = api_create_category(olga.access, "Jazz");
  const char *path = category_path(id);

  struct api_resp *r = api_put(path, olga.access, api_json("{'name':'Blues'}"));
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  expect_status(api_patch(path, olga.access, api_json("{'name':'Blues'}")), 403);
  r = api_delete(path, olga.access);
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  expect_status(api_patch(path, alice.access, api_json("{'name':'Blues'}")), 403);
  expect_status(api_delete(path, alice.access), 403);

  r = api_patch(path, NULL, api_json("{'name':'Blues'}"));
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  expect_status(api_delete(path, NULL), 401);

  r = api_get(path, NULL);
  expect_status(r, 200);
  expect_str(r, "name", "Jazz");
}

Test(categories, update_or_delete_of_a_missing_category_is_404)
{
  struct api_user root = api_admin("root");
  struct api_resp *r = api_patch(category_path(999), root.access, api_json("{'name':'X'}"));
  expect_status(r, 404);
  expect_detail(r, NO_CATEGORY);
  r = api_delete(category_path(999), root.access);
  expect_status(r, 404);
  expect_detail(r, NO_CATEGORY);
}

Test(categories, admin_deletes_a_category)
{
  struct api_user root = api_admin("root");
  long long jazz = api_create_category(root.access, "Jazz");
  api_create_category(root.access, "Blues");

  struct api_resp *r = api_delete(category_path(jazz), root.access);
  expect_status(r, 204);
  expect_empty_body(r);
  r = api_get(category_path(jazz), NULL);
  expect_status(r, 404);
  expect_detail(r, NO_CATEGORY);
  expect_names(api_get(CATEGORIES, NULL), "Blues");
  expect_status(api_delete(category_path(jazz), root.access), 404);

  /* Its name and slug are free again. */
  r = post_category(root.access, "{'name':'Jazz'}");
  expect_status(r, 201);
  expect_str(r, "slug", "jazz");
}

Test(categories, deleting_a_category_leaves_its_events_without_one)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user root = api_admin("root");
  long long jazz = api_create_category(olga.access, "Jazz");
  long long blues = api_create_category(olga.access, "Blues");
  long long jazz_event = api_create_event(olga.access, in_category(jazz)).id;
  long long blues_event = api_create_event(olga.access, in_category(blues)).id;

  const char *jazz_path = api_printf("/api/events/%lld/", jazz_event);
  expect_int(api_get(jazz_path, NULL), "category", jazz);

  expect_status(api_delete(category_path(jazz), root.access), 204);

  struct api_resp *r = api_get(jazz_path, NULL);
  expect_status(r, 200);
  expect_null(r, "category");
  expect_str(r, "title", "Jazz Night");
  r = api_get(api_printf("/api/events/%lld/", blues_event), NULL);
  expect_int(r, "category", blues);

  /* The list shows the same, and filtering by the old id finds nothing. */
  r = api_get("/api/events/", NULL);
  expect_status(r, 200);
  expect_that(json_array_size(r->json) == 2, "two events: %s", r->body);
  json_t *item;
  size_t i;
  json_array_foreach(r->json, i, item) {
    if (json_integer_value(json_object_get(item, "id")) == jazz_event)
      expect_null(item, "category");
  }
  r = api_get(api_printf("/api/events/?category=%lld", jazz), NULL);
  expect_status(r, 200);
  expect_body(r, "[]");
}

Test(categories, events_take_a_category_by_id)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long jazz = api_create_category(olga.access, "Jazz");
  long long event = api_create_event(olga.access, in_category(jazz)).id;
  struct api_resp *r = api_get(api_printf("/api/events/%lld/", event), NULL);
  expect_status(r, 200);
  expect_int(r, "category", jazz);

  r = api_get("/api/events/?category=jazz", NULL);
  expect_status(r, 200);
  expect_that(json_array_size(r->json) == 1, "one event in jazz: %s", r->body);
}

/* ---- at the same time --------------------------------------------------- */

#define RACERS 20

Test(categories, one_name_created_by_many_at_once_is_taken_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_call racers[RACERS] = { 0 };
  for (size_t i = 0; i < RACERS; i++) {
    racers[i].method = "POST";
    racers[i].path = CATEGORIES;
    racers[i].token = olga.access;
    racers[i].body = api_jsonf("{'name':'%s','slug':'jazz-%zu'}", i % 2 ? "Jazz" : "JAZZ", i);
  }
  api_race(racers, RACERS);

  /* One category named Jazz is created; the others are told it is taken. */
  api_race_winner(racers, RACERS, 201, "{'name':['" NAME_TAKEN "']}");
  struct api_resp *r = api_get(CATEGORIES, NULL);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
}

Test(categories, one_generated_slug_wanted_by_many_at_once_is_numbered)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_call racers[RACERS] = { 0 };
  for (size_t i = 0; i < RACERS; i++) {
    racers[i].method = "POST";
    racers[i].path = CATEGORIES;
    racers[i].token = olga.access;
    /* "Rock & Roll", "Rock && Roll", ...: different names, one slug. */
    racers[i].body = api_jsonf("{'name':'Rock %s Roll'}", api_repeat('&', i + 1));
  }
  api_race(racers, RACERS);

  bool taken[RACERS + 1] = { false };
  for (size_t i = 0; i < RACERS; i++) {
    struct api_resp *r = racers[i].resp;
    expect_status(r, 201);
    const char *slug = json_string_value(json_object_get(r->json, "slug"));
    cr_assert(slug != NULL, "%s", r->body);
    int n = 1;
    if (strcmp(slug, "rock-roll") != 0)
      cr_assert(sscanf(slug, "rock-roll-%d", &n) == 1 && n >= 2 && n <= RACERS,
                "unexpected slug: %s", r->body);
    cr_assert(!taken[n], "slug %s given twice", slug);
    taken[n] = true;
  }
  struct api_resp *r = api_get(CATEGORIES, NULL);
  cr_assert_eq(json_array_size(r->json), RACERS, "%s", r->body);
}
