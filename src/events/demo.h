/*
 * demo.h - `eventapi demo`: fills an empty database with an organizer,
 * categories and a dozen realistic events to try the API with.
 */
#ifndef EVENTAPI_EVENTS_DEMO_H
#define EVENTAPI_EVENTS_DEMO_H

#include <stdio.h>

/*
 * On the thread's connection (db_thread(), migrated by the caller), in one
 * write transaction: creates the organizer "demo" (demo@example.com) with a
 * random 20-character password, the categories Conferences, Workshops,
 * Meetups, Concerts and Sports (reusing those that exist), and 12 events
 * over the coming three months (a few private) with their sessions and
 * ticket types. Then prints the credentials (shown only there) and curl
 * lines to try to out.
 *
 * Refuses, changing nothing, when the database already holds events or a
 * user named demo: EVENTAPI_ECONFLICT with the reason on stderr. Returns 0
 * or a negative EVENTAPI_E* code.
 */
int events_demo(FILE *out);

#endif
