#include "notifications/templates.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "core/timefmt.h"
#include "events/timezone.h"

static const char *const weekdays[] = {
  "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};
static const char *const months[] = {
  "January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December",
};

const char *
notification_time_words(int64_t us, const char *zone, arena_t *arena)
{
  int offset = 0;
  const char *abbrev = "UTC";
  if (zone == NULL || events_timezone_offset(zone, us, &offset, &abbrev) < 0) {
    offset = 0; /* a zone the tz database lost since: UTC says the same instant */
    abbrev = "UTC";
  }
  time_t seconds = (time_t)(us / 1000000 - (us % 1000000 < 0)) + offset;
  struct tm tm;
  if (gmtime_r(&seconds, &tm) == NULL)
    return arena_strdup(arena, "?");
  return arena_printf(arena, "%s %d %s %d, %02d:%02d %s", weekdays[tm.tm_wday], tm.tm_mday,
                      months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, abbrev);
}

/* The instant us as ISO 8601 with the offset of zone ("2026-03-14T09:00:00+01:00"),
 * or in UTC with Z ("2026-03-14T08:00:00Z") for UTC. */
static const char *
local_iso(int64_t us, const char *zone, arena_t *arena)
{
  char local[EVENTS_LOCAL_ISO_MAX];
  if (zone && strcmp(zone, "UTC") != 0 && events_local_iso(us, zone, local) > 0)
    return arena_strdup(arena, local);
  char iso[TIME_ISO_MAX];
  time_format_iso(us, iso);
  return arena_strdup(arena, iso);
}

const char *
notification_offset_words(int64_t seconds, arena_t *arena)
{
  static const struct {
    int64_t seconds;
    const char *one, *many;
    int64_t from; /* use this unit from this many seconds on */
  } units[] = {
    {86400, "day", "days", 2 * 86400},
    {3600, "hour", "hours", 3600},
    {60, "minute", "minutes", 60},
    {1, "second", "seconds", 0},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (seconds >= units[i].from && seconds % units[i].seconds == 0) {
      int64_t n = seconds / units[i].seconds;
      return arena_printf(arena, "%lld %s", (long long)n, n == 1 ? units[i].one : units[i].many);
    }
  }
  return arena_printf(arena, "%lld seconds", (long long)seconds);
}

const char *
notification_html_escape(const char *s, arena_t *arena)
{
  struct strbuf b = {0};
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '&': strbuf_puts(&b, "&amp;"); break;
    case '<': strbuf_puts(&b, "&lt;"); break;
    case '>': strbuf_puts(&b, "&gt;"); break;
    case '"': strbuf_puts(&b, "&quot;"); break;
    case '\'': strbuf_puts(&b, "&#39;"); break;
    default: strbuf_append(&b, p, 1);
    }
  }
  const char *out = b.failed ? NULL : arena_strdup(arena, b.data ? b.data : "");
  strbuf_free(&b);
  return out;
}

/*
 * s on one line: control characters (CR, LF, TAB, ...) become spaces, so a
 * title cannot shape the message around it.
 */
static const char *
one_line(const char *s, arena_t *arena)
{
  char *copy = arena_strdup(arena, s ? s : ""), *out = copy;
  for (const char *p = copy; p && *p; p++) {
    bool control = (unsigned char)*p < 0x20 || *p == 0x7f;
    if (!control)
      *out++ = *p;
    else if (out == copy || out[-1] != ' ')
      *out++ = ' '; /* a run of them ("\r\n") is one space */
  }
  if (out)
    *out = '\0';
  return copy;
}

/* The subject and the one-paragraph message of n. */
static int
words(const struct notification *n, const char *when, arena_t *arena,
      struct notification_text *out)
{
  const char *title = n->event_title, *code = n->ticket_code;
  switch (n->kind) {
  case NOTIFY_CONFIRMED:
    out->subject = arena_printf(arena, "Registration confirmed: %s", title);
    out->message = code
        ? arena_printf(arena, "Your registration for \"%s\" is confirmed. Your ticket code is %s.",
                       title, code)
        : arena_printf(arena, "Your registration for \"%s\" is confirmed.", title);
    break;
  case NOTIFY_WAITLISTED:
    out->subject = arena_printf(arena, "You are on the waitlist: %s", title);
    out->message = arena_printf(arena, "\"%s\" is full, so you are on its waitlist. We will "
                                "write again as soon as a place opens up for you.", title);
    break;
  case NOTIFY_PROMOTED:
    out->subject = arena_printf(arena, "A place opened up: %s", title);
    out->message = arena_printf(arena, "A place opened up: your registration for \"%s\" is now "
                                "confirmed. Your ticket code is %s.", title, code ? code : "-");
    break;
  case NOTIFY_OFFERED: {
    const char *until = notification_time_words(n->offer_expires_at, n->event_timezone, arena);
    out->subject = arena_printf(arena, "A place is held for you: %s", title);
    out->message = arena_printf(arena, "A place opened up at \"%s\" and is held for you until "
                                "%s. Accept it to get your ticket, or decline it to pass it on; "
                                "if you do neither, it goes to the next in line then.",
                                title, until ? until : "?");
    break;
  }
  case NOTIFY_OFFER_EXPIRED: {
    const char *until = notification_time_words(n->offer_expires_at, n->event_timezone, arena);
    out->subject = arena_printf(arena, "Your held place has gone: %s", title);
    out->message = arena_printf(arena, "The place held for you at \"%s\" was not accepted by "
                                "%s, so it went to the next in line and your registration is "
                                "cancelled. You may register again.", title, until ? until : "?");
    break;
  }
  case NOTIFY_EVENT_UPDATED:
    out->subject = arena_printf(arena, "Event updated: %s", title);
    out->message = arena_printf(arena, "\"%s\" has changed: it now takes place on %s at %s.",
                                title, when, n->event_location);
    break;
  case NOTIFY_EVENT_CANCELLED:
    out->subject = arena_printf(arena, "Event cancelled: %s", title);
    out->message = arena_printf(arena, "\"%s\", planned for %s at %s, has been cancelled.",
                                title, when, n->event_location);
    break;
  case NOTIFY_REMINDER: {
    const char *in = notification_offset_words(n->reminder_offset, arena);
    out->subject = arena_printf(arena, "Reminder: %s starts in %s", title, in);
    out->message = arena_printf(arena, "Reminder: \"%s\" starts in %s, on %s at %s.",
                                title, in, when, n->event_location);
    break;
  }
  }
  return out->subject && out->message ? 0 : EVENTAPI_ENOMEM;
}

/* One "label: value" line of the plain text, and one row of the HTML table. */
static void
detail(struct strbuf *text, struct strbuf *html, const char *label, const char *value,
       arena_t *arena)
{
  if (value == NULL) {
    text->failed = html->failed = true;
    return;
  }
  const char *escaped = notification_html_escape(value, arena);
  strbuf_puts(text, label);
  strbuf_puts(text, ": ");
  strbuf_puts(text, value);
  strbuf_puts(text, "\n");
  strbuf_puts(html, "<tr><th align=\"left\">");
  strbuf_puts(html, label);
  strbuf_puts(html, "</th><td>");
  if (escaped == NULL)
    html->failed = true;
  else
    strbuf_puts(html, escaped);
  strbuf_puts(html, "</td></tr>\n");
}

int
notification_render(const struct notification *n, arena_t *arena,
                    struct notification_text *out)
{
  const char *zone = n->event_timezone;
  const char *iso = local_iso(n->event_date_time, zone, arena);
  struct notification flat = *n; /* what goes into one line */
  flat.event_title = one_line(n->event_title, arena);
  flat.event_location = one_line(n->event_location, arena);
  flat.previous_location = n->previous_location ? one_line(n->previous_location, arena) : NULL;
  flat.first_name = one_line(n->first_name, arena);
  flat.username = one_line(n->username, arena);
  if (!flat.event_title || !flat.event_location || !flat.first_name || !flat.username ||
      (n->previous_location && !flat.previous_location))
    return EVENTAPI_ENOMEM;
  n = &flat;
  const char *when = notification_time_words(n->event_date_time, zone, arena);
  memset(out, 0, sizeof *out);
  if (when == NULL || iso == NULL || words(n, when, arena, out) < 0)
    return EVENTAPI_ENOMEM;

  const char *name = n->first_name && n->first_name[0] ? n->first_name
                     : n->username ? n->username : "";
  const char *esc_name = notification_html_escape(name, arena);
  const char *esc_message = notification_html_escape(out->message, arena);
  const char *esc_subject = notification_html_escape(out->subject, arena);
  if (esc_name == NULL || esc_message == NULL || esc_subject == NULL)
    return EVENTAPI_ENOMEM;

  struct strbuf text = {0}, html = {0};
  strbuf_puts(&text, "Hello ");
  strbuf_puts(&text, name);
  strbuf_puts(&text, ",\n\n");
  strbuf_puts(&text, out->message);
  strbuf_puts(&text, "\n\n");
  strbuf_puts(&html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
  strbuf_puts(&html, esc_subject);
  strbuf_puts(&html, "</title></head>\n<body>\n<p>Hello ");
  strbuf_puts(&html, esc_name);
  strbuf_puts(&html, ",</p>\n<p>");
  strbuf_puts(&html, esc_message);
  strbuf_puts(&html, "</p>\n<table>\n");

  detail(&text, &html, "Event", n->event_title, arena);
  detail(&text, &html, "When", arena_printf(arena, "%s (%s)", when, iso), arena);
  detail(&text, &html, "Where", n->event_location, arena);
  if (n->ticket_code && n->kind != NOTIFY_EVENT_CANCELLED)
    detail(&text, &html, "Ticket", n->ticket_code, arena);
  if (n->has_previous) {
    detail(&text, &html, "Was", arena_printf(arena, "%s (%s), %s",
           notification_time_words(n->previous_date_time, zone, arena),
           local_iso(n->previous_date_time, zone, arena),
           n->previous_location ? n->previous_location : ""), arena);
  }
  strbuf_puts(&text, "\nYou receive this email because you registered for this event.\n");
  strbuf_puts(&html, "</table>\n<p><small>You receive this email because you registered for "
                     "this event.</small></p>\n</body></html>\n");

  out->text = text.failed ? NULL : arena_strdup(arena, text.data);
  out->html = html.failed ? NULL : arena_strdup(arena, html.data);
  strbuf_free(&text);
  strbuf_free(&html);
  return out->text && out->html ? 0 : EVENTAPI_ENOMEM;
}
