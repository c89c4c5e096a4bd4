/*
 * arena.h - a per-request memory pool.
 *
 * Allocations come from chunks that are all freed at once by arena_free(),
 * which the HTTP server calls when a request completes, so handlers rarely
 * call free(). Allocation failure returns NULL; callers answer 500.
 */
#ifndef EVENTAPI_CORE_ARENA_H
#define EVENTAPI_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_chunk;
struct arena_disposer;

typedef struct arena {
  struct arena_chunk *head;
  struct arena_disposer *disposers;
} arena_t;

/* An arena needs no initialisation beyond zeroing: arena_t a = {0}. */
void *arena_alloc(arena_t *a, size_t size);
void *arena_calloc(arena_t *a, size_t n, size_t size);
char *arena_strdup(arena_t *a, const char *s);

/*
 * Room for one more item in a growable array of count items of size bytes
 * whose capacity is *cap (0 at first, items NULL): items while it has room,
 * else a copy with twice the room (the old one stays until arena_free()).
 * NULL when out of memory.
 */
void *arena_grow(arena_t *a, void *items, size_t count, size_t *cap, size_t size);
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_printf(arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena_t *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Has arena_free() call fn(arg) before it frees the memory, last registered
 * first (h2o's disposers): what the request made outside the arena goes
 * with it. Returns 0, or -1 (fn not registered, nothing called) when out of
 * memory.
 */
int arena_defer(arena_t *a, void (*fn)(void *arg), void *arg);

/* Runs the disposers, frees every allocation; the arena may be reused after. */
void arena_free(arena_t *a);

#endif
