#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timefmt.h"

static atomic_int min_level = LOG_INFO;
static atomic_int format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level level)
{
  atomic_store(&min_level, (int)level);
}

void
log_set_format(enum log_format value)
{
  atomic_store(&format, (int)value);
}

bool
log_enabled(enum log_level level)
{
  return (int)level >= atomic_load(&min_level);
}

/* Appends s to buf at *len, escaping what could break the line. */
static void
append_escaped(char *buf, size_t cap, size_t *len, const char *s)
{
  for (; s && *s && *len + 5 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
      *len += (size_t)snprintf(buf + *len, cap - *len, "\\x%02x", c);
    else
      buf[(*len)++] = (char)c;
  }
}

/* Appends s to buf at *len as the inside of a JSON string. */
static void
append_json(char *buf, size_t cap, size_t *len, const char *s)
{
  for (; s && *s && *len + 8 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[(*len)++] = '\\';
      buf[(*len)++] = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      *len += (size_t)snprintf(buf + *len, cap - *len, "\\u%04x", c);
    } else {
      buf[(*len)++] = (char)c; /* UTF-8 as it is; invalid bytes stay bytes */
    }
  }
}

static void
append_raw(char *buf, size_t cap, size_t *len, const char *s)
{
  size_t n = strlen(s);
  if (*len + n >= cap)
    n = cap - *len - 1;
  memcpy(buf + *len, s, n);
  *len += n;
}

static void
emit(char *line, size_t len, size_t cap)
{
  if (len >= cap)
    len = cap - 1;
  line[len++] = '\n';
  /* One write per record; a short write on a pipe is not retried. */
  ssize_t rc = write(STDERR_FILENO, line, len);
  (void)rc;
}

static size_t
prefix(char *buf, size_t cap, enum log_level level)
{
  char ts[TIME_ISO_MAX];
  time_format_iso(time_now_us(), ts);
  int n = snprintf(buf, cap, "%s %s ", ts, level_names[level]);
  return n < 0 ? 0 : (size_t)n;
}

/* {"time":"...","level":"..." of a JSON record, in buf. */
static size_t
json_prefix(char *buf, size_t cap, enum log_level level)
{
  char ts[TIME_ISO_MAX];
  time_format_iso(time_now_us(), ts);
  int n = snprintf(buf, cap, "{\"time\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
  return n < 0 ? 0 : (size_t)n;
}

void
log_write(enum log_level level, const char *fmt, ...)
{
  if (!log_enabled(level))
    return;
  char message[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (n < 0)
    message[0] = '\0';
  char line[8192];
  size_t len;
  if (atomic_load(&format) == LOG_FORMAT_JSON) {
    len = json_prefix(line, sizeof line, level);
    append_raw(line, sizeof line, &len, ",\"message\":\"");
    append_json(line, sizeof line - 4, &len, message);
    append_raw(line, sizeof line, &len, "\"}");
  } else {
    len = prefix(line, sizeof line, level);
    append_raw(line, sizeof line, &len, message);
  }
  emit(line, len, sizeof line);
}

static void
access_json(const struct log_access_record *r)
{
  char line[8192];
  size_t len = json_prefix(line, sizeof line, LOG_INFO);
  const size_t room = sizeof line - 400; /* the numbers and the closing always fit */
  append_raw(line, sizeof line, &len, ",\"type\":\"access\",\"method\":\"");
  append_json(line, room, &len, r->method);
  append_raw(line, sizeof line, &len, "\",\"path\":\"");
  append_json(line, room, &len, r->path);
  append_raw(line, sizeof line, &len, "\"");
  if (r->query && r->query[0]) {
    append_raw(line, sizeof line, &len, ",\"query\":\"");
    append_json(line, room, &len, r->query);
    append_raw(line, sizeof line, &len, "\"");
  }
  int n = snprintf(line + len, sizeof line - len,
                   ",\"status\":%u,\"bytes\":%llu,\"duration_us\":%lld", r->status,
                   (unsigned long long)r->bytes, (long long)r->micros);
  if (n > 0)
    len += (size_t)n;
  if (r->client) {
    append_raw(line, sizeof line, &len, ",\"client\":\"");
    append_json(line, sizeof line - 200, &len, r->client);
    append_raw(line, sizeof line, &len, "\"");
  }
  if (r->user_id > 0) {
    n = snprintf(line + len, sizeof line - len, ",\"user\":%lld", (long long)r->user_id);
    if (n > 0)
      len += (size_t)n;
  }
  if (r->request_id) {
    append_raw(line, sizeof line, &len, ",\"request_id\":\"");
    append_json(line, sizeof line - 100, &len, r->request_id);
    append_raw(line, sizeof line, &len, "\"");
  }
  append_raw(line, sizeof line, &len, "}");
  emit(line, len, sizeof line);
}

void
log_access(const struct log_access_record *r)
{
  if (!log_enabled(LOG_INFO))
    return;
  if (atomic_load(&format) == LOG_FORMAT_JSON) {
    access_json(r);
    return;
  }
  /* 2026-12-06T07:00:00Z info 127.0.0.1 GET "/api/events/?limit=5" 200 812 153us user=3 rid=... */
  char line[8192];
  size_t len = prefix(line, sizeof line, LOG_INFO);
  const size_t room = sizeof line - 300;
  append_escaped(line, room, &len, r->client ? r->client : "-");
  line[len++] = ' ';
  append_escaped(line, room, &len, r->method);
  line[len++] = ' ';
  line[len++] = '"';
  append_escaped(line, room, &len, r->path);
  if (r->query && r->query[0]) {
    line[len++] = '?';
    append_escaped(line, room, &len, r->query);
  }
  line[len++] = '"';
  int n = snprintf(line + len, sizeof line - len, " %u %llu %lldus", r->status,
                   (unsigned long long)r->bytes, (long long)r->micros);
  if (n > 0)
    len += (size_t)n;
  if (r->user_id > 0) {
    n = snprintf(line + len, sizeof line - len, " user=%lld", (long long)r->user_id);
    if (n > 0)
      len += (size_t)n;
  }
  append_raw(line, sizeof line, &len, " rid=");
  append_escaped(line, sizeof line - 2, &len, r->request_id ? r->request_id : "-");
  emit(line, len, sizeof line);
}
