/*
 * registrations.c - API.md "Registrations": registering (both paths) and
 * its rules, capacity and the waitlist, the caller's list, one
 * registration, cancelling and the promotions it and raised limits cause,
 * the organizer's list (JSON and CSV), private events seen by their
 * registrants, and the counters under concurrent registrations and cancels.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/api.h"
#include "support/db.h"

#define CREATE "/api/events/create/"
#define EVENTS "/api/events/"
#define REGISTER "/api/registrations/register/"
#define ME "/api/registrations/me/"

#define REGISTRATION_KEYS "id", "user", "event", "ticket_type", "registered_at", \
    "is_waitlisted", "ticket", NULL
#define SHORT_KEYS "id", "event", "ticket_type", "registered_at", "is_waitlisted", NULL
#define TICKET_SUMMARY_KEYS "code", "issued_at", "is_checked_in", NULL
#define ORGANIZER_KEYS "id", "user", "ticket_type", "registered_at", "is_waitlisted", \
    "ticket", NULL
#define ORGANIZER_USER_KEYS "id", "username", "email", "first_name", "last_name", NULL
#define ORGANIZER_TICKET_KEYS "code", "issued_at", "is_checked_in", "checked_in_at", NULL

#define NOT_OURS "This ticket type does not belong to the selected event."
#define STARTED "This event has already started."

TestSuite(registrations, .init = api_server_start, .fini = api_server_stop);

/* ---- helpers ------------------------------------------------------------ */

static const char *event_path(long long id) { return api_printf(EVENTS "%lld/", id); }
static const char *update_path(long long id) { return api_printf(EVENTS "%lld/update/", id); }
static const char *register_path(long long id)
{
  return api_printf("/api/registrations/%lld/register/", id);
}
static const char *registration_path(long long id)
{
  return api_printf("/api/registrations/%lld/", id);
}
static const char *event_registrations_path(long long id)
{
  return api_printf(EVENTS "%lld/registrations/", id);
}
static const char *ticket_type_path(long long id, long long tid)
{
  return api_printf(EVENTS "%lld/ticket-types/%lld/", id, tid);
}

/* POST /api/registrations/{event}/register/ with ticket_type (0: none sent). */
static struct api_resp *register_for(const char *token, long long event, long long type)
{
  return api_post(register_path(event), token,
                  type ? api_jsonf("{\"ticket_type\":%lld}", type) : "{}");
}

/* Registers and asserts 200 and whether it is waitlisted; the answer. */
static struct api_resp *expect_registered_at(const char *file, int line, const char *token,
                                             long long event, long long type, bool waitlisted)
{
  struct api_resp *r = register_for(token, event, type);
  expect_status_at(file, line, r, 200);
  expect_bool_at(file, line, r, r->json, "is_waitlisted", waitlisted);
  if (waitlisted)
    expect_null_at(file, line, r, r->json, "ticket");
  return r;
}
#define confirmed(token, event, type) \
  expect_registered_at(__FILE__, __LINE__, (token), (event), (type), false)
#define waitlisted(token, event, type) \
  expect_registered_at(__FILE__, __LINE__, (token), (event), (type), true)

/* A lowercase random UUID: 8-4-4-4-12 hex, version 4, variant 10xx. */
static bool is_uuid4(const char *s)
{
  if (s == NULL || strlen(s) != 36)
    return false;
  for (size_t i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return false;
    } else if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0') {
      return false;
    }
  }
  return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static const char *code_of(struct api_resp *r)
{
  json_t *ticket = json_object_get(r->json, "ticket");
  const char *code = json_string_value(json_object_get(ticket, "code"));
  expect_that(is_uuid4(code), "expected a ticket with a UUIDv4 code: %s", r->body);
  return code;
}

/* The registration as its user (or anyone allowed) sees it now; asserts 200. */
static struct api_resp *fetch(long long id, const char *token)
{
  struct api_resp *r = api_get(registration_path(id), token);
  expect_status(r, 200);
  expect_keys(r, REGISTRATION_KEYS);
  return r;
}

#define expect_promoted(id, token) do {                                        \
    struct api_resp *p_ = fetch((id), (token));                                \
    expect_bool(p_, "is_waitlisted", false);                                   \
    expect_keys(json_object_get(p_->json, "ticket"), TICKET_SUMMARY_KEYS);     \
    cr_assert(is_uuid4(code_of(p_)));                                          \
  } while (0)
#define expect_waiting(id, token) do {                                         \
    struct api_resp *w_ = fetch((id), (token));                                \
    expect_bool(w_, "is_waitlisted", true);                                    \
    expect_null(w_, "ticket");                                                 \
  } while (0)

/* Signs up count attendees named prefix0, prefix1, ... */
static void sign_up_many(struct api_user *users, size_t count, const char *prefix)
{
  for (size_t i = 0; i < count; i++)
    users[i] = api_signup(api_printf("%s%zu", prefix, i), NULL);
}

static bool list_has_event(struct api_resp *r, long long id)
{
  size_t i;
  json_t *item;
  json_array_foreach(r->json, i, item) {
    if (json_integer_value(json_object_get(item, "id")) == id)
      return true;
  }
  return false;
}

/* ---- registering -------------------------------------------------------- */

Test(registrations, register_answers_a_confirmed_registration_with_its_ticket)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access,
      "{'ticket_types':[{'name':'General','price':'10','quantity':0}]}");

  long long before = api_now_us();
  struct api_resp *r = register_for(alice.access, e.id, e.ticket_types[0]);
  long long after = api_now_us();
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, REGISTRATION_KEYS);
  expect_int(r, "user", alice.id);
  expect_int(r, "event", e.id);
  expect_int(r, "ticket_type", e.ticket_types[0]);
  expect_bool(r, "is_waitlisted", false);
  expect_time_within(r, "registered_at", before, after);
  json_t *ticket = json_object_get(r->json, "ticket");
  expect_keys(ticket, TICKET_SUMMARY_KEYS);
  expect_bool(ticket, "is_checked_in", false);
  expect_time_within(ticket, "issued_at", before, after);
  const char *code = code_of(r);

  /* The detail answers the same registration. */
  struct api_resp *d = fetch(api_id(r), alice.access);
  expect_int(d, "id", api_id(r));
  expect_str(json_object_get(d->json, "ticket"), "code", code);
  expect_str(d, "registered_at", json_string_value(json_object_get(r->json, "registered_at")));
}

Test(registrations, register_requires_authentication)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access, "{}");
  struct api_resp *r = register_for(NULL, e.id, 0);
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  expect_header(r, "WWW-Authenticate", "Bearer realm=\"api\"");
  r = api_post(REGISTER, NULL, api_jsonf("{\"event\":%lld}", e.id));
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  r = api_get(event_registrations_path(e.id), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);
}

Test(registrations, the_alias_takes_the_event_in_the_body)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access,
      "{'ticket_types':[{'name':'General','price':'10','quantity':0}]}");
  struct api_resp *r = api_post(REGISTER, alice.access,
      api_jsonf("{\"event\":%lld,\"ticket_type\":%lld}", e.id, e.ticket_types[0]));
  expect_status(r, 200);
  expect_keys(r, REGISTRATION_KEYS);
  expect_int(r, "event", e.id);
  expect_int(r, "user", alice.id);
  expect_int(r, "ticket_type", e.ticket_types[0]);
  expect_bool(r, "is_waitlisted", false);
  code_of(r);
  /* The same rules apply: the second one is refused. */
  r = api_post(REGISTER, alice.access,
      api_jsonf("{\"event\":%lld,\"ticket_type\":%lld}", e.id, e.ticket_types[0]));
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" ALREADY "']}");
  /* Without the trailing slash too. */
  r = api_post("/api/registrations/register", alice.access,
      api_jsonf("{\"event\":%lld,\"ticket_type\":%lld}", e.id, e.ticket_types[0]));
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" ALREADY "']}");
}

Test(registrations, the_alias_requires_an_existing_visible_event)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event hidden = api_create_event(olga.access, "{'visibility':'private'}");

  struct api_resp *r = api_post(REGISTER, alice.access, "{}");
  expect_status(r, 400);
  expect_body(r, "{'event':['" REQUIRED "']}");
  r = api_post(REGISTER, alice.access, "{\"event\":999999}");
  expect_status(r, 400);
  expect_body(r, "{'event':['Invalid pk \\'999999\\' - object does not exist.']}");
  r = api_post(REGISTER, alice.access, api_jsonf("{\"event\":%lld}", hidden.id));
  expect_status(r, 400);
  expect_body(r, api_printf("{'event':['Invalid pk \\'%lld\\' - object does not exist.']}",
                            hidden.id));
  /* Nothing was written. */
  r = api_get(ME, alice.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);
}

Test(registrations, ticket_type_is_required_when_the_event_has_some)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access,
      "{'ticket_types':[{'name':'General','price':'10','quantity':0}]}");
  struct api_resp *r = register_for(alice.access, e.id, 0);
  expect_status(r, 400);
  expect_body(r, "{'ticket_type':['" REQUIRED "']}");
  r = api_post(register_path(e.id), alice.access, "{\"ticket_type\":null}");
  expect_status(r, 400);
  expect_body(r, "{'ticket_type':['" REQUIRED "']}");
  r = api_post(REGISTER, alice.access, api_jsonf("{\"event\":%lld}", e.id));
  expect_status(r, 400);
  expect_body(r, "{'ticket_type':['" REQUIRED "']}");
}

Test(registrations, ticket_type_must_belong_to_the_event_and_exist)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access,
      "{'ticket_types':[{'name':'General','price':'10','quantity':0}]}");
  struct api_event other = api_create_event(olga.access,
      "{'title':'Other','ticket_types':[{'name':'VIP','price':'90','quantity':0}]}");
  struct api_event plain = api_create_event(olga.access, "{'title':'Plain'}");

  struct api_resp *r = register_for(alice.access, e.id, other.ticket_types[0]);
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" NOT_OURS "']}");
  r = register_for(alice.access, plain.id, other.ticket_types[0]);
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" NOT_OURS "']}");
  r = register_for(alice.access, e.id, 999999);
  expect_status(r, 400);
  expect_body(r, "{'ticket_type':['Invalid pk \\'999999\\' - object does not exist.']}");
  r = api_post(register_path(e.id), alice.access, "{\"ticket_type\":\"abc\"}");
  expect_status(r, 400);
  expect_field_error(r, "ticket_type", "Incorrect type. Expected pk value, received str.");

  r = api_get(ME, alice.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);
}

Test(registrations, an_event_without_ticket_types_needs_none)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_event e = api_create_event(olga.access, "{}");
  struct api_resp *r = confirmed(alice.access, e.id, 0);
  expect_null(r, "ticket_type");
  code_of(r);
  r = api_post(register_path(e.id), bob.access, "{\"ticket_type\":null}");
  expect_status(r, 200);
  expect_null(r, "ticket_type");
}

#define FORM "application/x-www-form-urlencoded"

static struct api_resp *post_form(const char *path, const char *token, const char *form)
{
  return api_request("POST", path, token, FORM, form, strlen(form), NULL);
}

Test(registrations, register_takes_form_bodies)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event typed = api_create_event(olga.access,
      "{'ticket_types':[{'name':'G','price':'1','quantity':0}]}");
  struct api_event plain = api_create_event(olga.access, "{'title':'Plain'}");

  /* A relation's blank is null (DRF's RelatedField): required here, so refused. */
  struct api_resp *r = post_form(register_path(typed.id), alice.access, "ticket_type=");
  expect_status(r, 400);
  expect_body(r, "{'ticket_type':['This field is required.']}");
  r = post_form(register_path(typed.id), alice.access, "ticket_type=abc");
  expect_status(r, 400);
  expect_body(r, "{'ticket_type':['Incorrect type. Expected pk value, received str.']}");
  r = post_form(register_path(typed.id), alice.access,
                api_printf("ticket_type=%lld", typed.ticket_types[0]));
  expect_status(r, 200);
  expect_int(r, "ticket_type", typed.ticket_types[0]);

  r = post_form("/api/registrations/register/", alice.access, "event=&ticket_type=");
  expect_status(r, 400);
  expect_body(r, "{'event':['This field may not be null.']}");
  r = post_form("/api/registrations/register/", alice.access,
                api_printf("event=%lld&ticket_type=", plain.id));
  expect_status(r, 200);
  expect_int(r, "event", plain.id);
  expect_null(r, "ticket_type");
}

Test(registrations, one_active_registration_per_user_and_event)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access,
      "{'ticket_types':[{'name':'A','price':'1','quantity':0},"
      "{'name':'B','price':'2','quantity':0}]}");
  struct api_event other = api_create_event(olga.access, "{'title':'Other'}");
  struct api_resp *first = confirmed(alice.access, e.id, e.ticket_types[0]);
  struct api_resp *r = register_for(alice.access, e.id, e.ticket_types[1]);
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" ALREADY "']}");
  /* Another event is another matter. */
  confirmed(alice.access, other.id, 0);

  /* Cancelled, one may register again, and gets a new ticket. */
  expect_status(api_delete(registration_path(api_id(first)), alice.access), 204);
  struct api_resp *again = confirmed(alice.access, e.id, e.ticket_types[1]);
  cr_assert_neq(api_id(again), api_id(first));
  cr_assert_str_neq(code_of(again), code_of(first));
  expect_int(again, "ticket_type", e.ticket_types[1]);
}

Test(registrations, an_event_that_has_started_is_closed)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_event e = api_create_event(olga.access,
                                    api_printf("{'date_time':'%s'}", api_iso_from_now(600)));
  confirmed(bob.access, e.id, 0);
  /* Ten minutes later it has begun. */
  api_clock_advance(600);
  struct api_resp *r = register_for(alice.access, e.id, 0);
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" STARTED "']}");
  r = api_post(REGISTER, alice.access, api_jsonf("{\"event\":%lld}", e.id));
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" STARTED "']}");
}

Test(registrations, an_event_one_may_not_see_is_404)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event hidden = api_create_event(olga.access, "{'visibility':'private'}");
  struct api_resp *r = register_for(alice.access, hidden.id, 0);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = register_for(oscar.access, hidden.id, 0);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = register_for(alice.access, 999999, 0);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  /* Its organizer and an admin may. */
  confirmed(olga.access, hidden.id, 0);
  struct api_user root = api_admin("root");
  confirmed(root.access, hidden.id, 0);
}

/* ---- capacity and the waitlist ------------------------------------------ */

Test(registrations, the_event_capacity_confirms_the_first_and_waitlists_the_rest)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[4];
  sign_up_many(u, 4, "fan");
  struct api_event e = api_create_event(olga.access, "{'capacity':2}");
  const char *a = code_of(confirmed(u[0].access, e.id, 0));
  const char *b = code_of(confirmed(u[1].access, e.id, 0));
  cr_assert_str_neq(a, b);
  waitlisted(u[2].access, e.id, 0);
  waitlisted(u[3].access, e.id, 0);
}

Test(registrations, capacity_zero_is_unlimited)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[6];
  sign_up_many(u, 6, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':0,'ticket_types':[{'name':'Free','price':'0','quantity':0}]}");
  for (size_t i = 0; i < 6; i++)
    confirmed(u[i].access, e.id, e.ticket_types[0]);
}

Test(registrations, a_ticket_type_quantity_limits_its_own_registrations)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[5];
  sign_up_many(u, 5, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':3,'ticket_types':[{'name':'VIP','price':'90','quantity':1},"
      "{'name':'General','price':'10','quantity':0}]}");
  confirmed(u[0].access, e.id, e.ticket_types[0]);
  waitlisted(u[1].access, e.id, e.ticket_types[0]);     /* VIP is full */
  confirmed(u[2].access, e.id, e.ticket_types[1]);
  confirmed(u[3].access, e.id, e.ticket_types[1]);
  waitlisted(u[4].access, e.id, e.ticket_types[1]);     /* the event is full */
}

/* ---- the caller's registrations ----------------------------------------- */

Test(registrations, me_lists_the_active_registrations_newest_first)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_event full = api_create_event(olga.access,
      "{'title':'Full','capacity':1,'ticket_types':[{'name':'G','price':'1','quantity':0}]}");
  struct api_event open = api_create_event(olga.access, "{'title':'Open'}");
  struct api_event gone = api_create_event(olga.access, "{'title':'Gone'}");
  confirmed(bob.access, full.id, full.ticket_types[0]);
  long long waiting = api_id(waitlisted(alice.access, full.id, full.ticket_types[0]));
  long long cancelled = api_id(confirmed(alice.access, gone.id, 0));
  struct api_resp *last = confirmed(alice.access, open.id, 0);
  expect_status(api_delete(registration_path(cancelled), alice.access), 204);

  const char *paths[] = {ME, "/registrations/me/", "/api/registrations/me"};
  for (size_t p = 0; p < 3; p++) {
    struct api_resp *r = api_get(paths[p], alice.access);
    expect_status(r, 200);
    expect_json_response(r);
    cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
    json_t *newest = json_array_get(r->json, 0), *oldest = json_array_get(r->json, 1);
    expect_keys(newest, SHORT_KEYS);
    expect_keys(oldest, SHORT_KEYS);
    expect_int(newest, "id", api_id(last));
    expect_int(newest, "event", open.id);
    expect_null(newest, "ticket_type");
    expect_bool(newest, "is_waitlisted", false);
    expect_str(newest, "registered_at",
               json_string_value(json_object_get(last->json, "registered_at")));
    expect_int(oldest, "id", waiting);
    expect_int(oldest, "event", full.id);
    expect_int(oldest, "ticket_type", full.ticket_types[0]);
    expect_bool(oldest, "is_waitlisted", true);
  }
  struct api_resp *r = api_get(ME, bob.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  r = api_get(ME, NULL);
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  r = api_get("/registrations/me/", NULL);
  expect_status(r, 401);
}

/* The ids of a list answer's items: the array, or the page's "results". */
static const char *ids_of(struct api_resp *r)
{
  json_t *items = json_is_object(r->json) ? json_object_get(r->json, "results") : r->json;
  expect_that(json_is_array(items), "a list: %s", r->body);
  const char *ids = "";
  size_t i;
  json_t *item;
  json_array_foreach(items, i, item)
    ids = api_printf("%s%s%lld", ids, i ? "," : "", (long long)api_int(item, "id"));
  return ids;
}

/* API.md: paginated as the event list (DRF's LimitOffsetPagination). */
Test(registrations, me_paginates_with_limit_and_offset)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long ids[5];
  for (int i = 0; i < 5; i++) {
    struct api_event e = api_create_event(olga.access, api_printf("{'title':'E%d'}", i));
    ids[i] = api_id(confirmed(alice.access, e.id, 0));
  }
  const char *all = api_printf("%lld,%lld,%lld,%lld,%lld", ids[4], ids[3], ids[2], ids[1],
                               ids[0]);
  const char *paths[] = {ME, "/registrations/me/"};
  for (size_t p = 0; p < 2; p++) {
    /* Without limit: the plain array, newest first, and the count. */
    struct api_resp *r = api_get(paths[p], alice.access);
    expect_status(r, 200);
    expect_that(json_is_array(r->json), "a plain array: %s", r->body);
    expect_that(strcmp(ids_of(r), all) == 0, "%s: %s", all, r->body);
    expect_header(r, "X-Total-Count", "5");
    r = api_get(api_printf("%s?offset=3", paths[p]), alice.access);
    expect_that(json_is_array(r->json) && strcmp(ids_of(r), all) == 0, "%s", r->body);

    r = api_get(api_printf("%s?limit=2", paths[p]), alice.access);
    expect_status(r, 200);
    expect_json_response(r);
    expect_keys(r, "count", "next", "previous", "results", NULL);
    expect_int(r, "count", 5);
    expect_str(r, "next", api_url(api_printf("%s?limit=2&offset=2", paths[p])));
    expect_null(r, "previous");
    expect_that(strcmp(ids_of(r), api_printf("%lld,%lld", ids[4], ids[3])) == 0, "%s", r->body);
    expect_keys(json_array_get(json_object_get(r->json, "results"), 0), SHORT_KEYS);
    expect_header(r, "X-Total-Count", "5");

    r = api_get(api_printf("%s?offset=2&limit=2", paths[p]), alice.access);
    expect_int(r, "count", 5);
    expect_str(r, "next", api_url(api_printf("%s?limit=2&offset=4", paths[p])));
    expect_str(r, "previous", api_url(api_printf("%s?limit=2", paths[p])));
    expect_that(strcmp(ids_of(r), api_printf("%lld,%lld", ids[2], ids[1])) == 0, "%s", r->body);

    r = api_get(api_printf("%s?limit=2&offset=4", paths[p]), alice.access);
    expect_null(r, "next");
    expect_str(r, "previous", api_url(api_printf("%s?limit=2&offset=2", paths[p])));
    expect_that(strcmp(ids_of(r), api_printf("%lld", ids[0])) == 0, "%s", r->body);

    r = api_get(api_printf("%s?limit=1000&offset=9", paths[p]), alice.access);
    expect_body(r, api_printf("{'count':5,'next':null,'previous':'%s','results':[]}",
                              api_url(api_printf("%s?limit=1000", paths[p]))));
  }
  expect_body(api_get(ME "?limit=3", olga.access),
              "{'count':0,'next':null,'previous':null,'results':[]}");
}

Test(registrations, me_refuses_bad_limits_and_offsets)
{
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = api_get(ME "?limit=abc&offset=-1", alice.access);
  expect_status(r, 400);
  expect_json_response(r);
  expect_body(r, "{'limit':['A valid integer is required.'],"
                 "'offset':['Ensure this value is greater than or equal to 0.']}");
  r = api_get("/registrations/me/?limit=0", alice.access);
  expect_status(r, 400);
  expect_body(r, "{'limit':['Ensure this value is greater than or equal to 1.']}");
  r = api_get(ME "?limit=1001", alice.access);
  expect_status(r, 400);
  expect_body(r, "{'limit':['Ensure this value is less than or equal to 1000.']}");
  r = api_get(ME "?offset=x", alice.access);
  expect_status(r, 400);
  expect_body(r, "{'offset':['A valid integer is required.']}");
  /* Empty values are ignored, as on the event list. */
  r = api_get(ME "?limit=&offset=", alice.access);
  expect_status(r, 200);
  expect_body(r, "[]");
  expect_status(api_get(ME "?limit=abc", NULL), 401);
}

/* ---- one registration --------------------------------------------------- */

Test(registrations, a_registration_is_seen_by_its_user_the_organizer_and_admins)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_user root = api_admin("root");
  struct api_event e = api_create_event(olga.access, "{}");
  struct api_resp *reg = confirmed(alice.access, e.id, 0);
  long long id = api_id(reg);

  const char *allowed[] = {alice.access, olga.access, root.access};
  for (size_t i = 0; i < 3; i++) {
    struct api_resp *r = fetch(id, allowed[i]);
    expect_int(r, "user", alice.id);
    expect_str(json_object_get(r->json, "ticket"), "code", code_of(reg));
  }
  const char *others[] = {bob.access, oscar.access};
  for (size_t i = 0; i < 2; i++) {
    struct api_resp *r = api_get(registration_path(id), others[i]);
    expect_status(r, 404);
    expect_detail(r, NO_REGISTRATION);
  }
  struct api_resp *r = api_get(registration_path(id), NULL);
  expect_status(r, 401);
  r = api_get(registration_path(999999), root.access);
  expect_status(r, 404);
  expect_detail(r, NO_REGISTRATION);
}

Test(registrations, cancel_is_for_the_user_the_organizer_and_admins)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user u[3];
  sign_up_many(u, 3, "fan");
  struct api_user root = api_admin("root");
  struct api_event e = api_create_event(olga.access, "{}");
  long long ids[3];
  for (size_t i = 0; i < 3; i++)
    ids[i] = api_id(confirmed(u[i].access, e.id, 0));

  struct api_resp *r = api_delete(registration_path(ids[0]), NULL);
  expect_status(r, 401);
  r = api_delete(registration_path(ids[0]), u[1].access);
  expect_status(r, 404);
  expect_detail(r, NO_REGISTRATION);
  r = api_delete(registration_path(ids[0]), oscar.access);
  expect_status(r, 404);
  expect_detail(r, NO_REGISTRATION);
  fetch(ids[0], u[0].access); /* still there */

  const char *cancellers[] = {u[0].access, olga.access, root.access};
  for (size_t i = 0; i < 3; i++) {
    r = api_delete(registration_path(ids[i]), cancellers[i]);
    expect_status(r, 204);
    expect_empty_body(r);
    r = api_get(registration_path(ids[i]), u[i].access);
    expect_status(r, 404);
    expect_detail(r, NO_REGISTRATION);
    r = api_delete(registration_path(ids[i]), u[i].access);
    expect_status(r, 404);
    expect_detail(r, NO_REGISTRATION);
  }
  r = api_get(event_registrations_path(e.id), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);
}

/* ---- promotion ---------------------------------------------------------- */

Test(registrations, cancelling_promotes_the_oldest_waiting_registration)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[4];
  sign_up_many(u, 4, "fan");
  struct api_event e = api_create_event(olga.access, "{'capacity':1}");
  long long first = api_id(confirmed(u[0].access, e.id, 0));
  long long second = api_id(waitlisted(u[1].access, e.id, 0));
  long long third = api_id(waitlisted(u[2].access, e.id, 0));

  expect_status(api_delete(registration_path(first), u[0].access), 204);
  expect_promoted(second, u[1].access);
  expect_waiting(third, u[2].access);
  /* The promoted one holds a ticket; the newcomer waits. */
  struct api_resp *t = api_get("/api/tickets/", u[1].access);
  expect_status(t, 200);
  cr_assert_eq(json_array_size(t->json), 1, "%s", t->body);
  waitlisted(u[3].access, e.id, 0);

  /* Cancelling a waiting registration promotes nobody. */
  expect_status(api_delete(registration_path(third), u[2].access), 204);
  struct api_resp *list = api_get(event_registrations_path(e.id), olga.access);
  expect_status(list, 200);
  cr_assert_eq(json_array_size(list->json), 2, "%s", list->body);
  expect_bool(json_array_get(list->json, 0), "is_waitlisted", false);
  expect_bool(json_array_get(list->json, 1), "is_waitlisted", true);
}

Test(registrations, cancelling_promotes_the_oldest_that_fits_its_ticket_type)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[5];
  sign_up_many(u, 5, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':0,'ticket_types':[{'name':'A','price':'1','quantity':1},"
      "{'name':'B','price':'1','quantity':1}]}");
  long long a1 = api_id(confirmed(u[0].access, e.id, e.ticket_types[0]));
  long long a2 = api_id(waitlisted(u[1].access, e.id, e.ticket_types[0]));
  long long b1 = api_id(confirmed(u[2].access, e.id, e.ticket_types[1]));
  long long b2 = api_id(waitlisted(u[3].access, e.id, e.ticket_types[1]));
  long long a3 = api_id(waitlisted(u[4].access, e.id, e.ticket_types[0]));

  /* B's place goes to B's queue, although A's waiter is older. */
  expect_status(api_delete(registration_path(b1), olga.access), 204);
  expect_promoted(b2, u[3].access);
  expect_waiting(a2, u[1].access);
  expect_waiting(a3, u[4].access);

  expect_status(api_delete(registration_path(a1), u[0].access), 204);
  expect_promoted(a2, u[1].access);
  expect_waiting(a3, u[4].access);
}

Test(registrations, a_freed_event_place_goes_to_the_oldest_of_any_type)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[4];
  sign_up_many(u, 4, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':2,'ticket_types':[{'name':'A','price':'1','quantity':0},"
      "{'name':'B','price':'1','quantity':0}]}");
  long long first = api_id(confirmed(u[0].access, e.id, e.ticket_types[0]));
  confirmed(u[1].access, e.id, e.ticket_types[0]);
  long long b = api_id(waitlisted(u[2].access, e.id, e.ticket_types[1]));
  long long a = api_id(waitlisted(u[3].access, e.id, e.ticket_types[0]));
  expect_status(api_delete(registration_path(first), u[0].access), 204);
  expect_promoted(b, u[2].access);
  expect_waiting(a, u[3].access);
}

Test(registrations, raising_the_capacity_promotes_in_order)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[5];
  sign_up_many(u, 5, "fan");
  struct api_event e = api_create_event(olga.access, "{'capacity':1}");
  long long ids[5];
  ids[0] = api_id(confirmed(u[0].access, e.id, 0));
  for (size_t i = 1; i < 5; i++)
    ids[i] = api_id(waitlisted(u[i].access, e.id, 0));

  struct api_resp *r = api_patch(update_path(e.id), olga.access, "{\"capacity\":3}");
  expect_status(r, 200);
  expect_int(r, "capacity", 3);
  expect_promoted(ids[1], u[1].access);
  expect_promoted(ids[2], u[2].access);
  expect_waiting(ids[3], u[3].access);
  expect_waiting(ids[4], u[4].access);

  /* Unlimited lets everyone in. */
  r = api_patch(update_path(e.id), olga.access, "{\"capacity\":0}");
  expect_status(r, 200);
  expect_promoted(ids[3], u[3].access);
  expect_promoted(ids[4], u[4].access);
}

Test(registrations, a_put_raising_the_capacity_promotes_too)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[3];
  sign_up_many(u, 3, "fan");
  struct api_event e = api_create_event(olga.access, "{'capacity':1}");
  confirmed(u[0].access, e.id, 0);
  long long second = api_id(waitlisted(u[1].access, e.id, 0));
  long long third = api_id(waitlisted(u[2].access, e.id, 0));
  struct api_resp *r = api_put(update_path(e.id), olga.access, api_event_json("{'capacity':2}"));
  expect_status(r, 200);
  expect_promoted(second, u[1].access);
  expect_waiting(third, u[2].access);
}

Test(registrations, raising_a_ticket_type_quantity_promotes_in_order)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[5];
  sign_up_many(u, 5, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':0,'ticket_types':[{'name':'A','price':'1','quantity':1},"
      "{'name':'B','price':'1','quantity':1}]}");
  confirmed(u[0].access, e.id, e.ticket_types[0]);
  long long a2 = api_id(waitlisted(u[1].access, e.id, e.ticket_types[0]));
  confirmed(u[2].access, e.id, e.ticket_types[1]);
  long long b2 = api_id(waitlisted(u[3].access, e.id, e.ticket_types[1]));
  long long a3 = api_id(waitlisted(u[4].access, e.id, e.ticket_types[0]));

  struct api_resp *r = api_patch(ticket_type_path(e.id, e.ticket_types[0]), olga.access,
                                 "{\"quantity\":2}");
  expect_status(r, 200);
  expect_int(r, "quantity", 2);
  expect_promoted(a2, u[1].access);
  expect_waiting(a3, u[4].access);
  expect_waiting(b2, u[3].access);

  /* Through the event's nested list as well. */
  r = api_patch(update_path(e.id), olga.access,
      api_jsonf("{\"ticket_types\":[{\"id\":%lld,\"name\":\"A\",\"price\":\"1\",\"quantity\":3},"
                "{\"id\":%lld,\"name\":\"B\",\"price\":\"1\",\"quantity\":0}]}",
                e.ticket_types[0], e.ticket_types[1]));
  expect_status(r, 200);
  expect_promoted(a3, u[4].access);
  expect_promoted(b2, u[3].access);
}

Test(registrations, capacity_may_not_fall_below_the_confirmed_registrations)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[4];
  sign_up_many(u, 4, "fan");
  struct api_event e = api_create_event(olga.access, "{'capacity':3}");
  for (size_t i = 0; i < 3; i++)
    confirmed(u[i].access, e.id, 0);
  waitlisted(u[3].access, e.id, 0);

  struct api_resp *r = api_patch(update_path(e.id), olga.access, "{\"capacity\":2}");
  expect_status(r, 400);
  expect_body(r, "{'capacity':['Capacity cannot be lower than the number of confirmed "
                 "registrations (3).']}");
  r = api_put(update_path(e.id), olga.access, api_event_json("{'capacity':1}"));
  expect_status(r, 400);
  expect_field_errors(r, "capacity",
      "Capacity cannot be lower than the number of confirmed registrations (3).", NULL);
  r = api_get(event_path(e.id), NULL);
  expect_int(r, "capacity", 3);
  /* Equal is fine. */
  r = api_patch(update_path(e.id), olga.access, "{\"capacity\":3}");
  expect_status(r, 200);
  expect_int(r, "capacity", 3);
}

Test(registrations, quantity_may_not_fall_below_the_confirmed_registrations)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[3];
  sign_up_many(u, 3, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'ticket_types':[{'name':'A','price':'1','quantity':5}]}");
  confirmed(u[0].access, e.id, e.ticket_types[0]);
  confirmed(u[1].access, e.id, e.ticket_types[0]);

  const char *message = "Quantity cannot be lower than the number of confirmed registrations (2).";
  struct api_resp *r = api_patch(ticket_type_path(e.id, e.ticket_types[0]), olga.access,
                                 "{\"quantity\":1}");
  expect_status(r, 400);
  expect_body(r, api_printf("{'quantity':['%s']}", message));
  r = api_patch(update_path(e.id), olga.access,
      api_jsonf("{\"ticket_types\":[{\"id\":%lld,\"name\":\"A\",\"price\":\"1\",\"quantity\":1}]}",
                e.ticket_types[0]));
  expect_status(r, 400);
  expect_body(r, api_printf("{'ticket_types':[{'quantity':['%s']}]}", message));
  r = api_get(event_path(e.id), NULL);
  expect_int(json_array_get(json_object_get(r->json, "ticket_types"), 0), "quantity", 5);
  r = api_patch(ticket_type_path(e.id, e.ticket_types[0]), olga.access, "{\"quantity\":2}");
  expect_status(r, 200);
  waitlisted(u[2].access, e.id, e.ticket_types[0]);
}

Test(registrations, a_ticket_type_holding_registrations_cannot_be_deleted)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user u[2];
  sign_up_many(u, 2, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'ticket_types':[{'name':'A','price':'1','quantity':1},"
      "{'name':'B','price':'1','quantity':0}]}");
  long long confirmed_id = api_id(confirmed(u[0].access, e.id, e.ticket_types[0]));
  long long waiting_id = api_id(waitlisted(u[1].access, e.id, e.ticket_types[0]));

  struct api_resp *r = api_delete(ticket_type_path(e.id, e.ticket_types[0]), olga.access);
  expect_status(r, 409);
  expect_keys(r, "detail", NULL);
  r = api_patch(update_path(e.id), olga.access,
      "{\"ticket_types\":[{\"name\":\"B\",\"price\":\"1\",\"quantity\":0}]}");
  expect_status(r, 409);
  expect_keys(r, "detail", NULL);
  r = api_put(update_path(e.id), olga.access,
      api_event_json("{'ticket_types':[{'name':'C','price':'1','quantity':0}]}"));
  expect_status(r, 409);
  expect_keys(r, "detail", NULL);
  r = api_get(event_path(e.id), NULL);
  cr_assert_eq(json_array_size(json_object_get(r->json, "ticket_types")), 2, "%s", r->body);

  /* A waiting registration holds it too. */
  expect_status(api_delete(registration_path(confirmed_id), u[0].access), 204);
  r = api_delete(ticket_type_path(e.id, e.ticket_types[0]), olga.access);
  expect_status(r, 409);
  /* Once no active registration holds it, it goes. */
  expect_status(api_delete(registration_path(waiting_id), u[1].access), 204);
  r = api_delete(ticket_type_path(e.id, e.ticket_types[0]), olga.access);
  expect_status(r, 204);
  /* The unused one goes at once. */
  r = api_delete(ticket_type_path(e.id, e.ticket_types[1]), olga.access);
  expect_status(r, 204);
}

/* ---- private events ----------------------------------------------------- */

Test(registrations, registrants_see_an_event_made_private)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_event e = api_create_event(olga.access, "{}");
  long long reg = api_id(confirmed(alice.access, e.id, 0));
  struct api_resp *r = api_patch(update_path(e.id), olga.access, "{\"visibility\":\"private\"}");
  expect_status(r, 200);
  expect_str(r, "visibility", "private");

  r = api_get(event_path(e.id), alice.access);
  expect_status(r, 200);
  expect_int(r, "id", e.id);
  r = api_get(EVENTS, alice.access);
  expect_status(r, 200);
  cr_assert(list_has_event(r, e.id), "%s", r->body);
  r = api_get(EVENTS "?visibility=private", alice.access);
  expect_status(r, 200);
  cr_assert(list_has_event(r, e.id), "%s", r->body);

  r = api_get(event_path(e.id), bob.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = api_get(EVENTS, bob.access);
  expect_status(r, 200);
  cr_assert(!list_has_event(r, e.id), "%s", r->body);
  r = register_for(bob.access, e.id, 0);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);

  /* Cancelled, it is hidden again. */
  expect_status(api_delete(registration_path(reg), alice.access), 204);
  r = api_get(event_path(e.id), alice.access);
  expect_status(r, 404);
  r = api_get(EVENTS, alice.access);
  cr_assert(!list_has_event(r, e.id), "%s", r->body);
}

/* ---- the organizer's list ----------------------------------------------- */

Test(registrations, the_organizer_lists_an_events_registrations_oldest_first)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL);
  struct api_user root = api_admin("root");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':2,'ticket_types':[{'name':'A','price':'1','quantity':0}]}");
  struct api_event other = api_create_event(olga.access, "{'title':'Other'}");
  struct api_resp *ra = confirmed(alice.access, e.id, e.ticket_types[0]);
  struct api_resp *rb = confirmed(bob.access, e.id, e.ticket_types[0]);
  struct api_resp *rc = waitlisted(carol.access, e.id, e.ticket_types[0]);
  confirmed(carol.access, other.id, 0);

  const char *readers[] = {olga.access, root.access};
  for (size_t k = 0; k < 2; k++) {
    struct api_resp *r = api_get(event_registrations_path(e.id), readers[k]);
    expect_status(r, 200);
    expect_json_response(r);
    cr_assert_eq(json_array_size(r->json), 3, "%s", r->body);
    struct api_resp *regs[] = {ra, rb, rc};
    struct api_user *users[] = {&alice, &bob, &carol};
    for (size_t i = 0; i < 3; i++) {
      json_t *item = json_array_get(r->json, i);
      expect_keys(item, ORGANIZER_KEYS);
      expect_int(item, "id", api_id(regs[i]));
      expect_int(item, "ticket_type", e.ticket_types[0]);
      expect_str(item, "registered_at",
                 json_string_value(json_object_get(regs[i]->json, "registered_at")));
      json_t *user = json_object_get(item, "user");
      expect_keys(user, ORGANIZER_USER_KEYS);
      expect_int(user, "id", users[i]->id);
      expect_str(user, "username", users[i]->username);
      expect_str(user, "email", users[i]->email);
      expect_str(user, "first_name", "");
      expect_str(user, "last_name", "");
      expect_bool(item, "is_waitlisted", i == 2);
      json_t *ticket = json_object_get(item, "ticket");
      if (i == 2) {
        expect_null(item, "ticket");
      } else {
        expect_keys(ticket, ORGANIZER_TICKET_KEYS);
        expect_str(ticket, "code", code_of(regs[i]));
        expect_bool(ticket, "is_checked_in", false);
        expect_null(ticket, "checked_in_at");
      }
    }
  }
}

Test(registrations, only_the_organizer_and_admins_list_registrations)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access, "{}");
  struct api_event hidden = api_create_event(olga.access, "{'visibility':'private'}");
  confirmed(alice.access, e.id, 0);

  struct api_resp *r = api_get(event_registrations_path(e.id), NULL);
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
  r = api_get(event_registrations_path(e.id), alice.access);
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_get(event_registrations_path(e.id), oscar.access);
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_get(event_registrations_path(hidden.id), oscar.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = api_get(api_printf("%s?format=csv", event_registrations_path(e.id)), alice.access);
  expect_status(r, 403);
  r = api_get(event_registrations_path(999999), olga.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
}

/* One parsed CSV file: rows of cells, harness-owned. */
struct csv {
  size_t nrows;
  size_t ncells[16];
  const char *cells[16][12];
};

/*
 * Parses RFC 4180 CSV with CRLF line ends; fails the test on a bare LF or
 * CR outside quotes, or a quote in the middle of an unquoted cell.
 */
static struct csv parse_csv(const char *text)
{
  struct csv csv = {0};
  const char *p = text;
  while (*p) {
    cr_assert_lt(csv.nrows, 16, "too many rows");
    size_t row = csv.nrows++;
    for (;;) {
      char cell[1024];
      size_t n = 0;
      if (*p == '"') {
        for (p++;; p++) {
          cr_assert(*p, "unterminated quoted cell in %s", text);
          if (*p == '"' && p[1] == '"') {
            cell[n++] = '"';
            p++;
          } else if (*p == '"') {
            p++;
            break;
          } else {
            cell[n++] = *p;
          }
          cr_assert_lt(n, sizeof cell - 1);
        }
      } else {
        for (; *p && *p != ',' && *p != '\r' && *p != '\n'; p++) {
          cr_assert_neq(*p, '"', "a quote inside an unquoted cell: %s", text);
          cell[n++] = *p;
          cr_assert_lt(n, sizeof cell - 1);
        }
      }
      cell[n] = '\0';
      cr_assert_lt(csv.ncells[row], 12, "too many cells");
      csv.cells[row][csv.ncells[row]++] = api_strdup(cell);
      if (*p == ',') {
        p++;
        continue;
      }
      cr_assert(p[0] == '\r' && p[1] == '\n', "expected CRLF after row %zu: %s", row, text);
      p += 2;
      break;
    }
  }
  return csv;
}

static void expect_row(const struct csv *csv, size_t row, const char *const *cells)
{
  cr_assert_lt(row, csv->nrows);
  cr_assert_eq(csv->ncells[row], 10, "row %zu has %zu cells", row, csv->ncells[row]);
  for (size_t i = 0; i < 10; i++)
    cr_assert_str_eq(csv->cells[row][i], cells[i], "row %zu cell %zu", row, i);
}

Test(registrations, the_registrations_export_as_csv)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_resp *r = api_patch("/api/users/me/", alice.access,
      "{\"first_name\":\"=SUM(A1:A2)\",\"last_name\":\"a,\\\"b\\\"\"}");
  expect_status(r, 200);
  expect_str(r, "first_name", "=SUM(A1:A2)");
  r = api_patch("/api/users/me/", bob.access, "{\"first_name\":\"@home\",\"last_name\":\"-1\"}");
  expect_status(r, 200);
  struct api_event e = api_create_event(olga.access,
      "{'capacity':1,'ticket_types':[{'name':'Front, left','price':'1','quantity':0}]}");
  struct api_resp *ra = confirmed(alice.access, e.id, e.ticket_types[0]);
  struct api_resp *rb = waitlisted(bob.access, e.id, e.ticket_types[0]);
  const char *code = code_of(ra);
  r = api_post(api_printf("/api/tickets/%s/check-in/", code), olga.access, NULL);
  expect_status(r, 200);
  const char *checked_in = json_string_value(json_object_get(r->json, "checked_in_at"));
  cr_assert(checked_in);

  r = api_get(api_printf("%s?format=csv", event_registrations_path(e.id)), olga.access);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "text/csv; charset=utf-8");
  expect_header(r, "Content-Disposition",
                api_printf("attachment; filename=\"event-%lld-registrations.csv\"", e.id));
  cr_assert(strstr(r->body, "\"'=SUM(A1:A2)\""), "%s", r->body);
  cr_assert(strstr(r->body, "\"a,\"\"b\"\"\""), "%s", r->body);
  cr_assert(strstr(r->body, "\"Front, left\""), "%s", r->body);
  struct csv csv = parse_csv(r->body);
  cr_assert_eq(csv.nrows, 3, "%s", r->body);
  expect_row(&csv, 0, (const char *[]){"registration_id", "username", "email", "first_name",
      "last_name", "ticket_type", "status", "registered_at", "ticket_code", "checked_in_at"});
  expect_row(&csv, 1, (const char *[]){api_printf("%lld", api_id(ra)), "alice",
      "alice@example.com", "'=SUM(A1:A2)", "a,\"b\"", "Front, left", "confirmed",
      json_string_value(json_object_get(ra->json, "registered_at")), code, checked_in});
  expect_row(&csv, 2, (const char *[]){api_printf("%lld", api_id(rb)), "bob",
      "bob@example.com", "'@home", "'-1", "Front, left", "waitlisted",
      json_string_value(json_object_get(rb->json, "registered_at")), "", ""});

  /* format=json is the plain list; an unknown format is 404. */
  r = api_get(api_printf("%s?format=json", event_registrations_path(e.id)), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  r = api_get(api_printf("%s?format=xml", event_registrations_path(e.id)), olga.access);
  expect_status(r, 404);
}

Test(registrations, an_empty_export_is_the_header_row)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access, "{}");
  struct api_resp *r = api_get(api_printf("%s?format=csv", event_registrations_path(e.id)),
                               olga.access);
  expect_status(r, 200);
  cr_assert_str_eq(r->body, "registration_id,username,email,first_name,last_name,"
                            "ticket_type,status,registered_at,ticket_code,checked_in_at\r\n");
}

/* ---- at the same time --------------------------------------------------- */

/* A racing register call (ticket type 0: none sent) for token. */
static struct api_call register_call(const char *token, long long event, long long type)
{
  return (struct api_call){
    .method = "POST", .path = register_path(event), .token = token,
    .body = type ? api_jsonf("{\"ticket_type\":%lld}", type) : "{}",
  };
}

/* A racing cancel of registration id by token. */
static struct api_call cancel_call(const char *token, long long id)
{
  return (struct api_call){ .method = "DELETE", .path = registration_path(id), .token = token };
}

#define MAX_CALLS 100

/*
 * The stored counters of the event and its ticket types equal the active
 * confirmed rows, and every confirmed one has exactly one ticket.
 */
static void expect_counters_match_rows(long long event, const long long *types, size_t ntypes)
{
  long long rows = api_db_int("SELECT COUNT(*) FROM registrations WHERE event_id = ?"
                                 " AND cancelled_at IS NULL AND is_waitlisted = 0", event);
  long long counter = api_db_int("SELECT confirmed_count FROM events WHERE id = ?", event);
  long long tickets = api_db_int("SELECT COUNT(*) FROM tickets t JOIN registrations r"
                                    " ON r.id = t.registration_id WHERE r.event_id = ?", event);
  long long stray = api_db_int("SELECT COUNT(*) FROM tickets t JOIN registrations r"
                                  " ON r.id = t.registration_id WHERE r.event_id = ?"
                                  " AND (r.cancelled_at IS NOT NULL OR r.is_waitlisted = 1)", event);
  cr_assert_eq(counter, rows, "events.confirmed_count %lld, confirmed rows %lld", counter, rows);
  cr_assert_eq(tickets, rows, "%lld tickets for %lld confirmed registrations", tickets, rows);
  cr_assert_eq(stray, 0, "%lld tickets of cancelled or waiting registrations", stray);
  for (size_t i = 0; i < ntypes; i++) {
    long long trows = api_db_int("SELECT COUNT(*) FROM registrations WHERE ticket_type_id = ?"
                                    " AND cancelled_at IS NULL AND is_waitlisted = 0", types[i]);
    long long tcounter = api_db_int("SELECT confirmed_count FROM ticket_types WHERE id = ?",
                                   types[i]);
    cr_assert_eq(tcounter, trows, "ticket type %lld: confirmed_count %lld, confirmed rows %lld",
                 types[i], tcounter, trows);
  }
}

/* Counts of the organizer's list: confirmed in all and per ticket type. */
struct tally {
  size_t total, confirmed, waiting;
  size_t per_type[2];
};

static struct tally tally(struct api_resp *list, const long long *types)
{
  struct tally t = {0};
  size_t i;
  json_t *item;
  json_array_foreach(list->json, i, item) {
    t.total++;
    long long type = api_int(item, "ticket_type");
    bool waiting = json_is_true(json_object_get(item, "is_waitlisted"));
    json_t *ticket = json_object_get(item, "ticket");
    if (waiting) {
      t.waiting++;
      cr_assert(json_is_null(ticket), "a waiting registration with a ticket: %s", api_dump(item));
      continue;
    }
    t.confirmed++;
    cr_assert(is_uuid4(json_string_value(json_object_get(ticket, "code"))), "%s", api_dump(item));
    for (size_t k = 0; k < 2; k++)
      if (types[k] == type)
        t.per_type[k]++;
  }
  return t;
}

/* Every confirmed code of the list is distinct. */
static void expect_unique_codes(struct api_resp *list)
{
  size_t n = json_array_size(list->json);
  for (size_t i = 0; i < n; i++) {
    const char *a = json_string_value(json_object_get(
        json_object_get(json_array_get(list->json, i), "ticket"), "code"));
    for (size_t j = i + 1; a && j < n; j++) {
      const char *b = json_string_value(json_object_get(
          json_object_get(json_array_get(list->json, j), "ticket"), "code"));
      cr_assert(b == NULL || strcmp(a, b) != 0, "ticket code %s issued twice", a);
    }
  }
}

#define CROWD 200
#define CROWD_THREADS 50

Test(registrations, a_crowd_registering_at_once_never_overfills, .timeout = 120)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':10,'ticket_types':[{'name':'A','price':'1','quantity':6},"
      "{'name':'B','price':'1','quantity':6}]}");
  /* Unlimited, so that only the ticket types' quantities hold. */
  struct api_event open = api_create_event(olga.access,
      "{'title':'Open','capacity':0,'ticket_types':[{'name':'A','price':'1','quantity':5},"
      "{'name':'B','price':'1','quantity':7}]}");
  static struct api_user crowd[CROWD];
  sign_up_many(crowd, CROWD, "fan");

  /* Four races of 100 at once: 50 attendees, A and B alternately, each
   * registering for both events. */
  size_t confirmed_count = 0, per_type[2] = {0, 0}, open_per_type[2] = {0, 0};
  for (size_t k = 0; k < 4; k++) {
    static struct api_call calls[2 * CROWD_THREADS];
    for (size_t i = 0; i < CROWD_THREADS; i++) {
      const char *token = crowd[i * 4 + k].access;
      calls[2 * i] = register_call(token, e.id, e.ticket_types[i % 2]);
      calls[2 * i + 1] = register_call(token, open.id, open.ticket_types[i % 2]);
    }
    api_race(calls, 2 * CROWD_THREADS);
    for (size_t c = 0; c < 2 * CROWD_THREADS; c++) {
      size_t i = c / 2;
      struct api_resp *r = calls[c].resp;
      struct api_event *ev = c % 2 == 0 ? &e : &open;
      expect_status(r, 200);
      expect_keys(r, REGISTRATION_KEYS);
      expect_int(r, "event", ev->id);
      expect_int(r, "ticket_type", ev->ticket_types[i % 2]);
      expect_int(r, "user", crowd[i * 4 + k].id);
      if (json_is_true(json_object_get(r->json, "is_waitlisted"))) {
        expect_null(r, "ticket");
      } else if (c % 2 == 0) {
        code_of(r);
        confirmed_count++;
        per_type[i % 2]++;
      } else {
        code_of(r);
        open_per_type[i % 2]++;
      }
    }
  }
  cr_assert_eq(confirmed_count, 10, "%zu confirmed", confirmed_count);
  cr_assert_leq(per_type[0], 6, "%zu confirmed A", per_type[0]);
  cr_assert_leq(per_type[1], 6, "%zu confirmed B", per_type[1]);
  cr_assert_eq(open_per_type[0], 5, "%zu confirmed A of the open event", open_per_type[0]);
  cr_assert_eq(open_per_type[1], 7, "%zu confirmed B of the open event", open_per_type[1]);

  struct api_resp *list = api_get(event_registrations_path(e.id), olga.access);
  expect_status(list, 200);
  struct tally t = tally(list, e.ticket_types);
  cr_assert_eq(t.total, CROWD);
  cr_assert_eq(t.confirmed, 10);
  cr_assert_eq(t.per_type[0], per_type[0]);
  cr_assert_eq(t.per_type[1], per_type[1]);
  expect_unique_codes(list);
  expect_counters_match_rows(e.id, e.ticket_types, 2);
  list = api_get(event_registrations_path(open.id), olga.access);
  expect_status(list, 200);
  t = tally(list, open.ticket_types);
  cr_assert_eq(t.total, CROWD);
  cr_assert_eq(t.per_type[0], 5);
  cr_assert_eq(t.per_type[1], 7);
  expect_unique_codes(list);
  expect_counters_match_rows(open.id, open.ticket_types, 2);

  /* A second round by the same people: each is already registered. */
  static struct api_call again[CROWD_THREADS];
  for (size_t i = 0; i < CROWD_THREADS; i++)
    again[i] = register_call(crowd[i].access, e.id, e.ticket_types[1]);
  api_race(again, CROWD_THREADS);
  for (size_t i = 0; i < CROWD_THREADS; i++) {
    expect_status(again[i].resp, 400);
    expect_body(again[i].resp, "{'non_field_errors':['" ALREADY "']}");
  }
}

Test(registrations, one_user_registering_many_times_at_once_holds_one, .timeout = 60)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':5}");
  struct api_call calls[20];
  for (size_t i = 0; i < 20; i++)
    calls[i] = register_call(alice.access, e.id, 0);
  api_race(calls, 20);
  size_t ok = 0;
  for (size_t i = 0; i < 20; i++) {
    struct api_resp *r = calls[i].resp;
    if (r->status == 200) {
      ok++;
      expect_bool(r, "is_waitlisted", false);
      continue;
    }
    expect_status(r, 400);
    expect_body(r, "{'non_field_errors':['" ALREADY "']}");
  }
  cr_assert_eq(ok, 1, "%zu registrations of one user succeeded", ok);
  struct api_resp *list = api_get(event_registrations_path(e.id), olga.access);
  cr_assert_eq(json_array_size(list->json), 1, "%s", list->body);
  expect_counters_match_rows(e.id, NULL, 0);
}

/*
 * The waitlist is in order after any interleaving: in the organizer's list
 * (oldest first), no waiting registration of a ticket type comes before a
 * confirmed one of the same type, and no waiting one fits.
 */
static void expect_waitlist_in_order(struct api_resp *list, const long long *types,
                                     long long capacity, const long long *quantity)
{
  struct tally t = tally(list, types);
  bool seen_waiting[2] = {false, false};
  size_t i;
  json_t *item;
  json_array_foreach(list->json, i, item) {
    long long type = api_int(item, "ticket_type");
    size_t k = type == types[0] ? 0 : 1;
    cr_assert_eq(type, types[k]);
    bool waiting = json_is_true(json_object_get(item, "is_waitlisted"));
    if (waiting) {
      seen_waiting[k] = true;
      bool event_room = capacity == 0 || (long long)t.confirmed < capacity;
      bool type_room = quantity[k] == 0 || (long long)t.per_type[k] < quantity[k];
      cr_assert(!(event_room && type_room),
                "registration %lld waits although it fits (%zu confirmed, %zu of its type): %s",
                api_int(item, "id"), t.confirmed, t.per_type[k], list->body);
    } else {
      cr_assert(!seen_waiting[k], "registration %lld was confirmed before an older one of its "
                "ticket type: %s", api_int(item, "id"), list->body);
    }
  }
}

#define FIRST 20
#define NEWCOMERS 24

Test(registrations, cancels_and_registrations_at_once_keep_the_waitlist_in_order,
     .timeout = 120)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':6,'ticket_types':[{'name':'A','price':'1','quantity':4},"
      "{'name':'B','price':'1','quantity':4}]}");
  const long long quantity[2] = {4, 4};
  static struct api_user first[FIRST], late[NEWCOMERS];
  sign_up_many(first, FIRST, "early");
  sign_up_many(late, NEWCOMERS, "late");

  long long ids[FIRST];
  bool was_confirmed[FIRST];
  for (size_t i = 0; i < FIRST; i++) {
    struct api_resp *r = register_for(first[i].access, e.id, e.ticket_types[i % 2]);
    expect_status(r, 200);
    ids[i] = api_id(r);
    was_confirmed[i] = !json_is_true(json_object_get(r->json, "is_waitlisted"));
  }

  for (size_t round = 0; round < 2; round++) {
    /* Cancel every confirmed registration and two waiting ones, while
     * newcomers register. */
    static struct api_call calls[MAX_CALLS];
    size_t n = 0;
    size_t waiting_cancels = 0;
    for (size_t i = 0; i < FIRST; i++) {
      if (ids[i] == 0)
        continue;
      if (was_confirmed[i] || waiting_cancels < 2) {
        waiting_cancels += !was_confirmed[i];
        calls[n++] = cancel_call(first[i].access, ids[i]);
        ids[i] = 0;
      }
    }
    size_t cancels = n;
    for (size_t i = round * NEWCOMERS / 2; i < (round + 1) * NEWCOMERS / 2; i++)
      calls[n++] = register_call(late[i].access, e.id, e.ticket_types[(i / 3) % 2]);
    api_race(calls, n);
    for (size_t i = 0; i < n; i++) {
      if (i < cancels) {
        expect_status(calls[i].resp, 204);
      } else {
        expect_status(calls[i].resp, 200);
        expect_keys(calls[i].resp, REGISTRATION_KEYS);
      }
    }

    struct api_resp *list = api_get(event_registrations_path(e.id), olga.access);
    expect_status(list, 200);
    expect_waitlist_in_order(list, e.ticket_types, 6, quantity);
    expect_unique_codes(list);
    expect_counters_match_rows(e.id, e.ticket_types, 2);
    struct tally t = tally(list, e.ticket_types);
    cr_assert_eq(t.confirmed, 6, "%zu confirmed: %s", t.confirmed, list->body);
    cr_assert_leq(t.per_type[0], 4);
    cr_assert_leq(t.per_type[1], 4);

    /* Who of the first is confirmed now (promoted), for the next round. */
    for (size_t i = 0; i < FIRST; i++) {
      if (ids[i] == 0)
        continue;
      struct api_resp *r = fetch(ids[i], first[i].access);
      was_confirmed[i] = !json_is_true(json_object_get(r->json, "is_waitlisted"));
      if (was_confirmed[i])
        code_of(r);
    }
  }
}

/* ---- a deleted user ------------------------------------------------------ */

Test(registrations, deleting_a_user_gives_their_places_to_the_waitlist)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user root = api_admin("root");
  struct api_user u[4];
  sign_up_many(u, 4, "fan");
  struct api_event e = api_create_event(olga.access,
      "{'capacity':2,'ticket_types':[{'name':'A','price':'1','quantity':1},"
      "{'name':'B','price':'1','quantity':0}]}");
  struct api_event other = api_create_event(olga.access, "{'capacity':1}");
  confirmed(u[0].access, e.id, e.ticket_types[0]);
  confirmed(u[1].access, e.id, e.ticket_types[1]);
  long long a = api_id(waitlisted(u[2].access, e.id, e.ticket_types[0]));
  long long b = api_id(waitlisted(u[3].access, e.id, e.ticket_types[1]));
  confirmed(u[0].access, other.id, 0);
  long long next = api_id(waitlisted(u[1].access, other.id, 0));

  /* fan0 held type A's only place and one of each event's. */
  expect_status(api_delete(api_user_path(u[0].id), root.access), 204);
  expect_promoted(a, u[2].access);
  expect_waiting(b, u[3].access);
  expect_promoted(next, u[1].access);
  expect_counters_match_rows(e.id, e.ticket_types, 2);
  expect_counters_match_rows(other.id, NULL, 0);
  cr_assert_eq(api_db_int("SELECT COUNT(*) FROM registrations WHERE user_id = ?", u[0].id), 0);

  /* A waiting user's deletion takes nobody's place. */
  expect_status(api_delete(api_user_path(u[3].id), root.access), 204);
  expect_counters_match_rows(e.id, e.ticket_types, 2);
  struct api_resp *list = api_get(event_registrations_path(e.id), olga.access);
  expect_status(list, 200);
  cr_assert_eq(json_array_size(list->json), 2, "%s", list->body);
}
