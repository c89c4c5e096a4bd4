/*
 * timefmt.h - clocks and ISO 8601 timestamps.
 *
 * Time is 64-bit microseconds since the Unix epoch, UTC, everywhere.
 */
#ifndef EVENTAPI_CORE_TIMEFMT_H
#define EVENTAPI_CORE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIME_ISO_MAX 40

/*
 * The wall clock (CLOCK_REALTIME), as every part of the server reads it:
 * the one place a test can move it (below).
 */
int64_t time_now_us(void);
int64_t time_monotonic_us(void);  /* for durations (CLOCK_MONOTONIC) */

/*
 * For the test suite only: nothing in the program calls these, and no
 * setting or endpoint reaches them. time_test_shift() makes time_now_us()
 * read the real clock plus offset_us from then on; time_test_freeze() makes
 * it read now_us and stand still, until another call (0 lets it run again,
 * shifted as before). Both are atomic and take effect at once in every
 * thread, so a test moves the clock of its in-process server instead of
 * waiting for the real one.
 */
void time_test_shift(int64_t offset_us);
void time_test_freeze(int64_t now_us);

/*
 * Writes us as "2025-09-07T12:58:51.068830Z" into out (TIME_ISO_MAX bytes);
 * the fraction is printed only when non-zero, as DRF does. Returns the length.
 */
size_t time_format_iso(int64_t us, char out[TIME_ISO_MAX]);

/*
 * Parses an ISO 8601 date-time: YYYY-MM-DD, then `T` or a space, HH:MM,
 * optional :SS and .fraction (1 to 6 digits, more are truncated), optional
 * `Z` or an offset +HH:MM, +HHMM or +HH. Without offset the time is UTC.
 * Returns 0 with *us set, or EVENTAPI_EINVAL for anything else (including
 * impossible dates such as 2025-02-30 and years outside 1..9999).
 */
int time_parse_iso(const char *s, int64_t *us);

/* Parses YYYY-MM-DD as midnight UTC. Returns 0 or EVENTAPI_EINVAL. */
int time_parse_date(const char *s, int64_t *us);

#endif
