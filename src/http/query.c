/*
 * query.c - decoding the request target (see query.h).
 */
#include "http/query.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/text.h"

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

size_t
http_percent_decode(const char *s, size_t len, bool plus_is_space, char *out)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      out[n++] = (char)(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out[n++] = ' ';
    } else {
      out[n++] = s[i];
    }
  }
  return n;
}

/*
 * Decodes s[0..len) into arena memory (http_percent_decode), then replaces
 * invalid UTF-8 by U+FFFD as Python's unquote(errors="replace") does. *nul
 * is set when a NUL byte was decoded. NULL when out of memory.
 */
static char *
decode(arena_t *arena, const char *s, size_t len, bool plus_is_space, bool *nul)
{
  char *bytes = arena_alloc(arena, len + 1);
  if (bytes == NULL)
    return NULL;
  size_t n = http_percent_decode(s, len, plus_is_space, bytes);
  bytes[n] = '\0';
  if (memchr(bytes, '\0', n) != NULL)
    *nul = true;
  if (*nul || text_valid_utf8(bytes, n))
    return bytes;
  /* Each bad byte becomes U+FFFD: up to three bytes for one. */
  char *fixed = arena_alloc(arena, 3 * n + 1);
  if (fixed == NULL)
    return NULL;
  size_t out = 0;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t step = text_utf8_next((const unsigned char *)bytes + i, n - i, &cp);
    if (step == 0) {
      memcpy(fixed + out, "\xEF\xBF\xBD", 3);
      out += 3;
      i++;
    } else {
      memcpy(fixed + out, bytes + i, step);
      out += step;
      i += step;
    }
  }
  fixed[out] = '\0';
  return fixed;
}

enum http_target_error
http_target_parse(arena_t *arena, const char *target, const char **path,
                  struct http_param **params, size_t *count)
{
  *params = NULL;
  *count = 0;
  size_t path_len = strcspn(target, "?#");
  bool nul = false;
  *path = decode(arena, target, path_len, false, &nul);
  if (*path == NULL)
    return HTTP_TARGET_NO_MEMORY;
  if (nul)
    return HTTP_TARGET_NUL_IN_PATH;
  if (target[path_len] != '?')
    return HTTP_TARGET_OK;

  const char *query = target + path_len + 1;
  size_t query_len = strcspn(query, "#");
  size_t pairs = 0;
  for (size_t i = 0; i < query_len; i++)
    pairs += query[i] == '&';
  if (pairs + 1 > HTTP_QUERY_MAX_PARAMS) {
    /* Counted as Django counts them: every non-empty piece between '&'. */
    size_t nonempty = 0;
    for (size_t i = 0, start = 0; i <= query_len; i++) {
      if (i == query_len || query[i] == '&') {
        nonempty += i > start;
        start = i + 1;
      }
    }
    if (nonempty > HTTP_QUERY_MAX_PARAMS)
      return HTTP_TARGET_TOO_MANY_PARAMS;
  }
  struct http_param *list = arena_calloc(arena, pairs + 1, sizeof *list);
  if (list == NULL)
    return HTTP_TARGET_NO_MEMORY;
  size_t n = 0;
  for (size_t start = 0; start <= query_len;) {
    size_t len = 0;
    while (start + len < query_len && query[start + len] != '&')
      len++;
    if (len > 0) {
      const char *piece = query + start;
      const char *equals = memchr(piece, '=', len);
      size_t name_len = equals ? (size_t)(equals - piece) : len;
      const char *name = decode(arena, piece, name_len, true, &nul);
      const char *value = equals ? decode(arena, equals + 1, len - name_len - 1, true, &nul)
                                 : decode(arena, "", 0, true, &nul);
      if (name == NULL || value == NULL)
        return HTTP_TARGET_NO_MEMORY;
      if (nul)
        return HTTP_TARGET_NUL_IN_QUERY;
      list[n++] = (struct http_param){name, value};
    }
    start += len + 1;
  }
  *params = list;
  *count = n;
  return HTTP_TARGET_OK;
}
