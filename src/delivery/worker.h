/*
 * worker.h - the outbox worker: claims due messages (outbox.h), hands each
 * to its channel's transport and records the outcome.
 *
 * It runs as a thread of `eventapi serve` (delivery_worker_start) or on its
 * own as `eventapi worker` (delivery_worker_run); any number of either may
 * share one database, since a message is claimed by one worker at a time.
 * A failed send is tried again after its channel's back-off (mail:
 * EMAIL_RETRY_DELAY, doubled for each try, at most an hour, with jitter;
 * webhooks: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h) until its channel's
 * bound on tries (EMAIL_MAX_ATTEMPTS; webhooks: 7); then the message is
 * dead, with its last error, until `eventapi outbox requeue`.
 *
 * The worker knows no app. What an app wants done on the worker's beat
 * (writing the reminders that fell due, say) it registers as a tick
 * (delivery_on_tick); the worker calls it about once a second, and again
 * at once while it says there is more.
 *
 * Sent and dead messages are history: about once a minute the worker
 * deletes those past their retention (OUTBOX_RETENTION after they were
 * sent, 7 days; OUTBOX_DEAD_RETENTION after the last try of a dead one,
 * 30 days, kept longer since an operator may still requeue it), at most
 * 500 to a unit of work and again at once while a batch comes full.
 */
#ifndef EVENTAPI_DELIVERY_WORKER_H
#define EVENTAPI_DELIVERY_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

struct delivery_worker;

/*
 * The delivery layer's process-wide set-up and tear-down (libcurl's global
 * state): init once per process before any mailer is opened and before
 * threads start, cleanup after every worker stopped. init returns 0 or
 * EVENTAPI_EINTERNAL.
 */
int delivery_global_init(void);
void delivery_global_cleanup(void);

/*
 * Checks cfg's settings of every channel (mail: EMAIL_URL, EMAIL_FROM;
 * webhooks: WEBHOOK_ALLOWED_NETWORKS): 0, or EVENTAPI_EINVAL with what is
 * wrong in err ("EMAIL_URL: ...").
 */
int delivery_check_config(const struct config *cfg, char *err, size_t errlen);

/*
 * A tick: work an app does on the worker's beat, in units of work of its
 * own (db_write). Sets *more when it stopped with work left. Returns 0 or
 * a negative code (logged by the worker, which goes on).
 */
typedef int (*delivery_tick_fn)(const struct config *cfg, int64_t now, bool *more);

/* Adds a tick (kept once however often added; at most 4). Before threads start. */
void delivery_on_tick(delivery_tick_fn tick);

/* Starts a worker thread. Returns 0 with *out set, or a negative code. */
int delivery_worker_start(const struct config *cfg, struct delivery_worker **out);

/* Lets the worker finish the message in hand, then joins it. NULL is fine. */
void delivery_worker_stop(struct delivery_worker *w);

/*
 * Runs a worker in the calling thread until *stop becomes non-zero, or,
 * with once, until nothing is due, no tick has more to do and no history
 * past its retention is left. Returns 0, or
 * a negative code when it could not start or the outbox could not be read.
 */
int delivery_worker_run(const struct config *cfg, volatile sig_atomic_t *stop, bool once);

/* Tells this process's workers that something may be due now. */
void delivery_wake(void);

/* The same for the messages of one channel only (NULL: every channel). */
void delivery_wake_channel(const char *channel);

/* The worker's own copy of the channel name (static), or NULL when no
 * channel has it: what delivery_wake_channel() may be handed after the
 * caller's strings are gone. */
const char *delivery_channel_named(const char *name);

#endif
