/*
 * calendar.h - events as RFC 5545 iCalendar (.ics) files, built with
 * libical: one event (GET /api/events/{id}/calendar.ics) and a feed of the
 * same events as the list (GET /api/events/calendar.ics).
 */
#ifndef EVENTAPI_EVENTS_CALENDAR_H
#define EVENTAPI_EVENTS_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "events/models.h"
#include "http/http.h"

#define CALENDAR_CONTENT_TYPE "text/calendar; charset=utf-8"

/*
 * Renders a VCALENDAR (PRODID, VERSION 2.0, CALSCALE GREGORIAN, METHOD
 * PUBLISH, X-WR-CALNAME) holding one VEVENT per event, in the order given:
 * UID "event-<id>@eventapi", DTSTAMP now_us, DTSTART date_time, DTEND the
 * latest session end when later than the start (else start + 1 hour), all
 * in UTC to the second, any year from 1 to 9999 (DTEND at most
 * 9999-12-31T23:59:59Z); SUMMARY, DESCRIPTION (left out when empty), LOCATION, and URL
 * base_url + "/api/events/<id>/" (base_url without a trailing slash).
 *
 * Text is escaped and lines are folded at 75 octets by libical; CR and LF
 * in text become escaped newlines and other control characters are
 * dropped, so no text can add properties. Lines end with CRLF.
 *
 * Returns a NUL-terminated malloc'd buffer the caller frees (or hands to
 * http_reply_bytes), with its length in *len (when len is not NULL); NULL
 * when memory runs out. Safe to call from any thread.
 */
char *events_calendar_render(const struct event *events, size_t count, const char *base_url,
                             int64_t now_us, size_t *len);

/* GET /api/events/<int:id>/calendar.ics: the event, if the caller may see it. */
void events_calendar_one_view(struct http_request *req);

/*
 * GET /api/events/calendar.ics: the events the list would answer for the
 * same query parameters and caller (one page: limit/offset, at most 1000),
 * with X-Total-Count. Invalid parameters are 400 as on the list.
 */
void events_calendar_feed_view(struct http_request *req);

#endif
