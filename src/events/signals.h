/*
 * signals.h - what the events app tells other apps, Django-signal style:
 * the events app calls these hooks inside its write transactions, other
 * apps connect them at start-up. Unconnected hooks do nothing. A hook
 * returns 0 or a negative code, which rolls the whole change back.
 */
#ifndef EVENTAPI_EVENTS_SIGNALS_H
#define EVENTAPI_EVENTS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "events/models.h"

/*
 * The event's capacity or a ticket type's quantity was raised (or made
 * unlimited): places may have opened.
 */
typedef int (*events_places_opened_fn)(db_t *db, int64_t event_id, arena_t *arena);
extern events_places_opened_fn events_places_opened;

/* The event was updated from old to now (its nested rows aside). */
typedef int (*events_changed_fn)(db_t *db, const struct event *old, const struct event *now,
                                 arena_t *arena);
extern events_changed_fn events_changed;

/* The event is about to be deleted; its registrations are still there. */
typedef int (*events_deleting_fn)(db_t *db, const struct event *e, arena_t *arena);
extern events_deleting_fn events_deleting;

#endif
