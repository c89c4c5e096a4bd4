/*
 * worker.h - what the notifications app does on the outbox worker's beat
 * (a delivery tick, registered in app.c): the reminders that fell due are
 * written, with their emails, and mail that migration 0009 found unsent in
 * the notifications table is carried into the outbox.
 */
#ifndef EVENTAPI_NOTIFICATIONS_WORKER_H
#define EVENTAPI_NOTIFICATIONS_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"

/*
 * One beat, one unit of work (REMINDER_OFFSETS of cfg). Sets *more
 * when either stopped with work left. Returns 0 or a negative code.
 * A delivery_tick_fn (delivery/worker.h).
 */
int notifications_worker_tick(const struct config *cfg, int64_t now, bool *more);

#endif
