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

int64_t time_now_us(void);        /* wall clock (CLOCK_REALTIME) */
int64_t time_monotonic_us(void);  /* for durations (CLOCK_MONOTONIC) */

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
