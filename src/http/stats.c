/*
 * stats.c - the HTTP layer's lock-free counters (see stats.h).
 *
 * Memory is fixed: HTTP_STATS_ROUTES route slots by 8 methods by
 * STATUS_SLOTS statuses, about half a megabyte of zeroes in .bss of which
 * only the pages of routes actually used are ever touched.
 */
#include "http/stats.h"

#include <stdatomic.h>
#include <stdio.h>

#include "core/error.h"

static const char *const method_names[HTTP_STATS_METHODS] = {
  "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
};

/* Statuses counted as themselves; any other under its class ("4xx"), and
 * one outside 100-599 as "other". */
static const unsigned statuses[] = {
  200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
  400, 401, 403, 404, 405, 406, 409, 410, 412, 413, 415, 422, 429,
  500, 501, 502, 503, 504,
};
#define STATUSES (sizeof statuses / sizeof statuses[0])
#define STATUS_SLOTS (STATUSES + 6) /* + "1xx" .. "5xx" + "other" */

/* Upper bounds of the latency buckets, in microseconds. */
static const int64_t bucket_us[HTTP_STATS_BUCKETS] = {
  500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
  1000000, 2500000, 5000000, 10000000,
};

/* Static atomics start as zero (C11 7.17.2.1). Each histogram bucket counts
 * only its own range; readers sum them into cumulative buckets. */
static atomic_uint_fast64_t requests[HTTP_STATS_ROUTES][HTTP_STATS_METHODS][STATUS_SLOTS];
static struct {
  atomic_uint_fast64_t buckets[HTTP_STATS_BUCKETS + 1];
  atomic_uint_fast64_t sum_us;
} durations[HTTP_STATS_ROUTES];
static atomic_uint_fast64_t errors[HTTP_ERROR_CLASSES];

static size_t
method_slot(enum http_method method)
{
  for (size_t i = 0; i < HTTP_STATS_METHODS - 1; i++)
    if ((unsigned)method == 1u << i)
      return i;
  return HTTP_STATS_METHODS - 1;
}

static size_t
status_slot(unsigned status)
{
  for (size_t i = 0; i < STATUSES; i++)
    if (statuses[i] == status)
      return i;
  if (status >= 100 && status <= 599)
    return STATUSES + status / 100 - 1;
  return STATUS_SLOTS - 1;
}

void
http_stats_request(enum http_method method, const struct route *route, unsigned status,
                   int64_t duration_us)
{
  size_t slot = route ? router_template(route) : HTTP_STATS_UNMATCHED;
  if (duration_us < 0)
    duration_us = 0;
  atomic_fetch_add_explicit(&requests[slot][method_slot(method)][status_slot(status)], 1,
                            memory_order_relaxed);
  size_t bucket = 0;
  while (bucket < HTTP_STATS_BUCKETS && duration_us > bucket_us[bucket])
    bucket++;
  atomic_fetch_add_explicit(&durations[slot].buckets[bucket], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&durations[slot].sum_us, (uint_fast64_t)duration_us,
                            memory_order_relaxed);
}

void
http_stats_error(int rc)
{
  enum http_error_class class = HTTP_ERROR_OTHER;
  if (rc == EVENTAPI_EBUSY)
    class = HTTP_ERROR_BUSY;
  else if (rc == EVENTAPI_EUNAVAILABLE || rc == EVENTAPI_EFULL || rc == EVENTAPI_ENOTDURABLE)
    class = HTTP_ERROR_UNAVAILABLE;
  else if (rc == EVENTAPI_ECONSTRAINT || rc == EVENTAPI_ECONFLICT)
    class = HTTP_ERROR_CONSTRAINT;
  atomic_fetch_add_explicit(&errors[class], 1, memory_order_relaxed);
}

static uint64_t
load(atomic_uint_fast64_t *counter)
{
  return (uint64_t)atomic_load_explicit(counter, memory_order_relaxed);
}

size_t
http_stats_status_slots(void)
{
  return STATUS_SLOTS;
}

const char *
http_stats_status_label(size_t slot, char buf[8])
{
  if (slot < STATUSES)
    snprintf(buf, 8, "%u", statuses[slot]);
  else if (slot < STATUS_SLOTS - 1)
    snprintf(buf, 8, "%zuxx", slot - STATUSES + 1);
  else
    snprintf(buf, 8, "other");
  return buf;
}

const char *
http_stats_method_name(size_t slot)
{
  return slot < HTTP_STATS_METHODS ? method_names[slot] : "OTHER";
}

uint64_t
http_stats_requests(size_t route, size_t method, size_t status)
{
  return load(&requests[route][method][status]);
}

void
http_stats_durations(size_t route, uint64_t counts[HTTP_STATS_BUCKETS + 1], uint64_t *sum_us)
{
  for (size_t b = 0; b <= HTTP_STATS_BUCKETS; b++)
    counts[b] = load(&durations[route].buckets[b]);
  *sum_us = load(&durations[route].sum_us);
}

uint64_t
http_stats_errors(enum http_error_class class)
{
  return load(&errors[class]);
}
