/*
 * signals.h - what the events app tells other apps, Django-signal style:
 * the events app calls these hooks inside its write transactions, other
 * apps connect them at start-up. Unconnected hooks do nothing.
 */
#ifndef EVENTAPI_EVENTS_SIGNALS_H
#define EVENTAPI_EVENTS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"

/*
 * The event's capacity or a ticket type's quantity was raised (or made
 * unlimited): places may have opened. Returns 0 or a negative code, which
 * rolls the change back.
 */
typedef int (*events_places_opened_fn)(db_t *db, int64_t event_id, arena_t *arena);
extern events_places_opened_fn events_places_opened;

#endif
