/*
 * retry.c - back-off with equal jitter (see retry.h).
 */
#include "delivery/retry.h"

#include <sodium.h>

int64_t
delivery_retry_us(int64_t base_us, int64_t max_us, int64_t attempts)
{
  if (base_us <= 0)
    return 0;
  int64_t delay = base_us;
  for (int64_t i = 1; i < attempts && delay < max_us && delay <= INT64_MAX / 2; i++)
    delay *= 2;
  if (delay > max_us)
    delay = max_us;
  int64_t half = delay / 2;
  int64_t spread = half > UINT32_MAX ? UINT32_MAX : half;
  return delay - half + (spread > 0 ? (int64_t)randombytes_uniform((uint32_t)spread + 1) : 0);
}
