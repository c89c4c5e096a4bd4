/*
 * router.c - matching request paths against the route table.
 *
 * The table is small (tens of routes) and patterns are compared segment by
 * segment without allocation, so a linear scan costs well under a
 * microsecond; it is built once at start-up and read-only afterwards.
 */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const struct route *table[ROUTER_MAX];
static size_t templates[ROUTER_MAX]; /* the first route with the same pattern */
static size_t table_len;

int
http_routes_add(const struct route *routes, size_t count)
{
  if (table_len + count > ROUTER_MAX)
    return EVENTAPI_ENOMEM;
  for (size_t i = 0; i < count; i++) {
    size_t first = table_len;
    for (size_t j = 0; j < table_len; j++) {
      if (strcmp(table[j]->pattern, routes[i].pattern) == 0) {
        first = j;
        break;
      }
    }
    templates[table_len] = first;
    table[table_len++] = &routes[i];
  }
  return 0;
}

void
router_reset(void)
{
  table_len = 0;
}

size_t
router_count(void)
{
  return table_len;
}

const struct route *
router_at(size_t index)
{
  return index < table_len ? table[index] : NULL;
}

/* A scan of pointers: tens of compares, cheaper than widening the request. */
size_t
router_index(const struct route *route)
{
  for (size_t i = 0; i < table_len; i++)
    if (table[i] == route)
      return i;
  return ROUTER_MAX;
}

size_t
router_template(const struct route *route)
{
  size_t index = router_index(route);
  return index < table_len ? templates[index] : ROUTER_MAX;
}

void
router_each(void (*fn)(const struct route *route, void *ctx), void *ctx)
{
  for (size_t i = 0; i < table_len; i++)
    fn(table[i], ctx);
}

enum http_method
router_method(const char *name)
{
  static const struct {
    const char *name;
    enum http_method method;
  } methods[] = {
    {"GET", HTTP_GET}, {"HEAD", HTTP_HEAD}, {"POST", HTTP_POST},
    {"PUT", HTTP_PUT}, {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
    {"OPTIONS", HTTP_OPTIONS},
  };
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (strcmp(name, methods[i].name) == 0)
      return methods[i].method;
  return HTTP_OTHER;
}

void
router_allow_header(unsigned methods, char *buf, size_t len)
{
  static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < 7; i++) {
    if (!(methods & (1u << i)))
      continue;
    int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", names[i]);
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
}

/* Length of the segment starting at s (up to '/' or the end). */
static size_t
segment_len(const char *s)
{
  const char *slash = strchr(s, '/');
  return slash ? (size_t)(slash - s) : strlen(s);
}

/*
 * Matches path against pattern; on success stores the parameters in req
 * (when req is not NULL). Both start with '/'. The path's trailing slash is
 * optional; the pattern always has one.
 */
static bool
match(const char *pattern, const char *path, struct http_request *req)
{
  int nparams = 0;
  const char *p = pattern + 1, *s = path + 1;
  for (;;) {
    if (*p == '\0')
      return *s == '\0' && (req == NULL || (req->nparams = nparams, true));
    if (*s == '\0')
      return strcmp(p, "") == 0;
    size_t plen = segment_len(p), slen = segment_len(s);
    if (plen > 5 && p[0] == '<' && p[plen - 1] == '>') {
      if (slen == 0 || nparams >= HTTP_MAX_PARAMS)
        return false;
      bool is_int = strncmp(p, "<int:", 5) == 0;
      int64_t id = 0;
      if (is_int) {
        if (slen > 18)
          return false;
        for (size_t i = 0; i < slen; i++) {
          if (s[i] < '0' || s[i] > '9')
            return false;
          id = id * 10 + (s[i] - '0');
        }
      }
      if (req) {
        req->params[nparams] = arena_strndup(&req->arena, s, slen);
        req->ids[nparams] = id;
        if (req->params[nparams] == NULL)
          return false;
      }
      nparams++;
    } else if (plen != slen || memcmp(p, s, plen) != 0) {
      return false;
    }
    p += plen;
    s += slen;
    /* Both at a '/', or the path ended where the pattern's last '/' is. */
    if (*p == '/')
      p++;
    if (*s == '/')
      s++;
    else if (*s != '\0')
      return false;
  }
}

enum router_result
router_match(struct http_request *req, unsigned *allowed)
{
  unsigned method = req->method == HTTP_HEAD ? HTTP_GET : req->method;
  *allowed = 0;
  /* Every pattern begins with '/'; a target such as "?a=b" or "*" names none. */
  if (req->path[0] != '/')
    return ROUTER_NO_PATH;
  for (size_t i = 0; i < table_len; i++) {
    if ((table[i]->method & method) && match(table[i]->pattern, req->path, req)) {
      req->route = table[i];
      return ROUTER_FOUND;
    }
  }
  for (size_t i = 0; i < table_len; i++) {
    if (match(table[i]->pattern, req->path, NULL)) {
      if (*allowed == 0)
        req->route = table[i]; /* its template names the path in metrics */
      *allowed |= table[i]->method;
    }
  }
  if (*allowed == 0)
    return ROUTER_NO_PATH;
  if (*allowed & HTTP_GET)
    *allowed |= HTTP_HEAD;
  *allowed |= HTTP_OPTIONS;
  return ROUTER_NO_METHOD;
}
