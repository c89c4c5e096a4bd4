/*
 * Unit tests for events/calendar: the iCalendar text of none, one and
 * several events, read back with libical's own parser; escaping of hostile
 * text and folding of long lines.
 */
#include <criterion/criterion.h>
#include <libical/ical.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/timefmt.h"
#include "events/calendar.h"

#define US INT64_C(1000000)
#define HOUR (3600 * US)
#define BASE_URL "https://events.example.com"

/* 2025-01-01T10:00:00Z and a DTSTAMP of 2024-06-15T08:30:00Z. */
#define START (INT64_C(1735725600) * US)
#define NOW (INT64_C(1718440200) * US)

static char *text;           /* the last rendering */
static size_t text_len;
static icalcomponent *parsed; /* and its parse */

static void
teardown(void)
{
  free(text);
  if (parsed)
    icalcomponent_free(parsed);
}

TestSuite(calendar, .fini = teardown);

static struct event
event_at(int64_t id, const char *title, int64_t date_time)
{
  return (struct event){
    .id = id, .title = title, .description = "A description.", .date_time = date_time,
    .location = "Hall A, Lisbon", .capacity = 10, .organizer_id = 1,
    .visibility = VISIBILITY_PUBLIC,
  };
}

/* Every component parsed without an X-LIC-ERROR, recursively. */
static void
expect_no_parse_errors(icalcomponent *c)
{
  icalproperty *error = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
  cr_assert_null(error, "libical: %s\n%s", error ? icalproperty_get_xlicerror(error) : "",
                 text);
  for (icalcomponent *child = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); child;
       child = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
    expect_no_parse_errors(child);
}

/* Renders, checks the framing of every line and parses the text back. */
static icalcomponent *
render(const struct event *events, size_t count, const char *base_url)
{
  text = events_calendar_render(events, count, base_url, NOW, &text_len);
  cr_assert_not_null(text);
  cr_assert_eq(text_len, strlen(text));
  cr_assert(text_valid_utf8(text, text_len), "not UTF-8:\n%s", text);
  cr_assert(strncmp(text, "BEGIN:VCALENDAR\r\n", 17) == 0, "%s", text);
  cr_assert(text_len > 15 && strcmp(text + text_len - 15, "END:VCALENDAR\r\n") == 0, "%s", text);
  for (const char *p = text; *p; p++) {
    if (*p == '\n')
      cr_assert(p > text && p[-1] == '\r', "a bare LF at %td:\n%s", p - text, text);
    if (*p == '\r')
      cr_assert(p[1] == '\n', "a bare CR at %td:\n%s", p - text, text);
  }
  parsed = icalparser_parse_string(text);
  cr_assert_not_null(parsed, "libical cannot parse:\n%s", text);
  cr_assert_eq(icalcomponent_isa(parsed), ICAL_VCALENDAR_COMPONENT);
  expect_no_parse_errors(parsed);
  cr_assert_eq(icalcomponent_count_components(parsed, ICAL_VEVENT_COMPONENT), (int)count,
               "%s", text);
  return parsed;
}

static const char *
x_property(icalcomponent *c, const char *name)
{
  for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
    if (strcmp(icalproperty_get_x_name(p), name) == 0)
      return icalproperty_get_x(p);
  return NULL;
}

static int
count_properties(icalcomponent *c, icalproperty_kind kind)
{
  return icalcomponent_count_properties(c, kind);
}

static void
expect_utc(struct icaltimetype t, int64_t us)
{
  cr_assert(!icaltime_is_null_time(t));
  cr_assert(icaltime_is_utc(t), "not UTC: %s", icaltime_as_ical_string(t));
  cr_assert_eq((int64_t)icaltime_as_timet(t), us / US, "%s", icaltime_as_ical_string(t));
}

/* The lines of text unfolded (RFC 5545 3.1), malloc'd. */
static char *
unfold(const char *folded)
{
  char *out = malloc(strlen(folded) + 1);
  cr_assert_not_null(out);
  size_t n = 0;
  for (const char *p = folded; *p; p++) {
    if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
      p += 2;
      continue;
    }
    out[n++] = *p;
  }
  out[n] = '\0';
  return out;
}

static int
count_lines_starting(const char *s, const char *prefix)
{
  int n = 0;
  size_t len = strlen(prefix);
  for (const char *line = s; *line;) {
    n += strncmp(line, prefix, len) == 0;
    const char *end = strstr(line, "\r\n");
    if (end == NULL)
      break;
    line = end + 2;
  }
  return n;
}

/* ---- the calendar ---- */

Test(calendar, no_events_is_an_empty_calendar_with_its_properties)
{
  icalcomponent *cal = render(NULL, 0, BASE_URL);
  icalproperty *p = icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY);
  cr_assert_str_eq(icalproperty_get_prodid(p), "-//eventapi//eventapi//EN");
  p = icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY);
  cr_assert_str_eq(icalproperty_get_version(p), "2.0");
  p = icalcomponent_get_first_property(cal, ICAL_CALSCALE_PROPERTY);
  cr_assert_str_eq(icalproperty_get_calscale(p), "GREGORIAN");
  p = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
  cr_assert_not_null(p);
  cr_assert_eq(icalproperty_get_method(p), ICAL_METHOD_PUBLISH);
  cr_assert_str_eq(x_property(cal, "X-WR-CALNAME"), "eventapi");
  cr_assert_null(strstr(text, "VEVENT"));
}

Test(calendar, one_event_has_every_property)
{
  struct event e = event_at(42, "Rust Meetup", START);
  icalcomponent *cal = render(&e, 1, BASE_URL);
  icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
  cr_assert_str_eq(icalcomponent_get_uid(v), "event-42@eventapi");
  expect_utc(icalcomponent_get_dtstamp(v), NOW);
  expect_utc(icalcomponent_get_dtstart(v), START);
  expect_utc(icalcomponent_get_dtend(v), START + HOUR);
  cr_assert_str_eq(icalcomponent_get_summary(v), "Rust Meetup");
  cr_assert_str_eq(icalcomponent_get_description(v), "A description.");
  cr_assert_str_eq(icalcomponent_get_location(v), "Hall A, Lisbon");
  icalproperty *url = icalcomponent_get_first_property(v, ICAL_URL_PROPERTY);
  cr_assert_not_null(url);
  cr_assert_str_eq(icalproperty_get_url(url), BASE_URL "/api/events/42/");
  /* The wire form: UTC with Z, as RFC 5545 3.3.5 form #2. */
  cr_assert_not_null(strstr(text, "\r\nDTSTART:20250101T100000Z\r\n"), "%s", text);
  cr_assert_not_null(strstr(text, "\r\nDTEND:20250101T110000Z\r\n"), "%s", text);
  cr_assert_not_null(strstr(text, "\r\nDTSTAMP:20240615T083000Z\r\n"), "%s", text);
  cr_assert_not_null(strstr(text, "\r\nLOCATION:Hall A\\, Lisbon\r\n"), "%s", text);
  /* Nothing else: one of each, no categories. */
  cr_assert_eq(count_properties(v, ICAL_ANY_PROPERTY), 8, "%s", text);
  cr_assert_eq(count_properties(v, ICAL_CATEGORIES_PROPERTY), 0);
}

Test(calendar, dtend_is_the_latest_session_end)
{
  struct session sessions[] = {
    {.id = 1, .title = "Late", .start_time = START + 4 * HOUR, .end_time = START + 6 * HOUR},
    {.id = 2, .title = "Early", .start_time = START, .end_time = START + 2 * HOUR},
  };
  struct event e = event_at(1, "Conference", START);
  e.sessions = sessions;
  e.nsessions = 2;
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, BASE_URL),
                                                       ICAL_VEVENT_COMPONENT);
  expect_utc(icalcomponent_get_dtstart(v), START);
  expect_utc(icalcomponent_get_dtend(v), START + 6 * HOUR);
}

Test(calendar, dtend_is_an_hour_after_the_start_when_sessions_end_before_it)
{
  struct session sessions[] = {
    {.id = 1, .title = "Before", .start_time = START - 3 * HOUR, .end_time = START - 2 * HOUR},
    {.id = 2, .title = "At", .start_time = START - HOUR, .end_time = START},
  };
  struct event e = event_at(1, "Odd", START);
  e.sessions = sessions;
  e.nsessions = 2;
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, BASE_URL),
                                                       ICAL_VEVENT_COMPONENT);
  expect_utc(icalcomponent_get_dtend(v), START + HOUR);
}

Test(calendar, microseconds_are_dropped)
{
  struct event e = event_at(1, "Precise", START + 68830);
  render(&e, 1, BASE_URL);
  cr_assert_not_null(strstr(text, "\r\nDTSTART:20250101T100000Z\r\n"), "%s", text);
  cr_assert_not_null(strstr(text, "\r\nDTEND:20250101T110000Z\r\n"), "%s", text);
}

/* RFC 5545 (and DRF) allow four-digit years; libical's constructors stop at 3000. */
Test(calendar, years_after_3000_are_written_as_they_are)
{
  /* 3001-06-15T10:00:00Z, with a session ending 12:30; and the last hour of 9999. */
  struct event far = event_at(1, "Far", INT64_C(32549508000) * US);
  struct session talk = {.id = 1, .title = "Talk", .speaker = "", .description = "",
                         .start_time = far.date_time, .end_time = far.date_time + 5 * HOUR / 2};
  far.sessions = &talk;
  far.nsessions = 1;
  struct event events[] = {far, event_at(2, "Last", INT64_C(253402297200) * US),
                           event_at(3, "Edge", INT64_C(253402299000) * US)};
  render(events, 3, BASE_URL);
  cr_assert_not_null(strstr(text, "\r\nDTSTART:30010615T100000Z\r\nDTEND:30010615T123000Z\r\n"),
                     "%s", text);
  cr_assert_not_null(strstr(text, "\r\nDTSTART:99991231T230000Z\r\nDTEND:99991231T235959Z\r\n"),
                     "%s", text);
  cr_assert_not_null(strstr(text, "\r\nDTSTART:99991231T233000Z\r\nDTEND:99991231T235959Z\r\n"),
                     "capped at the last second of 9999: %s", text);
  cr_assert_null(strstr(text, "00000000T000000"), "%s", text);
}

Test(calendar, several_events_in_the_order_given)
{
  struct event list[] = {
    event_at(7, "First", START + 48 * HOUR),
    event_at(3, "Second", START),
    event_at(12, "Third", START + 24 * HOUR),
  };
  list[1].location = "Porto";
  icalcomponent *cal = render(list, 3, BASE_URL);
  const char *uids[] = {"event-7@eventapi", "event-3@eventapi", "event-12@eventapi"};
  const char *titles[] = {"First", "Second", "Third"};
  int64_t starts[] = {START + 48 * HOUR, START, START + 24 * HOUR};
  int i = 0;
  for (icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); v;
       v = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT), i++) {
    cr_assert_lt(i, 3);
    cr_assert_str_eq(icalcomponent_get_uid(v), uids[i]);
    cr_assert_str_eq(icalcomponent_get_summary(v), titles[i]);
    expect_utc(icalcomponent_get_dtstart(v), starts[i]);
    expect_utc(icalcomponent_get_dtstamp(v), NOW);
    cr_assert_str_eq(icalcomponent_get_location(v), i == 1 ? "Porto" : "Hall A, Lisbon");
    char url[64];
    snprintf(url, sizeof url, BASE_URL "/api/events/%s/", i == 0 ? "7" : i == 1 ? "3" : "12");
    cr_assert_str_eq(icalproperty_get_url(icalcomponent_get_first_property(v, ICAL_URL_PROPERTY)),
                     url);
  }
  cr_assert_eq(i, 3);
  /* One calendar header, whatever the number of events. */
  cr_assert_eq(count_lines_starting(text, "PRODID:"), 1);
  cr_assert_eq(count_lines_starting(text, "BEGIN:VEVENT"), 3);
}

Test(calendar, an_empty_description_is_left_out)
{
  struct event e = event_at(1, "Quiet", START);
  e.description = "";
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, BASE_URL),
                                                       ICAL_VEVENT_COMPONENT);
  cr_assert_eq(count_properties(v, ICAL_DESCRIPTION_PROPERTY), 0, "%s", text);
  cr_assert_eq(count_lines_starting(text, "DESCRIPTION"), 0);
}

Test(calendar, no_base_url_leaves_the_url_out)
{
  struct event e = event_at(1, "Nowhere", START);
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, NULL),
                                                       ICAL_VEVENT_COMPONENT);
  cr_assert_eq(count_properties(v, ICAL_URL_PROPERTY), 0, "%s", text);
}

/* ---- hostile text ---- */

Test(calendar, crlf_in_a_title_stays_inside_the_summary)
{
  struct event e = event_at(1, "a\r\nBEGIN:VEVENT", START);
  e.description = "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil";
  e.location = "y\rATTACH:http://evil.example/\nX-INJECTED:1";
  icalcomponent *cal = render(&e, 1, BASE_URL);
  icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
  cr_assert_str_eq(icalcomponent_get_summary(v), "a\nBEGIN:VEVENT");
  cr_assert_str_eq(icalcomponent_get_description(v), "x\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil");
  cr_assert_str_eq(icalcomponent_get_location(v), "y\nATTACH:http://evil.example/\nX-INJECTED:1");
  cr_assert_str_eq(icalcomponent_get_uid(v), "event-1@eventapi");
  cr_assert_eq(count_lines_starting(text, "BEGIN:VEVENT"), 1, "%s", text);
  cr_assert_eq(count_lines_starting(text, "END:VEVENT"), 1, "%s", text);
  cr_assert_eq(count_lines_starting(text, "UID:"), 1, "%s", text);
  cr_assert_eq(count_lines_starting(text, "ATTACH"), 0, "%s", text);
  cr_assert_eq(count_lines_starting(text, "X-INJECTED"), 0, "%s", text);
  cr_assert_eq(count_properties(v, ICAL_ATTACH_PROPERTY), 0);
  cr_assert_eq(count_properties(v, ICAL_X_PROPERTY), 0);
  cr_assert_not_null(strstr(text, "\r\nSUMMARY:a\\nBEGIN:VEVENT\r\n"), "%s", text);
}

Test(calendar, text_specials_are_escaped_and_read_back)
{
  const char *title = "Rock, Paper; Scissors \\ \"Live\"";
  struct event e = event_at(1, title, START);
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, BASE_URL),
                                                       ICAL_VEVENT_COMPONENT);
  cr_assert_str_eq(icalcomponent_get_summary(v), title);
  cr_assert_not_null(strstr(text, "SUMMARY:Rock\\, Paper\\; Scissors \\\\ "), "%s", text);
}

Test(calendar, control_characters_are_dropped)
{
  struct event e = event_at(1, "bell\a and\x01 nul\x1b[0m and\x7f del\ttab", START);
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, BASE_URL),
                                                       ICAL_VEVENT_COMPONENT);
  cr_assert_str_eq(icalcomponent_get_summary(v), "bell and nul[0m and del\ttab");
}

Test(calendar, invalid_utf8_becomes_question_marks)
{
  struct event e = event_at(1, "caf\xc3 \xff!", START);
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, BASE_URL),
                                                       ICAL_VEVENT_COMPONENT);
  cr_assert_str_eq(icalcomponent_get_summary(v), "caf? ?!");
}

/* ---- folding ---- */

static void
expect_folded(void)
{
  for (const char *line = text; *line;) {
    const char *end = strstr(line, "\r\n");
    cr_assert_not_null(end);
    cr_assert_leq(end - line, 75, "a line of %td octets: %.*s", end - line, (int)(end - line),
                  line);
    /* Folds never split a UTF-8 character. */
    cr_assert(text_valid_utf8(line, (size_t)(end - line)), "%.*s", (int)(end - line), line);
    line = end + 2;
  }
}

Test(calendar, long_text_is_folded_at_75_octets)
{
  char title[1001];
  for (int i = 0; i < 1000; i++)
    title[i] = (char)('a' + i % 26);
  title[1000] = '\0';
  char description[2 * 400 + 1] = "";
  for (int i = 0; i < 400; i++)
    strcat(description, "é"); /* two octets each */
  struct event e = event_at(1, title, START);
  e.description = description;
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, BASE_URL),
                                                       ICAL_VEVENT_COMPONENT);
  expect_folded();
  cr_assert_gt(count_lines_starting(text, " "), 20, "%s", text);
  cr_assert_str_eq(icalcomponent_get_summary(v), title);
  cr_assert_str_eq(icalcomponent_get_description(v), description);
  char *unfolded = unfold(text);
  char *summary_line = malloc(strlen(title) + 16);
  cr_assert_not_null(summary_line);
  sprintf(summary_line, "\r\nSUMMARY:%s\r\n", title);
  cr_assert_not_null(strstr(unfolded, summary_line));
  free(summary_line);
  free(unfolded);
}

Test(calendar, a_long_base_url_is_folded_too)
{
  char base[301] = "https://";
  memset(base + 8, 'h', 280);
  base[288] = '\0';
  strcat(base, ".example");
  struct event e = event_at(5, "Far", START);
  icalcomponent *v = icalcomponent_get_first_component(render(&e, 1, base),
                                                       ICAL_VEVENT_COMPONENT);
  expect_folded();
  char expected[400];
  snprintf(expected, sizeof expected, "%s/api/events/5/", base);
  cr_assert_str_eq(icalproperty_get_url(icalcomponent_get_first_property(v, ICAL_URL_PROPERTY)),
                   expected);
}

Test(calendar, a_base_url_with_control_characters_is_left_out)
{
  struct event e = event_at(5, "Odd", START);
  icalcomponent *v = icalcomponent_get_first_component(
      render(&e, 1, "http://x\r\nATTACH:http://evil"), ICAL_VEVENT_COMPONENT);
  cr_assert_eq(count_properties(v, ICAL_URL_PROPERTY), 0);
  cr_assert_eq(count_lines_starting(text, "ATTACH"), 0);
}

Test(calendar, length_may_be_omitted)
{
  struct event e = event_at(1, "x", START);
  char *out = events_calendar_render(&e, 1, BASE_URL, NOW, NULL);
  cr_assert_not_null(out);
  cr_assert(strstr(out, "SUMMARY:x\r\n"));
  free(out);
}
