/*
 * filters.h - the query parameters of the event list (and of the calendar
 * feed, which lists the same events).
 */
#ifndef EVENTAPI_EVENTS_FILTERS_H
#define EVENTAPI_EVENTS_FILTERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "events/models.h"
#include "http/http.h"

#define EVENTS_LIMIT_MAX 1000
#define EVENTS_SEARCH_TERMS_MAX 16

enum event_ordering {
  ORDER_DATE_TIME, ORDER_CREATED_AT, ORDER_TITLE, ORDER_CAPACITY, ORDER_ID,
};

struct event_filter {
  int64_t category_id;            /* 0: any */
  const char *category_slug;      /* NULL: any */
  const char *terms[EVENTS_SEARCH_TERMS_MAX]; /* case-folded search terms */
  int nterms;
  const char *location;           /* case-folded substring, NULL: any */
  bool has_start, has_end;
  int64_t start, end;             /* inclusive bounds of date_time */
  bool upcoming;                  /* default true: date_time >= now */
  int64_t now;
  int64_t organizer;              /* 0: any */
  int visibility;                 /* -1: any, else enum visibility */
  enum event_ordering ordering;
  bool descending;
  bool paginate;                  /* limit given: the DRF envelope */
  int64_t limit;                  /* 1..1000 */
  int64_t offset;
};

/*
 * Reads the list's query parameters from req into f. Every invalid
 * parameter adds a message under its name to errors (a 400 for the caller).
 */
void events_filter_parse(struct http_request *req, struct event_filter *f, json_t *errors);

/*
 * The events who may see that match f: one page (f->limit, or 1000 without
 * pagination) from f->offset, in order, each with its sessions and ticket
 * types (fetched for the whole page at once, not per event), and the total
 * number of matches. *out is an arena array.
 */
int events_list(db_t *db, const struct event_filter *f, const struct principal *who,
                arena_t *arena, struct event **out, size_t *count, int64_t *total);

/*
 * The page of f as (id, version) pairs, in order, and the total number of
 * matches: what a list answer needs when the events' JSON is cached. Run
 * inside a read transaction together with events_get_many().
 */
int events_list_versions(db_t *db, const struct event_filter *f, const struct principal *who,
                         arena_t *arena, int64_t **ids, int64_t **versions, size_t *count,
                         int64_t *total);

/*
 * The events of ids (any order) with their sessions and ticket types, in
 * three queries. *out is an arena array of *count events (fewer than n when
 * some no longer exist).
 */
int events_get_many(db_t *db, const int64_t *ids, size_t n, arena_t *arena,
                    struct event **out, size_t *count);

#endif
