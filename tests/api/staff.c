/*
 * staff.c - docs/api.md "At the door": an event's staff (kept by its
 * organizer or an admin), what staff may do (its registrations, its
 * check-ins and their undoing) and nothing more, the undo, the check-in
 * audit, and who the check-in answer says the ticket belongs to.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/api.h"
#include "support/db.h"

#define EVENTS "/api/events/"

#define STAFF_KEYS "id", "event", "user", "username", "email", "can_export", "added_by", \
    "created_at", NULL
#define DOOR_KEYS "code", "event", "ticket_type", "registration", "issued_at", \
    "is_checked_in", "checked_in_at", "holder", "ticket_type_name", "event_title", NULL
#define AUDIT_KEYS "id", "ticket", "event", "action", "by", "username", "device", "at", \
    "version", NULL

#define NO_TICKET "No Ticket matches the given query."
#define NOT_YOUR_DOOR "This ticket is not for an event you check in."
#define NOT_IN "Ticket is not checked in."
#define ALREADY_IN "Ticket already checked in."
/* The 409 of a second scan: when, and the device ("" for none named). */
#define ALREADY_BODY "{'detail':'" ALREADY_IN "','checked_in_at':'%s','device':''}"
#define TWICE "The fields event, user must make a unique set."

TestSuite(staff, .init = api_server_start, .fini = api_server_stop);

/* ---- helpers ------------------------------------------------------------ */

static const char *staff_path(long long event) { return api_printf(EVENTS "%lld/staff/", event); }
static const char *member_path(long long event, long long user)
{
  return api_printf(EVENTS "%lld/staff/%lld/", event, user);
}
static const char *registrations_path(long long event)
{
  return api_printf(EVENTS "%lld/registrations/", event);
}
static const char *audit_path(long long event)
{
  return api_printf(EVENTS "%lld/check-ins/audit/", event);
}
static const char *check_in_path(const char *code)
{
  return api_printf("/api/tickets/%s/check-in/", code);
}
static const char *alias_path(const char *code)
{
  return api_printf("/api/registrations/ticket/%s/checkin/", code);
}

/* The ticket type of each event ticketed_event() made, by event id. */
static long long types[64];

/* An event of token's with one ticket type "General" (extra: more members). */
static long long ticketed_event(const char *token, const char *extra)
{
  struct api_event e = api_create_event(token, api_printf(
      "{'capacity':10,'ticket_types':[{'name':'General','price':'10','quantity':0}]%s%s}",
      extra ? "," : "", extra ? extra : ""));
  cr_assert(e.id > 0 && e.id < 64);
  types[e.id] = e.ticket_types[0];
  return e.id;
}

/* The ticket code of a confirmed registration of token for event. */
static const char *hold(const char *token, long long event)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event), token,
                                api_jsonf("{\"ticket_type\":%lld}", types[event]));
  expect_status(r, 200);
  return api_ticket_code(r);
}

/* Adds user (by id) to event's staff as token, asserting 201. */
static struct api_resp *add_staff(const char *token, long long event, long long user,
                                  bool can_export)
{
  struct api_resp *r = api_post(staff_path(event), token,
                                api_jsonf("{\"user\":%lld,\"can_export\":%s}", user,
                                          can_export ? "true" : "false"));
  expect_status(r, 201);
  return r;
}

/* A request at the door with an X-Device header (device NULL: none). */
static struct api_resp *at_door(const char *method, const char *path, const char *token,
                                const char *device)
{
  const char *headers[] = {device ? api_printf("X-Device: %s", device) : NULL, NULL};
  return api_request(method, path, token, NULL, NULL, 0, device ? headers : NULL);
}

/* ---- keeping the staff ---------------------------------------------------- */

Test(staff, the_organizer_adds_staff_by_id_and_by_email_and_lists_them)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user walt = api_signup("walt", "organizer");
  long long event = ticketed_event(olga.access, NULL);

  long long before = api_now_us();
  struct api_resp *r = add_staff(olga.access, event, vera.id, false);
  long long after = api_now_us();
  expect_json_response(r);
  expect_keys(r, STAFF_KEYS);
  expect_int(r, "event", event);
  expect_int(r, "user", vera.id);
  expect_str(r, "username", "vera");
  expect_str(r, "email", vera.email);
  expect_bool(r, "can_export", false);
  expect_int(r, "added_by", olga.id);
  expect_time_within(r, "created_at", before, after);

  /* By email, whatever its case; can_export kept. */
  r = api_post(staff_path(event), olga.access, "{\"email\":\"WALT@example.com\",\"can_export\":true}");
  expect_status(r, 201);
  expect_int(r, "user", walt.id);
  expect_bool(r, "can_export", true);

  r = api_get(staff_path(event), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  expect_keys(json_array_get(r->json, 0), STAFF_KEYS);
  expect_int(json_array_get(r->json, 0), "user", vera.id);
  expect_int(json_array_get(r->json, 1), "user", walt.id);
  expect_header(r, "X-Total-Count", "2");

  r = api_get(api_printf("%s?limit=1&offset=1", staff_path(event)), olga.access);
  expect_status(r, 200);
  expect_int(r, "count", 2);
  json_t *results = json_object_get(r->json, "results");
  cr_assert_eq(json_array_size(results), 1, "%s", r->body);
  expect_int(json_array_get(results, 0), "user", walt.id);

  /* An admin keeps any event's staff. */
  struct api_user root = api_admin("root");
  r = api_delete(member_path(event, walt.id), root.access);
  expect_status(r, 204);
  r = api_get(staff_path(event), root.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
}

Test(staff, adding_is_refused_for_twice_the_organizer_and_unknown_users)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  long long event = ticketed_event(olga.access, NULL);
  add_staff(olga.access, event, vera.id, false);

  struct api_resp *r = api_post(staff_path(event), olga.access,
                                api_jsonf("{\"user\":%lld}", vera.id));
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" TWICE "']}");
  r = api_post(staff_path(event), olga.access, "{\"email\":\"vera@example.com\"}");
  expect_status(r, 400);
  expect_body(r, "{'non_field_errors':['" TWICE "']}");

  r = api_post(staff_path(event), olga.access, api_jsonf("{\"user\":%lld}", olga.id));
  expect_status(r, 400);
  expect_body(r, "{'user':['The event\\u0027s organizer cannot be its staff.']}");

  r = api_post(staff_path(event), olga.access, "{\"user\":999999}");
  expect_status(r, 400);
  expect_body(r, "{'user':['Invalid pk \\\"999999\\\" - object does not exist.']}");
  r = api_post(staff_path(event), olga.access, "{\"email\":\"nobody@example.com\"}");
  expect_status(r, 400);
  expect_body(r, "{'email':['Object with email=nobody@example.com does not exist.']}");
  r = api_post(staff_path(event), olga.access, "{}");
  expect_status(r, 400);
  expect_body(r, "{'user':['" REQUIRED "']}");
  r = api_post(staff_path(event), olga.access,
               api_jsonf("{\"user\":%lld,\"can_export\":\"maybe\"}", vera.id));
  expect_status(r, 400);
  expect_field_error(r, "can_export", "Must be a valid boolean.");

  r = api_get(staff_path(event), olga.access);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  r = api_delete(member_path(event, olga.id), olga.access);
  expect_status(r, 404);
  expect_detail(r, "No Staff matches the given query.");
}

Test(staff, only_the_organizer_and_admins_keep_the_staff)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user vera = api_signup("vera", NULL);
  long long event = ticketed_event(olga.access, NULL);
  long long hidden = ticketed_event(olga.access, "'visibility':'private'");
  add_staff(olga.access, event, vera.id, false);
  add_staff(olga.access, hidden, vera.id, false);

  const char *callers[] = {oscar.access, alice.access, vera.access};
  for (size_t i = 0; i < 3; i++) {
    struct api_resp *r = api_get(staff_path(event), callers[i]);
    expect_status(r, 403);
    expect_detail(r, NO_PERMISSION);
    r = api_post(staff_path(event), callers[i], api_jsonf("{\"user\":%lld}", alice.id));
    expect_status(r, 403);
    r = api_delete(member_path(event, vera.id), callers[i]);
    expect_status(r, 403);
  }
  /* A private event is not there for those who may not see it. */
  struct api_resp *r = api_get(staff_path(hidden), oscar.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);
  r = api_post(staff_path(hidden), alice.access, api_jsonf("{\"user\":%lld}", alice.id));
  expect_status(r, 404);
  r = api_get(staff_path(event), NULL);
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);

  r = api_get(staff_path(event), olga.access);
  cr_assert_eq(json_array_size(r->json), 1, "nothing changed: %s", r->body);
}

/* ---- what staff may do ----------------------------------------------------- */

Test(staff, staff_check_in_and_list_registrations_and_nothing_more)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user alice = api_signup("alice", NULL);
  long long a = ticketed_event(olga.access, NULL);
  long long b = ticketed_event(oscar.access, NULL);
  long long hidden = ticketed_event(olga.access, "'visibility':'private'");
  const char *alices = hold(alice.access, a);
  const char *bs = hold(alice.access, b);

  /* Before: nothing. */
  struct api_resp *r = api_post(check_in_path(alices), vera.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET);
  r = api_get(registrations_path(a), vera.access);
  expect_status(r, 403);
  r = api_get(registrations_path(hidden), vera.access);
  expect_status(r, 404);
  expect_detail(r, NO_EVENT);

  add_staff(olga.access, a, vera.id, false);
  add_staff(olga.access, hidden, vera.id, false);
  /* The door of a private event, and the event itself (not in their list). */
  r = api_get(registrations_path(hidden), vera.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);
  r = api_get(api_printf(EVENTS "%lld/", hidden), vera.access);
  expect_status(r, 200);
  expect_int(r, "id", hidden);
  r = api_get(api_printf(EVENTS "%lld/calendar.ics", hidden), vera.access);
  expect_status(r, 200);
  r = api_get(EVENTS, vera.access);
  expect_status(r, 200);
  cr_assert(strstr(r->body, "\"visibility\":\"private\"") == NULL, "%s", r->body);
  r = api_patch(api_printf(EVENTS "%lld/update/", hidden), vera.access, "{\"title\":\"Mine\"}");
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);

  r = api_get(registrations_path(a), vera.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  r = api_get(api_printf("%s?format=csv", registrations_path(a)), vera.access);
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);

  r = api_post(check_in_path(alices), vera.access, NULL);
  expect_status(r, 200);
  expect_keys(r, DOOR_KEYS);
  expect_bool(r, "is_checked_in", true);
  r = api_post(alias_path(alices), vera.access, NULL);
  expect_status(r, 409);

  /* Not the event itself, nor another event's door. */
  r = api_patch(api_printf(EVENTS "%lld/update/", a), vera.access, "{\"title\":\"Mine\"}");
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_delete(api_printf(EVENTS "%lld/delete/", a), vera.access);
  expect_status(r, 403);
  r = api_get(staff_path(a), vera.access);
  expect_status(r, 403);
  r = api_get(registrations_path(b), vera.access);
  expect_status(r, 403);
  expect_detail(r, NO_PERMISSION);
  r = api_post(check_in_path(bs), vera.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NOT_YOUR_DOOR);
  r = api_post(alias_path(bs), vera.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NOT_YOUR_DOOR);
  r = api_request("DELETE", check_in_path(bs), vera.access, NULL, NULL, 0, NULL);
  expect_status(r, 404);
  expect_detail(r, NOT_YOUR_DOOR);
  r = api_post(check_in_path("00000000-0000-4000-8000-000000000000"), vera.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET);
  r = api_get(api_printf("/api/tickets/%s/", bs), vera.access);
  expect_status(r, 404);
  r = api_get(audit_path(a), vera.access);
  expect_status(r, 403);
  r = api_get(api_printf("/api/tickets/%s/", bs), alice.access);
  expect_bool(r, "is_checked_in", false);
}

Test(staff, can_export_lets_staff_download_the_csv)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access, NULL);
  hold(alice.access, event);
  add_staff(olga.access, event, vera.id, true);

  struct api_resp *r = api_get(api_printf("%s?format=csv", registrations_path(event)),
                               vera.access);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "text/csv; charset=utf-8");
  cr_assert(strstr(r->body, "alice") != NULL, "%s", r->body);
}

Test(staff, removal_ends_the_powers_at_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  long long event = ticketed_event(olga.access, NULL);
  const char *alices = hold(alice.access, event);
  const char *bobs = hold(bob.access, event);
  add_staff(olga.access, event, vera.id, false);
  expect_status(api_post(check_in_path(alices), vera.access, NULL), 200);

  struct api_resp *r = api_delete(member_path(event, vera.id), olga.access);
  expect_status(r, 204);
  expect_empty_body(r);

  r = api_post(check_in_path(bobs), vera.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET);
  r = api_request("DELETE", check_in_path(alices), vera.access, NULL, NULL, 0, NULL);
  expect_status(r, 404);
  r = api_get(registrations_path(event), vera.access);
  expect_status(r, 403);
  r = api_delete(member_path(event, vera.id), olga.access);
  expect_status(r, 404);
}

Test(staff, a_deleted_users_staff_rows_go)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user root = api_admin("root");
  long long event = ticketed_event(olga.access, NULL);
  add_staff(olga.access, event, vera.id, false);
  cr_assert_eq(api_db_int("SELECT count(*) FROM event_staff WHERE user_id = ?", vera.id), 1);

  expect_status(api_delete(api_user_path(vera.id), root.access), 204);
  cr_assert_eq(api_db_int("SELECT count(*) FROM event_staff WHERE user_id = ?", vera.id), 0);
  struct api_resp *r = api_get(staff_path(event), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);

  /* And an event's staff go with the event. */
  struct api_user walt = api_signup("walt", NULL);
  add_staff(olga.access, event, walt.id, false);
  expect_status(api_delete(api_printf(EVENTS "%lld/delete/", event), olga.access), 204);
  cr_assert_eq(api_db_int("SELECT count(*) FROM event_staff WHERE event_id = ?", event), 0);
}

/* ---- the answer, the undo and the audit --------------------------------------- */

Test(staff, the_check_in_answer_says_whose_ticket_it_is)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  expect_status(api_patch("/api/users/me/", alice.access,
                          "{\"first_name\":\"Alice\",\"last_name\":\"Martin\"}"), 200);
  long long event = ticketed_event(olga.access, "'title':'Door Test'");
  const char *code = hold(alice.access, event);

  struct api_resp *r = api_post(check_in_path(code), olga.access, NULL);
  expect_status(r, 200);
  expect_keys(r, DOOR_KEYS);
  json_t *holder = json_object_get(r->json, "holder");
  expect_keys(holder, "username", "first_name", "last_name", NULL);
  expect_str(holder, "username", "alice");
  expect_str(holder, "first_name", "Alice");
  expect_str(holder, "last_name", "Martin");
  expect_str(r, "ticket_type_name", "General");
  expect_str(r, "event_title", "Door Test");

  /* Without ticket types, no type's name. */
  struct api_event plain = api_create_event(olga.access, NULL);
  r = api_post(api_printf("/api/registrations/%lld/register/", plain.id), alice.access, "{}");
  expect_status(r, 200);
  r = api_post(check_in_path(api_ticket_code(r)), olga.access, NULL);
  expect_status(r, 200);
  expect_null(r, "ticket_type_name");
  expect_str(r, "event_title", "Jazz Night");
}

Test(staff, a_check_in_is_undone_once_by_the_door)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  long long event = ticketed_event(olga.access, NULL);
  const char *code = hold(alice.access, event);
  add_staff(olga.access, event, vera.id, false);

  struct api_resp *r = api_request("DELETE", check_in_path(code), vera.access, NULL, NULL, 0,
                                   NULL);
  expect_status(r, 409);
  expect_detail(r, NOT_IN);

  expect_status(api_post(check_in_path(code), olga.access, NULL), 200);
  r = api_request("DELETE", check_in_path(code), alice.access, NULL, NULL, 0, NULL);
  expect_status(r, 403);
  r = api_request("DELETE", check_in_path(code), NULL, NULL, NULL, 0, NULL);
  expect_status(r, 401);

  r = api_request("DELETE", check_in_path(code), vera.access, NULL, NULL, 0, NULL);
  expect_status(r, 200);
  expect_keys(r, DOOR_KEYS);
  expect_bool(r, "is_checked_in", false);
  expect_null(r, "checked_in_at");
  r = api_get(api_printf("/api/tickets/%s/", code), alice.access);
  expect_bool(r, "is_checked_in", false);
  expect_null(r, "checked_in_at");
  r = api_request("DELETE", check_in_path(code), olga.access, NULL, NULL, 0, NULL);
  expect_status(r, 409);
  expect_detail(r, NOT_IN);

  /* It may be checked in again, and undone by an admin. */
  expect_status(api_post(check_in_path(code), vera.access, NULL), 200);
  r = api_request("DELETE", check_in_path(code), root.access, NULL, NULL, 0, NULL);
  expect_status(r, 200);
  expect_bool(r, "is_checked_in", false);
  /* Two undone, the two 409s not counted; two check-ins. */
  cr_assert_eq(api_metric("eventapi_checkin_undos_total"), 2);
  cr_assert_eq(api_metric("eventapi_checkins_total"), 2);
  api_expect_database_consistent();
}

Test(staff, every_check_in_and_undo_is_audited_newest_first)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user alice = api_signup("alice", NULL);
  struct api_user oscar = api_signup("oscar", "organizer");
  long long event = ticketed_event(olga.access, NULL);
  const char *code = hold(alice.access, event);
  add_staff(olga.access, event, vera.id, false);

  long long t0 = api_now_us();
  expect_status(at_door("POST", check_in_path(code), vera.access, "door-2"), 200);
  long long t1 = api_now_us();
  expect_status(at_door("DELETE", check_in_path(code), olga.access, NULL), 200);
  long long t2 = api_now_us();
  /* A second scan that changes nothing is not a row. */
  expect_status(at_door("DELETE", check_in_path(code), olga.access, "x"), 409);

  struct api_resp *r = api_get(audit_path(event), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  json_t *undo = json_array_get(r->json, 0), *in = json_array_get(r->json, 1);
  expect_keys(undo, AUDIT_KEYS);
  expect_str(undo, "action", "undo");
  expect_int(undo, "by", olga.id);
  expect_str(undo, "username", "olga");
  expect_str(undo, "device", "");
  expect_str(undo, "ticket", code);
  expect_int(undo, "event", event);
  expect_time_within(undo, "at", t1, t2);
  expect_str(in, "action", "check_in");
  expect_int(in, "by", vera.id);
  expect_str(in, "username", "vera");
  expect_str(in, "device", "door-2");
  expect_time_within(in, "at", t0, t1);

  r = api_get(api_printf("%s?limit=1", audit_path(event)), olga.access);
  expect_status(r, 200);
  expect_int(r, "count", 2);
  expect_str(json_array_get(json_object_get(r->json, "results"), 0), "action", "undo");

  r = api_get(audit_path(event), oscar.access);
  expect_status(r, 403);
  r = api_get(audit_path(event), NULL);
  expect_status(r, 401);

  /* A device's name is bounded. */
  char long_name[130];
  memset(long_name, 'd', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  r = at_door("POST", check_in_path(code), vera.access, long_name);
  expect_status(r, 400);
  expect_body(r, "{'device':['Ensure this field has no more than 100 characters.']}");
  r = api_get(audit_path(event), olga.access);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
}

Test(staff, two_staff_scanning_at_once_check_in_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user walt = api_signup("walt", NULL);
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access, NULL);
  const char *code = hold(alice.access, event);
  add_staff(olga.access, event, vera.id, false);
  add_staff(olga.access, event, walt.id, false);

  struct api_call calls[] = {
    {.method = "POST", .path = check_in_path(code), .token = vera.access},
    {.method = "POST", .path = alias_path(code), .token = walt.access},
  };
  api_race(calls, 2);
  int ok = 0, conflict = 0;
  for (size_t i = 0; i < 2; i++) {
    if (calls[i].resp->status == 200)
      ok++;
    else if (calls[i].resp->status == 409)
      conflict++;
  }
  cr_assert_eq(ok, 1, "one 200: %ld %ld", calls[0].resp->status, calls[1].resp->status);
  cr_assert_eq(conflict, 1, "one 409: %ld %ld", calls[0].resp->status, calls[1].resp->status);
  struct api_resp *lost = calls[0].resp->status == 409 ? calls[0].resp : calls[1].resp;
  struct api_resp *won = calls[0].resp->status == 200 ? calls[0].resp : calls[1].resp;
  expect_body(lost, api_printf(ALREADY_BODY,
                               json_string_value(json_object_get(won->json, "checked_in_at"))));

  cr_assert_eq(api_db_int("SELECT count(*) FROM check_in_audit WHERE event_id = ?"
                          " AND action = 'check_in'", event), 1);
  struct api_resp *r = api_get(audit_path(event), olga.access);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  api_expect_database_consistent();
}

/* ---- the events at the caller's door ------------------------------------- */

#define DOORS "/api/events/door/"
#define DOOR_EVENT_KEYS "id", "title", "date_time", "location", "role", "can_export", NULL

/* An event of token's titled title, seconds from now. */
static long long event_at(const char *token, const char *title, long long seconds)
{
  return api_create_event(token, api_jsonf("{\"title\":\"%s\",\"date_time\":\"%s\"}", title,
                                           api_iso_from_now(seconds))).id;
}

Test(staff, the_door_list_has_the_events_the_caller_works_nearest_first)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user otto = api_signup("otto", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  /* Made three days ahead of the clock, which then moves on three days:
   * one event two days past, the others to come. */
  long long ahead = 3 * 86400;
  long long far = event_at(olga.access, "Far", ahead + 30 * 86400);
  long long soon = event_at(olga.access, "Soon", ahead + 3600);
  long long past = event_at(olga.access, "Past", ahead - 2 * 86400);
  long long others = event_at(otto.access, "Otto event", ahead + 7200);
  event_at(otto.access, "Not for vera", ahead + 600);
  expect_status(api_post(staff_path(others), otto.access,
                         api_jsonf("{\"user\":%lld,\"can_export\":true}", vera.id)), 201);
  expect_status(api_post(staff_path(far), olga.access, api_jsonf("{\"user\":%lld}", vera.id)),
                201);
  api_clock_advance(ahead);
  olga = api_login("olga", API_PASSWORD); /* the tokens of three days ago have run out */
  otto = api_login("otto", API_PASSWORD);
  vera = api_login("vera", API_PASSWORD);

  /* The organizer: their own, the nearest to now first, past ones too. */
  struct api_resp *r = api_get(DOORS, olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 3, "%s", r->body);
  long long order[] = {soon, past, far};
  for (size_t i = 0; i < 3; i++) {
    json_t *item = json_array_get(r->json, i);
    cr_assert_eq(api_int(item, "id"), order[i], "%s", r->body);
    expect_keys(item, DOOR_EVENT_KEYS);
    cr_assert_str_eq(json_string_value(json_object_get(item, "role")), "organizer");
    cr_assert(json_is_true(json_object_get(item, "can_export")));
  }
  cr_assert_str_eq(api_header(r, "X-Total-Count"), "3");

  /* Staff: the events they work, with what they may do there; not Otto's other event. */
  r = api_get(DOORS, vera.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  json_t *first = json_array_get(r->json, 0), *second = json_array_get(r->json, 1);
  cr_assert_eq(api_int(first, "id"), others);
  cr_assert_str_eq(json_string_value(json_object_get(first, "title")), "Otto event");
  cr_assert_str_eq(json_string_value(json_object_get(first, "role")), "staff");
  cr_assert(json_is_true(json_object_get(first, "can_export")));
  cr_assert_eq(api_int(second, "id"), far);
  cr_assert(json_is_false(json_object_get(second, "can_export")));

  /* Paginated as every list; an attendee who works no door has none. */
  r = api_get(DOORS "?limit=1&offset=1", vera.access);
  expect_status(r, 200);
  expect_int(r, "count", 2);
  cr_assert_eq(api_int(json_array_get(json_object_get(r->json, "results"), 0), "id"), far);
  expect_status(api_get(DOORS "?limit=0", vera.access), 400);
  r = api_get(DOORS, api_signup("ann", NULL).access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0);
  expect_status(api_get(DOORS, NULL), 401);

  /* Removed from the staff: the event leaves the list with the next request. */
  expect_status(api_delete(member_path(others, vera.id), otto.access), 204);
  r = api_get(DOORS, vera.access);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
}
