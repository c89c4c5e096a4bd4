/*
 * offers.c - docs/api.md "Waitlist offers": an event with
 * waitlist_offer_hours holds a freed place for the next in line, who
 * accepts it (confirmed, with a ticket) or declines it (cancelled, the
 * place passes on); an offer that runs out is ended by the worker and
 * passes down the line. Held places count against capacity and quantity,
 * so no offer oversells: every test ends with the database's invariants.
 *
 * The worker runs in the test's thread (api_deliver_mail(), the server
 * started with WORKER=off), and time is passed with the test clock.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/api.h"
#include "support/db.h"

#define HOUR 3600LL
#define NO_OFFER "{'non_field_errors':['This registration holds no offer.']}"
#define OFFER_EXPIRED "{'non_field_errors':['This offer has expired.']}"

static void start(void)
{
  /* Tokens that outlive the hours a test passes. */
  static const char *const env[] = {"WORKER", "off", "ACCESS_TOKEN_LIFETIME", "30d", NULL};
  api_server_start_with(env);
}

static void stop(void)
{
  api_expect_database_consistent();
  api_server_stop();
}

TestSuite(offers, .init = start, .fini = stop);

/* ---- helpers ---------------------------------------------------------------- */

/* An event of org's for capacity people whose offers run hours (0: none). */
static long long event_of(const struct api_user *org, int capacity, int hours)
{
  const char *over = hours ? api_printf("{'capacity':%d,'waitlist_offer_hours':%d}", capacity, hours)
                           : api_printf("{'capacity':%d}", capacity);
  struct api_event e = api_create_event(org->access, over);
  return e.id;
}

static const char *registration_path(long long id)
{
  return api_printf("/api/registrations/%lld/", id);
}

/* Registers user for event; its id. */
static long long register_for(const struct api_user *user, long long event)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event),
                                user->access, "{}");
  expect_status(r, 200);
  return api_id(r);
}

static struct api_resp *accept(const struct api_user *user, long long registration)
{
  return api_post(api_printf("/api/registrations/%lld/accept/", registration), user->access,
                  "{}");
}

static struct api_resp *decline(const struct api_user *user, long long registration)
{
  return api_post(api_printf("/api/registrations/%lld/decline/", registration), user->access,
                  "{}");
}

/* The registration as its holder sees it (200). */
static struct api_resp *registration(const struct api_user *user, long long id)
{
  struct api_resp *r = api_get(registration_path(id), user->access);
  expect_status(r, 200);
  return r;
}

/* Whether registration id holds an offer now, and until when (microseconds). */
static long long offer_of(const struct api_user *user, long long id)
{
  struct api_resp *r = registration(user, id);
  json_t *until = json_object_get(r->json, "offer_expires_at");
  if (until == NULL)
    return 0;
  expect_bool(r, "is_waitlisted", true);
  expect_null(r, "ticket");
  return api_parse_iso_us(json_string_value(until));
}

static long long confirmed_count(long long event)
{
  return api_db_int("SELECT confirmed_count FROM events WHERE id = ?", event);
}

/* Runs the worker's beat once (offers that ran out end), as `eventapi worker --once`. */
static void run_worker(void)
{
  api_deliver_mail();
}

/* The newest notification of user's of type, as JSON (fails when none). */
static json_t *notification(const struct api_user *user, const char *type)
{
  struct api_resp *r = api_get("/api/notifications/", user->access);
  expect_status(r, 200);
  size_t i;
  json_t *n;
  json_array_foreach(r->json, i, n) {
    if (strcmp(json_string_value(json_object_get(n, "type")), type) == 0)
      return n;
  }
  cr_assert_fail("%s has no %s notification: %s", user->username, type, r->body);
  return NULL;
}

/*
 * The line most tests start from: olga's event for one person, whose
 * offers run hours; alice holds the place, bob and carol wait, in that
 * order; then alice cancels, and the place is held for bob.
 */
struct line {
  struct api_user olga, alice, bob, carol;
  long long event, a, b, c;
};

static struct line line_with_offer(int hours)
{
  struct line l = {
    .olga = api_signup("olga", "organizer"), .alice = api_signup("alice", NULL),
    .bob = api_signup("bob", NULL), .carol = api_signup("carol", NULL),
  };
  l.event = event_of(&l.olga, 1, hours);
  l.a = register_for(&l.alice, l.event);
  l.b = register_for(&l.bob, l.event);
  l.c = register_for(&l.carol, l.event);
  cr_assert_eq(offer_of(&l.bob, l.b), 0, "nobody holds an offer before a place frees");
  expect_status(api_delete(registration_path(l.a), l.alice.access), 204);
  cr_assert(offer_of(&l.bob, l.b) > 0, "the freed place is held for bob");
  return l;
}

/* ---- the field -------------------------------------------------------------- */

Test(offers, the_events_field_is_null_by_default_and_checked)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_event plain = api_create_event(olga.access, NULL);
  expect_null(api_get(api_printf("/api/events/%lld/", plain.id), NULL), "waitlist_offer_hours");

  struct api_resp *r = api_post("/api/events/create/", olga.access,
                                api_event_json("{'waitlist_offer_hours':48}"));
  expect_status(r, 200);
  expect_int(r, "waitlist_offer_hours", 48);
  expect_int(api_get(api_printf("/api/events/%lld/", api_id(r)), NULL), "waitlist_offer_hours", 48);
  const char *update = api_printf("/api/events/%lld/update/", api_id(r));
  struct api_resp *six = api_patch(update, olga.access, "{\"waitlist_offer_hours\":\"6\"}");
  expect_int(six, "waitlist_offer_hours", 6);
  struct api_resp *none = api_patch(update, olga.access, "{\"waitlist_offer_hours\":null}");
  expect_null(none, "waitlist_offer_hours");

  expect_body(api_patch(update, olga.access, "{\"waitlist_offer_hours\":0}"),
              "{'waitlist_offer_hours':['Ensure this value is greater than or equal to 1.']}");
  expect_body(api_patch(update, olga.access, "{\"waitlist_offer_hours\":721}"),
              "{'waitlist_offer_hours':['Ensure this value is less than or equal to 720.']}");
  expect_body(api_patch(update, olga.access, "{\"waitlist_offer_hours\":\"soon\"}"),
              "{'waitlist_offer_hours':['A valid integer is required.']}");
  expect_body(api_patch(update, olga.access, "{\"waitlist_offer_hours\":1.5}"),
              "{'waitlist_offer_hours':['A valid integer is required.']}");
  expect_null(api_get(api_printf("/api/events/%lld/", api_id(r)), NULL), "waitlist_offer_hours");
}

/* ---- accept, decline, cancel ---------------------------------------------- */

Test(offers, a_freed_place_is_held_for_the_next_in_line_who_accepts_it)
{
  struct line l = line_with_offer(24);
  struct api_user dave = api_signup("dave", NULL);
  long long until = offer_of(&l.bob, l.b);
  cr_expect(until > api_now_us() + (24 * HOUR - 60) * 1000000 &&
            until <= api_now_us() + 24 * HOUR * 1000000,
            "the offer runs 24 hours: %lld", until);
  cr_expect_eq(offer_of(&l.carol, l.c), 0, "only the first in line is offered the one place");
  cr_expect_eq(confirmed_count(l.event), 1, "the held place counts");

  /* The place is held: a newcomer waits, behind carol. */
  struct api_resp *dr = registration(&dave, register_for(&dave, l.event));
  expect_bool(dr, "is_waitlisted", true);

  /* Told, by notification (and email) with the deadline. */
  json_t *n = notification(&l.bob, "registration_offered");
  cr_expect(strstr(json_string_value(json_object_get(n, "message")), "held for you until") != NULL,
            "%s", api_dump(n));

  /* The organizer sees it in the list as held. */
  struct api_resp *list = api_get(api_printf("/api/events/%lld/registrations/", l.event),
                                  l.olga.access);
  expect_status(list, 200);
  cr_expect(json_object_get(json_array_get(list->json, 0), "offer_expires_at") != NULL,
            "the list shows bob's offer: %s", list->body);

  struct api_resp *r = accept(&l.bob, l.b);
  expect_status(r, 200);
  expect_bool(r, "is_waitlisted", false);
  cr_expect(json_object_get(r->json, "offer_expires_at") == NULL, "no offer once taken");
  const char *code = api_ticket_code(r);
  expect_str(api_get(api_printf("/api/tickets/%s/", code), l.bob.access), "code", code);
  notification(&l.bob, "registration_promoted");
  cr_expect_eq(confirmed_count(l.event), 1);

  /* A second answer finds no offer. */
  expect_body(accept(&l.bob, l.b), NO_OFFER);
  expect_body(decline(&l.bob, l.b), NO_OFFER);
  expect_body(accept(&l.carol, l.c), NO_OFFER);
}

Test(offers, only_the_holder_answers_an_offer)
{
  struct line l = line_with_offer(24);
  struct api_user eve = api_signup("eve", NULL);
  expect_status(accept(&l.olga, l.b), 403);
  expect_status(decline(&l.olga, l.b), 403);
  expect_body(accept(&eve, l.b), "{'detail':'No Registration matches the given query.'}");
  expect_status(api_post(api_printf("/api/registrations/%lld/accept/", l.b), NULL, "{}"), 401);
  cr_expect(offer_of(&l.bob, l.b) > 0, "still held for bob");
}

Test(offers, a_declined_place_passes_to_the_next_in_line)
{
  struct line l = line_with_offer(12);
  expect_status(decline(&l.bob, l.b), 204);
  expect_status(api_get(registration_path(l.b), l.bob.access), 404);
  cr_expect(offer_of(&l.carol, l.c) > 0, "carol is offered the place bob declined");
  cr_expect_eq(confirmed_count(l.event), 1);
  expect_status(accept(&l.carol, l.c), 200);
  cr_expect_eq(confirmed_count(l.event), 1);
}

Test(offers, cancelling_a_held_offer_passes_the_place_on)
{
  struct line l = line_with_offer(12);
  expect_status(api_delete(registration_path(l.b), l.bob.access), 204);
  cr_expect(offer_of(&l.carol, l.c) > 0);
  expect_status(api_delete(registration_path(l.c), l.carol.access), 204);
  cr_expect_eq(confirmed_count(l.event), 0, "nobody is left: the place is free");
}

/* ---- expiry ----------------------------------------------------------------- */

Test(offers, an_offer_that_runs_out_passes_down_a_line_of_three)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL), dave = api_signup("dave", NULL);
  long long event = event_of(&olga, 1, 2);
  long long a = register_for(&alice, event);
  long long line[3] = {register_for(&bob, event), register_for(&carol, event),
                       register_for(&dave, event)};
  const struct api_user *people[3] = {&bob, &carol, &dave};
  expect_status(api_delete(registration_path(a), alice.access), 204);

  for (int i = 0; i < 3; i++) {
    long long until = offer_of(people[i], line[i]);
    cr_assert(until > api_now_us(), "%s holds the offer", people[i]->username);
    for (int j = i + 1; j < 3; j++)
      cr_expect_eq(offer_of(people[j], line[j]), 0, "%s still waits", people[j]->username);
    /* Not before its time. */
    api_clock_advance(2 * HOUR - 60);
    run_worker();
    cr_expect(offer_of(people[i], line[i]) > 0, "not run out a minute early");
    api_clock_advance(61);
    /* Run out, but not ended yet: an answer now is too late. */
    expect_body(accept(people[i], line[i]), OFFER_EXPIRED);
    run_worker();
    expect_status(api_get(registration_path(line[i]), people[i]->access), 404);
    json_t *n = notification(people[i], "registration_offer_expired");
    cr_expect(strstr(json_string_value(json_object_get(n, "message")), "went to the next in line")
              != NULL, "%s", api_dump(n));
    cr_expect_eq(confirmed_count(event), i < 2 ? 1 : 0);
    api_expect_database_consistent();
  }
  /* The place is free again, for anyone. */
  struct api_user erin = api_signup("erin", NULL);
  long long x = register_for(&erin, event);
  expect_bool(registration(&erin, x), "is_waitlisted", false);
}

Test(offers, an_offer_runs_out_at_the_events_start_at_the_latest)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL);
  struct api_event e = api_create_event(olga.access, api_jsonf(
      "{\"capacity\":1,\"waitlist_offer_hours\":48,\"date_time\":\"%s\"}",
      api_iso_from_now(5 * HOUR)));
  long long a = register_for(&alice, e.id), b = register_for(&bob, e.id);
  long long c = register_for(&carol, e.id);
  expect_status(api_delete(registration_path(a), alice.access), 204);
  long long starts = api_parse_iso_us(api_iso_from_now(5 * HOUR));
  long long until = offer_of(&bob, b);
  cr_expect(until <= starts && until > starts - 5 * 1000000,
            "held until the start (%lld), not 48 hours (%lld)", starts, until);
  /* At the start it ends, and nobody is offered a place any more. */
  api_clock_advance(5 * HOUR + 1);
  run_worker();
  expect_status(api_get(registration_path(b), bob.access), 404);
  cr_expect_eq(offer_of(&carol, c), 0, "no offers once the event has started");
  cr_expect_eq(confirmed_count(e.id), 0);
}

/* ---- capacity and concurrency ---------------------------------------------- */

Test(offers, raising_the_capacity_offers_the_new_places_too)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL), dave = api_signup("dave", NULL);
  struct api_user erin = api_signup("erin", NULL);
  long long event = event_of(&olga, 1, 24);
  long long a = register_for(&alice, event), b = register_for(&bob, event);
  long long c = register_for(&carol, event), d = register_for(&dave, event);
  long long x = register_for(&erin, event);
  expect_status(api_delete(registration_path(a), alice.access), 204);
  long long bob_until = offer_of(&bob, b);
  cr_assert(bob_until > 0);

  expect_status(api_patch(api_printf("/api/events/%lld/update/", event), olga.access,
                          "{\"capacity\":3}"), 200);
  cr_expect_eq(offer_of(&bob, b), bob_until, "bob's offer stands as it was");
  cr_expect(offer_of(&carol, c) > 0 && offer_of(&dave, d) > 0, "the two new places are offered");
  cr_expect_eq(offer_of(&erin, x), 0, "erin waits: three places, three offers");
  cr_expect_eq(confirmed_count(event), 3);
  api_expect_database_consistent();

  /* Back to automatic promotion: new places go at once, offers stand. */
  expect_status(api_patch(api_printf("/api/events/%lld/update/", event), olga.access,
                          "{\"waitlist_offer_hours\":null,\"capacity\":4}"), 200);
  expect_bool(registration(&erin, x), "is_waitlisted", false);
  cr_expect(offer_of(&bob, b) > 0);
  cr_expect_eq(confirmed_count(event), 4);
}

Test(offers, ticket_types_hold_their_places_too)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL);
  struct api_event e = api_create_event(olga.access,
      "{\"capacity\":10,\"waitlist_offer_hours\":24,"
      "\"ticket_types\":[{\"name\":\"VIP\",\"price\":\"90.00\",\"quantity\":1},"
      "{\"name\":\"Floor\",\"price\":\"10.00\",\"quantity\":5}]}");
  const char *vip = api_printf("{\"ticket_type\":%lld}", e.ticket_types[0]);
  const char *register_path = api_printf("/api/registrations/%lld/register/", e.id);
  long long a = api_id(api_post(register_path, alice.access, vip));
  struct api_resp *rb = api_post(register_path, bob.access, vip);
  expect_bool(rb, "is_waitlisted", true);
  expect_status(api_delete(registration_path(a), alice.access), 204);
  cr_assert(offer_of(&bob, api_id(rb)) > 0);
  /* The VIP place is held for bob: carol waits. */
  struct api_resp *rc = api_post(register_path, carol.access, vip);
  expect_bool(rc, "is_waitlisted", true);
  cr_expect_eq(api_db_int("SELECT confirmed_count FROM ticket_types WHERE id = ?",
                          e.ticket_types[0]), 1);
  expect_status(accept(&bob, api_id(rb)), 200);
}

Test(offers, racing_answers_to_one_offer_take_one_place)
{
  struct line l = line_with_offer(24);
  const struct api_user *bob = &l.bob, *carol = &l.carol;
  long long b = l.b, c = l.c, event = l.event;

  /* Four accepts and two declines of bob's offer at once: exactly one
   * answer wins, the rest find no offer. */
  struct api_call calls[6];
  for (size_t i = 0; i < 6; i++)
    calls[i] = (struct api_call){
      .method = "POST",
      .path = api_printf("/api/registrations/%lld/%s/", b, i < 4 ? "accept" : "decline"),
      .token = bob->access,
    };
  api_race(calls, 6);
  int won = 0, accepted = 0;
  for (size_t i = 0; i < 6; i++) {
    long status = calls[i].resp->status;
    if (status == 200 || status == 204) {
      won++;
      accepted += status == 200;
    } else {
      expect_body(calls[i].resp, NO_OFFER);
    }
  }
  cr_expect_eq(won, 1, "one answer wins");
  cr_expect_eq(confirmed_count(event), 1);
  if (accepted) {
    expect_bool(registration(bob, b), "is_waitlisted", false);
    cr_expect_eq(offer_of(carol, c), 0);
  } else {
    cr_expect(offer_of(carol, c) > 0, "declined: carol holds it");
  }
  cr_expect_eq(api_db_int("SELECT COUNT(*) FROM tickets WHERE registration_id = ?", b),
               accepted, "a ticket only if accepted, and one");
}

Test(offers, many_offers_accepted_at_once_never_oversell)
{
  enum { N = 8 };
  struct api_user olga = api_signup("olga", "organizer");
  long long event = event_of(&olga, N, 24);
  struct api_user first[N], later[N];
  long long firsts[N], held[N];
  for (int i = 0; i < N; i++) {
    first[i] = api_signup(api_printf("first%d", i), NULL);
    firsts[i] = register_for(&first[i], event);
  }
  for (int i = 0; i < N; i++) {
    later[i] = api_signup(api_printf("later%d", i), NULL);
    held[i] = register_for(&later[i], event);
  }
  /* Half the first cancel: half the line is offered their places. */
  for (int i = 0; i < N / 2; i++)
    expect_status(api_delete(registration_path(firsts[i]), first[i].access), 204);
  /* Everyone in line accepts at once, while newcomers register. */
  struct api_call calls[2 * N];
  struct api_user newcomers[N];
  for (int i = 0; i < N; i++) {
    newcomers[i] = api_signup(api_printf("new%d", i), NULL);
    calls[i] = (struct api_call){.method = "POST", .token = later[i].access,
                                 .path = api_printf("/api/registrations/%lld/accept/", held[i])};
    calls[N + i] = (struct api_call){.method = "POST", .token = newcomers[i].access,
                                     .path = api_printf("/api/registrations/%lld/register/",
                                                        event)};
  }
  api_race(calls, 2 * N);
  int accepted = 0;
  for (int i = 0; i < N; i++) {
    if (calls[i].resp->status == 200)
      accepted++;
    else
      expect_body(calls[i].resp, NO_OFFER);
    expect_status(calls[N + i].resp, 200);
    expect_bool(calls[N + i].resp, "is_waitlisted", true);
  }
  cr_expect_eq(accepted, N / 2, "those offered a place took it; the rest had none");
  cr_expect_eq(confirmed_count(event), N);
}
