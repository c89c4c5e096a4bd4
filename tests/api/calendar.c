/*
 * calendar.c - API.md "Events": GET /api/events/{id}/calendar.ics (as the
 * event: private ones only to who may see them) and GET
 * /api/events/calendar.ics (as the list: the same events for the same
 * caller and query parameters), read back with libical.
 */
#include <criterion/criterion.h>
#include <libical/ical.h>
#include <string.h>

#include "support/api.h"

#define ICS_TYPE "text/calendar; charset=utf-8"
#define FEED "/api/events/calendar.ics"

TestSuite(calendar, .init = api_server_start, .fini = api_server_stop);

/*
 * Creates an event on January <day> of the tests' year at 10:00Z with one
 * session from 10:00 to 12:30 and one ticket type; extra is more
 * single-quoted members or "".
 */
static long long
january_event(const char *token, const char *title, int day, const char *visibility,
             const char *extra)
{
  return api_create_event(token, api_printf(
      "{'title':'%s','description':'All about %s',"
      "'date_time':'{Y}-01-%02dT10:00:00Z','location':'Hall %d, Lisbon',"
      "'capacity':10,'visibility':'%s',"
      "'sessions':[{'title':'Opening','speaker':'Ada',"
      "'start_time':'{Y}-01-%02dT10:00:00Z','end_time':'{Y}-01-%02dT12:30:00Z',"
      "'description':'Welcome'}],"
      "'ticket_types':[{'name':'General','price':'10.00','quantity':5}]%s%s}",
      title, title, day, day, visibility, day, day, extra[0] ? "," : "", extra)).id;
}

static const char *
event_ics(long long id)
{
  return api_printf("/api/events/%lld/calendar.ics", id);
}

static void
free_component(void *c)
{
  icalcomponent_free(c);
}

/* The answer is a calendar; returns it parsed (harness-owned). */
static icalcomponent *
expect_calendar(struct api_resp *r, const char *filename)
{
  expect_status(r, 200);
  expect_header(r, "Content-Type", ICS_TYPE);
  expect_header(r, "Content-Disposition",
                api_printf("attachment; filename=\"%s\"", filename));
  expect_that(strncmp(r->body, "BEGIN:VCALENDAR\r\n", 17) == 0, "a calendar: %s", r->body);
  icalcomponent *cal = icalparser_parse_string(r->body);
  expect_that(cal != NULL, "libical parses it: %s", r->body);
  api_keep(cal, free_component);
  expect_that(icalcomponent_isa(cal) == ICAL_VCALENDAR_COMPONENT, "a VCALENDAR: %s", r->body);
  icalproperty *prodid = icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY);
  expect_that(prodid && strcmp(icalproperty_get_prodid(prodid), "-//eventapi//eventapi//EN") == 0,
              "PRODID: %s", r->body);
  icalproperty *method = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
  expect_that(method && icalproperty_get_method(method) == ICAL_METHOD_PUBLISH,
              "METHOD: %s", r->body);
  return cal;
}

/* The VEVENT with UID event-<id>@eventapi, or NULL. */
static icalcomponent *
find_event(icalcomponent *cal, long long id)
{
  const char *uid = api_printf("event-%lld@eventapi", id);
  for (icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); v;
       v = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
    if (strcmp(icalcomponent_get_uid(v), uid) == 0)
      return v;
  return NULL;
}

/* The calendar holds exactly the events of ids, in that order (count of them). */
static void
expect_events(struct api_resp *r, icalcomponent *cal, const long long *ids, size_t count)
{
  size_t i = 0;
  for (icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); v;
       v = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT), i++) {
    expect_that(i < count, "%zu events expected: %s", count, r->body);
    const char *uid = api_printf("event-%lld@eventapi", ids[i]);
    expect_that(strcmp(icalcomponent_get_uid(v), uid) == 0, "event %zu is %s: %s", i, uid,
                r->body);
  }
  expect_that(i == count, "%zu events expected, got %zu: %s", count, i, r->body);
}

static const char *
time_text(struct icaltimetype t)
{
  return api_strdup(icaltime_as_ical_string(t));
}

/* ---- one event ---- */

Test(calendar, an_event_as_ics)
{
  const char *olga = api_signup("olga", "organizer").access;
  long long id = january_event(olga, "Rust Meetup", 1, "public", "");
  struct api_resp *r = api_get(event_ics(id), NULL);
  icalcomponent *cal = expect_calendar(r, api_printf("event-%lld.ics", id));
  expect_that(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT) == 1, "%s", r->body);
  icalcomponent *v = find_event(cal, id);
  expect_that(v != NULL, "UID event-%lld@eventapi: %s", id, r->body);
  expect_that(strcmp(icalcomponent_get_summary(v), "Rust Meetup") == 0, "SUMMARY: %s", r->body);
  expect_that(strcmp(icalcomponent_get_description(v), "All about Rust Meetup") == 0,
              "DESCRIPTION: %s", r->body);
  expect_that(strcmp(icalcomponent_get_location(v), "Hall 1, Lisbon") == 0,
              "LOCATION: %s", r->body);
  expect_that(strcmp(time_text(icalcomponent_get_dtstart(v)), api_date("{Y}0101T100000Z")) == 0,
              "DTSTART: %s", r->body);
  /* The session ends at 12:30: the event does too. */
  expect_that(strcmp(time_text(icalcomponent_get_dtend(v)), api_date("{Y}0101T123000Z")) == 0,
              "DTEND: %s", r->body);
  expect_that(icaltime_is_utc(icalcomponent_get_dtstamp(v)), "DTSTAMP in UTC: %s", r->body);
  icalproperty *url = icalcomponent_get_first_property(v, ICAL_URL_PROPERTY);
  expect_that(url && strcmp(icalproperty_get_url(url),
                            api_url(api_printf("/api/events/%lld/", id))) == 0,
              "URL: %s", r->body);
}

Test(calendar, the_path_answers_with_and_without_the_trailing_slash)
{
  const char *olga = api_signup("olga", "organizer").access;
  long long id = january_event(olga, "Slash", 2, "public", "");
  expect_calendar(api_get(api_printf("/api/events/%lld/calendar.ics/", id), NULL),
                  api_printf("event-%lld.ics", id));
  expect_calendar(api_get(FEED "/", NULL), "events.ics");
}

Test(calendar, an_event_without_sessions_lasts_an_hour)
{
  const char *olga = api_signup("olga", "organizer").access;
  struct api_resp *r = api_post("/api/events/create/", olga, api_json(
      "{'title':'Short','date_time':'{Y}-02-03T18:15:00+02:00','location':'Porto',"
      "'capacity':0}"));
  expect_status(r, 200);
  long long id = api_id(r);
  r = api_get(event_ics(id), NULL);
  icalcomponent *v = find_event(expect_calendar(r, api_printf("event-%lld.ics", id)), id);
  expect_that(v != NULL, "%s", r->body);
  expect_that(strcmp(time_text(icalcomponent_get_dtstart(v)), api_date("{Y}0203T161500Z")) == 0,
              "DTSTART in UTC: %s", r->body);
  expect_that(strcmp(time_text(icalcomponent_get_dtend(v)), api_date("{Y}0203T171500Z")) == 0,
              "DTEND an hour later: %s", r->body);
  expect_that(icalcomponent_get_first_property(v, ICAL_DESCRIPTION_PROPERTY) == NULL,
              "no DESCRIPTION for an empty one: %s", r->body);
}

/* The raw calendar holds line (with its CRLF on both sides). */
static void
expect_line(struct api_resp *r, const char *line)
{
  expect_that(strstr(r->body, api_printf("\r\n%s\r\n", line)) != NULL, "a line %s in: %s", line,
              r->body);
}

/* Creates a public event at date_time without sessions; its id. */
static long long
porto_event_at(const char *token, const char *title, const char *date_time, const char *extra)
{
  struct api_resp *r = api_post("/api/events/create/", token, api_jsonf(
      "{\"title\":\"%s\",\"date_time\":\"%s\",\"location\":\"Porto\",\"capacity\":0%s}",
      title, date_time, extra));
  expect_status(r, 200);
  expect_str(r, "date_time", date_time);
  return api_id(r);
}

/* DRF takes years up to 9999; libical's own constructors stop at 3000. */
Test(calendar, events_after_the_year_3000_keep_their_dates)
{
  const char *olga = api_signup("olga", "organizer").access;
  long long far = porto_event_at(olga, "Far", "3001-06-15T10:00:00Z",
      ",\"sessions\":[{\"title\":\"Talk\",\"start_time\":\"3001-06-15T10:00:00Z\","
      "\"end_time\":\"3001-06-15T12:30:00Z\"}]");
  long long last = porto_event_at(olga, "Last", "9999-12-31T22:00:00Z", "");
  long long edge = porto_event_at(olga, "Edge", "9999-12-31T23:30:00Z", "");

  struct api_resp *r = api_get(event_ics(far), NULL);
  expect_calendar(r, api_printf("event-%lld.ics", far));
  expect_line(r, "DTSTART:30010615T100000Z");
  expect_line(r, "DTEND:30010615T123000Z");
  expect_that(strstr(r->body, "00000000T000000") == NULL, "no null date: %s", r->body);
  expect_str(api_get(api_printf("/api/events/%lld/", far), NULL), "date_time",
             "3001-06-15T10:00:00Z");

  r = api_get(event_ics(last), NULL);
  expect_calendar(r, api_printf("event-%lld.ics", last));
  expect_line(r, "DTSTART:99991231T220000Z");
  expect_line(r, "DTEND:99991231T230000Z");

  /* An hour after the last start of 9999 would be in the year 10000. */
  r = api_get(event_ics(edge), NULL);
  expect_line(r, "DTSTART:99991231T233000Z");
  expect_line(r, "DTEND:99991231T235959Z");

  r = api_get(FEED, NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){far, last, edge}, 3);
  expect_line(r, "DTSTART:30010615T100000Z");
  expect_line(r, "DTSTART:99991231T220000Z");
  expect_line(r, "DTSTART:99991231T233000Z");
  expect_that(strstr(r->body, "00000000T000000") == NULL, "no null date: %s", r->body);
}

Test(calendar, an_unknown_event_is_404)
{
  struct api_resp *r = api_get(event_ics(999), NULL);
  expect_status(r, 404);
  expect_json_response(r);
  expect_detail(r, "No Event matches the given query.");
}

Test(calendar, a_private_event_only_to_its_organizer_and_admins)
{
  const char *olga = api_signup("olga", "organizer").access;
  const char *alice = api_signup("alice", NULL).access;
  const char *oscar = api_signup("oscar", "organizer").access;
  const char *root = api_admin("root").access;
  long long id = january_event(olga, "Board Meeting", 3, "private", "");
  const char *path = event_ics(id);

  struct api_resp *r = api_get(path, NULL);
  expect_status(r, 404);
  expect_detail(r, "No Event matches the given query.");
  r = api_get(path, alice);
  expect_status(r, 404);
  expect_detail(r, "No Event matches the given query.");
  expect_status(api_get(path, oscar), 404);

  const char *filename = api_printf("event-%lld.ics", id);
  r = api_get(path, olga);
  expect_that(find_event(expect_calendar(r, filename), id) != NULL, "%s", r->body);
  r = api_get(path, root);
  expect_that(find_event(expect_calendar(r, filename), id) != NULL, "%s", r->body);
}

Test(calendar, an_invalid_token_is_401)
{
  const char *olga = api_signup("olga", "organizer").access;
  long long id = january_event(olga, "Tokens", 4, "public", "");
  struct api_resp *r = api_get(event_ics(id), "not-a-token");
  expect_status(r, 401);
  expect_str(r, "code", "token_not_valid");
}

Test(calendar, a_hostile_title_stays_inside_the_summary)
{
  const char *olga = api_signup("olga", "organizer").access;
  struct api_resp *r = api_post("/api/events/create/", olga, api_json(
      "{'title':'a\\r\\nBEGIN:VEVENT\\r\\nUID:evil','description':'x;y,z\\\\',"
      "'date_time':'{Y}-01-05T10:00:00Z','location':'L\\r\\nEND:VCALENDAR','capacity':1}"));
  expect_status(r, 200);
  long long id = api_id(r);
  r = api_get(event_ics(id), NULL);
  icalcomponent *cal = expect_calendar(r, api_printf("event-%lld.ics", id));
  expect_that(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT) == 1,
              "one VEVENT: %s", r->body);
  icalcomponent *v = find_event(cal, id);
  expect_that(v != NULL, "its own UID: %s", r->body);
  expect_that(strcmp(icalcomponent_get_summary(v), "a\nBEGIN:VEVENT\nUID:evil") == 0,
              "SUMMARY: %s", r->body);
  expect_that(strcmp(icalcomponent_get_description(v), "x;y,z\\") == 0,
              "DESCRIPTION: %s", r->body);
  expect_that(strcmp(icalcomponent_get_location(v), "L\nEND:VCALENDAR") == 0,
              "LOCATION: %s", r->body);
  expect_that(strstr(r->body, "\r\nUID:evil") == NULL, "no injected line: %s", r->body);
  expect_that(strstr(r->body, "\r\nEND:VCALENDAR\r\n") == r->body + r->len - 17,
              "END:VCALENDAR only at the end: %s", r->body);
}

/* ---- the feed ---- */

Test(calendar, the_feed_lists_public_events_and_the_callers_own_private_ones)
{
  const char *olga = api_signup("olga", "organizer").access;
  const char *oscar = api_signup("oscar", "organizer").access;
  const char *alice = api_signup("alice", NULL).access;
  const char *root = api_admin("root").access;
  long long later = january_event(olga, "Later", 20, "public", "");
  long long hidden = january_event(olga, "Hidden", 10, "private", "");
  long long sooner = january_event(oscar, "Sooner", 5, "public", "");
  long long oscars = january_event(oscar, "Oscars Own", 15, "private", "");

  struct api_resp *r = api_get(FEED, NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){sooner, later}, 2);
  expect_header(r, "X-Total-Count", "2");
  r = api_get(FEED, alice);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){sooner, later}, 2);
  r = api_get(FEED, olga);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){sooner, hidden, later}, 3);
  r = api_get(FEED, oscar);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){sooner, oscars, later}, 3);
  r = api_get(FEED, root);
  expect_events(r, expect_calendar(r, "events.ics"),
                (long long[]){sooner, hidden, oscars, later}, 4);
  expect_header(r, "X-Total-Count", "4");

  /* Each event of the feed is the event's own calendar entry. */
  icalcomponent *v = find_event(expect_calendar(api_get(FEED, NULL), "events.ics"), later);
  expect_that(v && strcmp(icalcomponent_get_summary(v), "Later") == 0 &&
              strcmp(icalcomponent_get_location(v), "Hall 20, Lisbon") == 0 &&
              strcmp(time_text(icalcomponent_get_dtstart(v)), api_date("{Y}0120T100000Z")) == 0,
              "the event Later in the feed");
}

Test(calendar, an_empty_feed_is_an_empty_calendar)
{
  struct api_resp *r = api_get(FEED, NULL);
  icalcomponent *cal = expect_calendar(r, "events.ics");
  expect_that(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT) == 0, "%s", r->body);
  expect_header(r, "X-Total-Count", "0");
}

Test(calendar, the_feed_honours_search_and_category)
{
  const char *olga = api_signup("olga", "organizer").access;
  struct api_resp *c = api_post("/api/events/categories/", olga, api_json("{'name':'Jazz'}"));
  expect_status(c, 201);
  long long jazz = api_id(c);
  long long concert = january_event(olga, "Jazz Night", 3, "public",
                                   api_printf("\"category\":%lld", jazz));
  long long talk = january_event(olga, "Compiler Talk", 4, "public", "");
  long long brunch = january_event(olga, "Jazz Brunch", 6, "public", "");

  struct api_resp *r = api_get(FEED "?search=jazz", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){concert, brunch}, 2);
  r = api_get(FEED "?search=jazz,night", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){concert}, 1);
  r = api_get(FEED "?search=compiler", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){talk}, 1);
  r = api_get(FEED "?category=jazz", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){concert}, 1);
  r = api_get(api_printf(FEED "?category=%lld", jazz), NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){concert}, 1);
  r = api_get(FEED "?ordering=-date_time", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){brunch, talk, concert}, 3);
}

Test(calendar, the_feed_honours_limit_and_offset)
{
  const char *olga = api_signup("olga", "organizer").access;
  long long first = january_event(olga, "First", 1, "public", "");
  long long second = january_event(olga, "Second", 2, "public", "");
  long long third = january_event(olga, "Third", 3, "public", "");
  struct api_resp *r = api_get(FEED "?limit=1&offset=1", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){second}, 1);
  expect_header(r, "X-Total-Count", "3");
  r = api_get(FEED "?limit=2", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){first, second}, 2);
  r = api_get(FEED "?limit=5&offset=2", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){third}, 1);
  /* As in the list (DRF), an offset without a limit means nothing. */
  r = api_get(FEED "?offset=2", NULL);
  expect_events(r, expect_calendar(r, "events.ics"), (long long[]){first, second, third}, 3);
}

Test(calendar, invalid_feed_parameters_are_400)
{
  struct api_resp *r = api_get(FEED "?ordering=password", NULL);
  expect_status(r, 400);
  expect_json_response(r);
  expect_body(r, "{'ordering':['Select a valid choice. password is not one of the available "
                 "choices.']}");
  r = api_get(FEED "?limit=-1&start_date=yesterday", NULL);
  expect_status(r, 400);
  expect_json_response(r);
  expect_keys(r, "limit", "start_date", NULL);
}

Test(calendar, the_calendars_are_read_only)
{
  struct api_resp *r = api_post(FEED, NULL, "{}");
  expect_status(r, 405);
  expect_header_lists(r, "Allow", "GET", NULL);
}
