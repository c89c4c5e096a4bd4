#include "core/timefmt.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "core/error.h"

#define US_PER_SECOND INT64_C(1000000)
#define SECONDS_PER_DAY INT64_C(86400)

/*
 * Calendar arithmetic on the proleptic Gregorian calendar, in integers only,
 * so that nothing depends on the TZ variable, the locale or mktime. Years are
 * shifted to start in March so that the leap day ends the year; an era is the
 * 400-year cycle of 146097 days.
 */
static int64_t
days_from_civil(int64_t year, int month, int day)
{
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;                       /* 0..399 */
  int64_t month_from_march = month > 2 ? month - 3 : month + 9; /* 0..11 */
  int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
                       day_of_year;
  return era * 146097 + day_of_era - 719468; /* 719468: 0000-03-01 to 1970 */
}

static void
civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097; /* 0..146096 */
  int64_t year_of_era = (day_of_era - day_of_era / 1460 +
                         day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;
  *day = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  *month = (int)(month_from_march < 10 ? month_from_march + 3
                                       : month_from_march - 9);
  *year = year_of_era + era * 400 + (*month <= 2);
}

static bool
is_leap(int year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

static int64_t
clock_us(clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * US_PER_SECOND + ts.tv_nsec / 1000;
}

/* The test clock (timefmt.h): an offset, or a frozen instant when non-zero. */
static _Atomic int64_t test_offset_us;
static _Atomic int64_t test_frozen_us;

int64_t
time_now_us(void)
{
  int64_t frozen = atomic_load_explicit(&test_frozen_us, memory_order_relaxed);
  if (frozen != 0)
    return frozen;
  return clock_us(CLOCK_REALTIME) + atomic_load_explicit(&test_offset_us, memory_order_relaxed);
}

void
time_test_shift(int64_t offset_us)
{
  atomic_store(&test_offset_us, offset_us);
}

void
time_test_freeze(int64_t now_us)
{
  atomic_store(&test_frozen_us, now_us);
}

int64_t
time_monotonic_us(void)
{
  return clock_us(CLOCK_MONOTONIC);
}

size_t
time_format_iso(int64_t us, char out[TIME_ISO_MAX])
{
  /* Floor division, so that times before 1970 count down from the day's end. */
  int64_t seconds = us / US_PER_SECOND, fraction = us % US_PER_SECOND;
  if (fraction < 0) {
    fraction += US_PER_SECOND;
    seconds--;
  }
  int64_t days = seconds / SECONDS_PER_DAY, of_day = seconds % SECONDS_PER_DAY;
  if (of_day < 0) {
    of_day += SECONDS_PER_DAY;
    days--;
  }
  int64_t year;
  int month, day;
  civil_from_days(days, &year, &month, &day);

  int hour = (int)(of_day / 3600), minute = (int)(of_day / 60 % 60),
      second = (int)(of_day % 60);
  int len;
  if (fraction)
    len = snprintf(out, TIME_ISO_MAX,
                   "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
                   year, month, day, hour, minute, second, fraction);
  else
    len = snprintf(out, TIME_ISO_MAX, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ",
                   year, month, day, hour, minute, second);
  return (size_t)len;
}

/* Reads exactly count ASCII digits at *p into *value and advances *p. */
static bool
read_digits(const char **p, int count, int *value)
{
  int n = 0;
  for (int i = 0; i < count; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9')
      return false;
    n = n * 10 + (c - '0');
  }
  *p += count;
  *value = n;
  return true;
}

/* Reads YYYY-MM-DD at *p, a real date of years 1 to 9999, as days since 1970. */
static bool
read_date(const char **p, int64_t *days)
{
  int year, month, day;
  if (!read_digits(p, 4, &year) || *(*p)++ != '-' ||
      !read_digits(p, 2, &month) || *(*p)++ != '-' ||
      !read_digits(p, 2, &day))
    return false;
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month))
    return false;
  *days = days_from_civil(year, month, day);
  return true;
}

int
time_parse_iso(const char *s, int64_t *us)
{
  const char *p = s;
  int64_t days;
  int hour, minute, second = 0, fraction = 0;
  if (!read_date(&p, &days) || (*p != 'T' && *p != ' '))
    return EVENTAPI_EINVAL;
  p++;
  if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &minute))
    return EVENTAPI_EINVAL;
  if (*p == ':') {
    p++;
    if (!read_digits(&p, 2, &second))
      return EVENTAPI_EINVAL;
    if (*p == '.') {
      p++;
      if (*p < '0' || *p > '9')
        return EVENTAPI_EINVAL;
      /* Microseconds: the first six digits, padded; the rest are dropped. */
      for (int scale = 100000; *p >= '0' && *p <= '9'; p++, scale /= 10)
        fraction += (*p - '0') * scale;
    }
  }
  if (hour > 23 || minute > 59 || second > 59)
    return EVENTAPI_EINVAL;

  int offset = 0; /* seconds east of UTC */
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1, offset_hour, offset_minute = 0;
    if (!read_digits(&p, 2, &offset_hour))
      return EVENTAPI_EINVAL;
    if (*p == ':') {
      p++;
      if (!read_digits(&p, 2, &offset_minute))
        return EVENTAPI_EINVAL;
    } else if (*p != '\0' && !read_digits(&p, 2, &offset_minute)) {
      return EVENTAPI_EINVAL;
    }
    if (offset_hour > 23 || offset_minute > 59)
      return EVENTAPI_EINVAL;
    offset = sign * (offset_hour * 3600 + offset_minute * 60);
  }
  if (*p != '\0')
    return EVENTAPI_EINVAL;

  int64_t seconds = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 +
                    second - offset;
  /* In UTC the instant must still lie in years 1..9999 (Python's range). */
  if (seconds < days_from_civil(1, 1, 1) * SECONDS_PER_DAY ||
      seconds >= days_from_civil(10000, 1, 1) * SECONDS_PER_DAY)
    return EVENTAPI_EINVAL;
  *us = seconds * US_PER_SECOND + fraction;
  return 0;
}

int
time_parse_date(const char *s, int64_t *us)
{
  const char *p = s;
  int64_t days;
  if (!read_date(&p, &days) || *p != '\0')
    return EVENTAPI_EINVAL;
  *us = days * SECONDS_PER_DAY * US_PER_SECOND;
  return 0;
}
