/*
 * throttle.h - failed-login throttling per client address.
 *
 * After `max_failures` failed logins from one client within `window`
 * seconds of its first failure, logins from it are refused until the window
 * ends. Kept in memory, per process: a bounded table where old entries make
 * room for new ones. Thread-safe.
 */
#ifndef EVENTAPI_AUTH_THROTTLE_H
#define EVENTAPI_AUTH_THROTTLE_H

#include <stdint.h>

void throttle_configure(unsigned max_failures, unsigned window_seconds);

/* 0 when client may try to log in now, else the seconds to wait. */
unsigned throttle_check(const char *client, int64_t now_us);

/* Records a failed login of client. */
void throttle_failure(const char *client, int64_t now_us);

/* Forgets everything (tests). */
void throttle_reset(void);

#endif
