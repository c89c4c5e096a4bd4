/*
 * worker.h - the outbox worker (Django's task runner): claims due
 * notifications, renders them, sends them through the mailer of EMAIL_URL
 * and records the outcome.
 *
 * It runs as a thread of `eventapi serve` (worker_start) or on its own as
 * `eventapi worker` (worker_run); any number of either may share one
 * database, since a row is claimed by one worker at a time. A failed send is
 * tried again after EMAIL_RETRY_DELAY, doubled for each try (at most an
 * hour, with jitter), until EMAIL_MAX_ATTEMPTS; then the row is dead, with
 * its last error, until `eventapi outbox requeue`.
 */
#ifndef EVENTAPI_NOTIFICATIONS_WORKER_H
#define EVENTAPI_NOTIFICATIONS_WORKER_H

#include <signal.h>
#include <stdbool.h>

#include "core/config.h"

struct worker;

/*
 * Checks cfg's mail settings (EMAIL_URL, EMAIL_FROM): 0, or
 * EVENTAPI_EINVAL with what is wrong in err ("EMAIL_URL: ...").
 */
int worker_check_config(const struct config *cfg, char *err, size_t errlen);

/* Starts a worker thread. Returns 0 with *out set, or a negative code. */
int worker_start(const struct config *cfg, struct worker **out);

/* Lets the worker finish the message in hand, then joins it. NULL is fine. */
void worker_stop(struct worker *w);

/*
 * Runs a worker in the calling thread until *stop becomes non-zero, or,
 * with once, until nothing is due. Returns 0 or a negative code.
 */
int worker_run(const struct config *cfg, volatile sig_atomic_t *stop, bool once);

/* Tells this process's workers that something may be due now. */
void worker_wake(void);

/* The delay before try number attempts + 1, in microseconds, jitter included. */
int64_t worker_backoff_us(const struct config *cfg, int64_t attempts);

#endif
