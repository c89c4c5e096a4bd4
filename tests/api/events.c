/*
 * events.c - API.md "Events": creating an event with its sessions and
 * ticket types and every field's rules, who sees one event, updating it
 * (nested lists synchronised) and its sub-resources, deleting it, and the
 * list with its filters, ordering and pagination.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/api.h"

#define CREATE "/api/events/create/"
#define EVENTS "/api/events/"

#define SESSION_KEYS "id", "title", "speaker", "start_time", "end_time", "description", NULL
#define TICKET_TYPE_KEYS "id", "name", "price", "quantity", NULL

#define NO_TICKET_TYPE "No TicketType matches the given query."
#define NO_SESSION "No Session matches the given query."
#define TOO_LONG_255 "Ensure this field has no more than 255 characters."
#define NOT_NEGATIVE "Ensure this value is greater than or equal to 0."
#define DATETIME_FORMAT "Datetime has wrong format. Use one of these formats instead: " \
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
#define IN_THE_FUTURE "Event date/time must be in the future."
#define SESSION_ORDER "start_time must be before end_time."
#define NAME_NOT_UNIQUE "Ticket type names must be unique within an event."
#define BODY_TOO_LARGE "Request body is too large (the limit is 1048576 bytes)."

TestSuite(events, .init = api_server_start, .fini = api_server_stop);

/* ---- helpers ------------------------------------------------------------ */

static const char *event_path(long long id) { return api_printf(EVENTS "%lld/", id); }
static const char *update_path(long long id) { return api_printf(EVENTS "%lld/update/", id); }
static const char *delete_path(long long id) { return api_printf(EVENTS "%lld/delete/", id); }
static const char *ticket_types_path(long long id)
{
  return api_printf(EVENTS "%lld/ticket-types/", id);
}
static const char *ticket_type_path(long long id, long long tid)
{
  return api_printf(EVENTS "%lld/ticket-types/%lld/", id, tid);
}
static const char *sessions_path(long long id) { return api_printf(EVENTS "%lld/sessions/", id); }
static const char *session_path(long long id, long long sid)
{
  return api_printf(EVENTS "%lld/sessions/%lld/", id, sid);
}

/* Item i of r's "field" list (sessions, ticket_types). */
static json_t *nested(struct api_resp *r, const char *field, size_t i)
{
  json_t *list = json_object_get(r->json, field);
  expect_that(json_is_array(list) && i < json_array_size(list),
              "expected \"%s\" to have an item %zu: %s", field, i, r->body);
  return json_array_get(list, i);
}

static size_t nested_count(struct api_resp *r, const char *field)
{
  json_t *list = json_object_get(r->json, field);
  expect_that(json_is_array(list), "expected a list \"%s\": %s", field, r->body);
  return json_array_size(list);
}

/* api_event_json(overrides), as the tests of this file call it. */
static const char *event_json(const char *overrides)
{
  return api_event_json(overrides);
}

/* The default valid body without field. */
static const char *event_json_without(const char *field)
{
  json_t *body = json_loads(event_json("{}"), 0, NULL);
  json_object_del(body, field);
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  api_keep(text, free);
  return text;
}

static struct api_resp *create(const char *token, const char *overrides)
{
  return api_post(CREATE, token, event_json(overrides));
}

/* GET /api/events/?query as token. */
static struct api_resp *list_events(const char *token, const char *query)
{
  return api_get(query && *query ? api_printf(EVENTS "?%s", api_date(query)) : EVENTS, token);
}

/* The events a list answer holds: the array, or the page's "results". */
static json_t *items_of(struct api_resp *r)
{
  return json_is_object(r->json) ? json_object_get(r->json, "results") : r->json;
}

/*
 * The answer is 200 and lists exactly these event ids in this order; a plain
 * array's X-Total-Count is its length.
 */
static void expect_ids_at(const char *file, int line, struct api_resp *r,
                          const long long *ids, size_t count)
{
  if (r->status != 200)
    expect_fail_at(file, line, "expected 200 from %s %s, got %ld: %s", r->method, r->path,
                   r->status, r->body);
  json_t *items = items_of(r);
  if (!json_is_array(items))
    expect_fail_at(file, line, "expected a list of events from %s: %s", r->path, r->body);
  const char *want = "", *got = "";
  for (size_t i = 0; i < count; i++)
    want = api_printf("%s %lld", want, ids[i]);
  size_t i;
  json_t *item;
  json_array_foreach(items, i, item) {
    got = api_printf("%s %lld(%s)", got,
                     (long long)json_integer_value(json_object_get(item, "id")),
                     json_string_value(json_object_get(item, "title")));
  }
  bool same = json_array_size(items) == count;
  for (i = 0; same && i < count; i++)
    same = json_integer_value(json_object_get(json_array_get(items, i), "id")) == ids[i];
  if (!same)
    expect_fail_at(file, line, "expected events [%s ], got [%s ] from %s", want, got, r->path);
  if (json_is_array(r->json)) {
    const char *total = api_header(r, "X-Total-Count");
    if (total == NULL || strtoll(total, NULL, 10) != (long long)count)
      expect_fail_at(file, line, "expected X-Total-Count %zu from %s, got %s", count,
                     r->path, total ? total : "none");
  }
}

#define IDS(...) (const long long[]){__VA_ARGS__}
#define expect_ids(r, ...) expect_ids_at(__FILE__, __LINE__, (r), IDS(__VA_ARGS__), \
    sizeof(IDS(__VA_ARGS__)) / sizeof(long long))
#define expect_no_events(r) expect_ids_at(__FILE__, __LINE__, (r), NULL, 0)

/* The number of events token sees in the list, upcoming or not. */
static size_t visible_count(const char *token)
{
  struct api_resp *r = list_events(token, "upcoming=false");
  expect_status(r, 200);
  return json_array_size(r->json);
}

/* ---- create ------------------------------------------------------------- */

Test(events, create_answers_the_whole_event)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user root = api_admin("root");
  struct api_resp *c = api_post("/api/events/categories/", root.access,
                                api_json("{'name':'Music'}"));
  expect_status(c, 201);
  long long music = api_id(c);

  struct api_resp *r = create(olga.access, api_printf(
      "{'title':'Jazz Night','description':'Three bands, one night',"
      "'date_time':'{Y}-05-01T18:00:00Z','location':'Berlin','capacity':150,"
      "'visibility':'public','category':%lld,"
      "'sessions':[{'title':'Opening','speaker':'Ada','start_time':'{Y}-05-01T18:00:00Z',"
      "'end_time':'{Y}-05-01T19:00:00Z','description':'Warm-up'},"
      "{'title':'Headliner','start_time':'{Y}-05-01T20:00:00Z',"
      "'end_time':'{Y}-05-01T22:30:00Z'}],"
      "'ticket_types':[{'name':'General','price':'25.00','quantity':100},"
      "{'name':'VIP','price':'80.5','quantity':0}]}", music));
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, EVENT_KEYS);
  long long id = api_id(r);
  expect_str(r, "title", "Jazz Night");
  expect_str(r, "description", "Three bands, one night");
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));
  expect_str(r, "location", "Berlin");
  expect_int(r, "capacity", 150);
  expect_int(r, "organizer", olga.id);
  expect_str(r, "visibility", "public");
  expect_null(r, "image");
  expect_int(r, "category", music);
  const char *created_at = json_string_value(json_object_get(r->json, "created_at"));
  expect_that(created_at && strlen(created_at) >= 20 && created_at[4] == '-' &&
              created_at[10] == 'T' && created_at[strlen(created_at) - 1] == 'Z',
              "created_at is an ISO time in UTC: %s", r->body);

  cr_assert_eq(nested_count(r, "sessions"), 2, "%s", r->body);
  json_t *opening = nested(r, "sessions", 0);
  expect_keys(opening, SESSION_KEYS);
  expect_that(api_int(opening, "id") > 0, "a session id: %s", r->body);
  expect_str(opening, "title", "Opening");
  expect_str(opening, "speaker", "Ada");
  expect_str(opening, "start_time", api_date("{Y}-05-01T18:00:00Z"));
  expect_str(opening, "end_time", api_date("{Y}-05-01T19:00:00Z"));
  expect_str(opening, "description", "Warm-up");
  json_t *headliner = nested(r, "sessions", 1);
  expect_keys(headliner, SESSION_KEYS);
  expect_str(headliner, "title", "Headliner");
  expect_str(headliner, "speaker", "");
  expect_str(headliner, "description", "");
  expect_str(headliner, "end_time", api_date("{Y}-05-01T22:30:00Z"));

  cr_assert_eq(nested_count(r, "ticket_types"), 2, "%s", r->body);
  json_t *general = nested(r, "ticket_types", 0);
  expect_keys(general, TICKET_TYPE_KEYS);
  expect_that(api_int(general, "id") > 0, "a ticket type id: %s", r->body);
  expect_str(general, "name", "General");
  expect_str(general, "price", "25.00");
  expect_int(general, "quantity", 100);
  json_t *vip = nested(r, "ticket_types", 1);
  expect_str(vip, "name", "VIP");
  expect_str(vip, "price", "80.50");
  expect_int(vip, "quantity", 0);

  /* The detail answers the very same event. */
  struct api_resp *detail = api_get(event_path(id), NULL);
  expect_status(detail, 200);
  expect_that(json_equal(detail->json, r->json), "detail %s differs from created %s",
              detail->body, r->body);
}

Test(events, create_fills_in_the_defaults)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_post(CREATE, olga.access,
      api_json("{'title':'Jazz Night','date_time':'{Y}-05-01T18:00:00Z',"
               "'location':'Berlin','capacity':10}"));
  expect_status(r, 200);
  expect_keys(r, EVENT_KEYS);
  expect_str(r, "description", "");
  expect_str(r, "visibility", "public");
  expect_null(r, "category");
  expect_null(r, "image");
  expect_int(r, "organizer", olga.id);
  expect_body(api_get(event_path(api_id(r)), NULL), api_printf(
      "{'id':%lld,'title':'Jazz Night','description':'','date_time':'{Y}-05-01T18:00:00Z',"
      "'location':'Berlin','capacity':10,'created_at':'%s','organizer':%lld,"
      "'visibility':'public','image':null,'category':null,'sessions':[],'ticket_types':[],"
      "'timezone':'UTC','local_date_time':'{Y}-05-01T18:00:00+00:00','waitlist_offer_hours':null}",
      api_id(r), json_string_value(json_object_get(r->json, "created_at")), olga.id));
}

Test(events, create_accepts_a_private_event_and_trims_text)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, "{'visibility':'private','title':'  Quiet Evening  ',"
                                           "'location':' Hamburg '}");
  expect_status(r, 200);
  expect_str(r, "visibility", "private");
  expect_str(r, "title", "Quiet Evening");
  expect_str(r, "location", "Hamburg");
}

Test(events, admin_may_create_and_organizes_it)
{
  struct api_user root = api_admin("root");
  struct api_resp *r = create(root.access, "{}");
  expect_status(r, 200);
  expect_keys(r, EVENT_KEYS);
  expect_int(r, "organizer", root.id);
}

Test(events, attendee_and_anonymous_may_not_create)
{
  struct api_user alice = api_signup("alice", "attendee");
  struct api_user olga = api_signup("olga", "organizer");

  struct api_resp *r = create(alice.access, "{}");
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);

  r = create(NULL, "{}");
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");

  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, create_ignores_read_only_and_unknown_fields)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_resp *r = create(olga.access, api_printf(
      "{'id':999,'organizer':%lld,'created_at':'2020-01-01T00:00:00Z',"
      "'image':'http://evil.example/x.png','colour':'blue'}", oscar.id));
  expect_status(r, 200);
  expect_keys(r, EVENT_KEYS);
  expect_that(api_id(r) != 999, "the id came from the body: %s", r->body);
  expect_int(r, "organizer", olga.id);
  expect_null(r, "image");
  expect_that(strcmp(json_string_value(json_object_get(r->json, "created_at")),
                     "2020-01-01T00:00:00Z") != 0, "created_at came from the body: %s", r->body);
}

/* ---- field rules -------------------------------------------------------- */

Test(events, create_reports_every_missing_field_at_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_post(CREATE, olga.access, "{}");
  expect_status(r, 400);
  expect_json_response(r);
  expect_body(r, "{'title':['" REQUIRED "'],'date_time':['" REQUIRED "'],"
                 "'location':['" REQUIRED "'],'capacity':['" REQUIRED "']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, title_is_required_not_blank_and_at_most_255_characters)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_post(CREATE, olga.access, event_json_without("title"));
  expect_status(r, 400);
  expect_body(r, "{'title':['" REQUIRED "']}");

  r = create(olga.access, "{'title':''}");
  expect_status(r, 400);
  expect_body(r, "{'title':['This field may not be blank.']}");

  r = create(olga.access, "{'title':'   '}");
  expect_status(r, 400);
  expect_body(r, "{'title':['This field may not be blank.']}");

  r = create(olga.access, "{'title':null}");
  expect_status(r, 400);
  expect_body(r, "{'title':['This field may not be null.']}");

  r = create(olga.access, api_printf("{'title':'%s'}", api_repeat('t', 256)));
  expect_status(r, 400);
  expect_body(r, "{'title':['" TOO_LONG_255 "']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));

  /* 255 characters, and 255 two-byte characters, are fine. */
  r = create(olga.access, api_printf("{'title':'%s'}", api_repeat('t', 255)));
  expect_status(r, 200);
  expect_str(r, "title", api_repeat('t', 255));
  const char *umlauts = "";
  for (int i = 0; i < 255; i++)
    umlauts = api_printf("%s\u00fc", umlauts);
  r = create(olga.access, api_printf("{'title':'%s'}", umlauts));
  expect_status(r, 200);
  r = create(olga.access, api_printf("{'title':'%s\u00fc'}", umlauts));
  expect_status(r, 400);
  expect_body(r, "{'title':['" TOO_LONG_255 "']}");
}

Test(events, location_is_required_not_blank_and_at_most_255_characters)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_post(CREATE, olga.access, event_json_without("location"));
  expect_status(r, 400);
  expect_body(r, "{'location':['" REQUIRED "']}");

  r = create(olga.access, "{'location':''}");
  expect_status(r, 400);
  expect_body(r, "{'location':['This field may not be blank.']}");

  r = create(olga.access, api_printf("{'location':'%s'}", api_repeat('l', 256)));
  expect_status(r, 400);
  expect_body(r, "{'location':['" TOO_LONG_255 "']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));

  r = create(olga.access, api_printf("{'location':'%s'}", api_repeat('l', 255)));
  expect_status(r, 200);
  expect_str(r, "location", api_repeat('l', 255));
}

Test(events, description_is_optional_and_may_be_long)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, api_printf("{'description':'%s'}",
                                                      api_repeat('d', 5000)));
  expect_status(r, 200);
  expect_str(r, "description", api_repeat('d', 5000));
  r = create(olga.access, "{'description':null}");
  expect_status(r, 400);
  expect_body(r, "{'description':['This field may not be null.']}");
}

Test(events, date_time_is_required_and_must_parse)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_post(CREATE, olga.access, event_json_without("date_time"));
  expect_status(r, 400);
  expect_body(r, "{'date_time':['" REQUIRED "']}");

  const char *bad[] = { "tomorrow", "{Y}-05-01", "{Y}-13-01T18:00:00Z",
                        "{Y}-05-01T25:00:00Z", "01/05/{Y} 18:00", "" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    r = create(olga.access, api_printf("{'date_time':'%s'}", bad[i]));
    expect_status(r, 400);
    expect_body(r, "{'date_time':['" DATETIME_FORMAT "']}");
  }
  r = create(olga.access, "{'date_time':12345}");
  expect_status(r, 400);
  expect_body(r, "{'date_time':['" DATETIME_FORMAT "']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, date_time_must_be_in_the_future)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, "{'date_time':'2020-01-01T00:00:00Z'}");
  expect_status(r, 400);
  expect_body(r, "{'date_time':['" IN_THE_FUTURE "']}");

  r = create(olga.access, api_printf("{'date_time':'%s'}", api_iso_from_now(-5)));
  expect_status(r, 400);
  expect_body(r, "{'date_time':['" IN_THE_FUTURE "']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, date_time_offsets_are_normalised_to_utc)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, "{'date_time':'{Y}-05-01T20:00:00+02:00'}");
  expect_status(r, 200);
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));
  expect_str(api_get(event_path(api_id(r)), NULL), "date_time", api_date("{Y}-05-01T18:00:00Z"));

  r = create(olga.access, "{'date_time':'{Y}-05-01T23:30:00-05:00'}");
  expect_status(r, 200);
  expect_str(r, "date_time", api_date("{Y}-05-02T04:30:00Z"));

  /* Without an offset, UTC. */
  r = create(olga.access, "{'date_time':'{Y}-05-01T18:00:00'}");
  expect_status(r, 200);
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));

  /* Microseconds only when there are some. */
  r = create(olga.access, "{'date_time':'{Y}-05-01T18:00:00.250Z'}");
  expect_status(r, 200);
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00.250000Z"));
  r = create(olga.access, "{'date_time':'{Y}-05-01T18:00:00.000000Z'}");
  expect_status(r, 200);
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));
}

Test(events, capacity_is_a_non_negative_integer)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = api_post(CREATE, olga.access, event_json_without("capacity"));
  expect_status(r, 400);
  expect_body(r, "{'capacity':['" REQUIRED "']}");

  r = create(olga.access, "{'capacity':'abc'}");
  expect_status(r, 400);
  expect_body(r, "{'capacity':['A valid integer is required.']}");

  r = create(olga.access, "{'capacity':12.5}");
  expect_status(r, 400);
  expect_body(r, "{'capacity':['A valid integer is required.']}");

  r = create(olga.access, "{'capacity':-1}");
  expect_status(r, 400);
  expect_body(r, "{'capacity':['" NOT_NEGATIVE "']}");

  r = create(olga.access, "{'capacity':null}");
  expect_status(r, 400);
  expect_body(r, "{'capacity':['This field may not be null.']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));

  r = create(olga.access, "{'capacity':0}");
  expect_status(r, 200);
  expect_int(r, "capacity", 0);
  r = create(olga.access, "{'capacity':'25'}");
  expect_status(r, 200);
  expect_int(r, "capacity", 25);
}

Test(events, visibility_is_public_or_private)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, "{'visibility':'secret'}");
  expect_status(r, 400);
  expect_keys(r, "visibility", NULL);
  expect_field_errors(r, "visibility", "\"secret\" is not a valid choice.", NULL);

  r = create(olga.access, "{'visibility':'PUBLIC'}");
  expect_status(r, 400);
  expect_field_errors(r, "visibility", "\"PUBLIC\" is not a valid choice.", NULL);
  expect_no_events(list_events(olga.access, "upcoming=false"));

  expect_str(create(olga.access, "{'visibility':'private'}"), "visibility", "private");
  expect_str(create(olga.access, "{'visibility':'public'}"), "visibility", "public");
}

Test(events, category_must_be_an_existing_pk)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, "{'category':999}");
  expect_status(r, 400);
  expect_body(r, "{'category':['Invalid pk \\\"999\\\" - object does not exist.']}");

  r = create(olga.access, "{'category':'abc'}");
  expect_status(r, 400);
  expect_body(r, "{'category':['Incorrect type. Expected pk value, received str.']}");

  r = create(olga.access, "{'category':0}");
  expect_status(r, 400);
  expect_body(r, "{'category':['Invalid pk \\\"0\\\" - object does not exist.']}");

  r = create(olga.access, "{'category':true}");
  expect_status(r, 400);
  expect_body(r, "{'category':['Incorrect type. Expected pk value, received bool.']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));

  struct api_resp *c = api_post("/api/events/categories/", olga.access,
                                api_json("{'name':'Music'}"));
  expect_status(c, 201);
  long long music = api_id(c);
  expect_int(create(olga.access, api_printf("{'category':%lld}", music)), "category", music);
  expect_int(create(olga.access, api_printf("{'category':'%lld'}", music)), "category", music);
  expect_null(create(olga.access, "{'category':null}"), "category");
}

/* DRF's RelatedField reads a blank as null, in JSON as in forms. */
Test(events, a_blank_category_is_null)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *c = api_post("/api/events/categories/", olga.access, api_json("{'name':'Jazz'}"));
  struct api_resp *r = create(olga.access, api_printf("{'category':%lld}", api_id(c)));
  expect_status(r, 200);
  expect_int(r, "category", api_id(c));
  r = api_patch(update_path(api_id(r)), olga.access, api_json("{'category':''}"));
  expect_status(r, 200);
  expect_null(r, "category");
  r = create(olga.access, "{'category':''}");
  expect_status(r, 200);
  expect_null(r, "category");
}

Test(events, category_zero_as_text_is_an_unknown_pk)
{
  struct api_user olga = api_signup("olga", "organizer");
  /* DRF looks "0" up like 0 (and "12" like 12); it never drops it. */
  struct api_resp *r = create(olga.access, "{'category':'0'}");
  expect_status(r, 400);
  expect_body(r, "{'category':['Invalid pk \\\"0\\\" - object does not exist.']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, sessions_must_be_a_list)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, "{'sessions':{'title':'Talk'}}");
  expect_status(r, 400);
  expect_body(r, "{'sessions':{'non_field_errors':"
                 "['Expected a list of items but got type \\\"dict\\\".']}}");

  r = create(olga.access, "{'ticket_types':'General'}");
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':{'non_field_errors':"
                 "['Expected a list of items but got type \\\"str\\\".']}}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, nested_lists_may_not_be_null)
{
  struct api_user olga = api_signup("olga", "organizer");
  /* DRF: a many=True serializer without allow_null refuses null outright. */
  struct api_resp *r = create(olga.access, "{'sessions':null,'ticket_types':null}");
  expect_status(r, 400);
  expect_body(r, "{'sessions':['This field may not be null.'],"
                 "'ticket_types':['This field may not be null.']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, session_times_must_lie_in_order)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access,
      "{'sessions':[{'title':'Fine','start_time':'{Y}-05-01T18:00:00Z',"
      "'end_time':'{Y}-05-01T19:00:00Z'},"
      "{'title':'Backwards','start_time':'{Y}-05-01T20:00:00Z',"
      "'end_time':'{Y}-05-01T19:00:00Z'},"
      "{'title':'Instant','start_time':'{Y}-05-01T20:00:00Z',"
      "'end_time':'{Y}-05-01T20:00:00Z'}]}");
  expect_status(r, 400);
  expect_body(r, "{'sessions':[{},{'non_field_errors':['" SESSION_ORDER "']},"
                 "{'non_field_errors':['" SESSION_ORDER "']}]}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, session_fields_are_checked)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access,
      api_printf("{'sessions':[{},{'title':'%s','start_time':'soon',"
                 "'end_time':'{Y}-05-01T19:00:00Z'}]}", api_repeat('s', 256)));
  expect_status(r, 400);
  expect_body(r, "{'sessions':[{'title':['" REQUIRED "'],'start_time':['" REQUIRED "'],"
                 "'end_time':['" REQUIRED "']},"
                 "{'title':['" TOO_LONG_255 "'],'start_time':['" DATETIME_FORMAT "']}]}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, nested_items_must_be_objects)
{
  struct api_user olga = api_signup("olga", "organizer");
  /* DRF's Serializer message, as for a whole body that is not an object. */
  struct api_resp *r = create(olga.access, "{'sessions':['Talk'],'ticket_types':[{},7]}");
  expect_status(r, 400);
  expect_body(r, "{'sessions':[{'non_field_errors':"
                 "['Invalid data. Expected a dictionary, but got str.']}],"
                 "'ticket_types':[{'name':['" REQUIRED "'],'price':['" REQUIRED "'],"
                 "'quantity':['" REQUIRED "']},{'non_field_errors':"
                 "['Invalid data. Expected a dictionary, but got int.']}]}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, ticket_type_names_are_required_short_and_unique)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access,
      "{'ticket_types':[{'price':'10','quantity':5}]}");
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':[{'name':['" REQUIRED "']}]}");

  r = create(olga.access, api_printf("{'ticket_types':[{'name':'%s','price':'10','quantity':5}]}",
                                     api_repeat('n', 51)));
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':[{'name':"
                 "['Ensure this field has no more than 50 characters.']}]}");

  r = create(olga.access,
      "{'ticket_types':[{'name':'General','price':'10','quantity':5},"
      "{'name':'General','price':'20','quantity':5}]}");
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':[{},{'name':['" NAME_NOT_UNIQUE "']}]}");

  r = create(olga.access, "{'ticket_types':[{'name':'General'}]}");
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':[{'price':['" REQUIRED "'],'quantity':['" REQUIRED "']}]}");
  expect_no_events(list_events(olga.access, "upcoming=false"));

  r = create(olga.access, api_printf("{'ticket_types':[{'name':'%s','price':'10','quantity':5}]}",
                                     api_repeat('n', 50)));
  expect_status(r, 200);
  expect_str(nested(r, "ticket_types", 0), "name", api_repeat('n', 50));
}

Test(events, prices_are_read_as_decimals_with_two_places)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access,
      "{'ticket_types':[{'name':'A','price':'10','quantity':1},"
      "{'name':'B','price':10,'quantity':1},"
      "{'name':'C','price':10.5,'quantity':1},"
      "{'name':'D','price':'0','quantity':1},"
      "{'name':'E','price':'999999.99','quantity':1},"
      "{'name':'F','price':'0.05','quantity':1},"
      "{'name':'G','price':'7.1','quantity':1}]}");
  expect_status(r, 200);
  const char *expected[] = { "10.00", "10.00", "10.50", "0.00", "999999.99", "0.05", "7.10" };
  cr_assert_eq(nested_count(r, "ticket_types"), 7, "%s", r->body);
  for (size_t i = 0; i < 7; i++)
    expect_str(nested(r, "ticket_types", i), "price", expected[i]);
}

Test(events, bad_prices_and_quantities_are_refused_item_by_item)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access,
      "{'ticket_types':[{'name':'A','price':'abc','quantity':1},"
      "{'name':'B','price':'10.123','quantity':1},"
      "{'name':'C','price':'-1','quantity':1},"
      "{'name':'D','price':'1000000','quantity':1},"
      "{'name':'E','price':'999999.99','quantity':1},"
      "{'name':'F','price':'5','quantity':-1},"
      "{'name':'G','price':null,'quantity':'x'},"
      "{'name':'H','price':1000000,'quantity':0}]}");
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':["
                 "{'price':['A valid number is required.']},"
                 "{'price':['Ensure that there are no more than 2 decimal places.']},"
                 "{'price':['" NOT_NEGATIVE "']},"
                 "{'price':['Ensure that there are no more than 6 digits before the decimal point.']},"
                 "{},"
                 "{'quantity':['" NOT_NEGATIVE "']},"
                 "{'price':['This field may not be null.'],"
                 "'quantity':['A valid integer is required.']},"
                 "{'price':['Ensure that there are no more than 6 digits before the decimal point.']}"
                 "]}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

Test(events, prices_as_numbers_are_checked_like_their_text)
{
  struct api_user olga = api_signup("olga", "organizer");
  /* DRF checks the total digits (8) first, then places, then whole digits. */
  struct api_resp *r = create(olga.access,
      api_printf("{'ticket_types':[{'name':'A','price':123456789,'quantity':1},"
                 "{'name':'B','price':'123456789','quantity':1},"
                 "{'name':'C','price':'%s','quantity':1}]}", api_repeat('x', 90)));
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':["
                 "{'price':['Ensure that there are no more than 8 digits in total.']},"
                 "{'price':['Ensure that there are no more than 8 digits in total.']},"
                 "{'price':['A valid number is required.']}]}");
}

/*
 * DRF reads a JSON number as a Python float and checks str() of it: the
 * shortest text that reads back, so 0.1 + 0.2 has 17 decimal places.
 */
Test(events, json_number_prices_are_checked_as_python_prints_them)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access,
      "{'ticket_types':[{'name':'A','price':0.30000000000000004,'quantity':1},"
      "{'name':'B','price':1e-7,'quantity':1},"
      "{'name':'C','price':0.125,'quantity':1},"
      "{'name':'D','price':1e20,'quantity':1},"
      "{'name':'E','price':1e3,'quantity':1},"
      "{'name':'F','price':0.3,'quantity':1}]}");
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':["
                 "{'price':['Ensure that there are no more than 8 digits in total.']},"
                 "{'price':['Ensure that there are no more than 2 decimal places.']},"
                 "{'price':['Ensure that there are no more than 2 decimal places.']},"
                 "{'price':['Ensure that there are no more than 8 digits in total.']},"
                 "{},{}]}");
  expect_no_events(list_events(olga.access, "upcoming=false"));

  r = create(olga.access, "{'ticket_types':[{'name':'E','price':1e3,'quantity':1},"
                          "{'name':'F','price':0.3,'quantity':1},"
                          "{'name':'G','price':'1.5e1','quantity':1}]}");
  expect_status(r, 200);
  expect_str(nested(r, "ticket_types", 0), "price", "1000.00");
  expect_str(nested(r, "ticket_types", 1), "price", "0.30");
  expect_str(nested(r, "ticket_types", 2), "price", "15.00");
}

Test(events, every_field_error_is_reported_at_once_and_nothing_is_written)
{
  struct api_user olga = api_signup("olga", "organizer");
  api_create_event(olga.access, "{}");
  struct api_resp *r = api_post(CREATE, olga.access, api_json(
      "{'title':'','date_time':'tomorrow','location':'','capacity':-1,"
      "'visibility':'secret','category':'abc',"
      "'sessions':[{'title':'S','start_time':'{Y}-05-01T19:00:00Z',"
      "'end_time':'{Y}-05-01T18:00:00Z'}],"
      "'ticket_types':[{'name':'A','price':'-1','quantity':1}]}"));
  expect_status(r, 400);
  expect_keys(r, "title", "date_time", "location", "capacity", "visibility", "category",
              "sessions", "ticket_types", NULL);
  expect_field_errors(r, "title", "This field may not be blank.", NULL);
  expect_field_errors(r, "date_time", DATETIME_FORMAT, NULL);
  expect_field_errors(r, "location", "This field may not be blank.", NULL);
  expect_field_errors(r, "capacity", NOT_NEGATIVE, NULL);
  expect_field_errors(r, "visibility", "\"secret\" is not a valid choice.", NULL);
  expect_field_errors(r, "category", "Incorrect type. Expected pk value, received str.", NULL);
  cr_assert_eq(visible_count(olga.access), 1);

  /* A valid event with one bad nested item writes nothing either. */
  r = create(olga.access, "{'title':'Half Good','sessions':[{'title':'S',"
                          "'start_time':'{Y}-05-01T18:00:00Z','end_time':'{Y}-05-01T19:00:00Z'}],"
                          "'ticket_types':[{'name':'A','price':'1','quantity':1},"
                          "{'name':'B','price':'x','quantity':1}]}");
  expect_status(r, 400);
  cr_assert_eq(visible_count(olga.access), 1);
}

/* ---- detail ------------------------------------------------------------- */

Test(events, public_event_is_visible_to_anyone)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", "attendee");
  struct api_user oscar = api_signup("oscar", "organizer");
  long long id = api_create_event(olga.access, "{'title':'Open Air'}").id;

  const char *tokens[] = { NULL, alice.access, oscar.access, olga.access };
  for (size_t i = 0; i < 4; i++) {
    struct api_resp *r = api_get(event_path(id), tokens[i]);
    expect_status(r, 200);
    expect_json_response(r);
    expect_keys(r, EVENT_KEYS);
    expect_int(r, "id", id);
    expect_str(r, "title", "Open Air");
  }
  /* Without the trailing slash too. */
  expect_status(api_get(api_printf(EVENTS "%lld", id), NULL), 200);
}

Test(events, private_event_is_404_to_all_but_its_organizer_and_admins)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", "attendee");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user root = api_admin("root");
  long long id = api_create_event(olga.access, "{'title':'Secret Gig','visibility':'private'}").id;

  const char *strangers[] = { NULL, alice.access, oscar.access };
  for (size_t i = 0; i < 3; i++) {
    struct api_resp *r = api_get(event_path(id), strangers[i]);
    expect_status(r, 404);
    expect_detail(r, NO_EVENT);
  }
  struct api_resp *r = api_get(event_path(id), olga.access);
  expect_status(r, 200);
  expect_str(r, "title", "Secret Gig");
  expect_str(r, "visibility", "private");
  r = api_get(event_path(id), root.access);
  expect_status(r, 200);
  expect_str(r, "title", "Secret Gig");
}

Test(events, unknown_event_is_404)
{
  struct api_resp *r = api_get(event_path(987654), NULL);
  expect_status(r, 404);
  expect_json_response(r);
  expect_detail(r, NO_EVENT);
}

/* ---- update ------------------------------------------------------------- */

Test(events, organizer_puts_the_whole_event)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *created = create(olga.access, "{'description':'Old text'}");
  expect_status(created, 200);
  long long id = api_id(created);

  struct api_resp *r = api_put(update_path(id), olga.access, api_json(
      "{'title':'Blues Night','description':'New text','date_time':'{Y+1}-01-02T03:04:05+01:00',"
      "'location':'Leipzig','capacity':0,'visibility':'private'}"));
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, EVENT_KEYS);
  expect_int(r, "id", id);
  expect_str(r, "title", "Blues Night");
  expect_str(r, "description", "New text");
  expect_str(r, "date_time", api_date("{Y+1}-01-02T02:04:05Z"));
  expect_str(r, "location", "Leipzig");
  expect_int(r, "capacity", 0);
  expect_str(r, "visibility", "private");
  expect_int(r, "organizer", olga.id);
  expect_str(r, "created_at", json_string_value(json_object_get(created->json, "created_at")));

  struct api_resp *detail = api_get(event_path(id), olga.access);
  expect_that(json_equal(detail->json, r->json), "detail %s differs from updated %s",
              detail->body, r->body);
  /* Now private: gone for others. */
  expect_status(api_get(event_path(id), NULL), 404);
}

Test(events, put_requires_title_date_time_location_and_capacity)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_event(olga.access, "{'title':'Keep Me'}").id;
  struct api_resp *r = api_put(update_path(id), olga.access,
                               api_json("{'description':'only this'}"));
  expect_status(r, 400);
  expect_body(r, "{'title':['" REQUIRED "'],'date_time':['" REQUIRED "'],"
                 "'location':['" REQUIRED "'],'capacity':['" REQUIRED "']}");
  r = api_get(event_path(id), NULL);
  expect_str(r, "title", "Keep Me");
  expect_str(r, "description", "");
}

Test(events, patch_changes_only_what_is_sent)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *c = api_post("/api/events/categories/", olga.access,
                                api_json("{'name':'Music'}"));
  long long music = api_id(c);
  struct api_resp *created = create(olga.access, api_printf(
      "{'title':'Jazz Night','description':'Smooth','location':'Berlin','capacity':40,"
      "'category':%lld}", music));
  long long id = api_id(created);

  struct api_resp *r = api_patch(update_path(id), olga.access, api_json("{'capacity':45}"));
  expect_status(r, 200);
  expect_keys(r, EVENT_KEYS);
  expect_int(r, "capacity", 45);
  expect_str(r, "title", "Jazz Night");
  expect_str(r, "description", "Smooth");
  expect_str(r, "location", "Berlin");
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));
  expect_int(r, "category", music);
  expect_str(r, "visibility", "public");

  r = api_patch(update_path(id), olga.access,
                api_json("{'title':'Late Jazz','category':null,'description':''}"));
  expect_status(r, 200);
  expect_str(r, "title", "Late Jazz");
  expect_null(r, "category");
  expect_str(r, "description", "");
  expect_int(r, "capacity", 45);

  r = api_get(event_path(id), NULL);
  expect_str(r, "title", "Late Jazz");
  expect_null(r, "category");
  expect_int(r, "capacity", 45);

  /* An empty PATCH changes nothing and answers the event. */
  r = api_patch(update_path(id), olga.access, "{}");
  expect_status(r, 200);
  expect_str(r, "title", "Late Jazz");
}

Test(events, update_ignores_read_only_fields)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_resp *created = create(olga.access, "{}");
  long long id = api_id(created);
  struct api_resp *r = api_patch(update_path(id), olga.access, api_printf(
      "{\"id\":999,\"organizer\":%lld,\"created_at\":\"2020-01-01T00:00:00Z\","
      "\"image\":\"http://evil.example/x.png\",\"title\":\"Renamed\"}", oscar.id));
  expect_status(r, 200);
  expect_int(r, "id", id);
  expect_int(r, "organizer", olga.id);
  expect_null(r, "image");
  expect_str(r, "title", "Renamed");
  expect_str(r, "created_at", json_string_value(json_object_get(created->json, "created_at")));
}

Test(events, update_validates_like_create_and_writes_nothing_on_400)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_event(olga.access, "{'title':'Keep Me','capacity':10}").id;

  struct api_resp *r = api_patch(update_path(id), olga.access,
      api_json("{'title':'','capacity':'abc','visibility':'secret','category':999}"));
  expect_status(r, 400);
  expect_body(r, "{'title':['This field may not be blank.'],"
                 "'capacity':['A valid integer is required.'],"
                 "'visibility':['\\\"secret\\\" is not a valid choice.'],"
                 "'category':['Invalid pk \\\"999\\\" - object does not exist.']}");

  r = api_patch(update_path(id), olga.access,
                api_json("{'title':'Changed','date_time':'2020-01-01T00:00:00Z'}"));
  expect_status(r, 400);
  expect_body(r, "{'date_time':['" IN_THE_FUTURE "']}");

  r = api_patch(update_path(id), olga.access,
                api_json("{'title':'Changed','location':null}"));
  expect_status(r, 400);
  expect_body(r, "{'location':['This field may not be null.']}");

  r = api_get(event_path(id), NULL);
  expect_str(r, "title", "Keep Me");
  expect_int(r, "capacity", 10);
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));
}

Test(events, update_may_keep_or_move_the_date_time_into_the_future)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_event(olga.access, "{}").id;
  struct api_resp *r = api_put(update_path(id), olga.access, event_json("{'title':'Same Time'}"));
  expect_status(r, 200);
  expect_str(r, "title", "Same Time");
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));

  r = api_patch(update_path(id), olga.access,
                api_json("{'date_time':'{Y+2}-07-01T10:00:00.5+00:00'}"));
  expect_status(r, 200);
  expect_str(r, "date_time", api_date("{Y+2}-07-01T10:00:00.500000Z"));
}

Test(events, who_may_update)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", "attendee");
  struct api_user root = api_admin("root");
  long long id = api_create_event(olga.access, "{'title':'Original'}").id;
  long long hidden = api_create_event(olga.access, "{'title':'Hidden','visibility':'private'}").id;

  struct api_resp *r = api_patch(update_path(id), oscar.access, api_json("{'title':'Oscar'}"));
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_put(update_path(id), oscar.access, event_json("{'title':'Oscar'}"));
  expect_status(r, 403);
  r = api_patch(update_path(id), alice.access, api_json("{'title':'Alice'}"));
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_patch(update_path(id), NULL, api_json("{'title':'Nobody'}"));
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);

  /* Someone else's private event does not exist for them. */
  r = api_patch(update_path(hidden), oscar.access, api_json("{'title':'Oscar'}"));
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = api_patch(update_path(hidden), alice.access, api_json("{'title':'Alice'}"));
  expect_status(r, 404);
  r = api_patch(update_path(987654), olga.access, api_json("{'title':'Nope'}"));
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);

  expect_str(api_get(event_path(id), NULL), "title", "Original");

  r = api_patch(update_path(id), root.access, api_json("{'title':'By Admin'}"));
  expect_status(r, 200);
  expect_str(r, "title", "By Admin");
  expect_int(r, "organizer", olga.id);
  r = api_patch(update_path(hidden), root.access, api_json("{'title':'Admin Too'}"));
  expect_status(r, 200);
  r = api_patch(update_path(id), olga.access, api_json("{'title':'Back'}"));
  expect_status(r, 200);
  expect_str(api_get(event_path(id), NULL), "title", "Back");
}

/* An event with two sessions and three ticket types; their ids in order. */
struct rich_event {
  long long id;
  long long opening, closing;           /* sessions */
  long long general, vip, student;      /* ticket types */
  struct api_resp *created;
};

static struct rich_event create_rich_event(const char *token)
{
  struct rich_event e;
  struct api_resp *r = create(token,
      "{'sessions':[{'title':'Opening','speaker':'Ada','start_time':'{Y}-05-01T18:00:00Z',"
      "'end_time':'{Y}-05-01T19:00:00Z'},"
      "{'title':'Closing','speaker':'Bob','start_time':'{Y}-05-01T21:00:00Z',"
      "'end_time':'{Y}-05-01T22:00:00Z'}],"
      "'ticket_types':[{'name':'General','price':'10','quantity':100},"
      "{'name':'VIP','price':'50','quantity':10},"
      "{'name':'Student','price':'5','quantity':20}]}");
  expect_status(r, 200);
  e.id = api_id(r);
  e.opening = api_int(nested(r, "sessions", 0), "id");
  e.closing = api_int(nested(r, "sessions", 1), "id");
  e.general = api_int(nested(r, "ticket_types", 0), "id");
  e.vip = api_int(nested(r, "ticket_types", 1), "id");
  e.student = api_int(nested(r, "ticket_types", 2), "id");
  e.created = r;
  return e;
}

Test(events, absent_or_empty_nested_lists_leave_them_as_they_are)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);
  json_t *sessions = json_object_get(e.created->json, "sessions");
  json_t *ticket_types = json_object_get(e.created->json, "ticket_types");

  struct api_resp *r = api_patch(update_path(e.id), olga.access, api_json("{'title':'A'}"));
  expect_status(r, 200);
  expect_that(json_equal(json_object_get(r->json, "sessions"), sessions) &&
              json_equal(json_object_get(r->json, "ticket_types"), ticket_types),
              "nested lists changed: %s", r->body);

  r = api_patch(update_path(e.id), olga.access,
                api_json("{'title':'B','sessions':[],'ticket_types':[]}"));
  expect_status(r, 200);
  expect_str(r, "title", "B");
  expect_that(json_equal(json_object_get(r->json, "sessions"), sessions) &&
              json_equal(json_object_get(r->json, "ticket_types"), ticket_types),
              "nested lists changed: %s", r->body);

  r = api_put(update_path(e.id), olga.access, event_json("{'title':'C'}"));
  expect_status(r, 200);
  r = api_get(event_path(e.id), NULL);
  expect_str(r, "title", "C");
  expect_that(json_equal(json_object_get(r->json, "sessions"), sessions) &&
              json_equal(json_object_get(r->json, "ticket_types"), ticket_types),
              "nested lists changed: %s", r->body);
}

Test(events, nested_ticket_types_are_synchronised_by_id_then_name)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);

  struct api_resp *r = api_patch(update_path(e.id), olga.access, api_printf(
      "{\"ticket_types\":[{\"id\":%lld,\"name\":\"VIP Plus\",\"price\":\"60\",\"quantity\":5},"
      "{\"name\":\"General\",\"price\":\"12.5\",\"quantity\":150},"
      "{\"name\":\"Late\",\"price\":\"15\",\"quantity\":0}]}", e.vip));
  expect_status(r, 200);
  cr_assert_eq(nested_count(r, "ticket_types"), 3, "%s", r->body);
  json_t *general = nested(r, "ticket_types", 0);
  expect_int(general, "id", e.general);
  expect_str(general, "name", "General");
  expect_str(general, "price", "12.50");
  expect_int(general, "quantity", 150);
  json_t *vip = nested(r, "ticket_types", 1);
  expect_int(vip, "id", e.vip);
  expect_str(vip, "name", "VIP Plus");
  expect_str(vip, "price", "60.00");
  expect_int(vip, "quantity", 5);
  json_t *late = nested(r, "ticket_types", 2);
  expect_keys(late, TICKET_TYPE_KEYS);
  expect_that(api_int(late, "id") > e.student, "a new ticket type: %s", r->body);
  expect_str(late, "name", "Late");
  expect_str(late, "price", "15.00");

  /* Student was left out: deleted, and so gone from its own path. */
  struct api_resp *gone = api_patch(ticket_type_path(e.id, e.student), olga.access,
                                    api_json("{'quantity':1}"));
  expect_status(gone, 404);
  expect_detail(gone, NO_TICKET_TYPE);

  struct api_resp *detail = api_get(event_path(e.id), NULL);
  expect_that(json_equal(json_object_get(detail->json, "ticket_types"),
                         json_object_get(r->json, "ticket_types")),
              "detail %s differs from %s", detail->body, r->body);
  /* Sessions were not sent: unchanged. */
  cr_assert_eq(nested_count(detail, "sessions"), 2, "%s", detail->body);
}

Test(events, nested_ticket_type_matched_by_id_is_not_matched_again_by_name)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);

  /* General is renamed by its id; a new item takes its old name. */
  struct api_resp *r = api_patch(update_path(e.id), olga.access, api_printf(
      "{\"ticket_types\":[{\"id\":%lld,\"name\":\"Standard\",\"price\":\"10\",\"quantity\":100},"
      "{\"name\":\"General\",\"price\":\"20\",\"quantity\":5}]}", e.general));
  expect_status(r, 200);
  cr_assert_eq(nested_count(r, "ticket_types"), 2, "both items kept: %s", r->body);
  json_t *standard = nested(r, "ticket_types", 0);
  expect_int(standard, "id", e.general);
  expect_str(standard, "name", "Standard");
  expect_str(standard, "price", "10.00");
  json_t *general = nested(r, "ticket_types", 1);
  expect_that(api_int(general, "id") > e.student, "a new ticket type: %s", r->body);
  expect_str(general, "name", "General");
  expect_str(general, "price", "20.00");
}

Test(events, nested_sessions_are_synchronised_by_id)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);

  struct api_resp *r = api_put(update_path(e.id), olga.access, api_jsonf(
      "{\"title\":\"Jazz Night\",\"date_time\":\"{Y}-05-01T18:00:00Z\",\"location\":\"Berlin\","
      "\"capacity\":100,"
      "\"sessions\":[{\"id\":%lld,\"title\":\"Opening, longer\",\"speaker\":\"Ada L.\","
      "\"start_time\":\"{Y}-05-01T17:30:00Z\",\"end_time\":\"{Y}-05-01T19:00:00Z\","
      "\"description\":\"Now with coffee\"},"
      "{\"title\":\"Encore\",\"start_time\":\"{Y}-05-01T23:00:00Z\","
      "\"end_time\":\"{Y}-05-01T23:30:00Z\"}]}", e.opening));
  expect_status(r, 200);
  cr_assert_eq(nested_count(r, "sessions"), 2, "%s", r->body);
  json_t *opening = nested(r, "sessions", 0);
  expect_int(opening, "id", e.opening);
  expect_str(opening, "title", "Opening, longer");
  expect_str(opening, "speaker", "Ada L.");
  expect_str(opening, "start_time", api_date("{Y}-05-01T17:30:00Z"));
  expect_str(opening, "description", "Now with coffee");
  json_t *encore = nested(r, "sessions", 1);
  expect_keys(encore, SESSION_KEYS);
  expect_str(encore, "title", "Encore");
  expect_that(api_int(encore, "id") != e.closing && api_int(encore, "id") != e.opening,
              "a new session: %s", r->body);
  /* Closing was left out: deleted. */
  struct api_resp *gone = api_delete(session_path(e.id, e.closing), olga.access);
  expect_status(gone, 404);
  expect_detail(gone, NO_SESSION);
  /* Ticket types were not sent: unchanged. */
  cr_assert_eq(nested_count(r, "ticket_types"), 3, "%s", r->body);
}

Test(events, nested_items_of_another_event_are_never_taken)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event mine = create_rich_event(olga.access);
  struct rich_event other = create_rich_event(olga.access);

  struct api_resp *r = api_patch(update_path(mine.id), olga.access, api_jsonf(
      "{\"sessions\":[{\"id\":%lld,\"title\":\"Stolen?\",\"start_time\":\"{Y}-05-01T18:00:00Z\","
      "\"end_time\":\"{Y}-05-01T19:00:00Z\"}],"
      "\"ticket_types\":[{\"id\":%lld,\"name\":\"Taken?\",\"price\":\"1\",\"quantity\":1}]}",
      other.opening, other.vip));
  expect_status(r, 200);
  cr_assert_eq(nested_count(r, "sessions"), 1, "%s", r->body);
  expect_that(api_int(nested(r, "sessions", 0), "id") != other.opening, "%s", r->body);
  cr_assert_eq(nested_count(r, "ticket_types"), 1, "%s", r->body);
  expect_that(api_int(nested(r, "ticket_types", 0), "id") != other.vip, "%s", r->body);

  struct api_resp *untouched = api_get(event_path(other.id), NULL);
  expect_that(json_equal(untouched->json, other.created->json),
              "the other event changed: %s", untouched->body);
}

Test(events, nested_errors_on_update_write_nothing)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);

  struct api_resp *r = api_patch(update_path(e.id), olga.access, api_json(
      "{'title':'Changed','ticket_types':[{'name':'Twice','price':'1','quantity':1},"
      "{'name':'Twice','price':'2','quantity':1}]}"));
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':[{},{'name':['" NAME_NOT_UNIQUE "']}]}");

  r = api_patch(update_path(e.id), olga.access, api_json(
      "{'title':'Changed','sessions':[{'title':'Backwards','start_time':'{Y}-05-01T19:00:00Z',"
      "'end_time':'{Y}-05-01T18:00:00Z'}]}"));
  expect_status(r, 400);
  expect_body(r, "{'sessions':[{'non_field_errors':['" SESSION_ORDER "']}]}");

  r = api_patch(update_path(e.id), olga.access, api_json("{'sessions':{'title':'x'}}"));
  expect_status(r, 400);
  expect_body(r, "{'sessions':{'non_field_errors':"
                 "['Expected a list of items but got type \\\"dict\\\".']}}");

  struct api_resp *detail = api_get(event_path(e.id), NULL);
  expect_that(json_equal(detail->json, e.created->json), "the event changed: %s", detail->body);
}

/* ---- ticket types and sessions of one event ----------------------------- */

Test(events, ticket_type_is_added_changed_and_deleted)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_event(olga.access, "{}").id;

  struct api_resp *r = api_post(ticket_types_path(id), olga.access,
                                api_json("{'name':'Early Bird','price':'7.5','quantity':30}"));
  expect_status(r, 201);
  expect_json_response(r);
  expect_keys(r, TICKET_TYPE_KEYS);
  long long tid = api_id(r);
  expect_str(r, "name", "Early Bird");
  expect_str(r, "price", "7.50");
  expect_int(r, "quantity", 30);

  struct api_resp *detail = api_get(event_path(id), NULL);
  cr_assert_eq(nested_count(detail, "ticket_types"), 1, "%s", detail->body);
  expect_that(json_equal(nested(detail, "ticket_types", 0), r->json), "%s", detail->body);

  r = api_post(ticket_types_path(id), olga.access,
               api_json("{'name':'Early Bird','price':'9','quantity':3}"));
  expect_status(r, 400);
  expect_body(r, "{'name':['" NAME_NOT_UNIQUE "']}");

  r = api_put(ticket_type_path(id, tid), olga.access,
              api_json("{'name':'Early','price':8,'quantity':25}"));
  expect_status(r, 200);
  expect_keys(r, TICKET_TYPE_KEYS);
  expect_int(r, "id", tid);
  expect_str(r, "name", "Early");
  expect_str(r, "price", "8.00");
  expect_int(r, "quantity", 25);

  r = api_patch(ticket_type_path(id, tid), olga.access, api_json("{'quantity':0}"));
  expect_status(r, 200);
  expect_int(r, "id", tid);
  expect_str(r, "name", "Early");
  expect_str(r, "price", "8.00");
  expect_int(r, "quantity", 0);
  detail = api_get(event_path(id), NULL);
  expect_that(json_equal(nested(detail, "ticket_types", 0), r->json), "%s", detail->body);

  r = api_delete(ticket_type_path(id, tid), olga.access);
  expect_status(r, 204);
  expect_empty_body(r);
  detail = api_get(event_path(id), NULL);
  cr_assert_eq(nested_count(detail, "ticket_types"), 0, "%s", detail->body);
  r = api_delete(ticket_type_path(id, tid), olga.access);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET_TYPE);
}

Test(events, ticket_type_writes_are_validated)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);

  struct api_resp *r = api_post(ticket_types_path(e.id), olga.access, "{}");
  expect_status(r, 400);
  expect_body(r, "{'name':['" REQUIRED "'],'price':['" REQUIRED "'],'quantity':['" REQUIRED "']}");

  r = api_post(ticket_types_path(e.id), olga.access,
               api_json("{'name':'X','price':'10.123','quantity':-1}"));
  expect_status(r, 400);
  expect_body(r, "{'price':['Ensure that there are no more than 2 decimal places.'],"
                 "'quantity':['" NOT_NEGATIVE "']}");

  r = api_put(ticket_type_path(e.id, e.vip), olga.access, api_json("{'name':'VIP'}"));
  expect_status(r, 400);
  expect_body(r, "{'price':['" REQUIRED "'],'quantity':['" REQUIRED "']}");

  r = api_patch(ticket_type_path(e.id, e.vip), olga.access, api_json("{'name':'General'}"));
  expect_status(r, 400);
  expect_body(r, "{'name':['" NAME_NOT_UNIQUE "']}");

  r = api_patch(ticket_type_path(e.id, e.vip), olga.access, api_json("{'price':'1000000'}"));
  expect_status(r, 400);
  expect_body(r, "{'price':['Ensure that there are no more than 6 digits before the decimal point.']}");

  struct api_resp *detail = api_get(event_path(e.id), NULL);
  expect_that(json_equal(detail->json, e.created->json), "the event changed: %s", detail->body);
}

Test(events, json_number_prices_on_update_are_checked_as_python_prints_them)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);

  struct api_resp *r = api_patch(ticket_type_path(e.id, e.vip), olga.access,
                                 "{\"price\":0.30000000000000004}");
  expect_status(r, 400);
  expect_body(r, "{'price':['Ensure that there are no more than 8 digits in total.']}");
  r = api_put(ticket_type_path(e.id, e.vip), olga.access,
              "{\"name\":\"VIP\",\"price\":1e-7,\"quantity\":10}");
  expect_status(r, 400);
  expect_body(r, "{'price':['Ensure that there are no more than 2 decimal places.']}");
  r = api_post(ticket_types_path(e.id), olga.access,
               "{\"name\":\"Promo\",\"price\":0.125,\"quantity\":10}");
  expect_status(r, 400);
  expect_body(r, "{'price':['Ensure that there are no more than 2 decimal places.']}");
  r = api_patch(update_path(e.id), olga.access, api_json(
      "{'ticket_types':[{'name':'General','price':10,'quantity':100},"
      "{'name':'VIP','price':0.30000000000000004,'quantity':10}]}"));
  expect_status(r, 400);
  expect_body(r, "{'ticket_types':[{},"
                 "{'price':['Ensure that there are no more than 8 digits in total.']}]}");
  struct api_resp *detail = api_get(event_path(e.id), NULL);
  expect_that(json_equal(detail->json, e.created->json), "the event changed: %s", detail->body);

  r = api_patch(ticket_type_path(e.id, e.vip), olga.access, "{\"price\":0.3}");
  expect_status(r, 200);
  expect_str(r, "price", "0.30");
}

Test(events, ticket_type_of_another_event_is_404)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event mine = create_rich_event(olga.access);
  struct rich_event other = create_rich_event(olga.access);

  struct api_resp *r = api_patch(ticket_type_path(mine.id, other.vip), olga.access,
                                 api_json("{'quantity':1}"));
  expect_status(r, 404);
  expect_detail(r, NO_TICKET_TYPE);
  r = api_put(ticket_type_path(mine.id, other.vip), olga.access,
              api_json("{'name':'X','price':'1','quantity':1}"));
  expect_status(r, 404);
  expect_detail(r, NO_TICKET_TYPE);
  r = api_delete(ticket_type_path(mine.id, other.vip), olga.access);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET_TYPE);
  r = api_delete(ticket_type_path(mine.id, 987654), olga.access);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET_TYPE);
  r = api_post(ticket_types_path(987654), olga.access,
               api_json("{'name':'X','price':'1','quantity':1}"));
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);

  struct api_resp *untouched = api_get(event_path(other.id), NULL);
  expect_that(json_equal(untouched->json, other.created->json),
              "the other event changed: %s", untouched->body);
}

Test(events, session_is_added_changed_and_deleted)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_event(olga.access, "{}").id;

  struct api_resp *r = api_post(sessions_path(id), olga.access, api_json(
      "{'title':'Keynote','speaker':'Grace','start_time':'{Y}-05-01T18:00:00+02:00',"
      "'end_time':'{Y}-05-01T17:00:00Z','description':'Big ideas'}"));
  expect_status(r, 201);
  expect_json_response(r);
  expect_keys(r, SESSION_KEYS);
  long long sid = api_id(r);
  expect_str(r, "title", "Keynote");
  expect_str(r, "speaker", "Grace");
  expect_str(r, "start_time", api_date("{Y}-05-01T16:00:00Z"));
  expect_str(r, "end_time", api_date("{Y}-05-01T17:00:00Z"));
  expect_str(r, "description", "Big ideas");
  struct api_resp *detail = api_get(event_path(id), NULL);
  cr_assert_eq(nested_count(detail, "sessions"), 1, "%s", detail->body);
  expect_that(json_equal(nested(detail, "sessions", 0), r->json), "%s", detail->body);

  r = api_put(session_path(id, sid), olga.access, api_json(
      "{'title':'Keynote II','start_time':'{Y}-05-01T18:00:00Z',"
      "'end_time':'{Y}-05-01T19:00:00Z'}"));
  expect_status(r, 200);
  expect_keys(r, SESSION_KEYS);
  expect_int(r, "id", sid);
  expect_str(r, "title", "Keynote II");
  expect_str(r, "start_time", api_date("{Y}-05-01T18:00:00Z"));

  r = api_patch(session_path(id, sid), olga.access, api_json("{'speaker':'Linus'}"));
  expect_status(r, 200);
  expect_int(r, "id", sid);
  expect_str(r, "title", "Keynote II");
  expect_str(r, "speaker", "Linus");
  expect_str(r, "end_time", api_date("{Y}-05-01T19:00:00Z"));
  detail = api_get(event_path(id), NULL);
  expect_that(json_equal(nested(detail, "sessions", 0), r->json), "%s", detail->body);

  r = api_delete(session_path(id, sid), olga.access);
  expect_status(r, 204);
  expect_empty_body(r);
  detail = api_get(event_path(id), NULL);
  cr_assert_eq(nested_count(detail, "sessions"), 0, "%s", detail->body);
  r = api_patch(session_path(id, sid), olga.access, api_json("{'speaker':'x'}"));
  expect_status(r, 404);
  expect_detail(r, NO_SESSION);
}

Test(events, session_writes_are_validated)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);

  struct api_resp *r = api_post(sessions_path(e.id), olga.access, api_json(
      "{'title':'Backwards','start_time':'{Y}-05-01T19:00:00Z',"
      "'end_time':'{Y}-05-01T18:00:00Z'}"));
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" SESSION_ORDER "']}");

  r = api_post(sessions_path(e.id), olga.access, "{}");
  expect_status(r, 400);
  expect_body(r, "{'title':['" REQUIRED "'],'start_time':['" REQUIRED "'],"
                 "'end_time':['" REQUIRED "']}");

  /* A PATCH is checked against the times it keeps. */
  r = api_patch(session_path(e.id, e.opening), olga.access,
                api_json("{'end_time':'{Y}-05-01T17:00:00Z'}"));
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" SESSION_ORDER "']}");

  r = api_patch(session_path(e.id, e.opening), olga.access, api_json("{'start_time':'later'}"));
  expect_status(r, 400);
  expect_body(r, "{'start_time':['" DATETIME_FORMAT "']}");

  r = api_put(session_path(e.id, e.opening), olga.access, api_json("{'title':'Only'}"));
  expect_status(r, 400);
  expect_body(r, "{'start_time':['" REQUIRED "'],'end_time':['" REQUIRED "']}");

  struct api_resp *detail = api_get(event_path(e.id), NULL);
  expect_that(json_equal(detail->json, e.created->json), "the event changed: %s", detail->body);
}

Test(events, session_of_another_event_is_404)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event mine = create_rich_event(olga.access);
  struct rich_event other = create_rich_event(olga.access);

  struct api_resp *r = api_patch(session_path(mine.id, other.opening), olga.access,
                                 api_json("{'title':'Mine now'}"));
  expect_status(r, 404);
  expect_detail(r, NO_SESSION);
  r = api_delete(session_path(mine.id, other.opening), olga.access);
  expect_status(r, 404);
  expect_detail(r, NO_SESSION);
  r = api_post(sessions_path(987654), olga.access, api_json(
      "{'title':'T','start_time':'{Y}-05-01T18:00:00Z','end_time':'{Y}-05-01T19:00:00Z'}"));
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);

  struct api_resp *untouched = api_get(event_path(other.id), NULL);
  expect_that(json_equal(untouched->json, other.created->json),
              "the other event changed: %s", untouched->body);
}

Test(events, who_may_change_ticket_types_and_sessions)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", "attendee");
  struct api_user root = api_admin("root");
  struct rich_event e = create_rich_event(olga.access);
  long long hidden = api_create_event(olga.access, "{'visibility':'private'}").id;
  const char *ticket = api_json("{'name':'Extra','price':'1','quantity':1}");
  const char *session = api_json("{'title':'Extra','start_time':'{Y}-05-01T18:00:00Z',"
                                 "'end_time':'{Y}-05-01T19:00:00Z'}");

  const char *others[] = { oscar.access, alice.access };
  for (size_t i = 0; i < 2; i++) {
    struct api_resp *r = api_post(ticket_types_path(e.id), others[i], ticket);
    expect_status(r, 403);
    expect_detail(r, NO_PERMISSION);
    expect_status(api_patch(ticket_type_path(e.id, e.vip), others[i], api_json("{'quantity':1}")),
                  403);
    expect_status(api_delete(ticket_type_path(e.id, e.vip), others[i]), 403);
    r = api_post(sessions_path(e.id), others[i], session);
    expect_status(r, 403);
    expect_detail(r, NO_PERMISSION);
    expect_status(api_patch(session_path(e.id, e.opening), others[i], api_json("{'title':'x'}")),
                  403);
    expect_status(api_delete(session_path(e.id, e.opening), others[i]), 403);
    r = api_post(ticket_types_path(hidden), others[i], ticket);
    expect_status(r, 404);
    expect_detail(r, NO_EVENT);
    expect_status(api_post(sessions_path(hidden), others[i], session), 404);
  }
  struct api_resp *r = api_post(ticket_types_path(e.id), NULL, ticket);
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  expect_status(api_delete(ticket_type_path(e.id, e.vip), NULL), 401);
  expect_status(api_post(sessions_path(e.id), NULL, session), 401);
  expect_status(api_delete(session_path(e.id, e.opening), NULL), 401);

  struct api_resp *detail = api_get(event_path(e.id), NULL);
  expect_that(json_equal(detail->json, e.created->json), "the event changed: %s", detail->body);

  expect_status(api_post(ticket_types_path(e.id), root.access, ticket), 201);
  expect_status(api_post(sessions_path(e.id), root.access, session), 201);
  expect_status(api_patch(ticket_type_path(e.id, e.vip), root.access, api_json("{'quantity':3}")),
                200);
  expect_status(api_delete(session_path(e.id, e.closing), root.access), 204);
  expect_status(api_post(ticket_types_path(hidden), root.access, ticket), 201);
  detail = api_get(event_path(e.id), NULL);
  cr_assert_eq(nested_count(detail, "ticket_types"), 4, "%s", detail->body);
  cr_assert_eq(nested_count(detail, "sessions"), 2, "%s", detail->body);
}

/* ---- at the same time --------------------------------------------------- */

#define RACERS 20

Test(events, one_ticket_type_name_added_by_many_at_once_is_taken_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_event(olga.access, "{}").id;
  struct api_call racers[RACERS] = { 0 };
  for (size_t i = 0; i < RACERS; i++) {
    racers[i].method = "POST";
    racers[i].path = ticket_types_path(id);
    racers[i].token = olga.access;
    racers[i].body = api_jsonf("{'name':'Popular','price':'%zu','quantity':1}", i);
  }
  api_race(racers, RACERS);

  /* One ticket type named Popular is added; the others are told it is taken. */
  struct api_resp *added = api_race_winner(racers, RACERS, 201,
                                           "{'name':['" NAME_NOT_UNIQUE "']}");
  expect_str(added, "name", "Popular");
  struct api_resp *detail = api_get(event_path(id), NULL);
  cr_assert_eq(nested_count(detail, "ticket_types"), 1, "%s", detail->body);
}

Test(events, many_events_created_at_once_all_exist)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_call racers[RACERS] = { 0 };
  for (size_t i = 0; i < RACERS; i++) {
    racers[i].method = "POST";
    racers[i].path = CREATE;
    racers[i].token = i % 2 ? olga.access : oscar.access;
    racers[i].body = event_json(api_printf(
        "{'title':'Race %zu','ticket_types':[{'name':'General','price':'1','quantity':%zu}]}",
        i, i));
  }
  api_race(racers, RACERS);

  for (size_t i = 0; i < RACERS; i++) {
    struct api_resp *r = racers[i].resp;
    expect_status(r, 200);
    expect_str(r, "title", api_printf("Race %zu", i));
    expect_int(r, "organizer", i % 2 ? olga.id : oscar.id);
    expect_int(nested(r, "ticket_types", 0), "quantity", (long long)i);
  }
  struct api_resp *r = list_events(NULL, "ordering=id");
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), RACERS, "%s", r->body);
  expect_header(r, "X-Total-Count", api_printf("%d", RACERS));
  for (size_t i = 1; i < RACERS; i++)
    cr_assert_lt(api_int(json_array_get(r->json, i - 1), "id"),
                 api_int(json_array_get(r->json, i), "id"));
}

/* ---- delete ------------------------------------------------------------- */

Test(events, organizer_deletes_an_event)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);
  long long kept = api_create_event(olga.access, "{'title':'Kept'}").id;

  struct api_resp *r = api_delete(delete_path(e.id), olga.access);
  expect_status(r, 204);
  expect_empty_body(r);
  r = api_get(event_path(e.id), NULL);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = api_delete(delete_path(e.id), olga.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = api_patch(update_path(e.id), olga.access, api_json("{'title':'Ghost'}"));
  expect_status(r, 404);
  r = api_patch(ticket_type_path(e.id, e.vip), olga.access, api_json("{'quantity':1}"));
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  expect_ids(list_events(NULL, NULL), kept);
}

Test(events, who_may_delete)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", "attendee");
  struct api_user root = api_admin("root");
  long long id = api_create_event(olga.access, "{}").id;
  long long hidden = api_create_event(olga.access, "{'visibility':'private'}").id;

  struct api_resp *r = api_delete(delete_path(id), oscar.access);
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_delete(delete_path(id), alice.access);
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_delete(delete_path(id), NULL);
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  r = api_delete(delete_path(hidden), oscar.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = api_delete(delete_path(987654), olga.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  expect_status(api_get(event_path(id), NULL), 200);
  expect_status(api_get(event_path(hidden), olga.access), 200);

  expect_status(api_delete(delete_path(id), root.access), 204);
  expect_status(api_delete(delete_path(hidden), root.access), 204);
  expect_status(api_get(event_path(id), NULL), 404);
  expect_status(api_get(event_path(hidden), olga.access), 404);
}

/* ---- the list ----------------------------------------------------------- */

/*
 * Four users, two categories and five events:
 *
 *   id       title               date_time          cap   category organizer
 *   rock     Rock Concert        {Y}-05-01 18:00   500   music    olga
 *   jazz     Jazz Evening        {Y}-05-03 19:30    80   music    oscar
 *   conf     Code Conference     {Y}-06-10 09:00  1000   tech     olga
 *   party    Private Rock Party  {Y}-05-02 20:00    30   -        olga  (private)
 *   retreat  Oscar Retreat       {Y}-05-01 18:00    12   tech     oscar (private)
 */
static struct {
  struct api_user olga, oscar, alice, root;
  long long music, tech;
  long long rock, jazz, conf, party, retreat;
} fx;

static void fixture(void)
{
  fx.olga = api_signup("olga", "organizer");
  fx.oscar = api_signup("oscar", "organizer");
  fx.alice = api_signup("alice", "attendee");
  fx.root = api_admin("root");
  fx.music = api_create_category(fx.root.access, "Music");
  fx.tech = api_create_category(fx.root.access, "Tech");
  fx.rock = api_create_event(fx.olga.access, api_printf(
      "{'title':'Rock Concert','description':'Loud guitars all night',"
      "'location':'Berlin Arena','date_time':'{Y}-05-01T18:00:00Z','capacity':500,"
      "'category':%lld}", fx.music)).id;
  fx.jazz = api_create_event(fx.oscar.access, api_printf(
      "{'title':'Jazz Evening','description':'Smooth tunes and a little rock',"
      "'location':'Munich Jazzhaus','date_time':'{Y}-05-03T19:30:00Z','capacity':80,"
      "'category':%lld}", fx.music)).id;
  fx.conf = api_create_event(fx.olga.access, api_printf(
      "{'title':'Code Conference','description':'Rock-solid C code',"
      "'location':'Berlin Congress Center','date_time':'{Y}-06-10T09:00:00Z',"
      "'capacity':1000,'category':%lld}", fx.tech)).id;
  fx.party = api_create_event(fx.olga.access,
      "{'title':'Private Rock Party','description':'Friends only','location':'Hamburg',"
      "'date_time':'{Y}-05-02T20:00:00Z','capacity':30,'visibility':'private'}").id;
  fx.retreat = api_create_event(fx.oscar.access, api_printf(
      "{'title':'Oscar Retreat','description':'Quiet days','location':'Munich',"
      "'date_time':'{Y}-05-01T18:00:00Z','capacity':12,'visibility':'private',"
      "'category':%lld}", fx.tech)).id;
}

Test(events, list_is_a_plain_array_of_upcoming_public_events_by_date)
{
  fixture();
  struct api_resp *r = list_events(NULL, NULL);
  expect_status(r, 200);
  expect_json_response(r);
  expect_that(json_is_array(r->json), "a plain array: %s", r->body);
  expect_ids(r, fx.rock, fx.jazz, fx.conf);
  expect_header(r, "X-Total-Count", "3");
  size_t i;
  json_t *item;
  json_array_foreach(r->json, i, item) {
    expect_keys(item, EVENT_KEYS);
    struct api_resp *detail = api_get(event_path(api_int(item, "id")), NULL);
    expect_that(json_equal(detail->json, item), "listed %s differs from detail %s",
                api_dump(item), detail->body);
  }
  expect_ids(api_get("/api/events", NULL), fx.rock, fx.jazz, fx.conf);
}

Test(events, list_adds_the_callers_own_private_events)
{
  fixture();
  expect_ids(list_events(fx.alice.access, NULL), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(fx.olga.access, NULL), fx.rock, fx.party, fx.jazz, fx.conf);
  /* Ties on date_time go by id. */
  expect_ids(list_events(fx.oscar.access, NULL), fx.rock, fx.retreat, fx.jazz, fx.conf);
  expect_ids(list_events(fx.root.access, NULL), fx.rock, fx.retreat, fx.party, fx.jazz, fx.conf);
}

Test(events, list_filters_by_category_id_or_slug)
{
  fixture();
  expect_ids(list_events(NULL, api_printf("category=%lld", fx.music)), fx.rock, fx.jazz);
  expect_ids(list_events(NULL, "category=music"), fx.rock, fx.jazz);
  expect_ids(list_events(NULL, "category=tech"), fx.conf);
  expect_ids(list_events(fx.oscar.access, api_printf("category=%lld", fx.tech)),
             fx.retreat, fx.conf);
  expect_ids(list_events(fx.root.access, "category=tech"), fx.retreat, fx.conf);
  expect_no_events(list_events(NULL, "category=nothing-like-this"));
  expect_no_events(list_events(NULL, "category=987654"));
}

Test(events, list_search_needs_every_term_somewhere)
{
  fixture();
  /* Title, description or location; any case. */
  expect_ids(list_events(NULL, "search=rock"), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "search=ROCK"), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(fx.olga.access, "search=rock"), fx.rock, fx.party, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "search=guitars"), fx.rock);
  expect_ids(list_events(NULL, "search=congress"), fx.conf);
  /* Terms split on commas and spaces; all must match. */
  expect_ids(list_events(NULL, "search=rock,berlin"), fx.rock, fx.conf);
  expect_ids(list_events(NULL, "search=rock%20munich"), fx.jazz);
  expect_ids(list_events(NULL, "search=rock,%20munich"), fx.jazz);
  expect_ids(list_events(NULL, "search=berlin%20arena%20loud"), fx.rock);
  expect_no_events(list_events(NULL, "search=rock%20hamburg"));
  expect_ids(list_events(fx.olga.access, "search=rock%20hamburg"), fx.party);
  /* An empty search is no filter. */
  expect_ids(list_events(NULL, "search="), fx.rock, fx.jazz, fx.conf);
}

Test(events, list_search_reads_a_plus_as_a_space)
{
  fixture();
  /* A query string's "+" is a space (application/x-www-form-urlencoded). */
  expect_ids(list_events(NULL, "search=rock+munich"), fx.jazz);
  expect_ids(list_events(NULL, "location=berlin+arena"), fx.rock);
}

Test(events, list_search_takes_wildcards_literally)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long percent = api_create_event(olga.access, "{'title':'100% Fun'}").id;
  long long under = api_create_event(olga.access, "{'title':'snake_case night'}").id;
  api_create_event(olga.access, "{'title':'1000 Fun','location':'snakeXcase'}");

  expect_ids(list_events(NULL, "search=100%25"), percent);
  expect_ids(list_events(NULL, "search=%25"), percent);
  expect_ids(list_events(NULL, "search=snake_case"), under);
  expect_ids(list_events(NULL, "search=_"), under);
}

Test(events, list_search_folds_unicode_case)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long uber = api_create_event(olga.access, "{'title':'\u00fcber Nacht','location':'M\u00fcnchen'}").id;
  long long greek = api_create_event(olga.access, "{'title':'\u03a3\u039f\u03a6\u0399\u0391 Talk'}").id;
  api_create_event(olga.access, "{'title':'Uber Night','location':'Muenchen'}");

  expect_ids(list_events(NULL, "search=%C3%9CBER"), uber);           /* ÜBER */
  expect_ids(list_events(NULL, "search=%C3%BCber"), uber);           /* über */
  expect_ids(list_events(NULL, "location=M%C3%9CNCHEN"), uber);      /* MÜNCHEN */
  expect_ids(list_events(NULL, "search=%CF%83%CE%BF%CF%86%CE%B9%CE%B1"), greek); /* σοφια */
}

Test(events, list_filters_by_location_substring)
{
  fixture();
  expect_ids(list_events(NULL, "location=berlin"), fx.rock, fx.conf);
  expect_ids(list_events(NULL, "location=BERLIN%20ARENA"), fx.rock);
  expect_ids(list_events(NULL, "location=ongress"), fx.conf);
  expect_ids(list_events(fx.oscar.access, "location=munich"), fx.retreat, fx.jazz);
  expect_ids(list_events(NULL, "location=munich"), fx.jazz);
  /* Only the location: "rock" is in titles and descriptions. */
  expect_no_events(list_events(NULL, "location=rock"));
}

Test(events, list_filters_by_date_range)
{
  fixture();
  /* A date is midnight UTC. */
  expect_ids(list_events(NULL, "start_date={Y}-05-03"), fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "end_date={Y}-05-03"), fx.rock);
  expect_ids(list_events(fx.olga.access, "start_date={Y}-05-02&end_date={Y}-05-31"),
             fx.party, fx.jazz);
  /* Date-times, both ends inclusive. */
  expect_ids(list_events(NULL, "start_date={Y}-05-01T18:00:00Z"), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "start_date={Y}-05-01T18:00:01Z"), fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "end_date={Y}-05-03T19:30:00Z"), fx.rock, fx.jazz);
  expect_ids(list_events(NULL, "end_date={Y}-05-03T21:30:00%2B02:00"), fx.rock, fx.jazz);
  expect_ids(list_events(NULL, "end_date={Y}-05-03T21:29:59%2B02:00"), fx.rock);
  expect_ids(list_events(NULL, "start_date={Y}-06-10&end_date={Y}-06-10T09:00:00Z"), fx.conf);
  expect_no_events(list_events(NULL, "start_date={Y}-07-01"));
  expect_no_events(list_events(NULL, "start_date={Y}-06-01&end_date={Y}-05-01"));
}

Test(events, list_filters_by_organizer)
{
  fixture();
  expect_ids(list_events(NULL, api_printf("organizer=%lld", fx.olga.id)), fx.rock, fx.conf);
  expect_ids(list_events(fx.olga.access, api_printf("organizer=%lld", fx.olga.id)),
             fx.rock, fx.party, fx.conf);
  /* Someone else's private events stay hidden. */
  expect_ids(list_events(fx.olga.access, api_printf("organizer=%lld", fx.oscar.id)), fx.jazz);
  expect_ids(list_events(fx.root.access, api_printf("organizer=%lld", fx.oscar.id)),
             fx.retreat, fx.jazz);
  expect_no_events(list_events(NULL, api_printf("organizer=%lld", fx.alice.id)));
}

Test(events, list_filters_by_visibility_among_what_the_caller_sees)
{
  fixture();
  expect_no_events(list_events(NULL, "visibility=private"));
  expect_no_events(list_events(fx.alice.access, "visibility=private"));
  expect_ids(list_events(fx.olga.access, "visibility=private"), fx.party);
  expect_ids(list_events(fx.oscar.access, "visibility=private"), fx.retreat);
  expect_ids(list_events(fx.root.access, "visibility=private"), fx.retreat, fx.party);
  expect_ids(list_events(fx.root.access, "visibility=public"), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "visibility=public"), fx.rock, fx.jazz, fx.conf);
}

Test(events, list_filters_combine)
{
  fixture();
  expect_ids(list_events(NULL, "category=music&search=rock&location=munich"), fx.jazz);
  expect_ids(list_events(fx.olga.access, "search=rock&start_date={Y}-05-02&end_date={Y}-05-31"),
             fx.party, fx.jazz);
  expect_ids(list_events(fx.root.access,
                         api_printf("organizer=%lld&visibility=private&category=tech",
                                    fx.oscar.id)), fx.retreat);
  expect_ids(list_events(fx.olga.access,
                         api_printf("organizer=%lld&search=berlin&ordering=-capacity",
                                    fx.olga.id)), fx.conf, fx.rock);
  expect_no_events(list_events(NULL, "category=tech&location=munich"));
  expect_ids(list_events(fx.root.access, "category=tech&location=munich&upcoming=false"),
             fx.retreat);
}

Test(events, list_orders_by_each_allowed_field)
{
  fixture();
  const char *root = fx.root.access;
  /* Insertion order is rock, jazz, conf, party, retreat. */
  expect_ids(list_events(root, "ordering=created_at"), fx.rock, fx.jazz, fx.conf, fx.party,
             fx.retreat);
  expect_ids(list_events(root, "ordering=-created_at"), fx.retreat, fx.party, fx.conf, fx.jazz,
             fx.rock);
  expect_ids(list_events(root, "ordering=id"), fx.rock, fx.jazz, fx.conf, fx.party, fx.retreat);
  expect_ids(list_events(root, "ordering=-id"), fx.retreat, fx.party, fx.conf, fx.jazz, fx.rock);
  expect_ids(list_events(root, "ordering=title"), fx.conf, fx.jazz, fx.retreat, fx.party,
             fx.rock);
  expect_ids(list_events(root, "ordering=-title"), fx.rock, fx.party, fx.retreat, fx.jazz,
             fx.conf);
  expect_ids(list_events(root, "ordering=capacity"), fx.retreat, fx.party, fx.jazz, fx.rock,
             fx.conf);
  expect_ids(list_events(root, "ordering=-capacity"), fx.conf, fx.rock, fx.jazz, fx.party,
             fx.retreat);
  expect_ids(list_events(root, "ordering=date_time"), fx.rock, fx.retreat, fx.party, fx.jazz,
             fx.conf);
  expect_ids(list_events(fx.olga.access, "ordering=-date_time"), fx.conf, fx.jazz, fx.party,
             fx.rock);
  expect_ids(list_events(NULL, "ordering=-title&search=rock"), fx.rock, fx.jazz, fx.conf);
}

Test(events, list_refuses_unknown_parameter_values)
{
  struct api_resp *r = list_events(NULL, "ordering=password");
  expect_status(r, 400);
  expect_json_response(r);
  expect_body(r, "{'ordering':['Select a valid choice. password is not one of the "
                 "available choices.']}");
  r = list_events(NULL, "ordering=-password");
  expect_status(r, 400);
  expect_keys(r, "ordering", NULL);
  r = list_events(NULL, "start_date=yesterday");
  expect_status(r, 400);
  expect_body(r, "{'start_date':['Enter a valid date/time.']}");
  r = list_events(NULL, "end_date={Y}-02-30");
  expect_status(r, 400);
  expect_body(r, "{'end_date':['Enter a valid date/time.']}");
  r = list_events(NULL, "upcoming=maybe");
  expect_status(r, 400);
  expect_keys(r, "upcoming", NULL);
  r = list_events(NULL, "visibility=secret");
  expect_status(r, 400);
  expect_keys(r, "visibility", NULL);
  r = list_events(NULL, "organizer=abc");
  expect_status(r, 400);
  expect_keys(r, "organizer", NULL);

  /* Every bad parameter at once. */
  r = list_events(NULL, "ordering=password&start_date=yesterday&upcoming=maybe&limit=abc");
  expect_status(r, 400);
  expect_keys(r, "ordering", "start_date", "upcoming", "limit", NULL);
  expect_alive();
}

Test(events, list_paginates_with_limit_and_offset)
{
  fixture();
  const char *root = fx.root.access;
  struct api_resp *r = list_events(root, "limit=2");
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, "count", "next", "previous", "results", NULL);
  expect_int(r, "count", 5);
  expect_str(r, "next", api_url("/api/events/?limit=2&offset=2"));
  expect_null(r, "previous");
  expect_ids(r, fx.rock, fx.retreat);
  expect_header(r, "X-Total-Count", "5");

  r = list_events(root, "limit=2&offset=2");
  expect_int(r, "count", 5);
  expect_str(r, "next", api_url("/api/events/?limit=2&offset=4"));
  expect_str(r, "previous", api_url("/api/events/?limit=2"));
  expect_ids(r, fx.party, fx.jazz);
  expect_header(r, "X-Total-Count", "5");

  r = list_events(root, "limit=2&offset=4");
  expect_int(r, "count", 5);
  expect_null(r, "next");
  expect_str(r, "previous", api_url("/api/events/?limit=2&offset=2"));
  expect_ids(r, fx.conf);

  r = list_events(root, "limit=2&offset=3");
  expect_str(r, "previous", api_url("/api/events/?limit=2&offset=1"));
  expect_ids(r, fx.jazz, fx.conf);

  r = list_events(root, "offset=1&limit=2");
  expect_str(r, "previous", api_url("/api/events/?limit=2"));
  expect_ids(r, fx.retreat, fx.party);
}

Test(events, list_pages_keep_the_other_parameters_sorted_by_name)
{
  fixture();
  struct api_resp *r = list_events(NULL, "search=rock&limit=1&category=music");
  expect_status(r, 200);
  expect_int(r, "count", 2);
  expect_str(r, "next", api_url("/api/events/?category=music&limit=1&offset=1&search=rock"));
  expect_null(r, "previous");
  expect_ids(r, fx.rock);

  r = list_events(NULL, "search=rock&limit=1&category=music&offset=1");
  expect_null(r, "next");
  expect_str(r, "previous", api_url("/api/events/?category=music&limit=1&search=rock"));
  expect_ids(r, fx.jazz);
  expect_header(r, "X-Total-Count", "2");
}

Test(events, list_page_past_the_end_is_empty)
{
  fixture();
  struct api_resp *r = list_events(NULL, "limit=2&offset=10");
  expect_status(r, 200);
  expect_keys(r, "count", "next", "previous", "results", NULL);
  expect_int(r, "count", 3);
  expect_null(r, "next");
  expect_str(r, "previous", api_url("/api/events/?limit=2&offset=8"));
  expect_no_events(r);
  expect_header(r, "X-Total-Count", "3");

  r = list_events(NULL, "limit=1");
  expect_int(r, "count", 3);
  expect_ids(r, fx.rock);
  expect_str(r, "next", api_url("/api/events/?limit=1&offset=1"));

  r = list_events(NULL, "limit=1000");
  expect_status(r, 200);
  expect_int(r, "count", 3);
  expect_null(r, "next");
  expect_ids(r, fx.rock, fx.jazz, fx.conf);

  r = list_events(NULL, "limit=5&search=nothing");
  expect_status(r, 200);
  expect_body(r, "{'count':0,'next':null,'previous':null,'results':[]}");
}

Test(events, list_offset_without_limit_is_no_pagination)
{
  fixture();
  /* DRF's LimitOffsetPagination paginates only when a limit is given. */
  struct api_resp *r = list_events(NULL, "offset=1");
  expect_that(json_is_array(r->json), "a plain array: %s", r->body);
  expect_ids(r, fx.rock, fx.jazz, fx.conf);
}

Test(events, list_ignores_empty_parameters)
{
  fixture();
  /* django-filter and OrderingFilter skip a parameter given empty. */
  expect_ids(list_events(NULL, "category=&search=&location="), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "start_date=&end_date="), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "organizer=&visibility="), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "upcoming="), fx.rock, fx.jazz, fx.conf);
  expect_ids(list_events(NULL, "ordering="), fx.rock, fx.jazz, fx.conf);
}

Test(events, list_refuses_bad_limits_and_offsets)
{
  struct api_resp *r = list_events(NULL, "limit=1001");
  expect_status(r, 400);
  expect_body(r, "{'limit':['Ensure this value is less than or equal to 1000.']}");
  r = list_events(NULL, "limit=-1");
  expect_status(r, 400);
  expect_keys(r, "limit", NULL);
  r = list_events(NULL, "limit=abc");
  expect_status(r, 400);
  expect_keys(r, "limit", NULL);
  r = list_events(NULL, "limit=2&offset=-1");
  expect_status(r, 400);
  expect_keys(r, "offset", NULL);
  r = list_events(NULL, "limit=2&offset=abc");
  expect_status(r, 400);
  expect_keys(r, "offset", NULL);
  r = list_events(NULL, "limit=99999999999999999999999");
  expect_status(r, 400);
  expect_keys(r, "limit", NULL);
}

Test(events, list_includes_past_events_with_upcoming_false)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *soon_time = api_iso_from_now(600);
  long long soon = api_create_event(olga.access, api_printf("{'title':'Soon','date_time':'%s'}",
                                                       soon_time)).id;
  long long later = api_create_event(olga.access, "{'title':'Later'}").id;
  expect_ids(list_events(NULL, NULL), soon, later);
  /* A substring filter's matches are kept in order until the next start. */
  for (int i = 0; i < 2; i++) {
    struct api_resp *page = list_events(NULL, "location=erli&limit=1&offset=1");
    expect_ids(page, later);
    expect_int(page, "count", 2);
  }
  expect_ids(list_events(NULL, "location=erli"), soon, later);

  api_clock_advance(601);

  /* Started: out of the default list, in with upcoming=false. */
  expect_ids(list_events(NULL, NULL), later);
  struct api_resp *page = list_events(NULL, "location=erli&limit=1");
  expect_ids(page, later);
  expect_int(page, "count", 1);
  expect_ids(list_events(NULL, "location=erli"), later);
  expect_ids(list_events(NULL, "upcoming=true"), later);
  expect_ids(list_events(NULL, "upcoming=false"), soon, later);
  expect_ids(list_events(NULL, "upcoming=0"), soon, later);
  expect_ids(list_events(NULL, "upcoming=false&ordering=-date_time"), later, soon);
  expect_ids(list_events(NULL, api_printf("upcoming=false&end_date=%s", soon_time)), soon);
  expect_ids(list_events(NULL, "upcoming=false&search=soon"), soon);
  struct api_resp *r = list_events(NULL, "upcoming=false&limit=1");
  expect_int(r, "count", 2);
  expect_ids(r, soon);
  expect_str(r, "next", api_url("/api/events/?limit=1&offset=1&upcoming=false"));

  /* A started event is still there, and editable while its time stays. */
  expect_status(api_get(event_path(soon), NULL), 200);
  r = api_patch(update_path(soon), olga.access, api_json("{'title':'Started'}"));
  expect_status(r, 200);
  expect_str(r, "title", "Started");
  expect_str(r, "date_time", soon_time);
  r = api_put(update_path(soon), olga.access,
              event_json(api_printf("{'title':'Started Too','date_time':'%s'}", soon_time)));
  expect_status(r, 200);
  expect_str(r, "title", "Started Too");
  r = api_patch(update_path(soon), olga.access,
                api_printf("{\"date_time\":\"%s\"}", api_iso_from_now(-60)));
  expect_status(r, 400);
  expect_body(r, "{'date_time':['" IN_THE_FUTURE "']}");
  r = api_patch(update_path(soon), olga.access, api_json("{'date_time':'{Y}-05-02T18:00:00Z'}"));
  expect_status(r, 200);
  expect_ids(list_events(NULL, NULL), later, soon);
}

Test(events, list_sees_writes_at_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long id = api_create_event(olga.access, "{'title':'Before'}").id;
  expect_ids(list_events(NULL, "search=before"), id);
  expect_status(api_patch(update_path(id), olga.access, api_json("{'title':'After'}")), 200);
  expect_no_events(list_events(NULL, "search=before"));
  expect_ids(list_events(NULL, "search=after"), id);
  expect_status(api_patch(update_path(id), olga.access, api_json("{'visibility':'private'}")),
                200);
  expect_no_events(list_events(NULL, NULL));
  expect_ids(list_events(olga.access, NULL), id);
  expect_status(api_patch(update_path(id), olga.access, api_json("{'visibility':'public'}")),
                200);

  /* Writes to its ticket types and sessions too. */
  struct api_resp *t = api_post(ticket_types_path(id), olga.access,
                                api_json("{'name':'Door','price':'5','quantity':0}"));
  expect_status(t, 201);
  struct api_resp *r = list_events(NULL, NULL);
  expect_ids(r, id);
  expect_that(json_equal(json_object_get(json_array_get(r->json, 0), "ticket_types"),
                         api_keep_json(json_pack("[O]", t->json))),
              "the list misses the new ticket type: %s", r->body);
  struct api_resp *s = api_post(sessions_path(id), olga.access, api_json(
      "{'title':'Doors open','start_time':'{Y}-05-01T17:00:00Z','end_time':'{Y}-05-01T18:00:00Z'}"));
  expect_status(s, 201);
  r = list_events(NULL, NULL);
  expect_str(json_array_get(json_object_get(json_array_get(r->json, 0), "sessions"), 0),
             "title", "Doors open");
  expect_status(api_patch(ticket_type_path(id, api_id(t)), olga.access,
                          api_json("{'price':'6'}")), 200);
  r = list_events(NULL, NULL);
  expect_str(json_array_get(json_object_get(json_array_get(r->json, 0), "ticket_types"), 0),
             "price", "6.00");
  expect_status(api_delete(session_path(id, api_id(s)), olga.access), 204);
  r = list_events(NULL, NULL);
  expect_that(json_array_size(json_object_get(json_array_get(r->json, 0), "sessions")) == 0,
              "the list still shows the deleted session: %s", r->body);

  expect_status(api_delete(delete_path(id), olga.access), 204);
  expect_no_events(list_events(olga.access, NULL));
}

/* ---- malformed bodies --------------------------------------------------- */

Test(events, malformed_create_bodies_are_client_errors)
{
  struct api_user olga = api_signup("olga", "organizer");

  struct api_resp *r = api_post(CREATE, olga.access, "{\"title\": \"Jazz\",");
  expect_status(r, 400);
  expect_json_response(r);
  expect_str_prefix(r, "detail", "JSON parse error - ");

  r = api_post(CREATE, olga.access, "[{\"title\":\"Jazz\"}]");
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['Invalid data. Expected a dictionary, but got list.']}");

  r = api_post(CREATE, olga.access, "\"Jazz\"");
  expect_status(r, 400);
  expect_json_response(r);
  expect_body(r, "{'non_field_errors':['Invalid data. Expected a dictionary, but got str.']}");

  r = api_request("POST", CREATE, olga.access, "text/plain",
                  event_json("{}"), strlen(event_json("{}")), NULL);
  expect_status(r, 415);
  expect_json_response(r);
  expect_str_prefix(r, "detail", "Unsupported media type");

  /* A lone surrogate is not JSON (Python's json refuses it too). */
  r = api_post(CREATE, olga.access, "{\"title\":\"\\ud800\"}");
  expect_status(r, 400);
  expect_keys(r, "detail", NULL);
  expect_str_prefix(r, "detail", "JSON parse error - ");

  /* Huge strings: refused by length, or by the body limit. */
  r = create(olga.access, api_printf("{'title':'%s','location':'%s'}",
                                     api_repeat('t', 300000), api_repeat('l', 300000)));
  expect_status(r, 400);
  expect_body(r, "{'title':['" TOO_LONG_255 "'],'location':['" TOO_LONG_255 "']}");
  r = create(olga.access, api_printf("{'description':'%s'}", api_repeat('d', 2 * 1024 * 1024)));
  expect_status(r, 413);
  expect_detail(r, BODY_TOO_LARGE);

  expect_no_events(list_events(olga.access, "upcoming=false"));
  expect_alive();
  expect_status(create(olga.access, "{}"), 200);
}

Test(events, malformed_update_bodies_are_client_errors)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);
  const char *path = update_path(e.id);

  struct api_resp *r = api_patch(path, olga.access, "{\"title\": ");
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "JSON parse error - ");
  r = api_put(path, olga.access, "[1,2,3]");
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['Invalid data. Expected a dictionary, but got list.']}");
  r = api_request("PATCH", path, olga.access, "text/plain", "title=x", 7, NULL);
  expect_status(r, 415);
  r = api_patch(path, olga.access, api_printf("{\"title\":\"%s\"}", api_repeat('t', 500000)));
  expect_status(r, 400);
  expect_body(r, "{'title':['" TOO_LONG_255 "']}");
  r = api_patch(path, olga.access, api_printf("{\"description\":\"%s\"}",
                                              api_repeat('d', 2 * 1024 * 1024)));
  expect_status(r, 413);
  expect_detail(r, BODY_TOO_LARGE);
  r = api_patch(path, olga.access, api_json("{'ticket_types':[1,2]}"));
  expect_status(r, 400);
  expect_keys(r, "ticket_types", NULL);
  cr_assert_eq(nested_count(r, "ticket_types"), 2, "one error per item: %s", r->body);
  r = api_post(ticket_types_path(e.id), olga.access, "{\"name\":");
  expect_status(r, 400);
  r = api_post(sessions_path(e.id), olga.access, "[]");
  expect_status(r, 400);

  expect_alive();
  struct api_resp *detail = api_get(event_path(e.id), NULL);
  expect_that(json_equal(detail->json, e.created->json), "the event changed: %s", detail->body);
}

/* ---- form bodies (DRF's FormParser and MultiPartParser) ----------------- */

#define FORM "application/x-www-form-urlencoded"
#define BOUNDARY "----eventapiFormBoundary42"
#define MULTIPART "multipart/form-data; boundary=" BOUNDARY

static struct api_resp *send_form(const char *method, const char *path, const char *token,
                                  const char *form)
{
  const char *dated = api_date(form);
  return api_request(method, path, token, FORM, dated, strlen(dated), NULL);
}

/* A multipart body of text fields, (name, value) pairs ended by NULL. Harness-owned. */
static const char *text_parts(const char *name, ...)
{
  va_list ap;
  va_start(ap, name);
  const char *body = "";
  for (; name; name = va_arg(ap, const char *))
    body = api_printf("%s--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                      "%s\r\n", body, name, api_date(va_arg(ap, const char *)));
  va_end(ap);
  return api_printf("%s--" BOUNDARY "--\r\n", body);
}

Test(events, create_takes_multipart_form_fields)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *c = api_post("/api/events/categories/", olga.access, api_json("{'name':'Jazz'}"));
  expect_status(c, 201);
  /* Form values are text: "50" is an integer, "" for the nullable category is null. */
  const char *body = text_parts("title", "Jazz Night", "description", "",
                                "date_time", "{Y}-05-01T20:00:00+02:00", "location", "Porto",
                                "capacity", "50", "visibility", "private", "category", "",
                                "organizer", "99", NULL);
  struct api_resp *r = api_request("POST", CREATE, olga.access, MULTIPART, body, strlen(body),
                                   NULL);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, EVENT_KEYS);
  expect_str(r, "title", "Jazz Night");
  expect_str(r, "description", "");
  expect_str(r, "date_time", api_date("{Y}-05-01T18:00:00Z"));
  expect_int(r, "capacity", 50);
  expect_str(r, "visibility", "private");
  expect_null(r, "category");
  expect_int(r, "organizer", olga.id);

  body = text_parts("title", "Jazz Morning", "date_time", "{Y}-05-02T10:00:00Z",
                    "location", "Porto", "capacity", " 7.0 ",
                    "category", api_printf("%lld", api_id(c)), "visibility", "", NULL);
  r = api_request("POST", CREATE, olga.access, MULTIPART, body, strlen(body), NULL);
  expect_status(r, 200);
  expect_int(r, "capacity", 7);
  expect_int(r, "category", api_id(c));
  expect_str(r, "visibility", "public"); /* blank: not given, the default */
}

Test(events, form_fields_are_coerced_with_drfs_messages)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = send_form("POST", CREATE, olga.access,
      "title=&date_time=soon&location=Porto&capacity=ten&category=jazz&visibility=secret");
  expect_status(r, 400);
  expect_body(r, "{'title':['This field may not be blank.'],"
                 "'date_time':['" DATETIME_FORMAT "'],"
                 "'capacity':['A valid integer is required.'],"
                 "'visibility':['\\\"secret\\\" is not a valid choice.'],"
                 "'category':['Incorrect type. Expected pk value, received str.']}");
  r = send_form("POST", CREATE, olga.access,
      "title=T&date_time={Y}-05-01T18%3A00%3A00%2B02%3A00&location=L&capacity=-1&category=99");
  expect_status(r, 400);
  expect_body(r, "{'capacity':['" NOT_NEGATIVE "'],"
                 "'category':['Invalid pk \\\"99\\\" - object does not exist.']}");
  r = send_form("POST", CREATE, olga.access, "title=T&location=L");
  expect_status(r, 400);
  expect_body(r, "{'date_time':['" REQUIRED "'],'capacity':['" REQUIRED "']}");
  expect_no_events(list_events(olga.access, "upcoming=false"));
}

/* DRF's form parsers cannot carry lists of objects: they stay JSON only. */
Test(events, nested_lists_in_a_form_are_refused)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *expected = "{'ticket_types':{'non_field_errors':"
                         "['Expected a list of items but got type \\\"str\\\".']}}";
  struct api_resp *r = send_form("POST", CREATE, olga.access,
      "title=T&date_time={Y}-05-01T18:00:00Z&location=L&capacity=5"
      "&ticket_types=%5B%7B%22name%22%3A%22General%22%7D%5D");
  expect_status(r, 400);
  expect_body(r, expected);
  const char *body = text_parts("title", "T", "date_time", "{Y}-05-01T18:00:00Z",
                                "location", "L", "capacity", "5", "sessions", "Keynote", NULL);
  r = api_request("POST", CREATE, olga.access, MULTIPART, body, strlen(body), NULL);
  expect_status(r, 400);
  expect_body(r, "{'sessions':{'non_field_errors':"
                 "['Expected a list of items but got type \\\"str\\\".']}}");
  expect_no_events(list_events(olga.access, "upcoming=false"));

  long long id = api_create_event(olga.access, "{}").id;
  r = send_form("PATCH", update_path(id), olga.access, "ticket_types=General");
  expect_status(r, 400);
  expect_body(r, expected);
}

Test(events, updates_and_sub_resources_take_forms)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct rich_event e = create_rich_event(olga.access);
  struct api_resp *r = send_form("PATCH", update_path(e.id), olga.access,
                                 "capacity=150&visibility=&description=Live+%26+loud");
  expect_status(r, 200);
  expect_int(r, "capacity", 150);
  expect_str(r, "visibility", "public");
  expect_str(r, "description", "Live & loud");
  expect_int(r, "id", e.id);
  cr_assert_eq(nested_count(r, "ticket_types"), 3, "%s", r->body);
  r = send_form("PATCH", update_path(e.id), olga.access, "capacity=");
  expect_status(r, 400);
  expect_body(r, "{'capacity':['A valid integer is required.']}");

  r = send_form("POST", ticket_types_path(e.id), olga.access,
                "name=Early+Bird&price=12.5&quantity=30");
  expect_status(r, 201);
  expect_str(r, "name", "Early Bird");
  expect_str(r, "price", "12.50");
  expect_int(r, "quantity", 30);
  r = send_form("PATCH", ticket_type_path(e.id, api_id(r)), olga.access, "price=1e-7&quantity=x");
  expect_status(r, 400);
  expect_body(r, "{'price':['Ensure that there are no more than 2 decimal places.'],"
                 "'quantity':['A valid integer is required.']}");

  const char *body = text_parts("title", "Encore", "speaker", "", "start_time",
                                "{Y}-05-01T22:00:00Z", "end_time", "{Y}-05-01T22:30:00Z", NULL);
  r = api_request("POST", sessions_path(e.id), olga.access, MULTIPART, body, strlen(body), NULL);
  expect_status(r, 201);
  expect_str(r, "title", "Encore");
  expect_str(r, "speaker", "");
  expect_str(r, "end_time", api_date("{Y}-05-01T22:30:00Z"));
}

/* ---- CREATE_STATUS=201 -------------------------------------------------- */

static void start_as_the_original(void)
{
  static const char *const env[] = { "CREATE_STATUS", "201", NULL };
  api_server_start_with(env);
}

Test(events_original, create_answers_201_with_create_status_201,
     .init = start_as_the_original, .fini = api_server_stop)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = create(olga.access, "{'title':'Like Before'}");
  expect_status(r, 201);
  expect_keys(r, EVENT_KEYS);
  expect_str(r, "title", "Like Before");
  expect_status(api_get(event_path(api_id(r)), NULL), 200);
  /* Only the create answer changes. */
  expect_status(api_patch(update_path(api_id(r)), olga.access, api_json("{'title':'X'}")), 200);
}

/* ---- a refused choice in the message ------------------------------------ */

/*
 * A refused choice is shown to 100 bytes at most, cut between characters:
 * cut inside one, the message could not be made into JSON and the field's
 * list came back empty. Found by fuzz/events.c.
 */
Test(events, a_long_refused_choice_is_cut_between_characters)
{
  struct api_user olga = api_signup("olga", "organizer");
  char value[1 + 2 * 60 + 1] = "a", shown[1 + 2 * 49 + 1] = "a";
  for (int i = 0; i < 60; i++)
    strcat(value, "\xc3\xa9");
  for (int i = 0; i < 49; i++)
    strcat(shown, "\xc3\xa9");
  struct api_resp *r = create(olga.access, api_printf("{'visibility':'%s'}", value));
  expect_status(r, 400);
  expect_field_errors(r, "visibility", api_printf("\"%s\" is not a valid choice.", shown), NULL);
}
