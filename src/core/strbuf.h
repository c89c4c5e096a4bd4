/*
 * strbuf.h - a growable byte buffer for building response bodies.
 */
#ifndef EVENTAPI_CORE_STRBUF_H
#define EVENTAPI_CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
  char *data; /* malloc'd; NUL-terminated while ok */
  size_t len, cap;
  bool failed; /* an allocation failed: the content is incomplete */
};

void strbuf_append(struct strbuf *b, const char *data, size_t len);
void strbuf_puts(struct strbuf *b, const char *s);

/* Hands the data over (the caller frees it); the buffer is empty after. */
char *strbuf_take(struct strbuf *b, size_t *len);
void strbuf_free(struct strbuf *b);

#endif
