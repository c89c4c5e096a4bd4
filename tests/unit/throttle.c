#include <criterion/criterion.h>
#include <stdio.h>

#include "auth/throttle.h"

#define SECOND 1000000LL

static void
setup(void)
{
  throttle_reset();
  throttle_configure(3, 60);
}

TestSuite(throttle, .init = setup);

Test(throttle, allows_until_the_limit)
{
  int64_t t = 1000 * SECOND;
  cr_assert_eq(throttle_check("10.0.0.1", t), 0);
  throttle_failure("10.0.0.1", t);
  throttle_failure("10.0.0.1", t);
  cr_assert_eq(throttle_check("10.0.0.1", t), 0);
  throttle_failure("10.0.0.1", t);
  cr_assert_eq(throttle_check("10.0.0.1", t), 60);
  cr_assert_eq(throttle_check("10.0.0.1", t + 45 * SECOND), 15);
}

Test(throttle, clients_are_counted_apart)
{
  int64_t t = 1000 * SECOND;
  for (int i = 0; i < 3; i++)
    throttle_failure("10.0.0.1", t);
  cr_assert_gt(throttle_check("10.0.0.1", t), 0);
  cr_assert_eq(throttle_check("10.0.0.2", t), 0);
}

Test(throttle, window_ends)
{
  int64_t t = 1000 * SECOND;
  for (int i = 0; i < 3; i++)
    throttle_failure("::1", t);
  cr_assert_gt(throttle_check("::1", t + 59 * SECOND), 0);
  cr_assert_eq(throttle_check("::1", t + 60 * SECOND), 0);
  throttle_failure("::1", t + 61 * SECOND);
  cr_assert_eq(throttle_check("::1", t + 61 * SECOND), 0);
}

Test(throttle, a_full_table_still_throttles_recent_clients)
{
  int64_t t = 1000 * SECOND;
  char client[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(client, sizeof client, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
    throttle_failure(client, t + i);
  }
  for (int i = 0; i < 3; i++)
    throttle_failure("192.0.2.1", t + 30000);
  cr_assert_gt(throttle_check("192.0.2.1", t + 30000), 0);
}
