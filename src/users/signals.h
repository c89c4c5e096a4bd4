/*
 * signals.h - what the users app tells other apps through db/signal.h:
 * sent by its models inside the write transaction of the change; app.c
 * connects the receivers.
 */
#ifndef EVENTAPI_USERS_SIGNALS_H
#define EVENTAPI_USERS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/signal.h"

/*
 * users_deleting, with struct users_deletion: the user is about to be
 * deleted (DELETE /api/users/{id}/); every row that the deletion cascades
 * to is still there, so that the apps owning them can wind them up as
 * their own views would: the user's places freed for the waitlist, the
 * user's events cancelled to their registrants.
 */
struct users_deletion {
  int64_t user_id;
  int64_t now;
  arena_t *arena;
};
extern struct signal users_deleting;

#endif
