/*
 * log.h - one-line log records on stderr.
 *
 * Each record is written with a single write(2), so lines from different
 * threads never interleave. Values that come from the network are escaped
 * (log_access) so a request cannot forge log lines.
 */
#ifndef EVENTAPI_CORE_LOG_H
#define EVENTAPI_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/* The access-log line of one request (at level info). */
void log_access(const char *method, const char *path, unsigned status,
                uint64_t bytes, int64_t micros, const char *request_id);

#endif
