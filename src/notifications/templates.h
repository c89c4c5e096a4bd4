/*
 * templates.h - the words of every notification: the subject, the one-line
 * in-app message, and the email's plain-text and HTML bodies.
 *
 * Each names the event's title, its time (in words and as ISO 8601, in the
 * event's zone: the clocks there, with the zone's abbreviation or offset),
 * its location and, when there is one, the ticket code. Values are copied
 * as they are into the subject and the text (the message builder keeps
 * headers safe) and HTML-escaped into the HTML.
 */
#ifndef EVENTAPI_NOTIFICATIONS_TEMPLATES_H
#define EVENTAPI_NOTIFICATIONS_TEMPLATES_H

#include "core/arena.h"
#include "notifications/models.h"

struct notification_text {
  const char *subject;
  const char *message; /* one paragraph: the in-app text */
  const char *text;    /* the email, plain text, "\n" line ends */
  const char *html;    /* the email, HTML */
};

/* Renders n into arena memory. Returns 0 or EVENTAPI_ENOMEM. */
int notification_render(const struct notification *n, arena_t *arena,
                        struct notification_text *out);

/* "24 hours", "3 hours", "1 hour", "30 minutes", "2 days", "45 seconds". */
const char *notification_offset_words(int64_t seconds, arena_t *arena);

/*
 * The instant us as the clocks of zone (an IANA name; NULL or unknown: UTC)
 * read it, with the zone's abbreviation then: "Saturday 14 March 2026,
 * 09:00 CET", "Sunday 14 March 2027, 19:00 UTC" (no locale involved).
 */
const char *notification_time_words(int64_t us, const char *zone, arena_t *arena);

/* s with & < > " ' escaped for HTML. */
const char *notification_html_escape(const char *s, arena_t *arena);

#endif
