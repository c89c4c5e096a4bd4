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
