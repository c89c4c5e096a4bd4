/*
 * throttle.h - failed-login throttling per (client address, username) and
 * per client address.
 *
 * Two limits, each counted over a window of `window_seconds` from the first
 * failure it counts:
 *   - `max_failures` failed logins of one username from one client refuse
 *     further logins of that username from that client, right passwords
 *     included; the same client still logs in to other accounts;
 *   - `max_client_failures` failed logins of any usernames from one client
 *     refuse every login from it (password spraying).
 * Unknown usernames count like known ones. Usernames are given folded (as
 * the users app folds them for uniqueness), so `Alice` and `alice` are one.
 *
 * Exact under concurrency: a login reserves its attempt against both counts
 * before the password is checked (throttle_reserve), under one lock, and
 * settles it afterwards (throttle_settle): a failure keeps its place in the
 * counts, a success, or a request that never got to check the password,
 * gives it back. While unsettled, a reservation counts as a failure, so n
 * wrong passwords sent at once get exactly max_failures answers and the rest
 * are refused, however slow the password hash.
 *
 * State is in memory, per process: two bounded tables (usernames, clients)
 * where entries whose window is over, then the least recently used, make
 * room for new ones. Keys are stored as keyed BLAKE2b digests with a random
 * per-process key, so no one can aim entries at one another's places.
 * Thread-safe.
 */
#ifndef EVENTAPI_AUTH_THROTTLE_H
#define EVENTAPI_AUTH_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

/* A reserved login attempt; filled by throttle_reserve, read by nothing else. */
struct throttle_attempt {
  bool reserved;
  uint64_t name_key[2], client_key[2];
  uint32_t name_slot, client_slot;
  uint64_t name_stamp, client_stamp;
};

/* Sets the limits (0 for a limit means 1). Counts already made are kept. */
void throttle_configure(unsigned max_failures, unsigned max_client_failures,
                        unsigned window_seconds);

/*
 * Reserves one login attempt of username_key from client at now_us
 * (microseconds). Returns 0 when it may go ahead, with *attempt to be
 * settled by throttle_settle() once the password is checked; otherwise the
 * seconds until it may be tried again (at least 1), nothing reserved.
 */
unsigned throttle_reserve(const char *client, const char *username_key, int64_t now_us,
                          struct throttle_attempt *attempt);

/*
 * Settles a reserved attempt: failed keeps it as a failure made at now_us,
 * else its reservation is given back. Does nothing for an attempt not
 * reserved, or settled already.
 */
void throttle_settle(struct throttle_attempt *attempt, bool failed, int64_t now_us);

/* Forgets everything (tests). */
void throttle_reset(void);

#endif
