#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timefmt.h"

static atomic_int min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level level)
{
  atomic_store(&min_level, (int)level);
}

int
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

void
log_write(enum log_level level, const char *fmt, ...)
{
  if (!log_enabled(level))
    return;
  char line[4096];
  size_t len = prefix(line, sizeof line, level);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line + len, sizeof line - len, fmt, ap);
  va_end(ap);
  if (n > 0)
    len += (size_t)n;
  emit(line, len, sizeof line);
}

void
log_access(const char *method, const char *path, unsigned status,
           uint64_t bytes, int64_t micros, const char *request_id)
{
  if (!log_enabled(LOG_INFO))
    return;
  char line[4096];
  size_t len = prefix(line, sizeof line, LOG_INFO);
  append_escaped(line, sizeof line - 200, &len, method);
  line[len++] = ' ';
  line[len++] = '"';
  append_escaped(line, sizeof line - 200, &len, path);
  line[len++] = '"';
  int n = snprintf(line + len, sizeof line - len, " %u %llu %lldus rid=", status,
                   (unsigned long long)bytes, (long long)micros);
  if (n > 0)
    len += (size_t)n;
  append_escaped(line, sizeof line - 2, &len, request_id);
  emit(line, len, sizeof line);
}
