/*
 * metrics.h - the server's Prometheus metrics, served at GET /metrics.
 *
 * Counting is lock-free: C11 atomics in fixed arrays indexed by route
 * number (router.h), method and status, so a request pays a few relaxed
 * atomic adds and no allocation. The arrays are bounded by the route table,
 * never by what clients send: a path that matches no route is counted as
 * route="unmatched", a status outside the list below under its class.
 *
 * The HTTP layer calls the two metrics_observe_* functions (server.c when a
 * request completes, response.c when it answers a database error); they
 * depend on nothing but router.h, so the only edge from http/ up to ops/
 * is to these counters. Rendering reads them without stopping the writers:
 * a scrape is a consistent-enough snapshot (each number is exact; numbers
 * may be a request apart from each other), as Prometheus clients do.
 */
#ifndef EVENTAPI_OPS_METRICS_H
#define EVENTAPI_OPS_METRICS_H

#include <stdint.h>

#include "http/http.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Counts one answered request: method (enum http_method), route (a route of
 * the table, or NULL when none matched), the status sent and how long it
 * took. Safe from any thread.
 */
void metrics_observe_request(enum http_method method, const struct route *route,
                             unsigned status, int64_t duration_us);

/*
 * Counts a database error the HTTP layer answered, by class: rc is an
 * EVENTAPI_E* code (EBUSY: busy; EUNAVAILABLE: unavailable; ECONSTRAINT and
 * ECONFLICT: constraint; any other: other). Safe from any thread.
 */
void metrics_observe_db_error(int rc);

/*
 * Connects the counters of what the API did to the apps' signals:
 * registrations by the state they were made in, cancellations, promotions
 * off the waitlist, check-ins. Each is counted once its transaction has
 * committed (db_on_commit), never for a change rolled back; per process,
 * as every counter here. Call before the server's threads; connecting again
 * does nothing.
 */
void metrics_signals_connect(void);

/*
 * GET /metrics: the text exposition format 0.0.4 of every counter, the
 * in-flight gauge, the domain counters, the outbox depth by state (read
 * from the database at scrape time; left out, with a comment, when the
 * database does not answer), the process's CPU time, memory, open and
 * maximum file descriptors and start time (from /proc/self, named as
 * Prometheus's client libraries name them), and eventapi_build_info.
 */
void metrics_view(struct http_request *req);

#endif
