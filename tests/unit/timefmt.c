/*
 * Unit tests for core/timefmt: ISO 8601 formatting and parsing, and clocks.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/timefmt.h"

#define US INT64_C(1000000)
#define DAY (86400 * US)

static void
expect_format(int64_t us, const char *expected)
{
  char out[TIME_ISO_MAX];
  size_t len = time_format_iso(us, out);
  cr_assert_str_eq(out, expected, "%lld", (long long)us);
  cr_assert_eq(len, strlen(expected));
}

static void
expect_parse(const char *text, int64_t expected)
{
  int64_t us = -1;
  int rc = time_parse_iso(text, &us);
  cr_assert_eq(rc, 0, "\"%s\" refused", text);
  cr_assert_eq(us, expected, "\"%s\": %lld, not %lld", text, (long long)us,
               (long long)expected);
}

static void
expect_bad(const char *text)
{
  int64_t us = 42;
  cr_assert_eq(time_parse_iso(text, &us), EVENTAPI_EINVAL, "\"%s\" accepted",
               text);
  cr_assert_eq(us, 42, "\"%s\" changed the output", text);
}

Test(timefmt, format_epoch_and_fractions)
{
  expect_format(0, "1970-01-01T00:00:00Z");
  expect_format(1, "1970-01-01T00:00:00.000001Z");
  expect_format(1757249931 * US + 68830, "2025-09-07T12:58:51.068830Z");
  expect_format(1757249931 * US, "2025-09-07T12:58:51Z");
  expect_format(999999, "1970-01-01T00:00:00.999999Z");
}

Test(timefmt, format_before_the_epoch)
{
  expect_format(-1, "1969-12-31T23:59:59.999999Z");
  expect_format(-US, "1969-12-31T23:59:59Z");
  expect_format(-DAY, "1969-12-31T00:00:00Z");
  expect_format(-62135596800 * US, "0001-01-01T00:00:00Z");
}

Test(timefmt, format_leap_years)
{
  expect_format(951782400 * US, "2000-02-29T00:00:00Z");   /* 400-year rule */
  expect_format(951868800 * US, "2000-03-01T00:00:00Z");
  expect_format(4107542400 * US, "2100-03-01T00:00:00Z");  /* no Feb 29 */
  expect_format(1709164800 * US, "2024-02-29T00:00:00Z");
  expect_format(1735603200 * US, "2024-12-31T00:00:00Z");  /* day 366 */
  expect_format(253402300799 * US, "9999-12-31T23:59:59Z");
}

/* Every day for 50 years agrees with glibc's gmtime_r. */
Test(timefmt, format_agrees_with_gmtime)
{
  for (time_t t = 946684800 - 25 * 365 * 86400; t < 946684800 + 25 * 365 * 86400;
       t += 86400 + 3661) {
    struct tm tm;
    gmtime_r(&t, &tm);
    char expected[64], out[TIME_ISO_MAX];
    strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%SZ", &tm);
    time_format_iso((int64_t)t * US, out);
    cr_assert_str_eq(out, expected);
  }
}

Test(timefmt, parse_utc_forms)
{
  int64_t base = 1757249931 * US; /* 2025-09-07T12:58:51Z */
  expect_parse("2025-09-07T12:58:51Z", base);
  expect_parse("2025-09-07T12:58:51", base);
  expect_parse("2025-09-07 12:58:51", base);
  expect_parse("2025-09-07T12:58:51+00:00", base);
  expect_parse("2025-09-07T12:58:51-00:00", base);
  expect_parse("2025-09-07T12:58Z", base - 51 * US);
  expect_parse("2025-09-07T12:58", base - 51 * US);
  expect_parse("1970-01-01T00:00:00Z", 0);
}

Test(timefmt, parse_offsets)
{
  int64_t base = 1757249931 * US;
  expect_parse("2025-09-07T14:58:51+02:00", base);
  expect_parse("2025-09-07T14:58:51+0200", base);
  expect_parse("2025-09-07T14:58:51+02", base);
  expect_parse("2025-09-07T07:28:51-05:30", base);
  expect_parse("2025-09-07T07:28:51-0530", base);
  expect_parse("2025-09-08T01:58:51+13:00", base);
  expect_parse("2025-09-07T14:58+02:00", base - 51 * US);
  /* Crossing into the previous year. */
  expect_parse("2025-01-01T00:30:00+01:00", 1735687800 * US);
}

Test(timefmt, parse_fractions_of_one_to_nine_digits)
{
  int64_t base = 1757249931 * US;
  static const struct {
    const char *text;
    int64_t us;
  } cases[] = {
    {"2025-09-07T12:58:51.1Z", 100000},
    {"2025-09-07T12:58:51.06Z", 60000},
    {"2025-09-07T12:58:51.068Z", 68000},
    {"2025-09-07T12:58:51.0688Z", 68800},
    {"2025-09-07T12:58:51.06883Z", 68830},
    {"2025-09-07T12:58:51.068830Z", 68830},
    {"2025-09-07T12:58:51.0688309Z", 68830},
    {"2025-09-07T12:58:51.06883099Z", 68830},
    {"2025-09-07T12:58:51.068830999", 68830},
    {"2025-09-07T12:58:51.000001+00:00", 1},
    {"2025-09-07 12:58:51.5", 500000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_parse(cases[i].text, base + cases[i].us);
}

Test(timefmt, parse_leap_days)
{
  expect_parse("2024-02-29T00:00:00Z", 1709164800 * US);
  expect_parse("2000-02-29T00:00:00Z", 951782400 * US);
  expect_bad("2023-02-29T00:00:00Z");
  expect_bad("2100-02-29T00:00:00Z");
  expect_bad("1900-02-29T00:00:00Z");
}

Test(timefmt, parse_extremes)
{
  expect_parse("0001-01-01T00:00:00Z", -62135596800 * US);
  expect_parse("9999-12-31T23:59:59.999999Z", 253402300799 * US + 999999);
  expect_bad("0000-12-31T00:00:00Z");
}

Test(timefmt, parse_refuses_bad_input)
{
  static const char *const bad[] = {
    "", "yesterday", "2025", "2025-09", "2025-09-07", "2025-09-07T",
    "2025-02-30T00:00", "2025-04-31T00:00", "2025-13-01T00:00",
    "2025-00-10T00:00", "2025-01-00T00:00", "2025-01-32T00:00",
    "2025-09-07T24:00", "2025-09-07T12:60", "2025-09-07T12:00:60",
    "2025-09-07T12", "2025-09-07T1:00", "2025-09-07T12:0",
    "2025-09-07T12:00:5", "25-09-07T12:00", "2025-9-7T12:00",
    "2025/09/07T12:00", "2025-09-07t12:00", "2025-09-07X12:00",
    "2025-09-07T12:00:00.", "2025-09-07T12:00.5", "2025-09-07T12:00:00,5",
    "2025-09-07T12:00:00Zjunk", "2025-09-07T12:00:00 ", " 2025-09-07T12:00",
    "2025-09-07T12:00:00z", "2025-09-07T12:00:00+2", "2025-09-07T12:00:00+02:0",
    "2025-09-07T12:00:00+02:", "2025-09-07T12:00:00+020", "2025-09-07T12:00:00+24:00",
    "2025-09-07T12:00:00+02:60", "2025-09-07T12:00:00+", "2025-09-07T12:00:00 +02:00",
    "2025-09-07T12:00:00Z+02:00", "+2025-09-07T12:00", "-2025-09-07T12:00",
    "2025-09-07T12:00:00.123abc", "２０２５-09-07T12:00",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_bad(bad[i]);
}

Test(timefmt, round_trip)
{
  static const int64_t samples[] = {
    0, 1, 999999, 1757249931 * INT64_C(1000000) + 68830,
    -62135596800 * INT64_C(1000000), 253402300799 * INT64_C(1000000) + 999999,
    951782400 * INT64_C(1000000) + 500000, -1,
  };
  for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
    char text[TIME_ISO_MAX];
    time_format_iso(samples[i], text);
    expect_parse(text, samples[i]);
  }
  /* And a spread of pseudo-random instants over years 1..9999. */
  uint64_t state = 88172645463325252u;
  for (int i = 0; i < 10000; i++) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    int64_t us = -62135596800 * US +
                 (int64_t)(state % (uint64_t)(315537897600 * US));
    char text[TIME_ISO_MAX];
    time_format_iso(us, text);
    expect_parse(text, us);
  }
}

Test(timefmt, parse_date)
{
  int64_t us = -1;
  cr_assert_eq(time_parse_date("2025-09-07", &us), 0);
  cr_assert_eq(us, 1757203200 * US);
  cr_assert_eq(time_parse_date("1970-01-01", &us), 0);
  cr_assert_eq(us, 0);
  cr_assert_eq(time_parse_date("2024-02-29", &us), 0);
  cr_assert_eq(us, 1709164800 * US);

  static const char *const bad[] = {
    "", "2025-02-29", "2025-13-01", "2025-09-07T00:00", "2025-09-07 ",
    "2025-9-7", "today", "0000-01-01",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    us = 42;
    cr_assert_eq(time_parse_date(bad[i], &us), EVENTAPI_EINVAL, "\"%s\"",
                 bad[i]);
    cr_assert_eq(us, 42);
  }
}

Test(timefmt, clocks)
{
  /* time_now_us() reads CLOCK_REALTIME: between two readings of it. */
  struct timespec before, after;
  clock_gettime(CLOCK_REALTIME, &before);
  int64_t now = time_now_us();
  clock_gettime(CLOCK_REALTIME, &after);
  cr_assert_geq(now, (int64_t)before.tv_sec * US + before.tv_nsec / 1000);
  cr_assert_leq(now, (int64_t)after.tv_sec * US + after.tv_nsec / 1000);

  /* The monotonic clock moves on by at least what was slept. */
  int64_t start = time_monotonic_us();
  struct timespec pause = {0, 2000000};
  nanosleep(&pause, NULL);
  cr_assert_geq(time_monotonic_us() - start, 2000);
}

Test(timefmt, the_test_clock_shifts_and_freezes)
{
  struct timespec before, after;
  clock_gettime(CLOCK_REALTIME, &before);
  time_test_shift(3600 * US);
  int64_t shifted = time_now_us();
  clock_gettime(CLOCK_REALTIME, &after);
  cr_assert_geq(shifted, (int64_t)before.tv_sec * US + before.tv_nsec / 1000 + 3600 * US);
  cr_assert_leq(shifted, (int64_t)after.tv_sec * US + after.tv_nsec / 1000 + 3600 * US);

  /* Frozen, it stands still whatever the shift; unfrozen, it runs shifted. */
  time_test_freeze(1757249931068830);
  cr_assert_eq(time_now_us(), 1757249931068830);
  time_test_shift(0);
  cr_assert_eq(time_now_us(), 1757249931068830);
  time_test_freeze(0);
  clock_gettime(CLOCK_REALTIME, &before);
  int64_t real = time_now_us();
  clock_gettime(CLOCK_REALTIME, &after);
  cr_assert_geq(real, (int64_t)before.tv_sec * US + before.tv_nsec / 1000);
  cr_assert_leq(real, (int64_t)after.tv_sec * US + after.tv_nsec / 1000);
  /* The monotonic clock is never the test's: CLOCK_MONOTONIC as it is. */
  time_test_shift(-7200 * US);
  clock_gettime(CLOCK_MONOTONIC, &before);
  int64_t monotonic = time_monotonic_us();
  clock_gettime(CLOCK_MONOTONIC, &after);
  time_test_shift(0);
  cr_assert_geq(monotonic, (int64_t)before.tv_sec * US + before.tv_nsec / 1000);
  cr_assert_leq(monotonic, (int64_t)after.tv_sec * US + after.tv_nsec / 1000);
}
