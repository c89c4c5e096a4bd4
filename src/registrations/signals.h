/*
 * signals.h - what the registrations app tells other apps (notifications,
 * metrics), Django-signal style: sent by the models inside the write
 * transaction of the change, to receivers connected at start-up. A receiver
 * returns 0 or a negative code, which rolls the whole change back; work
 * that must wait for the commit goes through db_on_commit().
 */
#ifndef EVENTAPI_REGISTRATIONS_SIGNALS_H
#define EVENTAPI_REGISTRATIONS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"

enum registrations_signal {
  REGISTRATIONS_CONFIRMED,  /* registered, with a ticket */
  REGISTRATIONS_WAITLISTED, /* registered, on the waitlist */
  REGISTRATIONS_PROMOTED,   /* off the waitlist, with a ticket */
  REGISTRATIONS_CANCELLED,  /* cancelled (by its holder, the organizer, an admin, or
                               its user's deletion) */
  REGISTRATIONS_SIGNALS
};

typedef int (*registrations_signal_fn)(db_t *db, int64_t registration_id, int64_t now,
                                       arena_t *arena);

/*
 * Adds a receiver of signal; they run in the order connected, a receiver
 * connected again is kept once. At most 4 per signal. Before threads start.
 */
void registrations_connect(enum registrations_signal signal, registrations_signal_fn fn);

/* Runs every receiver of signal, stopping at the first error, which it returns. */
int registrations_send(enum registrations_signal signal, db_t *db, int64_t registration_id,
                       int64_t now, arena_t *arena);

#endif
