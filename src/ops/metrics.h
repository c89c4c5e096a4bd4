/*
 * metrics.h - the server's Prometheus metrics, served at GET /metrics.
 *
 * The request counters are the HTTP layer's own (http/stats.h): ops reads
 * them, http never calls up into ops. The domain counters (registrations,
 * cancellations, promotions, check-ins) are kept here, counted by
 * receivers of the apps' signals.
 */
#ifndef EVENTAPI_OPS_METRICS_H
#define EVENTAPI_OPS_METRICS_H

#include <stdint.h>

#include "db/db.h"
#include "http/http.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * The counters of what the API did, as receivers of the apps' signals
 * (db/signal.h; app.c connects them): registrations by the state they were
 * made in (registrations_confirmed, registrations_waitlisted),
 * cancellations, promotions off the waitlist, check-ins
 * (tickets_checked_in) and the undone ones (tickets_check_in_undone). Each is counted once its transaction has committed
 * (db_on_commit), never for a change rolled back; per process, as every
 * counter here.
 */
int ops_metrics_on_confirmed(db_t *db, const void *payload);
int ops_metrics_on_waitlisted(db_t *db, const void *payload);
int ops_metrics_on_cancelled(db_t *db, const void *payload);
int ops_metrics_on_promoted(db_t *db, const void *payload);
int ops_metrics_on_checked_in(db_t *db, const void *payload);
int ops_metrics_on_check_in_undone(db_t *db, const void *payload);

/*
 * GET /metrics: the text exposition format 0.0.4 of every counter, the
 * in-flight gauge, the domain counters, the outbox depth by state (read
 * from the database at scrape time; left out, with a comment, when the
 * database does not answer), the process's CPU time, memory, open and
 * maximum file descriptors and start time (from /proc/self, named as
 * Prometheus's client libraries name them), and eventapi_build_info.
 */
void ops_metrics_view(struct http_request *req);

#endif
