/*
 * tickets.c - API.md "Tickets": the holder's tickets, one ticket and who
 * may see it, the check-in at the door (both paths, once only, also when
 * two scanners send the same code at once), and the QR codes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/api.h"

#define EVENTS "/api/events/"
#define TICKETS "/api/tickets/"

#define TICKET_KEYS "code", "event", "ticket_type", "registration", "issued_at", \
    "is_checked_in", "checked_in_at", NULL
/* The answer at the door: the ticket and who it belongs to (docs/api.md). */
#define DOOR_KEYS "code", "event", "ticket_type", "registration", "issued_at", \
    "is_checked_in", "checked_in_at", "holder", "ticket_type_name", "event_title", NULL

#define NO_TICKET "No Ticket matches the given query."
#define ALREADY_IN "Ticket already checked in."
/* The 409 of a second scan: when, and the device ("" for none named). */
#define ALREADY_BODY "{'detail':'" ALREADY_IN "','checked_in_at':'%s','device':''}"

TestSuite(tickets, .init = api_server_start, .fini = api_server_stop);

/* ---- helpers ------------------------------------------------------------ */

static const char *ticket_path(const char *code) { return api_printf(TICKETS "%s/", code); }
static const char *check_in_path(const char *code)
{
  return api_printf(TICKETS "%s/check-in/", code);
}
static const char *checkin_alias_path(const char *code)
{
  return api_printf("/api/registrations/ticket/%s/checkin/", code);
}
static const char *registration_path(long long id)
{
  return api_printf("/api/registrations/%lld/", id);
}

static const char *str_of(json_t *json, const char *key)
{
  const char *value = json_string_value(json_object_get(json, key));
  expect_that(value != NULL, "expected a string \"%s\" in %s", key, api_dump(json));
  return value;
}

/* An event of token's: capacity and one ticket type "General" of quantity. */
struct event {
  long long id, type;
};

static struct event ticketed_event(const char *token, const char *extra)
{
  struct api_event e = api_create_event(token, api_printf(
      "{'capacity':10,'ticket_types':[{'name':'General','price':'10','quantity':0}]%s%s}",
      extra ? "," : "", extra ? extra : ""));
  return (struct event){.id = e.id, .type = e.ticket_types[0]};
}

/* A confirmed registration of token for e. */
struct holding {
  long long registration;
  const char *code, *issued_at;
};

static struct holding hold(const char *token, struct event e)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", e.id), token,
                                api_jsonf("{\"ticket_type\":%lld}", e.type));
  expect_status(r, 200);
  expect_bool(r, "is_waitlisted", false);
  json_t *ticket = json_object_get(r->json, "ticket");
  return (struct holding){.registration = api_id(r), .code = str_of(ticket, "code"),
                          .issued_at = str_of(ticket, "issued_at")};
}

/* ---- the caller's tickets ----------------------------------------------- */

Test(tickets, the_list_holds_the_callers_tickets)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct event jazz = ticketed_event(olga.access, NULL);
  struct event full = ticketed_event(olga.access, "\"title\":\"Full\"");
  /* Full holds one. */
  struct api_resp *r = api_patch(api_printf(EVENTS "%lld/update/", full.id), olga.access,
                                 "{\"capacity\":1}");
  expect_status(r, 200);
  struct holding mine = hold(alice.access, jazz);
  hold(bob.access, jazz);
  hold(bob.access, full);
  r = api_post(api_printf("/api/registrations/%lld/register/", full.id), alice.access,
               api_jsonf("{\"ticket_type\":%lld}", full.type));
  expect_status(r, 200);
  expect_bool(r, "is_waitlisted", true);

  r = api_get(TICKETS, alice.access);
  expect_status(r, 200);
  expect_json_response(r);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  json_t *t = json_array_get(r->json, 0);
  expect_keys(t, TICKET_KEYS);
  expect_str(t, "code", mine.code);
  expect_int(t, "event", jazz.id);
  expect_int(t, "ticket_type", jazz.type);
  expect_int(t, "registration", mine.registration);
  expect_str(t, "issued_at", mine.issued_at);
  expect_bool(t, "is_checked_in", false);
  expect_null(t, "checked_in_at");

  r = api_get(TICKETS, bob.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  r = api_get(TICKETS, olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);
  r = api_get(TICKETS, NULL);
  expect_status(r, 401);
  expect_detail(r, NO_CREDENTIALS);
}

/* The codes of a list answer's tickets: the array, or the page's "results". */
static const char *codes_of(struct api_resp *r)
{
  json_t *items = json_is_object(r->json) ? json_object_get(r->json, "results") : r->json;
  expect_that(json_is_array(items), "a list: %s", r->body);
  const char *codes = "";
  size_t i;
  json_t *item;
  json_array_foreach(items, i, item)
    codes = api_printf("%s%s%s", codes, i ? "," : "", str_of(item, "code"));
  return codes;
}

/* API.md: paginated as the event list (DRF's LimitOffsetPagination). */
Test(tickets, the_list_paginates_with_limit_and_offset)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  const char *codes[4];
  for (int i = 0; i < 4; i++)
    codes[i] = hold(alice.access, ticketed_event(olga.access, NULL)).code;

  /* Newest first, without limit a plain array. */
  struct api_resp *r = api_get(TICKETS, alice.access);
  expect_status(r, 200);
  expect_that(json_is_array(r->json), "a plain array: %s", r->body);
  expect_that(strcmp(codes_of(r), api_printf("%s,%s,%s,%s", codes[3], codes[2], codes[1],
                                             codes[0])) == 0, "%s", r->body);
  expect_header(r, "X-Total-Count", "4");

  r = api_get(TICKETS "?limit=3", alice.access);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, "count", "next", "previous", "results", NULL);
  expect_int(r, "count", 4);
  expect_str(r, "next", api_url(TICKETS "?limit=3&offset=3"));
  expect_null(r, "previous");
  expect_keys(json_array_get(json_object_get(r->json, "results"), 0), TICKET_KEYS);
  expect_that(strcmp(codes_of(r), api_printf("%s,%s,%s", codes[3], codes[2], codes[1])) == 0,
              "%s", r->body);
  expect_header(r, "X-Total-Count", "4");

  r = api_get(TICKETS "?limit=3&offset=3", alice.access);
  expect_null(r, "next");
  expect_str(r, "previous", api_url(TICKETS "?limit=3"));
  expect_that(strcmp(codes_of(r), codes[0]) == 0, "%s", r->body);

  r = api_get(TICKETS "?limit=2&offset=1&x=a+b", alice.access);
  expect_str(r, "next", api_url(TICKETS "?limit=2&offset=3&x=a+b"));
  expect_str(r, "previous", api_url(TICKETS "?limit=2&x=a+b"));

  expect_body(api_get(TICKETS "?limit=5", olga.access),
              "{'count':0,'next':null,'previous':null,'results':[]}");
  r = api_get(TICKETS "?limit=1001&offset=-2", alice.access);
  expect_status(r, 400);
  expect_body(r, "{'limit':['Ensure this value is less than or equal to 1000.'],"
                 "'offset':['Ensure this value is greater than or equal to 0.']}");
  r = api_get(TICKETS "?limit=1.5", alice.access);
  expect_status(r, 400);
  expect_body(r, "{'limit':['A valid integer is required.']}");
}

Test(tickets, an_event_without_ticket_types_gives_tickets_without_one)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = api_create_event(olga.access, "{'title':'Talk','capacity':0}").id;
  struct api_resp *r;
  r = api_post(api_printf("/api/registrations/%lld/register/", event), alice.access, "{}");
  expect_status(r, 200);
  const char *code = str_of(json_object_get(r->json, "ticket"), "code");
  r = api_get(ticket_path(code), alice.access);
  expect_status(r, 200);
  expect_keys(r, TICKET_KEYS);
  expect_null(r, "ticket_type");
  expect_int(r, "event", event);
}

/* ---- one ticket --------------------------------------------------------- */

Test(tickets, a_ticket_is_seen_by_its_holder_the_organizer_and_admins)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_user root = api_admin("root");
  struct event e = ticketed_event(olga.access, NULL);
  struct holding h = hold(alice.access, e);

  const char *allowed[] = {alice.access, olga.access, root.access};
  for (size_t i = 0; i < 3; i++) {
    struct api_resp *r = api_get(ticket_path(h.code), allowed[i]);
    expect_status(r, 200);
    expect_keys(r, TICKET_KEYS);
    expect_str(r, "code", h.code);
    expect_int(r, "registration", h.registration);
    expect_int(r, "event", e.id);
    expect_int(r, "ticket_type", e.type);
    expect_str(r, "issued_at", h.issued_at);
    expect_bool(r, "is_checked_in", false);
    expect_null(r, "checked_in_at");
  }
  const char *others[] = {bob.access, oscar.access};
  for (size_t i = 0; i < 2; i++) {
    struct api_resp *r = api_get(ticket_path(h.code), others[i]);
    expect_status(r, 404);
    expect_detail(r, NO_TICKET);
  }
  struct api_resp *r = api_get(ticket_path(h.code), NULL);
  expect_status(r, 401);
  r = api_get(ticket_path("00000000-0000-4000-8000-000000000000"), root.access);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET);
  r = api_get(ticket_path("not-a-code"), alice.access);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET);
}

Test(tickets, a_cancelled_registrations_ticket_is_gone)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct event e = ticketed_event(olga.access, NULL);
  struct holding h = hold(alice.access, e);
  expect_status(api_delete(registration_path(h.registration), alice.access), 204);

  const char *who[] = {alice.access, olga.access};
  for (size_t i = 0; i < 2; i++) {
    struct api_resp *r = api_get(ticket_path(h.code), who[i]);
    expect_status(r, 404);
    expect_detail(r, NO_TICKET);
    r = api_get(api_printf(TICKETS "%s/qr.svg", h.code), who[i]);
    expect_status(r, 404);
    r = api_get(api_printf(TICKETS "%s/qr.png", h.code), who[i]);
    expect_status(r, 404);
  }
  struct api_resp *r = api_post(check_in_path(h.code), olga.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET);
  r = api_get(TICKETS, alice.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 0, "%s", r->body);

  /* Registering again issues a new code. */
  struct holding again = hold(alice.access, e);
  cr_assert_str_neq(again.code, h.code);
}

/* ---- check-in ----------------------------------------------------------- */

Test(tickets, the_organizer_checks_a_ticket_in_once)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct event e = ticketed_event(olga.access, NULL);
  struct holding h = hold(alice.access, e);

  long long before = api_now_us();
  struct api_resp *r = api_post(check_in_path(h.code), olga.access, NULL);
  long long after = api_now_us();
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, DOOR_KEYS);
  expect_str(r, "code", h.code);
  expect_str(r, "event_title", "Jazz Night");
  expect_str(r, "ticket_type_name", "General");
  expect_keys(json_object_get(r->json, "holder"), "username", "first_name", "last_name", NULL);
  expect_str(json_object_get(r->json, "holder"), "username", "alice");
  expect_bool(r, "is_checked_in", true);
  expect_int(r, "registration", h.registration);
  expect_time_within(r, "checked_in_at", before, after);
  const char *when = str_of(r->json, "checked_in_at");
  cr_assert(api_parse_iso_us(when) >= api_parse_iso_us(h.issued_at),
            "checked in %s before issued %s", when, h.issued_at);

  r = api_post(check_in_path(h.code), olga.access, NULL);
  expect_status(r, 409);
  expect_body(r, api_printf(ALREADY_BODY, when));
  r = api_post(checkin_alias_path(h.code), olga.access, NULL);
  expect_status(r, 409);
  expect_body(r, api_printf(ALREADY_BODY, when));

  /* The ticket and the registration tell it. */
  r = api_get(ticket_path(h.code), alice.access);
  expect_status(r, 200);
  expect_bool(r, "is_checked_in", true);
  expect_str(r, "checked_in_at", when);
  r = api_get(registration_path(h.registration), alice.access);
  expect_status(r, 200);
  expect_bool(json_object_get(r->json, "ticket"), "is_checked_in", true);
  r = api_get(api_printf(EVENTS "%lld/registrations/", e.id), olga.access);
  expect_status(r, 200);
  expect_str(json_object_get(json_array_get(r->json, 0), "ticket"), "checked_in_at", when);
}

Test(tickets, the_original_checkin_path_and_admins_check_in)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_user root = api_admin("root");
  struct event e = ticketed_event(olga.access, NULL);
  struct holding a = hold(alice.access, e);
  struct holding b = hold(bob.access, e);

  struct api_resp *r = api_post(checkin_alias_path(a.code), olga.access, NULL);
  expect_status(r, 200);
  expect_keys(r, DOOR_KEYS);
  expect_bool(r, "is_checked_in", true);
  const char *when = str_of(r->json, "checked_in_at");
  r = api_post(check_in_path(a.code), root.access, NULL);
  expect_status(r, 409);
  expect_body(r, api_printf(ALREADY_BODY, when));

  r = api_post(check_in_path(b.code), root.access, NULL);
  expect_status(r, 200);
  expect_bool(r, "is_checked_in", true);
}

Test(tickets, only_the_organizer_and_admins_check_in)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct event e = ticketed_event(olga.access, NULL);
  struct holding h = hold(alice.access, e);

  const char *paths[] = {check_in_path(h.code), checkin_alias_path(h.code)};
  for (size_t p = 0; p < 2; p++) {
    struct api_resp *r = api_post(paths[p], alice.access, NULL);
    expect_status(r, 403);
    expect_detail(r, NO_PERMISSION);
    r = api_post(paths[p], bob.access, NULL);
    expect_status(r, 404);
    expect_detail(r, NO_TICKET);
    r = api_post(paths[p], oscar.access, NULL);
    expect_status(r, 404);
    expect_detail(r, NO_TICKET);
    r = api_post(paths[p], NULL, NULL);
    expect_status(r, 401);
    expect_detail(r, NO_CREDENTIALS);
  }
  /* None of it checked the ticket in. */
  struct api_resp *r = api_get(ticket_path(h.code), alice.access);
  expect_status(r, 200);
  expect_bool(r, "is_checked_in", false);
  expect_null(r, "checked_in_at");
  r = api_post(check_in_path("00000000-0000-4000-8000-000000000000"), olga.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NO_TICKET);
}

/* ---- QR codes ----------------------------------------------------------- */

/* What zbarimg reads from the PNG bytes, trailing newline removed. */
static const char *scan_png(const char *bytes, size_t len)
{
  char path[] = "/tmp/eventapi-qr-XXXXXX.png";
  int fd = mkstemps(path, 4);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
  close(fd);
  FILE *p = popen(api_printf("zbarimg --raw -q '%s' 2>/dev/null", path), "r");
  cr_assert(p != NULL);
  char out[512] = "";
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  pclose(p);
  unlink(path);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
    out[--n] = '\0';
  return api_strdup(out);
}

Test(tickets, the_qr_png_carries_the_code)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user root = api_admin("root");
  struct event e = ticketed_event(olga.access, NULL);
  struct holding h = hold(alice.access, e);

  const char *allowed[] = {alice.access, olga.access, root.access};
  for (size_t i = 0; i < 3; i++) {
    struct api_resp *r = api_get(api_printf(TICKETS "%s/qr.png", h.code), allowed[i]);
    expect_status(r, 200);
    expect_header(r, "Content-Type", "image/png");
    cr_assert(r->len > 8 && memcmp(r->body, "\x89PNG\r\n\x1a\n", 8) == 0,
              "not a PNG (%zu bytes)", r->len);
    if (i == 0)
      cr_assert_str_eq(scan_png(r->body, r->len), h.code);
  }
  struct api_resp *r = api_get(api_printf(TICKETS "%s/qr.png/", h.code), alice.access);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "image/png");
}

Test(tickets, the_qr_svg_is_an_svg_image)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct event e = ticketed_event(olga.access, NULL);
  struct holding h = hold(alice.access, e);

  const char *allowed[] = {alice.access, olga.access};
  for (size_t i = 0; i < 2; i++) {
    struct api_resp *r = api_get(api_printf(TICKETS "%s/qr.svg", h.code), allowed[i]);
    expect_status(r, 200);
    expect_header(r, "Content-Type", "image/svg+xml");
    cr_assert(strstr(r->body, "<svg") != NULL, "%.200s", r->body);
    cr_assert(strstr(r->body, "</svg>") != NULL, "%.200s", r->body);
  }
}

Test(tickets, others_get_no_qr_code)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user oscar = api_signup("oscar", "organizer");
  struct api_user bob = api_signup("bob", NULL);
  struct api_user alice = api_signup("alice", NULL);
  struct event e = ticketed_event(olga.access, NULL);
  struct holding h = hold(alice.access, e);
  const char *kinds[] = {"qr.svg", "qr.png"};
  for (size_t k = 0; k < 2; k++) {
    const char *path = api_printf(TICKETS "%s/%s", h.code, kinds[k]);
    struct api_resp *r = api_get(path, bob.access);
    expect_status(r, 404);
    expect_detail(r, NO_TICKET);
    r = api_get(path, oscar.access);
    expect_status(r, 404);
    expect_detail(r, NO_TICKET);
    r = api_get(path, NULL);
    expect_status(r, 401);
    r = api_get(api_printf(TICKETS "00000000-0000-4000-8000-000000000000/%s", kinds[k]),
                alice.access);
    expect_status(r, 404);
  }
}

/* ---- at the same time --------------------------------------------------- */

#define DOORS 8

Test(tickets, two_scanners_at_once_check_a_ticket_in_once, .timeout = 60)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user root = api_admin("root");
  struct event e = ticketed_event(olga.access, NULL);
  struct holding held[DOORS];
  for (size_t i = 0; i < DOORS; i++)
    held[i] = hold(api_signup(api_printf("guest%zu", i), NULL).access, e);

  /* Two scanners per ticket, every ticket at the same instant. */
  struct api_call scanners[2 * DOORS];
  for (size_t i = 0; i < 2 * DOORS; i++) {
    const char *code = held[i / 2].code;
    scanners[i] = (struct api_call){
      .method = "POST",
      .path = i % 2 ? check_in_path(code) : checkin_alias_path(code),
      .token = i % 4 == 3 ? root.access : olga.access,
    };
  }
  api_race(scanners, 2 * DOORS);

  for (size_t t = 0; t < DOORS; t++) {
    struct api_resp *a = scanners[2 * t].resp, *b = scanners[2 * t + 1].resp;
    struct api_resp *ok = a->status == 200 ? a : b, *late = a->status == 200 ? b : a;
    expect_status(ok, 200);
    expect_status(late, 409);
    expect_bool(ok, "is_checked_in", true);
    const char *when = str_of(ok->json, "checked_in_at");
    expect_body(late, api_printf(ALREADY_BODY, when));
    struct api_resp *r = api_get(ticket_path(held[t].code), olga.access);
    expect_str(r, "checked_in_at", when);
  }
}
