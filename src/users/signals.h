/*
 * signals.h - what the users app tells other apps, Django-signal style:
 * sent inside the write transaction of the change, connected at start-up.
 * A receiver returns 0 or a negative code, which rolls the whole change
 * back.
 */
#ifndef EVENTAPI_USERS_SIGNALS_H
#define EVENTAPI_USERS_SIGNALS_H

#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"

/*
 * The user is about to be deleted (DELETE /api/users/{id}/); every row that
 * the deletion cascades to is still there, so that the apps owning them can
 * wind them up as their own views would: the user's places freed for the
 * waitlist, the user's events cancelled to their registrants.
 */
typedef int (*users_deleting_fn)(db_t *db, int64_t user_id, int64_t now, arena_t *arena);

/* Adds a receiver; they run in the order connected. At most 4. */
void users_deleting_connect(users_deleting_fn fn);

/* Runs every receiver, stopping at the first error, which it returns. */
int users_deleting_send(db_t *db, int64_t user_id, int64_t now, arena_t *arena);

#endif
