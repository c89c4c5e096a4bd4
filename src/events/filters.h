/*
 * filters.h - the query parameters of the event list (and of the calendar
 * feed, which lists the same events), and the queries they make.
 *
 * Every filter and ordering is served by an index (migration 0008): what an
 * anonymous caller sees, the public events, has an index of its own per
 * ordering, and substring search goes through a trigram index (SQLite's
 * FTS5, PostgreSQL's pg_trgm). The number of matches, which a page needs
 * for X-Total-Count and its links, is cached by the catalogue's version, so
 * that a page costs what its rows cost, not what the catalogue holds.
 */
#ifndef EVENTAPI_EVENTS_FILTERS_H
#define EVENTAPI_EVENTS_FILTERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/models.h"
#include "http/http.h"

#define EVENTS_LIMIT_MAX 1000
#define EVENTS_SEARCH_TERMS_MAX 16

enum event_ordering {
  ORDER_DATE_TIME, ORDER_CREATED_AT, ORDER_TITLE, ORDER_CAPACITY, ORDER_ID,
};

/* A folded search term: as a LIKE pattern, and as it is (for the trigram
 * index), with its length in characters. */
struct event_term {
  const char *pattern;            /* %term%, LIKE's wildcards escaped */
  const char *text;
  size_t chars;
};

struct event_filter {
  int64_t category_id;            /* 0: any */
  const char *category_slug;      /* NULL: any */
  struct event_term terms[EVENTS_SEARCH_TERMS_MAX];
  int nterms;
  struct event_term location;     /* .pattern NULL: any */
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
 * number of matches, read in one transaction of its own. *out is an arena
 * array.
 */
int events_list(db_t *db, const struct event_filter *f, const struct principal *who,
                arena_t *arena, struct event **out, size_t *count, int64_t *total);

/*
 * The page of f as (id, version) pairs, in order, and the total number of
 * matches: what a list answer needs when the events' JSON is cached. Run
 * inside a read transaction together with events_get_many(). version is
 * the catalogue's version read before that transaction began
 * (db_catalogue_version), under which counts are cached. *valid_until
 * receives the time (microseconds) until which the same query gives the
 * same page: when the next event starts if the list holds upcoming events
 * only, else INT64_MAX.
 */
int events_list_versions(db_t *db, const struct event_filter *f, const struct principal *who,
                         uint64_t version, arena_t *arena, int64_t **ids, int64_t **versions,
                         size_t *count, int64_t *total, int64_t *valid_until);

/*
 * The SQL of the page query of f for who, as events_list_versions runs it,
 * with its parameters (for EXPLAIN in the tests): *nparams values in
 * params, each a text when texts[i] is not NULL, else numbers[i]. Arena
 * memory.
 */
struct event_query_sql {
  const char *sql;
  int nparams;
  const char *texts[EVENTS_SEARCH_TERMS_MAX + 16];
  int64_t numbers[EVENTS_SEARCH_TERMS_MAX + 16];
};
/* The page; the count cached by the catalogue's version (the public events
 * for anonymous callers and users, every event for admins); a user's own
 * part of the count (the private events they may see), never cached. */
enum event_query_kind { EVENT_QUERY_PAGE, EVENT_QUERY_COUNT, EVENT_QUERY_COUNT_PRIVATE };
int events_filter_sql(const struct event_filter *f, const struct principal *who,
                      enum event_query_kind kind, arena_t *arena, struct event_query_sql *out);

/* Forgets every cached count (the tests' and the cache switch's). */
void events_filter_counts_clear(void);

/*
 * Event id's own row (EVENTS_COLUMNS), without its sessions and ticket
 * types: what deciding who may see it, and finding its cached JSON, needs.
 * 0, EVENTAPI_ENOTFOUND or a database error. Strings in arena.
 */
int events_get_row(db_t *db, int64_t id, arena_t *arena, struct event *out);

/*
 * The events of ids (any order) with their sessions and ticket types, in
 * three queries. *out is an arena array of *count events (fewer than n when
 * some no longer exist).
 */
int events_get_many(db_t *db, const int64_t *ids, size_t n, arena_t *arena,
                    struct event **out, size_t *count);

#endif
