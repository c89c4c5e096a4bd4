/*
 * retry.h - when a failed message is tried again: exponential back-off
 * with equal jitter, so that workers that failed together (a mail server
 * down) do not all come back in the same instant.
 */
#ifndef EVENTAPI_DELIVERY_RETRY_H
#define EVENTAPI_DELIVERY_RETRY_H

#include <stdint.h>

/*
 * The wait before try number attempts + 1, in microseconds: base_us after
 * the first try, doubled after each one since, at most max_us; then half
 * of it fixed and half random (equal jitter), so between half and all of
 * it. 0 when base_us is 0 or less. Thread-safe (libsodium's generator).
 */
int64_t delivery_retry_us(int64_t base_us, int64_t max_us, int64_t attempts);

#endif
