#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN 4096

/*
 * Under AddressSanitizer (make sanitize, the fuzz targets) the unused part
 * of every chunk is poisoned and each allocation is followed by a redzone,
 * so that a read or write past an arena allocation is reported like one
 * past a malloc'd block, not lost inside the chunk.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif

#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE 16
#define POISON(p, size) ASAN_POISON_MEMORY_REGION(p, size)
#define UNPOISON(p, size) ASAN_UNPOISON_MEMORY_REGION(p, size)
#else
#define ARENA_REDZONE 0
#define POISON(p, size) ((void)(p), (void)(size))
#define UNPOISON(p, size) ((void)(p), (void)(size))
#endif

struct arena_chunk {
  struct arena_chunk *next;
  size_t used, size;
  max_align_t data[];
};

void *
arena_alloc(arena_t *a, size_t size)
{
  const size_t align = _Alignof(max_align_t);
  size_t need = (size + ARENA_REDZONE + align - 1) & ~(align - 1);
  if (need < size)
    return NULL;
  struct arena_chunk *c = a->head;
  if (c == NULL || c->size - c->used < need) {
    size_t cap = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;
    if (cap > SIZE_MAX - sizeof *c)
      return NULL;
    c = malloc(sizeof *c + cap);
    if (c == NULL)
      return NULL;
    c->used = 0;
    c->size = cap;
    c->next = a->head;
    a->head = c;
    POISON(c->data, cap);
  }
  void *p = (char *)c->data + c->used;
  c->used += need;
  UNPOISON(p, size);
  return p;
}

void *
arena_calloc(arena_t *a, size_t n, size_t size)
{
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  void *p = arena_alloc(a, n * size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void *
arena_grow(arena_t *a, void *items, size_t count, size_t *cap, size_t size)
{
  if (count < *cap)
    return items;
  size_t next = *cap ? *cap * 2 : 16;
  void *grown = arena_calloc(a, next, size);
  if (grown == NULL)
    return NULL;
  if (count)
    memcpy(grown, items, count * size);
  *cap = next;
  return grown;
}

char *
arena_strndup(arena_t *a, const char *s, size_t n)
{
  char *p = arena_alloc(a, n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

char *
arena_strdup(arena_t *a, const char *s)
{
  return arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(arena_t *a, const char *fmt, va_list ap)
{
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0)
    return NULL;
  char *p = arena_alloc(a, (size_t)n + 1);
  if (p)
    vsnprintf(p, (size_t)n + 1, fmt, ap);
  return p;
}

char *
arena_printf(arena_t *a, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *p = arena_vprintf(a, fmt, ap);
  va_end(ap);
  return p;
}

struct arena_disposer {
  struct arena_disposer *next;
  void (*fn)(void *);
  void *arg;
};

int
arena_defer(arena_t *a, void (*fn)(void *arg), void *arg)
{
  struct arena_disposer *d = arena_alloc(a, sizeof *d);
  if (d == NULL)
    return -1;
  *d = (struct arena_disposer){a->disposers, fn, arg};
  a->disposers = d;
  return 0;
}

void
arena_free(arena_t *a)
{
  /* The disposers live in the chunks: all of them run before any is freed. */
  for (struct arena_disposer *d = a->disposers; d; d = d->next)
    d->fn(d->arg);
  a->disposers = NULL;
  struct arena_chunk *c = a->head;
  while (c) {
    struct arena_chunk *next = c->next;
    UNPOISON(c->data, c->size);
    free(c);
    c = next;
  }
  a->head = NULL;
}
