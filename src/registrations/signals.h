/*
 * signals.h - what the registrations app tells other apps (notifications,
 * metrics) through db/signal.h: sent by its models inside the write
 * transaction of the change, each with a struct registrations_change;
 * app.c connects the receivers.
 */
#ifndef EVENTAPI_REGISTRATIONS_SIGNALS_H
#define EVENTAPI_REGISTRATIONS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/signal.h"

/* The registration that changed, and when. */
struct registrations_change {
  int64_t registration_id;
  int64_t now;
  arena_t *arena;
};

extern struct signal registrations_confirmed;  /* registered, with a ticket */
extern struct signal registrations_waitlisted; /* registered, on the waitlist */
extern struct signal registrations_promoted;   /* off the waitlist, with a ticket */
extern struct signal registrations_cancelled;  /* cancelled (by its holder, the organizer, an
                                                  admin, or its user's deletion) */
extern struct signal registrations_offered;    /* waitlisted, a place held for it until
                                                  its offer_expires_at */
extern struct signal registrations_offer_expired; /* its offer ran out: cancelled next
                                                     (registrations_cancelled) */

#endif
