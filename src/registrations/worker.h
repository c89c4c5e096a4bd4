/*
 * worker.h - what the registrations app does on the outbox worker's beat
 * (a delivery tick, registered in app.c): waitlist offers that ran out are
 * ended, and their places offered to the next in line.
 */
#ifndef EVENTAPI_REGISTRATIONS_WORKER_H
#define EVENTAPI_REGISTRATIONS_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"

/*
 * One beat: a read to see whether any offer ran out by now, then, only if
 * one did, one unit of work that ends a few. Sets *more when it stopped
 * with work left. Returns 0 or a negative code. A delivery_tick_fn
 * (delivery/worker.h).
 */
int registrations_worker_tick(const struct config *cfg, int64_t now, bool *more);

#endif
