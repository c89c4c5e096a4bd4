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

/* Whether (id, version) is cached now (it may be evicted right after). */
bool events_cache_has(int64_t id, int64_t version);

/*
 * Appends the JSON of event (id, version) to out, with base_url before its
 * image path. False (nothing appended) when it is not cached.
 */
bool events_cache_append(int64_t id, int64_t version, const char *base_url, struct strbuf *out);

/*
 * Serialises e, appends its JSON to out (with base_url) and caches it under
 * (e->id, e->version). Returns false when out of memory.
 */
bool events_cache_render(const struct event *e, const char *base_url, struct strbuf *out);

#endif
