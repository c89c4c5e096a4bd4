/*
 * retry.c - back-off with equal jitter (delivery/retry): doubled after
 * each try from the base, never past the cap, and between half and all of
 * that, spread so that workers that failed together do not come back
 * together.
 */
#include <criterion/criterion.h>
#include <stdbool.h>

#include "delivery/retry.h"

#define SECOND INT64_C(1000000)
#define HOUR (3600 * SECOND)

static void
expect_between(int64_t base, int64_t max, int64_t attempts, int64_t low, int64_t high)
{
  for (int i = 0; i < 200; i++) {
    int64_t wait = delivery_retry_us(base, max, attempts);
    cr_assert(wait >= low && wait <= high, "try %lld: %lld not in [%lld, %lld]",
              (long long)attempts, (long long)wait, (long long)low, (long long)high);
  }
}

Test(retry, doubles_from_the_base_up_to_the_cap)
{
  expect_between(30 * SECOND, HOUR, 1, 15 * SECOND, 30 * SECOND);
  expect_between(30 * SECOND, HOUR, 2, 30 * SECOND, 60 * SECOND);
  expect_between(30 * SECOND, HOUR, 3, 60 * SECOND, 120 * SECOND);
  expect_between(30 * SECOND, HOUR, 8, HOUR / 2, HOUR);
  expect_between(30 * SECOND, HOUR, 1000000, HOUR / 2, HOUR);
  /* Doubling never overflows, whatever the cap. */
  expect_between(INT64_MAX / 4, INT64_MAX, 100, INT64_MAX / 4, INT64_MAX);
}

Test(retry, no_base_no_wait)
{
  cr_assert_eq(delivery_retry_us(0, HOUR, 3), 0);
  cr_assert_eq(delivery_retry_us(-5, HOUR, 3), 0);
  cr_assert_eq(delivery_retry_us(1, HOUR, 0), 1);
}

Test(retry, workers_spread_out)
{
  bool differ = false;
  int64_t first = delivery_retry_us(10 * 60 * SECOND, HOUR, 1);
  for (int i = 0; i < 50 && !differ; i++)
    differ = delivery_retry_us(10 * 60 * SECOND, HOUR, 1) != first;
  cr_assert(differ, "fifty workers all came back in the same microsecond");
}

/* ---- a schedule (webhooks) ---- */

static const int64_t schedule[] = {5 * SECOND, 5 * 60 * SECOND, 30 * 60 * SECOND, 10 * HOUR};

static void
expect_around(int64_t attempts, int64_t wait)
{
  for (int i = 0; i < 200; i++) {
    int64_t got = delivery_retry_schedule_us(schedule, 4, attempts);
    cr_assert(got >= wait - wait / 10 && got <= wait + wait / 10,
              "try %lld: %lld not within a tenth of %lld", (long long)attempts, (long long)got,
              (long long)wait);
  }
}

Test(retry, a_schedule_is_followed_give_or_take_a_tenth)
{
  expect_around(1, 5 * SECOND);
  expect_around(2, 5 * 60 * SECOND);
  expect_around(3, 30 * 60 * SECOND);
  expect_around(4, 10 * HOUR);
  expect_around(5, 10 * HOUR); /* past the end: the last wait */
  expect_around(0, 5 * SECOND);
  cr_assert_eq(delivery_retry_schedule_us(schedule, 0, 1), 0);
  cr_assert_eq(delivery_retry_schedule_us((const int64_t[]){0}, 1, 1), 0);
  cr_assert_eq(delivery_retry_schedule_us((const int64_t[]){9}, 1, 1), 9, "a tenth of 9 us is 0");
}

/* Waits of try attempts fall on both sides of wait, and some beyond half a tenth. */
static void
expect_spread(int64_t attempts, int64_t wait)
{
  bool earlier = false, later = false, far_earlier = false, far_later = false;
  for (int i = 0; i < 400; i++) {
    int64_t got = delivery_retry_schedule_us(schedule, 4, attempts);
    earlier |= got < wait;
    later |= got > wait;
    far_earlier |= got < wait - wait / 20;
    far_later |= got > wait + wait / 20;
  }
  cr_assert(earlier && later && far_earlier && far_later,
            "try %lld: four hundred waits not spread over a tenth either side of %lld",
            (long long)attempts, (long long)wait);
}

Test(retry, a_schedule_spreads_workers_both_ways)
{
  expect_spread(2, 5 * 60 * SECOND);
  expect_spread(4, 10 * HOUR); /* a tenth of it is more than 32 bits of microseconds */
}
