/*
 * retry.h - when a failed message is tried again: exponential back-off
 * with equal jitter (mail), or a fixed schedule give or take a tenth
 * (webhooks), so that workers that failed together (a mail server down,
 * an endpoint away) do not all come back in the same instant.
 */
#ifndef EVENTAPI_DELIVERY_RETRY_H
#define EVENTAPI_DELIVERY_RETRY_H

#include <stddef.h>
#include <stdint.h>

/*
 * The wait before try number attempts + 1, in microseconds: base_us after
 * the first try, doubled after each one since, at most max_us; then half
 * of it fixed and half random (equal jitter), so between half and all of
 * it. 0 when base_us is 0 or less. Thread-safe (libsodium's generator).
 */
int64_t delivery_retry_us(int64_t base_us, int64_t max_us, int64_t attempts);

/*
 * The wait before try number attempts + 1 from a schedule of count waits:
 * schedule_us[attempts - 1] (the last one past the end, the first for
 * attempts < 1), give or take a tenth of it at random. 0 when count is 0
 * or the wait is 0 or less. Thread-safe.
 */
int64_t delivery_retry_schedule_us(const int64_t *schedule_us, size_t count, int64_t attempts);

#endif
