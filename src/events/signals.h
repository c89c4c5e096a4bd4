/*
 * signals.h - what the events app tells other apps (db/signal.h): sent by
 * its models inside the write transaction of the change; app.c connects
 * the receivers.
 */
#ifndef EVENTAPI_EVENTS_SIGNALS_H
#define EVENTAPI_EVENTS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/signal.h"
#include "events/models.h"

/*
 * events_places_opened, with struct events_places: the event's capacity or
 * a ticket type's quantity was raised (or made unlimited), so places may
 * have opened.
 */
struct events_places {
  int64_t event_id;
  arena_t *arena;
};
extern struct signal events_places_opened;

/* events_changed, with struct events_change: the event was updated from old
 * to now (its nested rows aside). */
struct events_change {
  const struct event *old, *now;
  arena_t *arena;
};
extern struct signal events_changed;

/*
 * events_created and events_updated, with struct events_touched: the event
 * was created (with its sessions and ticket types), or changed as the API
 * shows it: its fields (after events_changed), its sessions, its ticket
 * types or its image.
 */
struct events_touched {
  int64_t event_id;
  arena_t *arena;
};
extern struct signal events_created;
extern struct signal events_updated;

/* events_deleting, with struct events_deletion: the event is about to be
 * deleted; its registrations are still there. */
struct events_deletion {
  const struct event *event;
  arena_t *arena;
};
extern struct signal events_deleting;

#endif
