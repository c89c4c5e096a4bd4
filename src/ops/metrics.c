/*
 * metrics.c - lock-free request and domain counters, the process's own
 * figures, and their Prometheus text (see metrics.h).
 *
 * Memory is fixed: ROUTER_MAX + 1 route slots (the last one "unmatched")
 * by 8 methods by STATUS_SLOTS statuses, about half a megabyte of zeroes in
 * .bss of which only the pages of routes actually used are ever touched.
 */
#include "ops/metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "db/db.h"
#include "delivery/outbox.h"
#include "http/router.h"
#include "http/server.h"
#include "registrations/signals.h"
#include "tickets/signals.h"

#ifndef EVENTAPI_VERSION
#define EVENTAPI_VERSION "unknown"
#endif

/* The bits of enum http_method, lowest first. */
#define METHODS 8
static const char *const method_names[METHODS] = {
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

#define ROUTE_SLOTS (ROUTER_MAX + 1)
#define UNMATCHED ROUTER_MAX

/* Upper bounds of the latency buckets: microseconds, and as Prometheus
 * reads them (seconds); the last bucket, +Inf, is implicit. */
static const int64_t bucket_us[] = {
  500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
  1000000, 2500000, 5000000, 10000000,
};
static const char *const bucket_le[] = {
  "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
  "0.25", "0.5", "1", "2.5", "5", "10",
};
#define BUCKETS (sizeof bucket_us / sizeof bucket_us[0])

enum db_error_kind { DB_ERROR_BUSY, DB_ERROR_UNAVAILABLE, DB_ERROR_CONSTRAINT, DB_ERROR_OTHER };
static const char *const db_error_names[] = {"busy", "unavailable", "constraint", "other"};
#define DB_ERROR_KINDS (sizeof db_error_names / sizeof db_error_names[0])

/* Static atomics start as zero (C11 7.17.2.1). Each histogram bucket counts
 * only its own range; the exposition sums them into cumulative buckets. */
static atomic_uint_fast64_t requests[ROUTE_SLOTS][METHODS][STATUS_SLOTS];
static struct {
  atomic_uint_fast64_t buckets[BUCKETS + 1];
  atomic_uint_fast64_t sum_us;
} durations[ROUTE_SLOTS];
static atomic_uint_fast64_t db_errors[DB_ERROR_KINDS];

/* What the API did, counted once its transaction committed. */
enum domain_event {
  DOMAIN_CONFIRMED, DOMAIN_WAITLISTED, DOMAIN_CANCELLED, DOMAIN_PROMOTED, DOMAIN_CHECKED_IN,
  DOMAIN_EVENTS
};
static atomic_uint_fast64_t domain[DOMAIN_EVENTS];

static size_t
method_slot(enum http_method method)
{
  for (size_t i = 0; i < METHODS - 1; i++)
    if ((unsigned)method == 1u << i)
      return i;
  return METHODS - 1;
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

/* The label of a status slot, in buf. */
static const char *
status_label(size_t slot, char buf[8])
{
  if (slot < STATUSES)
    snprintf(buf, 8, "%u", statuses[slot]);
  else if (slot < STATUS_SLOTS - 1)
    snprintf(buf, 8, "%zuxx", slot - STATUSES + 1);
  else
    snprintf(buf, 8, "other");
  return buf;
}

void
metrics_observe_request(enum http_method method, const struct route *route,
                        unsigned status, int64_t duration_us)
{
  size_t slot = route ? router_template(route) : UNMATCHED;
  if (duration_us < 0)
    duration_us = 0;
  atomic_fetch_add_explicit(&requests[slot][method_slot(method)][status_slot(status)], 1,
                            memory_order_relaxed);
  size_t bucket = 0;
  while (bucket < BUCKETS && duration_us > bucket_us[bucket])
    bucket++;
  atomic_fetch_add_explicit(&durations[slot].buckets[bucket], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&durations[slot].sum_us, (uint_fast64_t)duration_us,
                            memory_order_relaxed);
}

void
metrics_observe_db_error(int rc)
{
  enum db_error_kind kind = DB_ERROR_OTHER;
  if (rc == EVENTAPI_EBUSY)
    kind = DB_ERROR_BUSY;
  else if (rc == EVENTAPI_EUNAVAILABLE || rc == EVENTAPI_EFULL || rc == EVENTAPI_ENOTDURABLE)
    kind = DB_ERROR_UNAVAILABLE;
  else if (rc == EVENTAPI_ECONSTRAINT || rc == EVENTAPI_ECONFLICT)
    kind = DB_ERROR_CONSTRAINT;
  atomic_fetch_add_explicit(&db_errors[kind], 1, memory_order_relaxed);
}

static uint64_t
load(atomic_uint_fast64_t *counter)
{
  return (uint64_t)atomic_load_explicit(counter, memory_order_relaxed);
}

static void
appendf(struct strbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
appendf(struct strbuf *out, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line) {
    out->failed = true; /* no line of ours is that long: a bug, not data */
    return;
  }
  strbuf_append(out, line, (size_t)n);
}

/*
 * The route label of a slot: the pattern with "<int:id>" written "{id}"
 * (OpenAPI's spelling), label-escaped; "unmatched" for the last slot.
 */
static const char *
route_label(size_t slot, char *buf, size_t size)
{
  const struct route *route = slot == UNMATCHED ? NULL : router_at(slot);
  if (route == NULL)
    return "unmatched";
  size_t used = 0;
  for (const char *p = route->pattern; *p && used + 3 < size; p++) {
    if (*p == '<') {
      const char *colon = p, *close = p;
      while (*close && *close != '>')
        close++;
      while (colon < close && *colon != ':')
        colon++;
      if (*close == '>' && colon < close) {
        buf[used++] = '{';
        for (const char *q = colon + 1; q < close && used + 3 < size; q++)
          buf[used++] = *q;
        buf[used++] = '}';
        p = close;
        continue;
      }
    }
    if (*p == '\\' || *p == '"')
      buf[used++] = '\\';
    buf[used++] = *p;
  }
  buf[used] = '\0';
  return buf;
}

static void
render_requests(struct strbuf *out, size_t routes)
{
  char route_buf[512], status_buf[8];
  strbuf_puts(out,
      "# HELP eventapi_http_requests_total HTTP requests answered, by method, route template and status.\n"
      "# TYPE eventapi_http_requests_total counter\n");
  for (size_t slot = 0; slot < ROUTE_SLOTS; slot++) {
    if (slot >= routes && slot != UNMATCHED)
      continue;
    for (size_t m = 0; m < METHODS; m++) {
      for (size_t s = 0; s < STATUS_SLOTS; s++) {
        uint64_t count = load(&requests[slot][m][s]);
        if (count == 0)
          continue;
        appendf(out, "eventapi_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                method_names[m], route_label(slot, route_buf, sizeof route_buf),
                status_label(s, status_buf), count);
      }
    }
  }
}

static void
render_durations(struct strbuf *out, size_t routes)
{
  char route_buf[512];
  strbuf_puts(out,
      "# HELP eventapi_http_request_duration_seconds Time from a request's first byte to its answer sent, by route template.\n"
      "# TYPE eventapi_http_request_duration_seconds histogram\n");
  for (size_t slot = 0; slot < ROUTE_SLOTS; slot++) {
    if (slot >= routes && slot != UNMATCHED)
      continue;
    uint64_t counts[BUCKETS + 1], total = 0;
    for (size_t b = 0; b <= BUCKETS; b++)
      total += counts[b] = load(&durations[slot].buckets[b]);
    if (total == 0)
      continue;
    const char *route = route_label(slot, route_buf, sizeof route_buf);
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= BUCKETS; b++) {
      cumulative += counts[b];
      appendf(out, "eventapi_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %" PRIu64 "\n",
              route, b < BUCKETS ? bucket_le[b] : "+Inf", cumulative);
    }
    uint64_t sum_us = load(&durations[slot].sum_us);
    appendf(out, "eventapi_http_request_duration_seconds_sum{route=\"%s\"} %" PRIu64 ".%06" PRIu64 "\n",
            route, sum_us / 1000000, sum_us % 1000000);
    appendf(out, "eventapi_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
            route, cumulative);
  }
}

static void
render_outbox(struct strbuf *out)
{
  strbuf_puts(out,
      "# HELP eventapi_outbox_messages Notifications in the outbox by state, read at scrape time.\n"
      "# TYPE eventapi_outbox_messages gauge\n");
  int64_t pending, sent, dead;
  db_t *db = db_thread();
  int rc = db ? delivery_counts(db, &pending, &sent, &dead) : EVENTAPI_EUNAVAILABLE;
  if (rc < 0) {
    appendf(out, "# eventapi_outbox_messages: the database did not answer: %s\n",
            eventapi_strerror(rc));
    return;
  }
  appendf(out, "eventapi_outbox_messages{state=\"pending\"} %" PRId64 "\n", pending);
  appendf(out, "eventapi_outbox_messages{state=\"sent\"} %" PRId64 "\n", sent);
  appendf(out, "eventapi_outbox_messages{state=\"dead\"} %" PRId64 "\n", dead);
}

/* ---- domain events: counted at the commit -------------------------------- */

static void
count_one(void *counter)
{
  atomic_fetch_add_explicit((atomic_uint_fast64_t *)counter, 1, memory_order_relaxed);
}

/*
 * Counts event once the transaction the signal came from commits (dropped
 * if it rolls back, so a refused or retried change is never counted). A
 * failure to register is not passed on: a metric missed, rather than a
 * registration refused.
 */
static int
count_at_commit(db_t *db, enum domain_event event)
{
  (void)db_on_commit(db, count_one, &domain[event]);
  return 0;
}

static int
on_confirmed(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)registration_id, (void)now, (void)arena;
  return count_at_commit(db, DOMAIN_CONFIRMED);
}

static int
on_waitlisted(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)registration_id, (void)now, (void)arena;
  return count_at_commit(db, DOMAIN_WAITLISTED);
}

static int
on_cancelled(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)registration_id, (void)now, (void)arena;
  return count_at_commit(db, DOMAIN_CANCELLED);
}

static int
on_promoted(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)registration_id, (void)now, (void)arena;
  return count_at_commit(db, DOMAIN_PROMOTED);
}

static int
on_checked_in(db_t *db, int64_t ticket_id, int64_t now)
{
  (void)ticket_id, (void)now;
  return count_at_commit(db, DOMAIN_CHECKED_IN);
}

void
metrics_signals_connect(void)
{
  registrations_connect(REGISTRATIONS_CONFIRMED, on_confirmed);
  registrations_connect(REGISTRATIONS_WAITLISTED, on_waitlisted);
  registrations_connect(REGISTRATIONS_CANCELLED, on_cancelled);
  registrations_connect(REGISTRATIONS_PROMOTED, on_promoted);
  tickets_checked_in_connect(on_checked_in);
}

static void
render_domain(struct strbuf *out)
{
  strbuf_puts(out,
      "# HELP eventapi_registrations_total Registrations made through this process, by the state they were made in.\n"
      "# TYPE eventapi_registrations_total counter\n");
  appendf(out, "eventapi_registrations_total{state=\"confirmed\"} %" PRIu64 "\n",
          load(&domain[DOMAIN_CONFIRMED]));
  appendf(out, "eventapi_registrations_total{state=\"waitlisted\"} %" PRIu64 "\n",
          load(&domain[DOMAIN_WAITLISTED]));
  strbuf_puts(out,
      "# HELP eventapi_cancellations_total Registrations cancelled through this process.\n"
      "# TYPE eventapi_cancellations_total counter\n");
  appendf(out, "eventapi_cancellations_total %" PRIu64 "\n", load(&domain[DOMAIN_CANCELLED]));
  strbuf_puts(out,
      "# HELP eventapi_promotions_total Waitlisted registrations given a place through this process.\n"
      "# TYPE eventapi_promotions_total counter\n");
  appendf(out, "eventapi_promotions_total %" PRIu64 "\n", load(&domain[DOMAIN_PROMOTED]));
  strbuf_puts(out,
      "# HELP eventapi_checkins_total Tickets checked in through this process.\n"
      "# TYPE eventapi_checkins_total counter\n");
  appendf(out, "eventapi_checkins_total %" PRIu64 "\n", load(&domain[DOMAIN_CHECKED_IN]));
}

/* ---- the process, from /proc/self (as Prometheus's client libraries) ----- */

/* The first line of path that starts with prefix, after it, in buf; or NULL. */
static const char *
proc_line(const char *path, const char *prefix, char *buf, size_t len)
{
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return NULL;
  const char *found = NULL;
  size_t plen = strlen(prefix);
  while (found == NULL && fgets(buf, (int)len, f))
    if (strncmp(buf, prefix, plen) == 0)
      found = buf + plen;
  fclose(f);
  return found;
}

/* Open file descriptors: the entries of /proc/self/fd, less the one reading it. */
static int
open_fds(uint64_t *count)
{
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL)
    return EVENTAPI_EIO;
  uint64_t n = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL)
    if (entry->d_name[0] != '.')
      n++;
  closedir(dir);
  *count = n > 0 ? n - 1 : 0;
  return 0;
}

static void
render_process(struct strbuf *out)
{
  char stat[1024], line[256];
  FILE *f = fopen("/proc/self/stat", "re");
  size_t len = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
  if (f)
    fclose(f);
  stat[len] = '\0';
  /* After the command's name in parentheses (which may hold anything),
   * fields 3 on: utime and stime are 14 and 15, starttime 22, vsize 23,
   * rss 24 (man 5 proc). */
  const char *rest = strrchr(stat, ')');
  unsigned long long utime = 0, stime = 0, starttime = 0, vsize = 0, rss = 0;
  int fields = rest ? sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                                       "%*d %*d %*d %*d %*d %*d %llu %llu %llu",
                             &utime, &stime, &starttime, &vsize, &rss) : 0;
  long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  const char *btime = proc_line("/proc/stat", "btime ", line, sizeof line);
  if (fields != 5 || ticks <= 0 || page <= 0 || btime == NULL) {
    strbuf_puts(out, "# process_*: /proc/self cannot be read here\n");
    return;
  }
  unsigned long long boot = strtoull(btime, NULL, 10);
  strbuf_puts(out,
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\n");
  appendf(out, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)ticks);
  strbuf_puts(out,
      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\n");
  appendf(out, "process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
  strbuf_puts(out,
      "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
      "# TYPE process_virtual_memory_bytes gauge\n");
  appendf(out, "process_virtual_memory_bytes %llu\n", vsize);
  strbuf_puts(out,
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
      "# TYPE process_start_time_seconds gauge\n");
  appendf(out, "process_start_time_seconds %.2f\n",
          (double)boot + (double)starttime / (double)ticks);
  uint64_t fds;
  if (open_fds(&fds) == 0) {
    strbuf_puts(out,
        "# HELP process_open_fds Number of open file descriptors.\n"
        "# TYPE process_open_fds gauge\n");
    appendf(out, "process_open_fds %" PRIu64 "\n", fds);
  }
  /* "Max open files            1024                 524288               files" */
  const char *limits = proc_line("/proc/self/limits", "Max open files", line, sizeof line);
  char *end = NULL;
  unsigned long long max = limits ? strtoull(limits, &end, 10) : 0;
  if (end && end != limits) {
    strbuf_puts(out,
        "# HELP process_max_fds Maximum number of open file descriptors.\n"
        "# TYPE process_max_fds gauge\n");
    appendf(out, "process_max_fds %llu\n", max);
  }
}

void
metrics_view(struct http_request *req)
{
  struct strbuf out = {0};
  size_t routes = router_count();
  render_requests(&out, routes);
  render_durations(&out, routes);
  strbuf_puts(&out,
      "# HELP eventapi_http_requests_in_flight Requests being handled, this scrape included.\n"
      "# TYPE eventapi_http_requests_in_flight gauge\n");
  appendf(&out, "eventapi_http_requests_in_flight %u\n", http_server_in_flight());
  struct http_server_stats guard;
  http_server_stats(&guard);
  strbuf_puts(&out,
      "# HELP eventapi_http_connections_open Client connections open now.\n"
      "# TYPE eventapi_http_connections_open gauge\n");
  appendf(&out, "eventapi_http_connections_open %u\n", guard.open_connections);
  strbuf_puts(&out,
      "# HELP eventapi_http_connections_refused_total Connections closed at accept: an address at PER_IP_CONNECTION_LIMIT, or headroom kept for new addresses.\n"
      "# TYPE eventapi_http_connections_refused_total counter\n");
  appendf(&out, "eventapi_http_connections_refused_total{reason=\"per_address\"} %" PRIu64 "\n",
          guard.refused_per_address);
  appendf(&out, "eventapi_http_connections_refused_total{reason=\"headroom\"} %" PRIu64 "\n",
          guard.refused_headroom);
  strbuf_puts(&out,
      "# HELP eventapi_http_timeouts_total Requests answered 408: headers (HEADER_TIMEOUT) or body (BODY_TIMEOUT) too slow.\n"
      "# TYPE eventapi_http_timeouts_total counter\n");
  appendf(&out, "eventapi_http_timeouts_total{phase=\"headers\"} %" PRIu64 "\n",
          guard.timed_out_head);
  appendf(&out, "eventapi_http_timeouts_total{phase=\"body\"} %" PRIu64 "\n",
          guard.timed_out_body);
  struct db_write_stats writes;
  db_write_stats(&writes);
  strbuf_puts(&out,
      "# HELP eventapi_db_write_batches_total Write transactions of the writer (SQLite: several units of work, one commit).\n"
      "# TYPE eventapi_db_write_batches_total counter\n");
  appendf(&out, "eventapi_db_write_batches_total %" PRIu64 "\n", writes.batches);
  strbuf_puts(&out,
      "# HELP eventapi_db_write_units_total Units of work the writer ran (one a write request).\n"
      "# TYPE eventapi_db_write_units_total counter\n");
  appendf(&out, "eventapi_db_write_units_total %" PRIu64 "\n", writes.units);
  strbuf_puts(&out,
      "# HELP eventapi_db_write_replays_total Batches run again with a savepoint a unit, after a unit failed having changed rows.\n"
      "# TYPE eventapi_db_write_replays_total counter\n");
  appendf(&out, "eventapi_db_write_replays_total %" PRIu64 "\n", writes.replays);
  strbuf_puts(&out,
      "# HELP eventapi_db_errors_total Database errors answered to clients, by class.\n"
      "# TYPE eventapi_db_errors_total counter\n");
  for (size_t kind = 0; kind < DB_ERROR_KINDS; kind++)
    appendf(&out, "eventapi_db_errors_total{kind=\"%s\"} %" PRIu64 "\n",
            db_error_names[kind], load(&db_errors[kind]));
  render_domain(&out);
  render_outbox(&out);
  render_process(&out);
  strbuf_puts(&out,
      "# HELP eventapi_build_info The running version.\n"
      "# TYPE eventapi_build_info gauge\n"
      "eventapi_build_info{version=\"" EVENTAPI_VERSION "\"} 1\n");
  if (out.failed) {
    strbuf_free(&out);
    http_reply_internal(req, "metrics: out of memory");
    return;
  }
  size_t len;
  char *text = strbuf_take(&out, &len);
  http_add_header(req, "Cache-Control", "no-store");
  http_reply_bytes(req, 200, METRICS_CONTENT_TYPE, text, len);
}
