/*
 * timezones.c - docs/api.md "Time zones": an event's zone (an IANA name of
 * the system's tz database), its local_date_time with the offset in force
 * at that instant, across daylight-saving changes in Europe and America,
 * and calendar files that name the zone and carry its VTIMEZONE, read
 * back by libical to the same instant.
 *
 * Dates are in the harness's year {Y}, whose calendar is 2025's: Europe's
 * clocks go forward on Sunday 30 March at 01:00 UTC and back on 26
 * October; New York's on Sunday 9 March at 07:00 UTC and back on 2
 * November at 06:00 UTC.
 */
#include <criterion/criterion.h>
#include <libical/ical.h>
#include <string.h>

#include "support/api.h"
#include "support/command.h"

#define CREATE "/api/events/create/"

TestSuite(timezones, .init = api_server_start, .fini = api_server_stop);

/* An event of token's at when (ISO, with {Y}) in zone (NULL: none given). */
static struct api_resp *event_at(const char *token, const char *when, const char *zone)
{
  const char *body = zone ? api_jsonf("{\"date_time\":\"%s\",\"timezone\":\"%s\"}",
                                      api_date(when), zone)
                          : api_jsonf("{\"date_time\":\"%s\"}", api_date(when));
  struct api_resp *r = api_post(CREATE, token, api_event_json(body));
  expect_status(r, 200);
  return r;
}

static void expect_local(const char *token, const char *when, const char *zone,
                         const char *local)
{
  struct api_resp *r = event_at(token, when, zone);
  expect_str(r, "date_time", api_date(when));
  expect_str(r, "timezone", zone ? zone : "UTC");
  expect_str(r, "local_date_time", api_date(local));
  /* The detail, the list (the event JSON cache) say the same. */
  struct api_resp *detail = api_get(api_printf("/api/events/%lld/", api_id(r)), NULL);
  expect_str(detail, "local_date_time", api_date(local));
}

Test(timezones, local_time_follows_daylight_saving_in_berlin)
{
  struct api_user olga = api_signup("olga", "organizer");
  expect_local(olga.access, "{Y}-03-29T08:00:00Z", "Europe/Berlin", "{Y}-03-29T09:00:00+01:00");
  expect_local(olga.access, "{Y}-03-30T00:59:59Z", "Europe/Berlin", "{Y}-03-30T01:59:59+01:00");
  expect_local(olga.access, "{Y}-03-30T01:00:00Z", "Europe/Berlin", "{Y}-03-30T03:00:00+02:00");
  expect_local(olga.access, "{Y}-03-31T08:00:00.250000Z", "Europe/Berlin",
               "{Y}-03-31T10:00:00.250000+02:00");
  expect_local(olga.access, "{Y}-10-26T00:30:00Z", "Europe/Berlin", "{Y}-10-26T02:30:00+02:00");
  expect_local(olga.access, "{Y}-10-26T01:30:00Z", "Europe/Berlin", "{Y}-10-26T02:30:00+01:00");
}

Test(timezones, local_time_follows_daylight_saving_in_new_york)
{
  struct api_user olga = api_signup("olga", "organizer");
  expect_local(olga.access, "{Y}-03-08T14:00:00Z", "America/New_York",
               "{Y}-03-08T09:00:00-05:00");
  expect_local(olga.access, "{Y}-03-10T13:00:00Z", "America/New_York",
               "{Y}-03-10T09:00:00-04:00");
  /* The hour that happens twice in November: two instants, one wall time. */
  expect_local(olga.access, "{Y}-11-02T05:30:00Z", "America/New_York",
               "{Y}-11-02T01:30:00-04:00");
  expect_local(olga.access, "{Y}-11-02T06:30:00Z", "America/New_York",
               "{Y}-11-02T01:30:00-05:00");
  expect_local(olga.access, "{Y}-03-10T13:00:00Z", NULL, "{Y}-03-10T13:00:00+00:00");
  expect_local(olga.access, "{Y}-03-10T13:00:00Z", "Asia/Kolkata", "{Y}-03-10T18:30:00+05:30");
}

Test(timezones, changing_the_zone_keeps_the_instant)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = event_at(olga.access, "{Y}-06-01T16:00:00Z", "Europe/Berlin");
  expect_str(r, "local_date_time", api_date("{Y}-06-01T18:00:00+02:00"));
  struct api_resp *moved = api_patch(api_printf("/api/events/%lld/update/", api_id(r)),
                                     olga.access, api_json("{'timezone':'America/New_York'}"));
  expect_status(moved, 200);
  expect_str(moved, "date_time", api_date("{Y}-06-01T16:00:00Z"));
  expect_str(moved, "local_date_time", api_date("{Y}-06-01T12:00:00-04:00"));
  expect_str(api_get(api_printf("/api/events/%lld/", api_id(r)), NULL), "timezone",
             "America/New_York");
}

Test(timezones, a_zone_not_in_the_tz_database_is_refused)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *bad[][2] = {
    {"'Mars/Olympus_Mons'", "\"Mars/Olympus_Mons\" is not a valid choice."},
    {"'../../etc/passwd'", "\"../../etc/passwd\" is not a valid choice."},
    {"'/usr/share/zoneinfo/UTC'", "\"/usr/share/zoneinfo/UTC\" is not a valid choice."},
    {"''", "\"\" is not a valid choice."},
    {"5", "\"5\" is not a valid choice."},
    {"null", "This field may not be null."},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct api_resp *r = api_post(CREATE, olga.access,
                                  api_event_json(api_printf("{'timezone':%s}", bad[i][0])));
    expect_status(r, 400);
    expect_field_errors(r, "timezone", bad[i][1], NULL);
    cr_assert_eq(json_object_size(r->json), 1, "%s", r->body);
  }
  expect_int(api_get("/api/events/?limit=1", NULL), "count", 0);
}

/* The instant DTSTART of the first VEVENT of ics names, as libical reads it
 * with the calendar's own VTIMEZONE; its TZID in *tzid. */
static long long dtstart_of(const char *ics, const char **tzid)
{
  icalcomponent *cal = icalparser_parse_string(ics);
  cr_assert_not_null(cal, "libical cannot read:\n%s", ics);
  icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
  cr_assert_not_null(v);
  icalproperty *p = icalcomponent_get_first_property(v, ICAL_DTSTART_PROPERTY);
  icalparameter *param = p ? icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) : NULL;
  *tzid = param ? api_strdup(icalparameter_get_tzid(param)) : NULL;
  struct icaltimetype start = icalcomponent_get_dtstart(v);
  /* With a TZID, libical finds the zone among the calendar's VTIMEZONEs. */
  cr_assert(*tzid == NULL || start.zone != NULL, "DTSTART's TZID has no VTIMEZONE:\n%s", ics);
  long long seconds = (long long)icaltime_as_timet_with_zone(start, start.zone);
  icalcomponent_free(cal);
  return seconds;
}

Test(timezones, calendar_files_name_the_zone_and_read_back_to_the_instant)
{
  struct api_user olga = api_signup("olga", "organizer");
  const char *cases[][3] = {
    {"{Y}-03-29T08:00:00Z", "Europe/Berlin", "DTSTART;TZID=Europe/Berlin:{Y}0329T090000"},
    {"{Y}-03-31T08:00:00Z", "Europe/Berlin", "DTSTART;TZID=Europe/Berlin:{Y}0331T100000"},
    {"{Y}-03-08T14:00:00Z", "America/New_York",
     "DTSTART;TZID=America/New_York:{Y}0308T090000"},
    {"{Y}-11-02T06:30:00Z", "America/New_York",
     "DTSTART;TZID=America/New_York:{Y}1102T013000"},
    {"{Y}-03-10T13:00:00Z", "UTC", "DTSTART:{Y}0310T130000Z"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct api_resp *e = event_at(olga.access, cases[i][0], cases[i][1]);
    struct api_resp *r = api_get(api_printf("/api/events/%lld/calendar.ics", api_id(e)), NULL);
    expect_status(r, 200);
    cr_assert_not_null(strstr(r->body, api_date(cases[i][2])), "no %s in:\n%s",
                       api_date(cases[i][2]), r->body);
    const char *tzid;
    long long start = dtstart_of(r->body, &tzid);
    cr_assert_eq(start, api_parse_iso_us(api_date(cases[i][0])) / 1000000, "%s in %s:\n%s",
                 cases[i][0], cases[i][1], r->body);
    if (strcmp(cases[i][1], "UTC") == 0) {
      cr_assert_null(tzid);
      cr_assert_null(strstr(r->body, "BEGIN:VTIMEZONE"));
    } else {
      cr_assert_str_eq(tzid, cases[i][1]);
      cr_assert_not_null(strstr(r->body, api_printf("TZID:%s\r\n", cases[i][1])));
    }
  }
  /* The feed of several events carries each zone once. */
  struct api_resp *feed = api_get("/api/events/calendar.ics", NULL);
  expect_status(feed, 200);
  const char *first = strstr(feed->body, "TZID:Europe/Berlin\r\n");
  cr_assert_not_null(first);
  cr_assert_null(strstr(first + 1, "TZID:Europe/Berlin\r\n"), "Berlin's VTIMEZONE twice");
}

/* TIME_ZONE: the zone of a new event that names none. */
static void start_in_lisbon(void)
{
  api_server_start_with((const char *const[]){"TIME_ZONE", "Europe/Lisbon", NULL});
}

TestSuite(time_zone_setting, .init = start_in_lisbon, .fini = api_server_stop);

Test(time_zone_setting, a_new_event_takes_the_servers_zone_unless_it_names_one)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_resp *r = event_at(olga.access, "{Y}-07-01T18:00:00Z", NULL);
  expect_str(r, "timezone", "Europe/Lisbon");
  expect_str(r, "local_date_time", api_date("{Y}-07-01T19:00:00+01:00"));
  expect_str(event_at(olga.access, "{Y}-07-01T18:00:00Z", "UTC"), "timezone", "UTC");
  /* An update that does not name it keeps the event's own. */
  struct api_resp *moved = api_patch(api_printf("/api/events/%lld/update/", api_id(r)),
                                     olga.access, api_json("{'title':'Fado night'}"));
  expect_status(moved, 200);
  expect_str(moved, "timezone", "Europe/Lisbon");
}

Test(time_zone_setting, an_unknown_zone_stops_the_server_at_start)
{
  struct api_command c = api_command((const char *const[]){"migrate", NULL},
                                     (const char *const[]){"TIME_ZONE", "Mars/Base", NULL});
  cr_assert_neq(c.status, 0, "migrate ran with TIME_ZONE=Mars/Base");
  cr_assert_not_null(strstr(c.err, "TIME_ZONE: \"Mars/Base\" is not a zone"), "%s", c.err);
}
