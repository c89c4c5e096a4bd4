/*
 * health.h - GET /healthz: whether this node can serve, for load balancers
 * and orchestrators.
 */
#ifndef EVENTAPI_OPS_HEALTH_H
#define EVENTAPI_OPS_HEALTH_H

#include "http/http.h"

/*
 * 200 {"status":"ok"} when the calling thread's database connection answers
 * a ping (opening it if the thread has none yet: a fresh connection proves
 * that new ones can be made); 503 {"status":"unavailable","detail":"..."}
 * otherwise, with Retry-After. Never cached. Does not count towards
 * eventapi_db_errors_total: a probe every second would drown real errors.
 */
void ops_health_view(struct http_request *req);

#endif
