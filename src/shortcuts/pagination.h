/*
 * pagination.h - DRF's LimitOffsetPagination, as every list of the API
 * answers it (API.md: "paginated as GET /api/events/").
 *
 * Without `limit` a list is a plain JSON array of at most PAGINATION_MAX
 * items; with it, DRF's envelope {"count","next","previous","results"} with
 * absolute links. X-Total-Count gives the full count either way. The page
 * is taken by the database (LIMIT/OFFSET and a count), never in C.
 */
#ifndef EVENTAPI_SHORTCUTS_PAGINATION_H
#define EVENTAPI_SHORTCUTS_PAGINATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "http/http.h"

#define PAGINATION_MAX 1000 /* the largest limit, and a plain array's length */

struct page {
  bool paginate;  /* a limit was given: the envelope */
  int64_t limit;  /* 1..PAGINATION_MAX; PAGINATION_MAX without pagination */
  int64_t offset; /* >= 0; 0 without pagination */
};

/*
 * Reads the query's limit (1 to 1000) and offset (0 or more) into *page,
 * with the event list's rules: an empty value is ignored, and an offset
 * without a limit is checked, then ignored. On a bad value it answers 400
 * with DRF's messages for each ({"limit": [...], "offset": [...]}) and
 * returns false.
 */
bool pagination_params_or_reply(struct http_request *req, struct page *page);

/*
 * Answers 200 with results (a JSON array, stolen): as it is without
 * pagination, else in the envelope, count being total and the links those
 * of http_page_url(); X-Total-Count total.
 */
void pagination_reply(struct http_request *req, const struct page *page, int64_t total,
                      json_t *results);

/* A page of the items of one owner (a user, an event), as a read function fills it. */
struct page_read {
  int64_t of;          /* whose items: the owner's id */
  struct page page;
  arena_t *arena;      /* the request's */
  const void *items;   /* the read's: an arena array of count items */
  size_t count;
  int64_t total;       /* the read's: the number of all the owner's items */
};

/*
 * GET of a list of the items of of, which the caller may see (the caller
 * checked): the limit and offset checked (pagination_params_or_reply), the
 * page read by read(db, struct page_read *) in one read transaction (its
 * items and its total agree), then answered with item(items, i) for each
 * (a new object) by pagination_reply().
 */
void pagination_list(struct http_request *req, int64_t of, db_unit_fn read,
                     json_t *(*item)(const void *items, size_t i));

/* pagination_list() of the caller's own items: 401 for anonymous callers. */
void pagination_user_list(struct http_request *req, db_unit_fn read,
                          json_t *(*item)(const void *items, size_t i));

#endif
