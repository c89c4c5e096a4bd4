/*
 * calendar.c - events as iCalendar files (libical) and the two views that
 * serve them.
 *
 * libical builds the components, escapes TEXT values (\\ \; \, \n) and
 * folds long lines; this file only makes sure what it hands libical is
 * text RFC 5545 allows (no control characters but tab and newline).
 */
#include "events/calendar.h"

#include <libical/ical.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "events/filters.h"
#include "events/permissions.h"
#include "events/timezone.h"
#include "shortcuts/database.h"
#include "shortcuts/reply.h"

#define US_PER_SECOND INT64_C(1000000)
#define DEFAULT_DURATION_US (3600 * US_PER_SECOND) /* an event without sessions */
#define LAST_SECOND INT64_C(253402300799)             /* 9999-12-31T23:59:59Z */

/*
 * A copy of s fit for a TEXT value: CRLF and lone CR become LF (libical
 * escapes it as \n), other control characters are dropped, and when s is
 * not well-formed UTF-8 every non-ASCII byte becomes '?'. malloc'd; NULL
 * when memory runs out.
 */
static char *
clean_text(const char *s)
{
  size_t len = strlen(s);
  bool utf8 = text_valid_utf8(s, len);
  char *out = malloc(len + 1);
  if (out == NULL)
    return NULL;
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\r') {
      out[n++] = '\n';
      if (s[i + 1] == '\n')
        i++;
    } else if (c == '\n' || c == '\t') {
      out[n++] = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      continue;
    } else if (c >= 0x80 && !utf8) {
      out[n++] = '?';
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = '\0';
  return out;
}

/* Adds p to c; false when p is NULL (libical ran out of memory). */
static bool
add(icalcomponent *c, icalproperty *p)
{
  if (p == NULL)
    return false;
  icalcomponent_add_property(c, p);
  return true;
}

/* A TEXT property made by make from a cleaned copy of text. */
static bool
add_text(icalcomponent *c, icalproperty *(*make)(const char *), const char *text)
{
  char *clean = clean_text(text ? text : "");
  if (clean == NULL)
    return false;
  bool ok = add(c, make(clean));
  free(clean);
  return ok;
}

/*
 * A DATE-TIME property of kind in UTC for microseconds us, to the second
 * (rounded down), at most 9999-12-31T23:59:59Z. Made from its text:
 * libical's struct-based constructors refuse years after 3000 (they write
 * 00000000T000000), while RFC 5545, like Python, allows four-digit years.
 */
static icalproperty *
date_time(icalproperty_kind kind, int64_t us, bool utc)
{
  int64_t seconds = us / US_PER_SECOND - (us % US_PER_SECOND < 0);
  if (seconds > LAST_SECOND)
    seconds = LAST_SECOND;
  char iso[TIME_ISO_MAX], text[TIME_ISO_MAX];
  time_format_iso(seconds * US_PER_SECOND, iso); /* 2030-01-01T10:00:00Z */
  size_t n = 0;
  for (const char *p = iso; *p; p++)
    if (*p != '-' && *p != ':')
      text[n++] = *p;
  if (!utc && n > 0 && text[n - 1] == 'Z')
    n--;                                          /* a local time: 20300101T100000 */
  text[n] = '\0';                                 /* 20300101T100000Z */
  icalvalue *value = icalvalue_new_from_string(ICAL_DATETIME_VALUE, text);
  icalproperty *property = value ? icalproperty_new(kind) : NULL;
  if (property == NULL) {
    if (value)
      icalvalue_free(value);
    return NULL;
  }
  icalproperty_set_value(property, value);
  return property;
}

static icalproperty *
utc_time(icalproperty_kind kind, int64_t us)
{
  return date_time(kind, us, true);
}

/*
 * A DATE-TIME property of kind for us as the clocks of zone read it, with
 * TZID=zone (its VTIMEZONE goes into the calendar, events_calendar_render);
 * in UTC for the zone UTC.
 */
static icalproperty *
zoned_time(icalproperty_kind kind, int64_t us, const char *zone)
{
  int offset;
  if (zone == NULL || strcmp(zone, "UTC") == 0 ||
      events_timezone_offset(zone, us, &offset, NULL) < 0)
    return utc_time(kind, us);
  icalproperty *property = date_time(kind, us + (int64_t)offset * US_PER_SECOND, false);
  if (property == NULL)
    return NULL;
  icalparameter *tzid = icalparameter_new_tzid(zone);
  if (tzid == NULL) {
    icalproperty_free(property);
    return NULL;
  }
  icalproperty_add_parameter(property, tzid);
  return property;
}

/* When e ends: its latest session's end if later than its start, else an hour after. */
static int64_t
event_end(const struct event *e)
{
  int64_t end = e->date_time;
  for (size_t i = 0; i < e->nsessions; i++)
    if (e->sessions[i].end_time > end)
      end = e->sessions[i].end_time;
  return end > e->date_time ? end : e->date_time + DEFAULT_DURATION_US;
}

static bool
has_control(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

static icalcomponent *
vevent(const struct event *e, const char *base_url, int64_t now_us)
{
  icalcomponent *v = icalcomponent_new(ICAL_VEVENT_COMPONENT);
  if (v == NULL)
    return NULL;
  char uid[64];
  snprintf(uid, sizeof uid, "event-%lld@eventapi", (long long)e->id);
  bool ok = add(v, icalproperty_new_uid(uid)) &&
            add(v, utc_time(ICAL_DTSTAMP_PROPERTY, now_us)) &&
            add(v, zoned_time(ICAL_DTSTART_PROPERTY, e->date_time, e->timezone)) &&
            add(v, zoned_time(ICAL_DTEND_PROPERTY, event_end(e), e->timezone)) &&
            add_text(v, icalproperty_new_summary, e->title) &&
            (e->description == NULL || e->description[0] == '\0' ||
             add_text(v, icalproperty_new_description, e->description)) &&
            add_text(v, icalproperty_new_location, e->location);
  if (ok && base_url) {
    /* A URI is not escaped by libical: one with control characters is left out. */
    size_t size = strlen(base_url) + 48;
    char *url = malloc(size);
    ok = url != NULL;
    if (ok) {
      snprintf(url, size, "%s/api/events/%lld/", base_url, (long long)e->id);
      if (!has_control(url))
        ok = add(v, icalproperty_new_url(url));
      free(url);
    }
  }
  if (!ok) {
    icalcomponent_free(v);
    return NULL;
  }
  return v;
}

static icalcomponent *
vcalendar(void)
{
  icalcomponent *cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  if (cal == NULL)
    return NULL;
  icalproperty *name = icalproperty_new_x("eventapi");
  if (name)
    icalproperty_set_x_name(name, "X-WR-CALNAME");
  if (add(cal, icalproperty_new_prodid("-//eventapi//eventapi//EN")) &&
      add(cal, icalproperty_new_version("2.0")) &&
      add(cal, icalproperty_new_calscale("GREGORIAN")) &&
      add(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH)) &&
      add(cal, name))
    return cal;
  icalcomponent_free(cal);
  return NULL;
}

char *
events_calendar_render(const struct event *events, size_t count, const char *base_url,
                       int64_t now_us, size_t *len)
{
  icalcomponent *cal = vcalendar();
  if (cal == NULL)
    return NULL;
  /* A VTIMEZONE for each zone the events name (RFC 5545 3.6.5), once. */
  for (size_t i = 0; i < count; i++) {
    const char *zone = events[i].timezone;
    bool seen = zone == NULL || strcmp(zone, "UTC") == 0;
    for (size_t j = 0; !seen && j < i; j++)
      seen = events[j].timezone && strcmp(events[j].timezone, zone) == 0;
    icalcomponent *vtimezone = seen ? NULL : events_timezone_vtimezone(zone);
    if (vtimezone)
      icalcomponent_add_component(cal, vtimezone);
  }
  for (size_t i = 0; i < count; i++) {
    icalcomponent *v = vevent(&events[i], base_url, now_us);
    if (v == NULL) {
      icalcomponent_free(cal);
      return NULL;
    }
    icalcomponent_add_component(cal, v);
  }
  char *text = icalcomponent_as_ical_string_r(cal);
  icalcomponent_free(cal);
  if (text == NULL)
    return NULL;
  /* Copied so that the caller frees with free(), whatever libical's allocator. */
  size_t length = strlen(text);
  char *out = malloc(length + 1);
  if (out)
    memcpy(out, text, length + 1);
  icalmemory_free_buffer(text);
  if (out && len)
    *len = length;
  return out;
}

/* ---- views ---- */

/* Answers 200 with the calendar of events as an attachment named filename. */
static void
reply_calendar(struct http_request *req, const struct event *events, size_t count,
               const char *filename)
{
  const char *disposition =
      arena_printf(&req->arena, "attachment; filename=\"%s\"", filename);
  size_t len = 0;
  char *ics = disposition
                  ? events_calendar_render(events, count, http_base_url(req), time_now_us(), &len)
                  : NULL;
  if (ics == NULL) {
    http_reply_internal(req, "calendar: out of memory");
    return;
  }
  http_add_header(req, "Content-Disposition", disposition);
  http_reply_bytes(req, 200, CALENDAR_CONTENT_TYPE, ics, len);
}

void
events_calendar_one_view(struct http_request *req)
{
  struct event e;
  if (!event_visible_or_404(req, req->ids[0], &e))
    return;
  char filename[48];
  snprintf(filename, sizeof filename, "event-%lld.ics", (long long)e.id);
  reply_calendar(req, &e, 1, filename);
}

void
events_calendar_feed_view(struct http_request *req)
{
  db_t *db = database_or_reply(req);
  json_t *errors = db ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  struct event_filter f;
  events_filter_parse(req, &f, errors);
  struct event *list = NULL;
  size_t count = 0;
  int64_t total = 0;
  if (!valid_or_400(req, errors) ||
      !ok_or_reply(req, events_list(db, &f, req->user, &req->arena, &list, &count, &total),
                   NULL, NULL))
    return;
  /* API.md: X-Total-Count gives the full count, as on the list. */
  const char *total_text = arena_printf(&req->arena, "%lld", (long long)total);
  if (total_text == NULL) {
    http_reply_internal(req, "calendar: out of memory");
    return;
  }
  http_add_header(req, "X-Total-Count", total_text);
  reply_calendar(req, list, count, "events.ics");
}
