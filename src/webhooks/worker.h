/*
 * worker.h - what the webhooks app does on the outbox worker's beat (a
 * delivery tick, registered in app.c): it keeps each active webhook's
 * failing_since up to date, and turns off a webhook that has failed for
 * WEBHOOKS_FAILING_LIMIT_US in a row, with a dead delivery among its
 * failures, telling its owner by email.
 */
#ifndef EVENTAPI_WEBHOOKS_WORKER_H
#define EVENTAPI_WEBHOOKS_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"

/* How long a webhook may fail, every delivery, before it is turned off. */
#define WEBHOOKS_FAILING_LIMIT_US (INT64_C(5) * 24 * 3600 * 1000000)

/* How often a process looks (by the clock the worker is given). */
#define WEBHOOKS_CHECK_INTERVAL_US (INT64_C(60) * 1000000)

/*
 * One beat: at most once every WEBHOOKS_CHECK_INTERVAL_US of now in this
 * process, every active webhook is looked at (reads, then a unit of work
 * for each webhook that changes). Several workers may do it at once: a
 * webhook is turned off, and its owner told, once. *more is always false.
 * A delivery_tick_fn (delivery/worker.h).
 */
int webhooks_worker_tick(const struct config *cfg, int64_t now, bool *more);

#endif
