/*
 * timezone.h - an event's time zone: an IANA name (Europe/Berlin) from the
 * system's tz database, read through libical. An event's date_time stays
 * an instant; its zone says what the clocks read there at that instant.
 *
 * libical keeps each zone's rules behind one lock here: the functions are
 * safe from any thread.
 */
#ifndef EVENTAPI_EVENTS_TIMEZONE_H
#define EVENTAPI_EVENTS_TIMEZONE_H

#include <libical/ical.h>
#include <stdbool.h>
#include <stdint.h>

#define EVENTS_TIMEZONE_MAX 64      /* the longest name taken */
#define EVENTS_LOCAL_ISO_MAX 40     /* 2026-03-14T09:00:00.123456+01:00 and its NUL */

/* Whether name is a zone of the tz database ("UTC" is one). */
bool events_timezone_known(const char *name);

/*
 * The offset from UTC (seconds) in force in zone name at the instant us
 * (microseconds since the epoch), daylight saving included, and its
 * abbreviation (a static string: "CET", "EDT"; "UTC"). 0, or
 * EVENTAPI_EINVAL for an unknown zone.
 */
int events_timezone_offset(const char *name, int64_t us, int *offset, const char **abbrev);

/* The instant us as the clocks of zone name read it, with its offset:
 * 2026-03-14T09:00:00+01:00 (the fraction when there is one). Returns its
 * length, 0 for an unknown zone. */
size_t events_local_iso(int64_t us, const char *name, char out[EVENTS_LOCAL_ISO_MAX]);

/* A VTIMEZONE of zone name whose TZID is the name itself; the caller frees
 * it. NULL for UTC (times are written in UTC) or an unknown zone. */
icalcomponent *events_timezone_vtimezone(const char *name);

#endif
