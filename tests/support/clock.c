/*
 * clock.c - the test clock (the server's time_now_us(), moved by the test)
 * and the tests' dates, built from it.
 */
#include "support/api.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"

#define US_PER_SECOND 1000000LL

/* How far the test has moved the clock; reset when the server stops. */
static long long shifted_us;

long long api_now_us(void)
{
  return (long long)time_now_us();
}

long long api_now(void)
{
  long long us = api_now_us();
  return us / US_PER_SECOND - (us % US_PER_SECOND < 0);
}

void api_clock_advance(long long seconds)
{
  cr_assert(seconds >= 0, "the test clock only moves forward (%lld s)", seconds);
  shifted_us += seconds * US_PER_SECOND;
  time_test_shift(shifted_us);
}

void api_clock_reset(void)
{
  shifted_us = 0;
  time_test_shift(0);
  time_test_freeze(0);
}

void api_pause_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

const char *api_iso_from_now(long long seconds)
{
  time_t when = (time_t)(api_now() + seconds);
  struct tm tm;
  cr_assert(gmtime_r(&when, &tm) != NULL, "gmtime_r");
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return api_strdup(text);
}

/* Whether year is a common year that begins on a Wednesday: the calendar
 * the tests' dates were written against. libc's calendar, not the server's. */
static bool is_the_tests_calendar(int year)
{
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  struct tm jan1 = { .tm_year = year - 1900, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12 };
  time_t t = timegm(&jan1);
  struct tm back;
  return !leap && gmtime_r(&t, &back) != NULL && back.tm_wday == 3;
}

int api_year(void)
{
  static int year;
  if (year == 0) {
    time_t now = (time_t)api_now();
    struct tm tm;
    cr_assert(gmtime_r(&now, &tm) != NULL, "gmtime_r");
    /* Two years ahead: every date of that year is in the future, and a
     * test may move the clock by days without reaching it. Calendars
     * repeat within 28 years (40 across a century's common year). */
    int candidate = tm.tm_year + 1900 + 2;
    while (!is_the_tests_calendar(candidate))
      candidate++;
    year = candidate;
  }
  return year;
}

const char *api_date(const char *text)
{
  size_t len = strlen(text);
  char *out = malloc(2 * len + 1); /* "{Y}" (3 bytes) becomes 4 digits */
  cr_assert(out != NULL);
  char *o = out;
  for (const char *p = text; *p;) {
    if (p[0] == '{' && p[1] == 'Y') {
      const char *q = p + 2;
      long delta = 0;
      if (*q == '+' || *q == '-') {
        char *end;
        delta = strtol(q, &end, 10);
        q = end;
      }
      if (*q == '}' && delta > -2 && delta < 10) {
        o += sprintf(o, "%04d", api_year() + (int)delta);
        p = q + 1;
        continue;
      }
    }
    *o++ = *p++;
  }
  *o = '\0';
  api_keep(out, free);
  return out;
}

long long api_parse_iso_us(const char *text)
{
  int year, month, day, hour, minute, second, consumed = 0;
  cr_assert(text != NULL, "expected a timestamp, got none");
  int n = sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                 &second, &consumed);
  cr_assert(n == 6 && consumed == 19, "not an ISO 8601 timestamp: %s", text);
  long long fraction = 0;
  const char *p = text + 19;
  if (*p == '.') {
    int digits = 0;
    for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
      fraction = fraction * 10 + (*p - '0');
    cr_assert(digits > 0, "an empty fraction in %s", text);
    for (; digits < 6; digits++)
      fraction *= 10;
  }
  cr_assert(strcmp(p, "Z") == 0, "not UTC with Z: %s", text);
  struct tm tm = { .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
                   .tm_hour = hour, .tm_min = minute, .tm_sec = second };
  return (long long)timegm(&tm) * US_PER_SECOND + fraction;
}
