/*
 * listing.c - the event list's read path: cached JSON never changes an
 * answer's bytes, every write is seen at once, and entity tags answer 304.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/api.h"

static const char *organizer;

/* One of the five events every test starts with: its day of June. */
static long long
june_event(const char *title, int day)
{
  return api_create_event(organizer, api_printf(
      "{'title':'%s','description':'About %s','date_time':'{Y}-06-%02dT18:00:00Z',"
      "'location':'Hall %d','capacity':%d,"
      "'sessions':[{'title':'Talk','speaker':'Ada','start_time':'{Y}-06-%02dT18:00:00Z',"
      "'end_time':'{Y}-06-%02dT19:00:00Z'}],"
      "'ticket_types':[{'name':'General','price':'12.50','quantity':10}]}",
      title, title, day, day, day * 10, day, day)).id;
}

static void
setup_with(const char *const *env)
{
  api_server_start_with(env);
  organizer = api_signup("olga", "organizer").access;
  for (int day = 1; day <= 5; day++)
    june_event(api_printf("Event %d", day), day);
}

static void
setup_cached(void)
{
  setup_with(NULL);
}

static void
setup_uncached(void)
{
  static const char *const env[] = {"EVENT_CACHE_MB", "0", NULL};
  setup_with(env);
}

/* Each listed event's bytes are exactly the detail answer's bytes. */
static void
expect_list_matches_details(struct api_resp *list)
{
  expect_status(list, 200);
  size_t i;
  json_t *item;
  expect_that(json_array_size(list->json) == 5, "five events: %s", list->body);
  json_array_foreach(list->json, i, item) {
    long long id = api_int(item, "id");
    struct api_resp *detail = api_get(api_printf("/api/events/%lld/", id), NULL);
    expect_status(detail, 200);
    char *listed = json_dumps(item, JSON_COMPACT);
    api_keep(listed, free);
    expect_that(strstr(list->body, detail->body) != NULL,
                "event %lld listed as %s, detail %s", id, listed, detail->body);
  }
}

TestSuite(listing, .init = setup_cached, .fini = api_server_stop);
TestSuite(listing_uncached, .init = setup_uncached, .fini = api_server_stop);

Test(listing, cached_answers_are_byte_identical)
{
  struct api_resp *first = api_get("/api/events/", NULL);
  struct api_resp *second = api_get("/api/events/", NULL);
  expect_status(first, 200);
  expect_status(second, 200);
  expect_that(first->len == second->len && memcmp(first->body, second->body, first->len) == 0,
              "second answer differs: %s", second->body);
  expect_list_matches_details(second);
  struct api_resp *page = api_get("/api/events/?limit=2&offset=1", NULL);
  expect_status(page, 200);
  expect_that(strncmp(page->body, "{\"count\":5,\"next\":", 18) == 0, "envelope: %s", page->body);
}

Test(listing_uncached, uncached_answers_match_details)
{
  expect_list_matches_details(api_get("/api/events/", NULL));
}

Test(listing, a_write_is_seen_at_once)
{
  struct api_resp *before = api_get("/api/events/?search=event", NULL);
  expect_status(before, 200);
  long long id = api_int(json_array_get(before->json, 2), "id");
  expect_status(api_patch(api_printf("/api/events/%lld/update/", id), organizer,
                          api_json("{'title':'Renamed'}")), 200);
  struct api_resp *after = api_get("/api/events/", NULL);
  expect_str(json_array_get(after->json, 2), "title", "Renamed");
  /* A nested change is a change of the event too. */
  expect_status(api_post(api_printf("/api/events/%lld/ticket-types/", id), organizer,
                         api_json("{'name':'VIP','price':'99.00','quantity':2}")), 201);
  after = api_get("/api/events/", NULL);
  json_t *types = json_object_get(json_array_get(after->json, 2), "ticket_types");
  expect_that(json_array_size(types) == 2, "two ticket types: %s", after->body);
  expect_list_matches_details(after);
}

Test(listing, deleting_a_category_changes_the_cached_events)
{
  struct api_user admin = api_admin("root");
  struct api_resp *c = api_post("/api/events/categories/", admin.access, api_json("{'name':'Jazz'}"));
  expect_status(c, 201);
  long long category = api_id(c);
  struct api_resp *list = api_get("/api/events/", NULL);
  long long id = api_int(json_array_get(list->json, 0), "id");
  expect_status(api_patch(api_printf("/api/events/%lld/update/", id), organizer,
                          api_jsonf("{\"category\":%lld}", category)), 200);
  expect_int(json_array_get(api_get("/api/events/", NULL)->json, 0), "category", category);
  expect_status(api_delete(api_printf("/api/events/categories/%lld/", category), admin.access), 204);
  expect_null(json_array_get(api_get("/api/events/", NULL)->json, 0), "category");
}

Test(listing, entity_tags_answer_not_modified)
{
  struct api_resp *r = api_get("/api/events/?ordering=-title", NULL);
  const char *etag = api_header(r, "ETag");
  expect_that(etag && strncmp(etag, "W/\"", 3) == 0, "weak ETag: %s", etag ? etag : "(none)");
  const char *const if_none_match[] = {api_printf("If-None-Match: %s", etag), NULL};
  struct api_resp *again = api_request("GET", "/api/events/?ordering=-title", NULL, NULL, NULL, 0,
                                       if_none_match);
  expect_status(again, 304);
  expect_that(again->len == 0, "304 without a body");
  expect_header(again, "ETag", etag);
  /* Another query, or a change, is another tag. */
  struct api_resp *other = api_request("GET", "/api/events/?ordering=title", NULL, NULL, NULL, 0,
                                       if_none_match);
  expect_status(other, 200);
  long long id = api_int(json_array_get(r->json, 0), "id");
  expect_status(api_patch(api_printf("/api/events/%lld/update/", id), organizer,
                          api_json("{'location':'Elsewhere'}")), 200);
  struct api_resp *changed = api_request("GET", "/api/events/?ordering=-title", NULL, NULL, NULL,
                                         0, if_none_match);
  expect_status(changed, 200);
  expect_that(strcmp(api_header(changed, "ETag"), etag) != 0, "a new tag after a change");
}

Test(listing, visibility_is_part_of_the_answer)
{
  expect_status(api_post("/api/events/create/", organizer, api_json(
      "{'title':'Secret','date_time':'{Y}-07-01T10:00:00Z','location':'X','capacity':0,"
      "'visibility':'private'}")), 200);
  struct api_resp *anonymous = api_get("/api/events/", NULL);
  struct api_resp *owner = api_get("/api/events/", organizer);
  expect_that(json_array_size(anonymous->json) == 5, "anonymous sees the public five");
  expect_that(json_array_size(owner->json) == 6, "the organizer sees their private one");
  expect_that(strcmp(api_header(anonymous, "ETag"), api_header(owner, "ETag")) != 0,
              "different answers, different tags");
}

Test(listing, many_query_parameters_are_kept_in_the_links)
{
  char path[4096] = "/api/events/?limit=1&offset=1";
  for (int i = 0; i < 80; i++)
    snprintf(path + strlen(path), sizeof path - strlen(path), "&p%02d=v%d", i, i);
  struct api_resp *r = api_get(path, NULL);
  expect_status(r, 200);
  const char *next = json_string_value(json_object_get(r->json, "next"));
  expect_that(next && strstr(next, "p00=v0") && strstr(next, "p79=v79") &&
              strstr(next, "limit=1&offset=2"), "next keeps every parameter: %s", r->body);
  expect_alive();
}

Test(listing, nested_lists_are_bounded)
{
  size_t cap = 64 * 1024, len = 0;
  char *body = malloc(cap);
  cr_assert_not_null(body);
  api_keep(body, free);
  len += (size_t)snprintf(body + len, cap - len,
      "{\"title\":\"Big\",\"date_time\":\"%s\",\"location\":\"X\",\"capacity\":0,"
      "\"ticket_types\":[", api_date("{Y}-06-01T10:00:00Z"));
  for (int i = 0; i < 101; i++)
    len += (size_t)snprintf(body + len, cap - len, "%s{\"name\":\"T%d\",\"price\":\"1\",\"quantity\":1}",
                            i ? "," : "", i);
  snprintf(body + len, cap - len, "]}");
  struct api_resp *r = api_post("/api/events/create/", organizer, body);
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':{'non_field_errors':['Ensure this field has no more than 100 elements.']}}");
}

Test(listing, dates_past_year_9999_in_utc_are_refused)
{
  struct api_resp *r = api_post("/api/events/create/", organizer, api_json(
      "{'title':'Far','date_time':'9999-12-31T23:59:59-23:59','location':'X','capacity':0}"));
  expect_status(r, 400);
  expect_field_error(r, "date_time",
      "Datetime has wrong format. Use one of these formats instead: "
      "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
}

Test(listing, concurrent_deletes_of_one_session_are_204_then_404)
{
  struct api_resp *list = api_get("/api/events/", NULL);
  long long id = api_int(json_array_get(list->json, 0), "id");
  struct api_resp *event = api_get(api_printf("/api/events/%lld/", id), NULL);
  long long session = api_int(json_array_get(json_object_get(event->json, "sessions"), 0), "id");
  enum { N = 6 };
  struct api_call deleters[N];
  const char *path = api_printf("/api/events/%lld/sessions/%lld/", id, session);
  for (int i = 0; i < N; i++)
    deleters[i] = (struct api_call){.method = "DELETE", .path = path, .token = organizer};
  api_race(deleters, N);
  int deleted = 0;
  for (int i = 0; i < N; i++) {
    struct api_resp *r = deleters[i].resp;
    if (r->status == 204) {
      expect_empty_body(r);
      deleted++;
    } else {
      expect_status(r, 404);
      expect_keys(r, "detail", NULL);
    }
  }
  expect_that(deleted == 1, "exactly one delete won, not %d", deleted);
}

/* ---- the cap on a plain list ------------------------------------------- */

static void
setup_fast_writes(void)
{
  /* A thousand events to write: durability is not what is tested here. */
  static const char *const env[] = {"SQLITE_SYNCHRONOUS", "normal", NULL};
  setup_with(env);
}

/* API.md: without limit the body is a plain array of at most 1000 events;
 * X-Total-Count gives the full count. */
Test(listing_cap, a_list_without_limit_holds_the_first_thousand, .init = setup_fast_writes,
     .fini = api_server_stop, .timeout = 300)
{
  /* The five of every test are in June; these 996, all on one May evening,
   * come first, by id. */
  long long first = 0, last = 0;
  for (int i = 0; i < 996; i++) {
    last = api_create_event(organizer, api_printf("{'title':'Crowd %03d','capacity':0}", i)).id;
    if (i == 0)
      first = last;
  }
  struct api_resp *r = api_get("/api/events/", NULL);
  expect_status(r, 200);
  expect_header(r, "X-Total-Count", "1001");
  expect_that(json_is_array(r->json) && json_array_size(r->json) == 1000,
              "a plain array of 1000 events, got %zu", json_array_size(r->json));
  expect_int(json_array_get(r->json, 0), "id", first);
  expect_int(json_array_get(r->json, 995), "id", last);
  expect_str(json_array_get(r->json, 996), "title", "Event 1");
  expect_str(json_array_get(r->json, 999), "title", "Event 4");

  /* The one left out is on the next page of a paginated list. */
  r = api_get("/api/events/?limit=1000", NULL);
  expect_status(r, 200);
  expect_int(r, "count", 1001);
  expect_str(r, "next", api_url("/api/events/?limit=1000&offset=1000"));
  r = api_get("/api/events/?limit=1000&offset=1000", NULL);
  expect_status(r, 200);
  json_t *rest = json_object_get(r->json, "results");
  expect_that(json_array_size(rest) == 1, "one more: %s", r->body);
  expect_str(json_array_get(rest, 0), "title", "Event 5");
}
