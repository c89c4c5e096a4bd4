/*
 * stats.h - what the HTTP layer counts of its own work: requests answered
 * by route template, method and status, their durations, and the errors
 * it answered by class. ops/metrics.c reads these to render /metrics; http
 * itself knows nothing of who reads them.
 *
 * Counting is lock-free: C11 atomics in fixed arrays indexed by route
 * number (router.h), method and status, so a request pays a few relaxed
 * atomic adds and no allocation. The arrays are bounded by the route table,
 * never by what clients send: a path that matches no route is counted in
 * the last route slot (HTTP_STATS_UNMATCHED), a status outside the list of
 * stats.c under its class. Reading does not stop the writers: each number
 * is exact, numbers may be a request apart from each other.
 */
#ifndef EVENTAPI_HTTP_STATS_H
#define EVENTAPI_HTTP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/router.h"

#define HTTP_STATS_METHODS 8                 /* the bits of enum http_method */
#define HTTP_STATS_ROUTES (ROUTER_MAX + 1)   /* route numbers, then "unmatched" */
#define HTTP_STATS_UNMATCHED ROUTER_MAX
#define HTTP_STATS_BUCKETS 14                /* latency buckets, +Inf aside */

/* Classes of the errors answered by http_reply_error(). */
enum http_error_class {
  HTTP_ERROR_BUSY,         /* EVENTAPI_EBUSY */
  HTTP_ERROR_UNAVAILABLE,  /* EVENTAPI_EUNAVAILABLE */
  HTTP_ERROR_CONSTRAINT,   /* EVENTAPI_ECONSTRAINT, EVENTAPI_ECONFLICT */
  HTTP_ERROR_OTHER,
  HTTP_ERROR_CLASSES
};

/*
 * Counts one answered request: method, route (a route of the table, or
 * NULL when none matched), the status sent and how long it took. Safe from
 * any thread (server.c calls it when a request completes).
 */
void http_stats_request(enum http_method method, const struct route *route, unsigned status,
                        int64_t duration_us);

/* Counts an error answered by http_reply_error(), by its class. Any thread. */
void http_stats_error(int rc);

/* ---- reading ---- */

/* How many status slots there are, and the label of one ("404", "4xx", "other"). */
size_t http_stats_status_slots(void);
const char *http_stats_status_label(size_t slot, char buf[8]);

/* The name of a method slot ("GET" ... "OTHER"). */
const char *http_stats_method_name(size_t slot);

/* Requests of route slot, method slot and status slot. */
uint64_t http_stats_requests(size_t route, size_t method, size_t status);

/*
 * The duration histogram of route slot: counts[b] the requests of bucket b
 * alone (not cumulative; counts[HTTP_STATS_BUCKETS] those above the last
 * bound), and *sum_us their total. The buckets' upper bounds are 0.5, 1,
 * 2.5, 5, 10, 25, 50, 100, 250 and 500 ms, then 1, 2.5, 5 and 10 s.
 */
void http_stats_durations(size_t route, uint64_t counts[HTTP_STATS_BUCKETS + 1],
                          uint64_t *sum_us);

/* Errors answered of class. */
uint64_t http_stats_errors(enum http_error_class class);

#endif
