/*
 * retry.c - back-off with equal jitter, and schedules with jitter (see
 * retry.h).
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

int64_t
delivery_retry_schedule_us(const int64_t *schedule_us, size_t count, int64_t attempts)
{
  if (count == 0)
    return 0;
  size_t index = attempts < 1 ? 0 : (uint64_t)attempts > count ? count - 1 : (size_t)attempts - 1;
  int64_t delay = schedule_us[index];
  if (delay <= 0)
    return 0;
  if (delay > INT64_MAX / 2)
    delay = INT64_MAX / 2;
  /* delay - tenth + a draw from [0, 2 * tenth]: 64 random bits modulo a
   * span of hours in microseconds, a bias below one in a billion. */
  int64_t tenth = delay / 10;
  uint64_t draw;
  randombytes_buf(&draw, sizeof draw);
  return delay - tenth + (int64_t)(draw % (2 * (uint64_t)tenth + 1));
}
