/*
 * signals.h - what the registrations app tells other apps (notifications),
 * Django-signal style: called inside the write transaction of the change,
 * connected at start-up, doing nothing when unconnected. A hook returns 0
 * or a negative code, which rolls the whole change back.
 */
#ifndef EVENTAPI_REGISTRATIONS_SIGNALS_H
#define EVENTAPI_REGISTRATIONS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"

typedef int (*registrations_signal_fn)(db_t *db, int64_t registration_id, int64_t now,
                                       arena_t *arena);

extern registrations_signal_fn registrations_confirmed;  /* registered, with a ticket */
extern registrations_signal_fn registrations_waitlisted; /* registered, on the waitlist */
extern registrations_signal_fn registrations_promoted;   /* off the waitlist, with a ticket */
extern registrations_signal_fn registrations_cancelled;  /* cancelled by its holder */

#endif
