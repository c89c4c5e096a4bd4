/*
 * log.h - one-line log records on stderr.
 *
 * Each record is written with a single write(2), so lines from different
 * threads never interleave. Values that come from the network are escaped
 * (log_access) so a request cannot forge log lines. LOG_FORMAT=json writes
 * each record as one JSON object instead: {"time","level","message"} for
 * messages, and the access record's fields for requests.
 */
#ifndef EVENTAPI_CORE_LOG_H
#define EVENTAPI_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
/* Whether records of level are written. */
bool log_enabled(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/* One request, as the access log shows it; NULL fields are left out. */
struct log_access_record {
  const char *method;      /* "-" when the request line never arrived */
  const char *path;        /* as sent, percent-encoded */
  const char *query;       /* as sent, without the '?'; NULL or "" for none */
  unsigned status;         /* 0 when no answer was sent */
  uint64_t bytes;          /* of the body sent */
  int64_t micros;          /* from the request line to the answer sent */
  const char *request_id;
  const char *client;      /* the client's address (see TRUSTED_PROXIES) */
  int64_t user_id;         /* 0 when anonymous */
};

/* The access-log record of one request (at level info). */
void log_access(const struct log_access_record *record);

#endif
