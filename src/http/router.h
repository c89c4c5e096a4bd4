/*
 * router.h - the static route table: path patterns to handlers.
 */
#ifndef EVENTAPI_HTTP_ROUTER_H
#define EVENTAPI_HTTP_ROUTER_H

#include <stddef.h>

#include "http/http.h"

enum router_result {
  ROUTER_FOUND,       /* *route and the parameters are set */
  ROUTER_NO_METHOD,   /* the path is known, the method is not: *allowed set */
  ROUTER_NO_PATH,
};

/*
 * Matches method and path (with or without its trailing slash) against the
 * table. On ROUTER_FOUND fills req->route, params, ids and nparams; params
 * point into req->arena. On ROUTER_NO_METHOD req->route is a route of the
 * same path (for its template, never to be called) and *allowed the mask of
 * the path's methods.
 */
enum router_result router_match(struct http_request *req, unsigned *allowed);

/* Writes "GET, HEAD, POST, OPTIONS" for a method mask into buf. */
void router_allow_header(unsigned methods, char *buf, size_t len);

/* The method bit for a method name (HTTP_OTHER when unknown). */
enum http_method router_method(const char *name);

/*
 * Routes are numbered from 0 in the order they were registered; the table
 * is fixed once the server starts, so a number names one route for the life
 * of the process (metrics count by it). ROUTER_MAX bounds the numbers.
 */
#define ROUTER_MAX 256

/* How many routes the table holds. */
size_t router_count(void);

/* Route number index, or NULL past the end. */
const struct route *router_at(size_t index);

/* The number of route (a pointer from the table), or ROUTER_MAX for another. */
size_t router_index(const struct route *route);

/*
 * The number of the first route with route's pattern: one per path template
 * whatever the methods (metrics label by it), or ROUTER_MAX for another.
 */
size_t router_template(const struct route *route);

/* Calls fn for every route in the table (for the schema and the tests). */
void router_each(void (*fn)(const struct route *route, void *ctx), void *ctx);

/* Empties the table (tests). */
void router_reset(void);

#endif
