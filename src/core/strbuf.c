#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

void
strbuf_append(struct strbuf *b, const char *data, size_t len)
{
  if (b->failed)
    return;
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + len + 1)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) {
      b->failed = true;
      return;
    }
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void
strbuf_puts(struct strbuf *b, const char *s)
{
  strbuf_append(b, s, strlen(s));
}

char *
strbuf_take(struct strbuf *b, size_t *len)
{
  char *data = b->data;
  *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return data;
}

void
strbuf_free(struct strbuf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = false;
}
