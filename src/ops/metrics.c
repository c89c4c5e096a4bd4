/*
 * metrics.c - the Prometheus text of the HTTP layer's counters
 * (http/stats.h), the server's and the writer's figures, the domain
 * counters kept here, and the process's own figures (see metrics.h).
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
#include "http/stats.h"
#include "registrations/signals.h"
#include "tickets/signals.h"

#ifndef EVENTAPI_VERSION
#define EVENTAPI_VERSION "unknown"
#endif

/* The upper bounds of http/stats.h's latency buckets, as Prometheus reads
 * them (seconds); the last bucket, +Inf, is implicit. */
static const char *const bucket_le[HTTP_STATS_BUCKETS] = {
  "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
  "0.25", "0.5", "1", "2.5", "5", "10",
};

static const char *const error_class_names[HTTP_ERROR_CLASSES] = {
  "busy", "unavailable", "constraint", "other",
};

/* What the API did, counted once its transaction committed. */
enum domain_event {
  DOMAIN_CONFIRMED, DOMAIN_WAITLISTED, DOMAIN_CANCELLED, DOMAIN_PROMOTED, DOMAIN_CHECKED_IN,
  DOMAIN_CHECK_IN_UNDONE, DOMAIN_EVENTS
};
static atomic_uint_fast64_t domain[DOMAIN_EVENTS];

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
  const struct route *route = slot == HTTP_STATS_UNMATCHED ? NULL : router_at(slot);
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
  size_t status_slots = http_stats_status_slots();
  for (size_t slot = 0; slot < HTTP_STATS_ROUTES; slot++) {
    if (slot >= routes && slot != HTTP_STATS_UNMATCHED)
      continue;
    for (size_t m = 0; m < HTTP_STATS_METHODS; m++) {
      for (size_t s = 0; s < status_slots; s++) {
        uint64_t count = http_stats_requests(slot, m, s);
        if (count == 0)
          continue;
        appendf(out, "eventapi_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                http_stats_method_name(m), route_label(slot, route_buf, sizeof route_buf),
                http_stats_status_label(s, status_buf), count);
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
  for (size_t slot = 0; slot < HTTP_STATS_ROUTES; slot++) {
    if (slot >= routes && slot != HTTP_STATS_UNMATCHED)
      continue;
    uint64_t counts[HTTP_STATS_BUCKETS + 1], total = 0, sum_us;
    http_stats_durations(slot, counts, &sum_us);
    for (size_t b = 0; b <= HTTP_STATS_BUCKETS; b++)
      total += counts[b];
    if (total == 0)
      continue;
    const char *route = route_label(slot, route_buf, sizeof route_buf);
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= HTTP_STATS_BUCKETS; b++) {
      cumulative += counts[b];
      appendf(out, "eventapi_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %" PRIu64 "\n",
              route, b < HTTP_STATS_BUCKETS ? bucket_le[b] : "+Inf", cumulative);
    }
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

int
ops_metrics_on_confirmed(db_t *db, const void *payload)
{
  (void)payload;
  return count_at_commit(db, DOMAIN_CONFIRMED);
}

int
ops_metrics_on_waitlisted(db_t *db, const void *payload)
{
  (void)payload;
  return count_at_commit(db, DOMAIN_WAITLISTED);
}

int
ops_metrics_on_cancelled(db_t *db, const void *payload)
{
  (void)payload;
  return count_at_commit(db, DOMAIN_CANCELLED);
}

int
ops_metrics_on_promoted(db_t *db, const void *payload)
{
  (void)payload;
  return count_at_commit(db, DOMAIN_PROMOTED);
}

int
ops_metrics_on_checked_in(db_t *db, const void *payload)
{
  (void)payload;
  return count_at_commit(db, DOMAIN_CHECKED_IN);
}

int
ops_metrics_on_check_in_undone(db_t *db, const void *payload)
{
  (void)payload;
  return count_at_commit(db, DOMAIN_CHECK_IN_UNDONE);
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
  strbuf_puts(out,
      "# HELP eventapi_checkin_undos_total Check-ins undone (wrong scans) through this process.\n"
      "# TYPE eventapi_checkin_undos_total counter\n");
  appendf(out, "eventapi_checkin_undos_total %" PRIu64 "\n",
          load(&domain[DOMAIN_CHECK_IN_UNDONE]));
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
ops_metrics_view(struct http_request *req)
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
      "# HELP eventapi_http_connections_refused_total Connections closed at accept: CONNECTION_LIMIT reached, an address at PER_IP_CONNECTION_LIMIT, or headroom kept for new addresses.\n"
      "# TYPE eventapi_http_connections_refused_total counter\n");
  appendf(&out, "eventapi_http_connections_refused_total{reason=\"limit\"} %" PRIu64 "\n",
          guard.refused_limit);
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
      "# HELP eventapi_db_checkpoints_total SQLite: checkpoints (the write-ahead log copied into the database file), by the writer or by the thread beside a busy writer.\n"
      "# TYPE eventapi_db_checkpoints_total counter\n");
  appendf(&out, "eventapi_db_checkpoints_total{by=\"writer\"} %" PRIu64 "\n",
          writes.checkpoints_writer);
  appendf(&out, "eventapi_db_checkpoints_total{by=\"beside\"} %" PRIu64 "\n",
          writes.checkpoints_beside);
  strbuf_puts(&out,
      "# HELP eventapi_db_errors_total Database errors answered to clients, by class.\n"
      "# TYPE eventapi_db_errors_total counter\n");
  for (size_t class = 0; class < HTTP_ERROR_CLASSES; class++)
    appendf(&out, "eventapi_db_errors_total{kind=\"%s\"} %" PRIu64 "\n",
            error_class_names[class], http_stats_errors(class));
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
