/*
 * availability.c - docs/api.md "Availability": GET
 * /api/events/{id}/availability/, the places an event has left, for
 * whoever may see it, with a version that grows with every change of the
 * counts and an ETag that names it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support/api.h"
#include "support/db.h"

#define NOT_FOUND "{'detail':'" NO_EVENT "'}"
#define AVAILABILITY_KEYS "event", "capacity", "confirmed", "remaining", "waitlisted", \
    "ticket_types", "version", NULL

static void stop(void)
{
  api_expect_database_consistent();
  api_server_stop();
}

TestSuite(availability, .init = api_server_start, .fini = stop);

static const char *path_of(long long event)
{
  return api_printf("/api/events/%lld/availability/", event);
}

/* The availability as token sees it (200, the documented keys). */
static struct api_resp *availability(long long event, const char *token)
{
  struct api_resp *r = api_get(path_of(event), token);
  expect_status(r, 200);
  expect_keys(r, AVAILABILITY_KEYS);
  expect_int(r, "event", event);
  return r;
}

static json_t *type_of(const struct api_resp *r, size_t i)
{
  return json_array_get(json_object_get(r->json, "ticket_types"), i);
}

static long long version_of(const struct api_resp *r)
{
  return api_int(r->json, "version");
}

static long long register_for(const struct api_user *user, long long event, long long type)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event),
                                user->access, api_jsonf("{\"ticket_type\":%lld}", type));
  expect_status(r, 200);
  return api_id(r);
}

Test(availability, the_counts_follow_every_registration_and_the_version_grows)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL);
  struct api_event e = api_create_event(olga.access, api_json(
      "{'capacity':2,'ticket_types':[{'name':'General','price':'10','quantity':1},"
      "{'name':'VIP','price':'50','quantity':0}]}"));

  struct api_resp *r = availability(e.id, NULL);
  expect_body(r, api_printf("{'event':%lld,'capacity':2,'confirmed':0,'remaining':2,"
                            "'waitlisted':0,'ticket_types':[{'id':%lld,'quantity':1,"
                            "'confirmed':0,'remaining':1},{'id':%lld,'quantity':0,"
                            "'confirmed':0,'remaining':null}],'version':%lld}",
                            e.id, e.ticket_types[0], e.ticket_types[1], version_of(r)));
  long long version = version_of(r);

  register_for(&alice, e.id, e.ticket_types[0]);
  r = availability(e.id, NULL);
  expect_int(r, "confirmed", 1);
  expect_int(r, "remaining", 1);
  expect_int(type_of(r, 0), "remaining", 0);
  cr_expect_gt(version_of(r), version);
  version = version_of(r);

  /* General is sold out: bob waits, though the event has room. */
  long long b = register_for(&bob, e.id, e.ticket_types[0]);
  r = availability(e.id, NULL);
  expect_int(r, "waitlisted", 1);
  expect_int(r, "remaining", 1);
  cr_expect_gt(version_of(r), version);
  version = version_of(r);

  register_for(&carol, e.id, e.ticket_types[1]);
  r = availability(e.id, NULL);
  expect_int(r, "confirmed", 2);
  expect_int(r, "remaining", 0);
  expect_int(type_of(r, 1), "confirmed", 1);
  expect_null(type_of(r, 1), "remaining");
  cr_expect_gt(version_of(r), version);
  version = version_of(r);

  /* Leaving the waitlist is a change too. */
  expect_status(api_delete(api_printf("/api/registrations/%lld/", b), bob.access), 204);
  r = availability(e.id, NULL);
  expect_int(r, "waitlisted", 0);
  cr_expect_gt(version_of(r), version);
  version = version_of(r);

  /* So is the event's capacity. */
  expect_status(api_patch(api_printf("/api/events/%lld/update/", e.id), olga.access,
                          "{\"capacity\":0}"), 200);
  r = availability(e.id, NULL);
  expect_null(r, "remaining");
  cr_expect_gt(version_of(r), version);
}

Test(availability, the_etag_names_the_version_and_answers_304_while_nothing_changed)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':5}");
  struct api_resp *r = availability(e.id, NULL);
  const char *etag = api_header(r, "ETag");
  cr_assert(etag && etag[0] == '"', "ETag %s", etag ? etag : "(none)");
  cr_expect_str_eq(api_header(r, "Cache-Control"), "private, no-cache");
  const char *const same[] = {api_printf("If-None-Match: %s", etag), NULL};
  struct api_resp *again = api_request("GET", path_of(e.id), NULL, NULL, NULL, 0, same);
  expect_status(again, 304);
  cr_expect_eq(again->len, 0);

  expect_status(api_post(api_printf("/api/registrations/%lld/register/", e.id), alice.access,
                         "{}"), 200);
  struct api_resp *changed = api_request("GET", path_of(e.id), NULL, NULL, NULL, 0, same);
  expect_status(changed, 200);
  expect_int(changed, "confirmed", 1);
  cr_expect_str_neq(api_header(changed, "ETag"), etag);
}

Test(availability, a_private_events_counts_are_for_those_who_may_see_it)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user eve = api_signup("eve", NULL);
  struct api_event e = api_create_event(olga.access, "{'visibility':'private','capacity':3}");
  expect_body(api_get(path_of(e.id), NULL), NOT_FOUND);
  expect_body(api_get(path_of(e.id), eve.access), NOT_FOUND);
  expect_int(availability(e.id, olga.access), "remaining", 3);
  struct api_user admin = api_admin("boss");
  expect_int(availability(e.id, admin.access), "capacity", 3);
  expect_body(api_get(path_of(999999), NULL), NOT_FOUND);
  expect_status(api_delete(api_printf("/api/events/%lld/delete/", e.id), olga.access), 204);
  expect_body(api_get(path_of(e.id), olga.access), NOT_FOUND);
}

Test(availability, places_held_for_offers_are_taken_and_their_holders_not_waiting)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL), bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL);
  struct api_event e = api_create_event(olga.access, "{'capacity':1,'waitlist_offer_hours':4}");
  long long a = api_id(api_post(api_printf("/api/registrations/%lld/register/", e.id),
                                alice.access, "{}"));
  api_post(api_printf("/api/registrations/%lld/register/", e.id), bob.access, "{}");
  api_post(api_printf("/api/registrations/%lld/register/", e.id), carol.access, "{}");
  struct api_resp *before = availability(e.id, NULL);
  expect_int(before, "waitlisted", 2);
  expect_status(api_delete(api_printf("/api/registrations/%lld/", a), alice.access), 204);
  struct api_resp *r = availability(e.id, NULL);
  expect_int(r, "confirmed", 1);   /* held for bob */
  expect_int(r, "remaining", 0);
  expect_int(r, "waitlisted", 1);  /* carol */
  cr_expect_gt(version_of(r), version_of(before));
}
