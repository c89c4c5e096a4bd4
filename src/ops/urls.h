/*
 * urls.h - the operations routes: /healthz, /metrics, /api/docs/ and, with
 * a local copy of Swagger UI (docs.h), /static/docs/<name>. (/api/schema/
 * is registered by schema.h.)
 */
#ifndef EVENTAPI_OPS_URLS_H
#define EVENTAPI_OPS_URLS_H

/* Registers the routes; reads config (set before). Returns 0 or a negative code. */
int ops_urls_register(void);

#endif
