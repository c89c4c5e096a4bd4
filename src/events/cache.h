/*
 * cache.h - each event's JSON (with its sessions and ticket types), kept as
 * bytes and keyed by the event's id and version.
 *
 * Every write that changes an event's JSON bumps its version in the
 * database, so an entry is never stale: a list or detail answer asks for the
 * versions it read in its transaction and serialises only the events it
 * misses. The image URL's base is stored apart and inserted per request.
 * Memory is bounded; shards keep threads from contending. Thread-safe.
 */
#ifndef EVENTAPI_EVENTS_CACHE_H
#define EVENTAPI_EVENTS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"
#include "events/models.h"

/* Sets the memory budget in bytes; 0 turns the cache off. Call at start-up. */
void events_cache_configure(size_t max_bytes);
void events_cache_clear(void);

/* Whether caching is on (EVENT_CACHE_MB is not 0). */
bool events_cache_enabled(void);

/* Whether (id, version) is cached now (it may be evicted right after). */
bool events_cache_has(int64_t id, int64_t version);

/*
 * Appends the JSON of event (id, version) to out, with base_url before its
 * image path. False (nothing appended) when it is not cached.
 */
bool events_cache_append(int64_t id, int64_t version, const char *base_url, struct strbuf *out);

/*
 * Serialises e, appends its JSON to out (with base_url) and caches it under
 * (e->id, e->version). Returns false when out of memory. The JSON is
 * written directly, byte for byte what json_dumps of events_serialize()
 * gives (events_cache_json writes it without caching, for the tests).
 */
bool events_cache_json(const struct event *e, const char *base_url, struct strbuf *out);
bool events_cache_render(const struct event *e, const char *base_url, struct strbuf *out);

/*
 * ---- Whole answers ----
 *
 * The bytes of a whole answer (the list for a query, an event's detail),
 * with the headers that go with it, keyed by the catalogue's version
 * (db_catalogue_version) and a key the view makes of what else the answer
 * depends on (the base URL of its links, the query). Only answers that are
 * the same for every caller they are given to are stored: the anonymous
 * list, and the detail of a public event (the same for everyone who asks).
 * An answer is shared by reference: the cache holds one, and each request
 * that sends it holds one until its response is gone, so the bytes are sent
 * without a copy. A new catalogue version makes every older answer useless;
 * those are dropped as they are met, and memory is bounded (a quarter of
 * EVENT_CACHE_MB). Thread-safe.
 */
struct events_answer {
  const char *body;          /* the answer's bytes */
  size_t len;
  char etag[24];             /* W/"<16 hex digits>" */
  int64_t total;             /* X-Total-Count, or -1 for none */
  int64_t valid_until;       /* the answer holds while the time is at most this */
  bool public_event;         /* a detail of a public event */
};

/*
 * The stored answer of key under version that holds at now, with a
 * reference for the caller, or NULL.
 */
const struct events_answer *events_answer_get(uint64_t version, const char *key, int64_t now);

/*
 * Makes an answer of body (malloc'd, taken; freed with the answer) and the
 * rest as struct events_answer has them, and stores it under version and
 * key when store is true and the cache is on. Returns it with a reference
 * for the caller, or NULL when out of memory (body freed).
 */
const struct events_answer *events_answer_make(uint64_t version, const char *key, bool store,
                                               char *body, size_t len, const char *etag,
                                               int64_t total, int64_t valid_until,
                                               bool public_event);

/* Drops the caller's reference (a void * for http_reply_shared). */
void events_answer_release(void *answer);

#endif
