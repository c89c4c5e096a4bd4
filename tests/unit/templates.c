/*
 * templates.c - the words of the notifications: times and offsets in
 * words, HTML escaping, and what each kind says.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/arena.h"
#include "notifications/templates.h"

static arena_t arena;

static void teardown(void) { arena_free(&arena); }

TestSuite(templates, .fini = teardown);

Test(templates, offsets_in_words)
{
  cr_assert_str_eq(notification_offset_words(86400, &arena), "24 hours");
  cr_assert_str_eq(notification_offset_words(3 * 3600, &arena), "3 hours");
  cr_assert_str_eq(notification_offset_words(3600, &arena), "1 hour");
  cr_assert_str_eq(notification_offset_words(2 * 86400, &arena), "2 days");
  cr_assert_str_eq(notification_offset_words(1800, &arena), "30 minutes");
  cr_assert_str_eq(notification_offset_words(60, &arena), "1 minute");
  cr_assert_str_eq(notification_offset_words(90, &arena), "90 seconds");
}

Test(templates, times_in_words)
{
  /* 2025-05-01T18:00:00Z was a Thursday; 1969-12-31T23:59:59Z a Wednesday. */
  cr_assert_str_eq(notification_time_words(1746122400LL * 1000000, "UTC", &arena),
                   "Thursday 1 May 2025, 18:00 UTC");
  cr_assert_str_eq(notification_time_words(-1000000, NULL, &arena),
                   "Wednesday 31 December 1969, 23:59 UTC");
  /* Every year DRF accepts, as the calendar and the JSON write them. */
  cr_assert_str_eq(notification_time_words(32549508000LL * 1000000, "UTC", &arena),
                   "Monday 15 June 3001, 10:00 UTC");
  cr_assert_str_eq(notification_time_words(253402299000LL * 1000000, "UTC", &arena),
                   "Friday 31 December 9999, 23:30 UTC");
}

Test(templates, times_in_the_events_zone)
{
  /* 2026-03-14T08:00:00Z: Berlin is on winter time (CET, +01:00); New York
   * moved to summer time on 8 March (EDT, -04:00). A week before, it was
   * still on EST (-05:00). On 1 May 2025 Berlin was on CEST (+02:00). */
  int64_t saturday = 1773475200LL * 1000000, week_before = 1772892000LL * 1000000;
  cr_assert_str_eq(notification_time_words(saturday, "Europe/Berlin", &arena),
                   "Saturday 14 March 2026, 09:00 CET");
  cr_assert_str_eq(notification_time_words(saturday, "America/New_York", &arena),
                   "Saturday 14 March 2026, 04:00 EDT");
  cr_assert_str_eq(notification_time_words(week_before, "America/New_York", &arena),
                   "Saturday 7 March 2026, 09:00 EST");
  cr_assert_str_eq(notification_time_words(1746122400LL * 1000000, "Europe/Berlin", &arena),
                   "Thursday 1 May 2025, 20:00 CEST");
  /* A name the tz database does not know (any more) states the instant in UTC. */
  cr_assert_str_eq(notification_time_words(saturday, "Mars/Olympus_Mons", &arena),
                   "Saturday 14 March 2026, 08:00 UTC");
}

Test(templates, html_escape)
{
  cr_assert_str_eq(notification_html_escape("<a href=\"x\">O'Neil & co</a>", &arena),
                   "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;");
  cr_assert_str_eq(notification_html_escape("", &arena), "");
}

static struct notification sample(enum notification_kind kind)
{
  return (struct notification){
    .kind = kind, .event_title = "Jazz\r\nNight <live>", .event_location = "Berlin",
    .event_date_time = 1746122400LL * 1000000, .ticket_code = "abc-123",
    .reminder_offset = 3 * 3600, .username = "ann", .first_name = "", .last_name = "",
  };
}

Test(templates, every_kind_names_the_event_time_and_place)
{
  static const struct {
    enum notification_kind kind;
    const char *subject;
    bool code;
  } kinds[] = {
    {NOTIFY_CONFIRMED, "Registration confirmed: Jazz Night <live>", true},
    {NOTIFY_WAITLISTED, "You are on the waitlist: Jazz Night <live>", false},
    {NOTIFY_PROMOTED, "A place opened up: Jazz Night <live>", true},
    {NOTIFY_EVENT_UPDATED, "Event updated: Jazz Night <live>", true},
    {NOTIFY_EVENT_CANCELLED, "Event cancelled: Jazz Night <live>", false},
    {NOTIFY_REMINDER, "Reminder: Jazz Night <live> starts in 3 hours", true},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    struct notification n = sample(kinds[i].kind);
    if (!kinds[i].code && kinds[i].kind == NOTIFY_WAITLISTED)
      n.ticket_code = NULL;
    struct notification_text t;
    cr_assert_eq(notification_render(&n, &arena, &t), 0);
    cr_assert_str_eq(t.subject, kinds[i].subject);
    cr_assert(strstr(t.text, "Hello ann,") != NULL, "%s", t.text);
    cr_assert(strstr(t.text, "2025-05-01T18:00:00Z") != NULL, "%s", t.text);
    cr_assert(strstr(t.text, "Thursday 1 May 2025, 18:00 UTC") != NULL, "%s", t.text);
    cr_assert(strstr(t.text, "Where: Berlin") != NULL, "%s", t.text);
    cr_assert_eq(strstr(t.text, "abc-123") != NULL, kinds[i].code, "%s", t.text);
    cr_assert(strstr(t.html, "Jazz Night &lt;live&gt;") != NULL, "%s", t.html);
    cr_assert(strstr(t.html, "<live>") == NULL, "unescaped in HTML: %s", t.html);
    cr_assert(strchr(t.message, '\n') == NULL && strchr(t.subject, '\r') == NULL);
  }
}

Test(templates, an_update_says_what_it_was)
{
  struct notification n = sample(NOTIFY_EVENT_UPDATED);
  n.has_previous = true;
  n.previous_date_time = 1746036000LL * 1000000; /* a day earlier */
  n.previous_location = "Paris";
  struct notification_text t;
  cr_assert_eq(notification_render(&n, &arena, &t), 0);
  cr_assert(strstr(t.text, "Was: Wednesday 30 April 2025, 18:00 UTC (2025-04-30T18:00:00Z), "
                           "Paris") != NULL, "%s", t.text);
  n.first_name = "Ann";
  cr_assert_eq(notification_render(&n, &arena, &t), 0);
  cr_assert(strstr(t.text, "Hello Ann,") != NULL, "the first name when there is one");
}
