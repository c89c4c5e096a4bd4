/*
 * sse.c - Server-Sent Events streams, read by tests (see sse.h).
 */
#include "support/sse.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/api.h"

struct sse *sse_adopt(int fd)
{
  struct sse *s = calloc(1, sizeof *s);
  cr_assert_not_null(s);
  api_keep(s, free);
  s->fd = fd;
  return s;
}

struct sse *sse_open(unsigned port, long long event, const char *token, const char *last_id)
{
  int fd = port ? api_connect_to(port, NULL, 0) : api_connect_from(NULL, 0);
  const char *request = api_printf(
      "GET /api/events/%lld/availability/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Accept: text/event-stream\r\n%s%s%s%s%s\r\n", event,
      token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "",
      last_id ? api_printf("Last-Event-ID: %s", last_id) : "", last_id ? "\r\n" : "");
  size_t len = strlen(request);
  cr_assert_eq(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
  return sse_adopt(fd);
}

void sse_close(struct sse *s)
{
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
}

bool sse_read_more(struct sse *s, int timeout_ms)
{
  struct pollfd p = {.fd = s->fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0)
    return true;
  cr_assert_lt(s->len, sizeof s->text - 1, "the stream sent more than a test reads");
  ssize_t n = recv(s->fd, s->text + s->len, sizeof s->text - 1 - s->len, 0);
  if (n <= 0)
    return false;
  s->len += (size_t)n;
  s->text[s->len] = '\0';
  return true;
}

void sse_wait_for(struct sse *s, const char *needle)
{
  for (int waited = 0; strstr(s->text, needle) == NULL; waited += 50) {
    cr_assert_lt(waited, SSE_WAIT_MS, "no \"%s\" in the stream:\n%s", needle, s->text);
    if (!sse_read_more(s, 50))
      cr_assert(strstr(s->text, needle) != NULL, "closed without \"%s\":\n%s", needle, s->text);
  }
}

json_t *sse_next(struct sse *s, long long *id)
{
  for (int waited = 0;; waited += 50) {
    char *data = strstr(s->text + s->read_to, "data: ");
    char *end = data ? strstr(data, "\n\n") : NULL;
    if (end) {
      char *idline = strstr(s->text + s->read_to, "id: ");
      *id = idline && idline < data ? atoll(idline + 4) : -1;
      json_t *json = api_keep_json(json_loadb(data + 6, (size_t)(end - data - 6), 0, NULL));
      cr_assert_not_null(json, "not JSON: %.*s", (int)(end - data), data);
      s->read_to = (size_t)(end + 2 - s->text);
      return json;
    }
    cr_assert_lt(waited, SSE_WAIT_MS, "no message in the stream:\n%s", s->text + s->read_to);
    cr_assert(sse_read_more(s, 50), "closed:\n%s", s->text);
  }
}
