/*
 * signals.h - what the tickets app tells other apps (metrics),
 * Django-signal style: sent by the models inside the write transaction of
 * the change, to receivers connected at start-up. A receiver returns 0 or
 * a negative code, which rolls the whole change back; work that must wait
 * for the commit goes through db_on_commit().
 */
#ifndef EVENTAPI_TICKETS_SIGNALS_H
#define EVENTAPI_TICKETS_SIGNALS_H

#include <stdint.h>

#include "db/db.h"

/* The ticket was checked in at the door, now (once: never for a second scan). */
typedef int (*tickets_checked_in_fn)(db_t *db, int64_t ticket_id, int64_t now);

/* Adds a receiver; they run in the order connected, once each. At most 4. */
void tickets_checked_in_connect(tickets_checked_in_fn fn);

/* Runs every receiver, stopping at the first error, which it returns. */
int tickets_checked_in_send(db_t *db, int64_t ticket_id, int64_t now);

#endif
