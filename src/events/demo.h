/*
 * demo.h - `eventapi demo`: fills an empty database with an organizer,
 * categories and a dozen realistic events to try the API with.
 */
#ifndef EVENTAPI_EVENTS_DEMO_H
#define EVENTAPI_EVENTS_DEMO_H

#include <stdio.h>

/*
 * On the thread's connection (db_thread(), migrated by the caller), in one
 * write transaction, beside whatever the database holds: the organizer
 * "demo" (demo@example.com) with a random 20-character password, the
 * categories Conferences, Workshops, Meetups, Concerts and Sports (those
 * that exist, by slug or by name, are used), and 12 events over the coming
 * three months (a few private) with their sessions and ticket types. Then
 * prints what it added, the credentials (shown only there) and curl lines
 * to try it out.
 *
 * Run again, it adds only what is missing: the organizer made before is
 * kept with its password, and its events are recognised by title (so it
 * adds nothing at all after a first run). Refuses, changing nothing, when
 * another user holds the name demo or the email demo@example.com:
 * EVENTAPI_ECONFLICT with the reason on stderr. Returns 0 or a negative
 * EVENTAPI_E* code.
 */
int events_demo(FILE *out);

#endif
