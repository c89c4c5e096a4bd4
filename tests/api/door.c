/*
 * door.c - docs/api.md "At the door", for devices that go offline: scans
 * made offline applied in a batch (each once, the earliest winning), the
 * changes at the door since a version (on which every device's list
 * converges), the door's figures, the search at the door, and where a
 * second scan learns the first one was made.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/api.h"
#include "support/db.h"

#define EVENTS "/api/events/"
#define FEED_KEYS "cursor", "more", "results", NULL
#define RESULT_KEYS "code", "status", "checked_in_at", "device", NULL
#define STATS_KEYS "event", "confirmed", "checked_in", "ticket_types", "per_15_minutes", NULL
#define QUARTER_US (15LL * 60 * 1000000)

TestSuite(door, .init = api_server_start, .fini = api_server_stop);

/* ---- helpers ------------------------------------------------------------ */

static const char *sync_path(long long event)
{
  return api_printf(EVENTS "%lld/check-ins/sync/", event);
}
static const char *feed_path(long long event, long long since)
{
  return api_printf(EVENTS "%lld/check-ins/?since=%lld", event, since);
}
static const char *stats_path(long long event)
{
  return api_printf(EVENTS "%lld/check-ins/stats/", event);
}

/* The ticket type of each event ticketed_event() made, by event id. */
static long long types[64];

/* An event of token's with ticket types "General" and "VIP" (unlimited). */
static long long ticketed_event(const char *token)
{
  struct api_event e = api_create_event(token, api_json(
      "{'capacity':0,'ticket_types':[{'name':'General','price':'10','quantity':0},"
      "{'name':'VIP','price':'50','quantity':0}]}"));
  cr_assert(e.id > 0 && e.id < 64);
  types[e.id] = e.ticket_types[0];
  return e.id;
}

/* The ticket code of a confirmed registration of token for event (of type). */
static const char *hold_type(const char *token, long long event, long long type)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event), token,
                                api_jsonf("{\"ticket_type\":%lld}", type));
  expect_status(r, 200);
  return api_ticket_code(r);
}
static const char *hold(const char *token, long long event)
{
  return hold_type(token, event, types[event]);
}

/* The test clock's time seconds from now, to the second: read once, so
 * that a scan and what the test expects of it name the same second. */
static long long at(long long seconds)
{
  return api_parse_iso_us(api_iso_from_now(seconds));
}

/* A time to the second (as at() gives it) in ISO 8601. */
static const char *iso(long long us)
{
  time_t secs = (time_t)(us / 1000000);
  struct tm tm;
  char text[32];
  cr_assert(gmtime_r(&secs, &tm) != NULL);
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return api_strdup(text);
}

/* The test's now (at(0)), set by each test before it scans. */
static long long t0;

/* seconds before t0, in microseconds. */
static long long ago(long long seconds)
{
  return t0 - seconds * 1000000;
}

/* One scan as JSON: code, when (at()), device. */
static const char *scan(const char *code, long long when, const char *device)
{
  return api_printf("{\"code\":\"%s\",\"scanned_at\":\"%s\",\"device\":\"%s\"}", code,
                    iso(when), device);
}

/* POSTs a batch (scans: JSON objects joined by commas), asserting 200 with
 * one result per scan; returns the results array. */
static json_t *sync(const char *token, long long event, const char *scans, size_t count)
{
  struct api_resp *r = api_post(sync_path(event), token, api_printf("{\"scans\":[%s]}", scans));
  expect_status(r, 200);
  expect_keys(r, "results", NULL);
  json_t *results = json_object_get(r->json, "results");
  cr_assert_eq(json_array_size(results), count, "%s", r->body);
  return results;
}

/* Asserts result i: status, and (for ok and already_checked_in) when and where. */
static void expect_result(json_t *results, size_t i, const char *code, const char *status,
                          long long at_us, const char *device)
{
  json_t *one = json_array_get(results, i);
  expect_keys(one, RESULT_KEYS);
  expect_str(one, "code", code);
  expect_str(one, "status", status);
  if (device == NULL) {
    expect_null(one, "checked_in_at");
    expect_null(one, "device");
    return;
  }
  expect_str(one, "device", device);
  long long got = api_parse_iso_us(json_string_value(json_object_get(one, "checked_in_at")));
  cr_assert_eq(got, at_us, "scan %zu checked in at %lld, not %lld: %s", i, got, at_us,
               api_dump(one));
}

/* Scans joined by commas, made by one(i) for i in [0, n). */
static const char *join(size_t n, const char *(*one)(size_t i, void *arg), void *arg)
{
  size_t cap = 1, len = 0;
  char *out = NULL;
  for (size_t i = 0; i < n; i++) {
    const char *s = one(i, arg);
    size_t add = strlen(s) + 1;
    if (len + add + 1 > cap) {
      cap = 2 * (len + add + 1);
      out = realloc(out, cap);
      cr_assert(out != NULL);
    }
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", s);
  }
  api_keep(out, free);
  return out ? out : "";
}

/* The check-in time of the ticket of code (0: not checked in), as its organizer sees it. */
static long long checked_in_at(const char *token, const char *code)
{
  struct api_resp *r = api_get(api_printf("/api/tickets/%s/", code), token);
  expect_status(r, 200);
  json_t *at = json_object_get(r->json, "checked_in_at");
  return json_is_null(at) ? 0 : api_parse_iso_us(json_string_value(at));
}

/* ---- scans made offline ---------------------------------------------------- */

Test(door, a_scan_made_offline_checks_the_ticket_in_at_its_own_time_and_device)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);

  long long scanned = ago(600);
  json_t *results = sync(olga.access, event, scan(code, ago(600), "door-1"), 1);
  expect_result(results, 0, code, "ok", scanned, "door-1");
  cr_assert_eq(checked_in_at(olga.access, code), scanned);

  /* Written down as a check-in by door-1 at the scan's time. */
  struct api_resp *r = api_get(api_printf(EVENTS "%lld/check-ins/audit/", event), olga.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  json_t *row = json_array_get(r->json, 0);
  expect_str(row, "action", "check_in");
  expect_str(row, "device", "door-1");
  expect_int(row, "by", olga.id);
  cr_assert_eq(api_parse_iso_us(json_string_value(json_object_get(row, "at"))), scanned);
  cr_assert_eq(api_metric("eventapi_checkins_total"), 1);
  api_expect_database_consistent();
}

Test(door, the_same_scan_sent_again_is_ok_and_changes_nothing)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);
  const char *one = scan(code, ago(300), "door-1");

  sync(olga.access, event, one, 1);
  /* The answer was lost; the device sends the batch again, twice in one. */
  json_t *results = sync(olga.access, event, api_printf("%s,%s", one, one), 2);
  expect_result(results, 0, code, "ok", ago(300), "door-1");
  expect_result(results, 1, code, "ok", ago(300), "door-1");
  cr_assert_eq(api_db_int("SELECT count(*) FROM check_in_audit WHERE event_id = ?", event), 1);
  cr_assert_eq(api_metric("eventapi_checkins_total"), 1);
}

Test(door, a_later_scan_of_a_ticket_in_is_already_checked_in_with_the_first_time_and_device)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);

  sync(olga.access, event, scan(code, ago(900), "door-1"), 1);
  json_t *results = sync(olga.access, event, scan(code, ago(100), "door-2"), 1);
  expect_result(results, 0, code, "already_checked_in", ago(900), "door-1");
  /* The same device scanning again later is a second scan too. */
  results = sync(olga.access, event, scan(code, ago(50), "door-1"), 1);
  expect_result(results, 0, code, "already_checked_in", ago(900), "door-1");
  cr_assert_eq(checked_in_at(olga.access, code), ago(900));
  cr_assert_eq(api_db_int("SELECT count(*) FROM check_in_audit WHERE event_id = ?", event), 1);
}

Test(door, an_earlier_scan_that_comes_later_wins)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);

  /* door-2 was online later; door-1 scanned first, offline, and syncs now. */
  sync(olga.access, event, scan(code, ago(100), "door-2"), 1);
  json_t *results = sync(olga.access, event, scan(code, ago(900), "door-1"), 1);
  expect_result(results, 0, code, "ok", ago(900), "door-1");
  cr_assert_eq(checked_in_at(olga.access, code), ago(900));
  /* door-2 sending its scan again now learns it came second. */
  results = sync(olga.access, event, scan(code, ago(100), "door-2"), 1);
  expect_result(results, 0, code, "already_checked_in", ago(900), "door-1");
  /* Counted once. */
  cr_assert_eq(api_metric("eventapi_checkins_total"), 1);
  api_expect_database_consistent();
}

Test(door, unknown_cancelled_and_other_events_tickets_are_named_as_such)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  long long event = ticketed_event(olga.access);
  long long other = ticketed_event(olga.access);
  const char *theirs = hold(alice.access, other);
  const char *cancelled = hold(bob.access, event);
  struct api_resp *mine = api_get("/api/registrations/me/", bob.access);
  long long registration = api_int(json_array_get(mine->json, 0), "id");
  expect_status(api_delete(api_printf("/api/registrations/%lld/", registration), bob.access),
                204);

  json_t *results = sync(olga.access, event, api_printf("%s,%s,%s",
      scan("7d0c8f8e-0000-4000-8000-000000000000", ago(60), "d"), scan(cancelled, ago(60), "d"),
      scan(theirs, ago(60), "d")), 3);
  expect_result(results, 0, "7d0c8f8e-0000-4000-8000-000000000000", "unknown", 0, NULL);
  expect_result(results, 1, cancelled, "cancelled", 0, NULL);
  expect_result(results, 2, theirs, "other_event", 0, NULL);
  /* Nothing was checked in, nothing written down. */
  cr_assert_eq(checked_in_at(olga.access, theirs), 0);
  cr_assert_eq(api_db_int("SELECT count(*) FROM check_in_audit WHERE event_id = ?", event), 0);
  cr_assert_eq(api_db_int("SELECT count(*) FROM check_in_audit WHERE event_id = ?", other), 0);
}

Test(door, a_scan_dated_after_it_came_counts_as_made_when_it_came)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);

  long long before = api_now_us();
  json_t *results = sync(olga.access, event, scan(code, ago(-3600), "fast-clock"), 1);
  long long after = api_now_us();
  expect_time_within(json_array_get(results, 0), "checked_in_at", before, after);
  expect_str(json_array_get(results, 0), "status", "ok");
}

Test(door, a_batch_with_any_bad_scan_is_refused_whole_with_errors_in_its_places)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);

  struct api_resp *r = api_post(sync_path(event), olga.access, api_printf(
      "{\"scans\":[%s,{\"scanned_at\":\"yesterday\"},7,{\"code\":\"%s\",\"scanned_at\":\"%s\","
      "\"device\":\"%s\"}]}", scan(code, ago(60), "d"), code, iso(ago(60)),
      api_repeat('x', 101)));
  expect_status(r, 400);
  expect_body(r, "{'scans':[{},"
                 "{'code':['This field is required.'],'scanned_at':['Datetime has wrong format. "
                 "Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]]"
                 "[+HH:MM|-HH:MM|Z].']},"
                 "{'non_field_errors':['Invalid data. Expected a dictionary, but got int.']},"
                 "{'device':['Ensure this field has no more than 100 characters.']}]}");
  cr_assert_eq(checked_in_at(olga.access, code), 0, "a refused batch checked a ticket in");

  expect_body(api_post(sync_path(event), olga.access, "{}"),
              "{'scans':['This field is required.']}");
  expect_body(api_post(sync_path(event), olga.access, "{\"scans\":[]}"),
              "{'scans':['This list may not be empty.']}");
  expect_body(api_post(sync_path(event), olga.access, "{\"scans\":{\"code\":\"x\"}}"),
              "{'scans':['Expected a list of items but got type \\\"dict\\\".']}");
  expect_body(api_post(sync_path(event), olga.access, "{\"scans\":null}"),
              "{'scans':['This field may not be null.']}");

  /* At most 1,000 scans in a batch. */
  char *many = api_strdup(scan(code, ago(60), "d"));
  size_t one = strlen(many);
  char *list = api_repeat(',', 1001 * (one + 1));
  for (size_t i = 0; i < 1001; i++)
    memcpy(list + i * (one + 1), many, one);
  list[1001 * (one + 1) - 1] = '\0';
  r = api_post(sync_path(event), olga.access, api_printf("{\"scans\":[%s]}", list));
  expect_body(r, "{'scans':['Ensure this field has no more than 1000 elements.']}");
  list[1000 * (one + 1) - 1] = '\0';
  json_t *results = sync(olga.access, event, list, 1000);
  expect_result(results, 999, code, "ok", ago(60), "d");
}

Test(door, staff_sync_and_others_may_not)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user vera = api_signup("vera", NULL);
  struct api_user alice = api_signup("alice", NULL);
  struct api_user mallory = api_signup("mallory", "organizer");
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);
  expect_status(api_post(api_printf(EVENTS "%lld/staff/", event), olga.access,
                         api_jsonf("{\"user\":%lld}", vera.id)), 201);

  const char *body = api_printf("{\"scans\":[{\"code\":\"%s\",\"scanned_at\":\"%s\"}]}",
                                code, iso(ago(60)));
  const char *headers[] = {"X-Device: gate-A", NULL};
  struct api_resp *r = api_request("POST", sync_path(event), vera.access, "application/json",
                                   body, strlen(body), headers);
  expect_status(r, 200);
  cr_assert(json_array_size(json_object_get(r->json, "results")) == 1, "%s", r->body);
  /* A scan that names no device is the batch's X-Device. */
  expect_result(json_object_get(r->json, "results"), 0, code, "ok", ago(60), "gate-A");

  expect_status(api_post(sync_path(event), NULL, body), 401);
  expect_status(api_post(sync_path(event), alice.access, body), 403);     /* sees it */
  expect_status(api_post(sync_path(event), mallory.access, body), 403);
  expect_status(api_get(feed_path(event, 0), alice.access), 403);
  expect_status(api_get(stats_path(event), alice.access), 403);
  expect_status(api_post(sync_path(99999), olga.access, body), 404);
  /* A private event's door is not shown to strangers at all. */
  long long hidden = api_create_event(olga.access, "{'visibility':'private'}").id;
  struct api_resp *hidden_feed = api_get(feed_path(hidden, 0), mallory.access);
  expect_status(hidden_feed, 404);
  expect_detail(hidden_feed, "No Event matches the given query.");
}

/* ---- the changes at the door since a version ----------------------------- */

Test(door, the_feed_gives_every_change_after_a_version_in_order)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  long long event = ticketed_event(olga.access);
  const char *a = hold(alice.access, event);
  const char *b = hold(bob.access, event);

  struct api_resp *r = api_get(feed_path(event, 0), olga.access);
  expect_status(r, 200);
  expect_body(r, "{'cursor':0,'more':false,'results':[]}");

  sync(olga.access, event, scan(a, ago(300), "door-1"), 1);
  const char *headers[] = {"X-Device: door-2", NULL};
  expect_status(api_request("POST", api_printf("/api/tickets/%s/check-in/", b), olga.access,
                            NULL, NULL, 0, headers), 200);
  expect_status(api_request("DELETE", api_printf("/api/tickets/%s/check-in/", a), olga.access,
                            NULL, NULL, 0, headers), 200);

  r = api_get(feed_path(event, 0), olga.access);
  expect_keys(r, FEED_KEYS);
  expect_int(r, "cursor", 3);
  expect_bool(r, "more", false);
  json_t *results = json_object_get(r->json, "results");
  cr_assert_eq(json_array_size(results), 3, "%s", r->body);
  const char *codes[] = {a, b, a}, *actions[] = {"check_in", "check_in", "undo"};
  const char *devices[] = {"door-1", "door-2", "door-2"};
  for (size_t i = 0; i < 3; i++) {
    json_t *row = json_array_get(results, i);
    expect_int(row, "version", (long long)i + 1);
    expect_str(row, "ticket", codes[i]);
    expect_str(row, "action", actions[i]);
    expect_str(row, "device", devices[i]);
  }
  /* From a version on: only what came after it. */
  r = api_get(feed_path(event, 2), olga.access);
  expect_int(r, "cursor", 3);
  cr_assert_eq(json_array_size(json_object_get(r->json, "results")), 1, "%s", r->body);
  expect_body(api_get(feed_path(event, 3), olga.access), "{'cursor':3,'more':false,'results':[]}");
  /* A device that saw another database is brought back to this one's version. */
  expect_body(api_get(feed_path(event, 50), olga.access), "{'cursor':3,'more':false,'results':[]}");
  /* The versions are the event's own. */
  long long other = ticketed_event(olga.access);
  sync(olga.access, other, scan(hold(alice.access, other), ago(10), "x"), 1);
  expect_int(api_get(feed_path(other, 0), olga.access), "cursor", 1);

  expect_body(api_get(api_printf(EVENTS "%lld/check-ins/?since=-1", event), olga.access),
              "{'since':['Ensure this value is greater than or equal to 0.']}");
  expect_body(api_get(api_printf(EVENTS "%lld/check-ins/?since=x", event), olga.access),
              "{'since':['A valid integer is required.']}");
}

/* Scan i of code, i seconds before the one before it. */
static const char *earlier(size_t i, void *code)
{
  return scan(code, ago(10 + (long long)i), "d");
}

Test(door, the_feed_comes_a_thousand_at_a_time)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);

  /* 1,000 scans of one ticket, each earlier than the one before: each one
   * moves the check-in back, a change of its own; then one more. */
  sync(olga.access, event, join(1000, earlier, (void *)code), 1000);
  sync(olga.access, event, scan(code, ago(2000), "e"), 1);

  struct api_resp *r = api_get(feed_path(event, 0), olga.access);
  expect_int(r, "cursor", 1000);
  expect_bool(r, "more", true);
  cr_assert_eq(json_array_size(json_object_get(r->json, "results")), 1000);
  r = api_get(feed_path(event, 1000), olga.access);
  expect_int(r, "cursor", 1001);
  expect_bool(r, "more", false);
  expect_str(json_array_get(json_object_get(r->json, "results"), 0), "device", "e");
  cr_assert_eq(checked_in_at(olga.access, code), ago(2000));
}

/* The codes of devices_syncing_at_once..., and which device scanned when. */
enum { TICKETS = 12 };
static const char *codes[TICKETS];

/* Device one scanned every ticket; device two the even ones, earlier than
 * one for tickets below 6 and later for the rest. */
static long long one_at(size_t i) { return ago(500 + (long long)i); }
static long long two_at(size_t i)
{
  return ago(i < 6 ? 900 + (long long)i : 100 + (long long)i);
}
static const char *scan_one(size_t i, void *arg) { (void)arg; return scan(codes[i], one_at(i), "one"); }
static const char *scan_two(size_t i, void *arg)
{
  (void)arg;
  return scan(codes[2 * i], two_at(2 * i), "two");
}

Test(door, devices_syncing_at_once_converge_on_the_earliest_scan_of_each_ticket)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  long long event = ticketed_event(olga.access);
  for (int i = 0; i < TICKETS; i++)
    codes[i] = hold(api_signup(api_printf("guest%d", i), NULL).access, event);

  const char *one = api_printf("{\"scans\":[%s]}", join(TICKETS, scan_one, NULL));
  const char *two = api_printf("{\"scans\":[%s]}", join(TICKETS / 2, scan_two, NULL));
  for (int round = 0; round < 3; round++) {
    struct api_call calls[] = {
      {.method = "POST", .path = sync_path(event), .token = olga.access, .body = one},
      {.method = "POST", .path = sync_path(event), .token = olga.access, .body = two},
    };
    api_race(calls, 2);
    expect_status(calls[0].resp, 200);
    expect_status(calls[1].resp, 200);
  }
  /* Each ticket is in once, at its earliest scan, whichever batch came first. */
  for (int i = 0; i < TICKETS; i++) {
    long long want = i % 2 == 0 && i < 6 ? two_at((size_t)i) : one_at((size_t)i);
    cr_assert_eq(checked_in_at(olga.access, codes[i]), want, "ticket %d", i);
  }
  cr_assert_eq(api_metric("eventapi_checkins_total"), TICKETS);

  /* A third device that replays the feed from 0 ends with the same list. */
  struct api_resp *r = api_get(feed_path(event, 0), olga.access);
  json_t *rows = json_object_get(r->json, "results");
  long long seen[TICKETS] = {0};
  for (size_t k = 0; k < json_array_size(rows); k++) {
    json_t *row = json_array_get(rows, k);
    expect_int(row, "version", (long long)k + 1);
    for (int i = 0; i < TICKETS; i++)
      if (strcmp(json_string_value(json_object_get(row, "ticket")), codes[i]) == 0)
        seen[i] = strcmp(json_string_value(json_object_get(row, "action")), "undo") == 0
                      ? 0 : api_parse_iso_us(json_string_value(json_object_get(row, "at")));
  }
  for (int i = 0; i < TICKETS; i++)
    cr_assert_eq(seen[i], checked_in_at(olga.access, codes[i]), "the feed disagrees on %d", i);
  api_expect_database_consistent();
}

/* ---- the door's figures ------------------------------------------------------ */

Test(door, the_figures_count_confirmed_and_checked_in_by_type_and_by_quarter_hour)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  long long event = ticketed_event(olga.access);
  struct api_resp *e = api_get(api_printf(EVENTS "%lld/", event), olga.access);
  json_t *tts = json_object_get(e->json, "ticket_types");
  long long general = api_int(json_array_get(tts, 0), "id");
  long long vip = api_int(json_array_get(tts, 1), "id");

  const char *g1 = hold_type(api_signup("g1", NULL).access, event, general);
  const char *g2 = hold_type(api_signup("g2", NULL).access, event, general);
  hold_type(api_signup("g3", NULL).access, event, general);
  const char *v1 = hold_type(api_signup("v1", NULL).access, event, vip);

  struct api_resp *r = api_get(stats_path(event), olga.access);
  expect_status(r, 200);
  expect_keys(r, STATS_KEYS);
  expect_body(r, api_printf("{'event':%lld,'confirmed':4,'checked_in':0,'ticket_types':["
                            "{'id':%lld,'name':'General','confirmed':3,'checked_in':0},"
                            "{'id':%lld,'name':'VIP','confirmed':1,'checked_in':0}],"
                            "'per_15_minutes':[]}", event, general, vip));

  /* Two in one quarter of an hour, one in another, 45 minutes before. */
  long long t1 = ago(3600), t2 = ago(60), t3 = ago(30);
  sync(olga.access, event, api_printf("%s,%s,%s", scan(g1, ago(3600), "d"), scan(g2, ago(60), "d"),
                                      scan(v1, ago(30), "d")), 3);
  long long q1 = t1 / QUARTER_US * QUARTER_US;
  r = api_get(stats_path(event), olga.access);
  expect_int(r, "confirmed", 4);
  expect_int(r, "checked_in", 3);
  json_t *types_now = json_object_get(r->json, "ticket_types");
  expect_int(json_array_get(types_now, 0), "checked_in", 2);
  expect_int(json_array_get(types_now, 1), "checked_in", 1);
  json_t *slots = json_object_get(r->json, "per_15_minutes");
  long long total = 0, first = api_parse_iso_us(json_string_value(
      json_object_get(json_array_get(slots, 0), "start")));
  cr_assert_eq(first, q1, "%s", r->body);
  expect_int(json_array_get(slots, 0), "checked_in", 1);
  for (size_t i = 0; i < json_array_size(slots); i++)
    total += api_int(json_array_get(slots, i), "checked_in");
  cr_assert_eq(total, 3, "%s", r->body);
  cr_assert_eq(json_array_size(slots), t3 / QUARTER_US == t2 / QUARTER_US ? 2u : 3u, "%s",
               r->body);

  /* An undo takes one back out. */
  expect_status(api_delete(api_printf("/api/tickets/%s/check-in/", g1), olga.access), 200);
  expect_int(api_get(stats_path(event), olga.access), "checked_in", 2);
}

/* ---- the search at the door ---------------------------------------------------- */

Test(door, the_door_finds_a_registration_by_name_email_or_code_prefix)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user ada = api_signup("ada", NULL);
  struct api_user grace = api_signup("grace", NULL);
  long long event = ticketed_event(olga.access);
  expect_status(api_patch("/api/users/me/", ada.access,
                          api_json("{'first_name':'Ada','last_name':'Lovelace'}")), 200);
  expect_status(api_patch("/api/users/me/", grace.access,
                          api_json("{'first_name':'Grâce','last_name':'Hopper'}")), 200);
  const char *ada_code = hold(ada.access, event);
  hold(grace.access, event);
  const char *path = api_printf(EVENTS "%lld/registrations/?search=", event);

  struct {
    const char *search;
    const char *found; /* username, NULL: none */
  } cases[] = {
    {"lovelace", "ada"}, {"ADA%20LOVE", "ada"}, {"gr%C3%A2ce", "grace"}, {"GR%C3%82CE", "grace"},
    {"grace@example", "grace"}, {"hopper,gr%C3%A2ce", "grace"}, {"ada%20hopper", NULL},
    {"nobody", NULL}, {api_printf("%.8s", ada_code), "ada"},
    {api_printf("%.8s", ada_code + 4), NULL},   /* the code's start only */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct api_resp *r = api_get(api_printf("%s%s", path, cases[i].search), olga.access);
    expect_status(r, 200);
    cr_assert_eq(json_array_size(r->json), cases[i].found ? 1u : 0u, "%s: %s", cases[i].search,
                 r->body);
    if (cases[i].found)
      expect_str(json_object_get(json_array_get(r->json, 0), "user"), "username",
                 cases[i].found);
  }
  /* Empty: everyone. */
  cr_assert_eq(json_array_size(api_get(path, olga.access)->json), 2);
  /* Bytes that are not UTF-8 are read as U+FFFD, which no one's name has. */
  expect_body(api_get(api_printf("%s%%ff", path), olga.access), "[]");
}

/* ---- a second scan, online ------------------------------------------------------ */

Test(door, a_second_scan_online_learns_where_the_first_was_made)
{
  t0 = at(0);
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = ticketed_event(olga.access);
  const char *code = hold(alice.access, event);
  sync(olga.access, event, scan(code, ago(120), "gate-B"), 1);

  struct api_resp *r = api_post(api_printf("/api/tickets/%s/check-in/", code), olga.access, NULL);
  expect_status(r, 409);
  expect_body(r, api_printf("{'detail':'Ticket already checked in.','checked_in_at':'%s',"
                            "'device':'gate-B'}", iso(ago(120))));
}
