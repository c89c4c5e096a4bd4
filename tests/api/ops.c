/*
 * ops.c - API.md "Operations": /healthz answering for the database (also
 * when it cannot be opened), /metrics in Prometheus's text format read back
 * by a small parser, and /api/docs/ with its locally served assets (by
 * default, a CDN only when told, advice when there are none). The
 * rendering of the page in a real browser is tests/api/docs_page.c.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "ops/docs.h"
#include "registrations/models.h"
#include "support/api.h"
#include "support/db.h"
#include "support/process.h"
#include "support/tmpdir.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define EVENT_ROUTE "/api/events/{id}/"

TestSuite(ops, .init = api_server_start, .fini = api_server_stop);

/* ---- a Prometheus text parser --------------------------------------------- */

struct sample {
  const char *name;   /* eventapi_http_requests_total */
  const char *labels; /* method="GET",route="/x/",status="200" (without braces) */
  double value;
};

struct scrape {
  struct sample *samples;
  size_t count;
  const char *text;
};

/* The TYPE of metric name declared in the scrape, or NULL. */
static const char *type_of(const struct scrape *s, const char *name)
{
  char prefix[256];
  snprintf(prefix, sizeof prefix, "# TYPE %s ", name);
  const char *line = strstr(s->text, prefix);
  if (line == NULL)
    return NULL;
  line += strlen(prefix);
  return api_printf("%.*s", (int)strcspn(line, "\n"), line);
}

/*
 * Parses the exposition: "# HELP"/"# TYPE" and other comments are skipped
 * (TYPE is read by type_of), each other line must be `name{labels} value`
 * or `name value`; a malformed line fails the test.
 */
static struct scrape parse(const char *text)
{
  struct scrape s = {.text = text};
  size_t cap = 0;
  const char *line = text;
  while (*line) {
    size_t len = strcspn(line, "\n");
    expect_that(line[len] == '\n', "the exposition must end each line with \\n: %s", line);
    char *copy = api_printf("%.*s", (int)len, line);
    line += len + 1;
    if (copy[0] == '#' || copy[0] == '\0')
      continue;
    char *name = copy, *labels = "", *value;
    char *brace = strchr(copy, '{');
    char *space = strchr(copy, ' ');
    expect_that(space != NULL, "a sample line without a value: %s", copy);
    if (brace && brace < space) {
      char *close = strstr(brace, "} ");
      expect_that(close != NULL, "unterminated labels: %s", copy);
      *brace = '\0';
      *close = '\0';
      labels = brace + 1;
      value = close + 2;
    } else {
      *space = '\0';
      value = space + 1;
    }
    char *end;
    errno = 0;
    double number = strtod(value, &end);
    expect_that(errno == 0 && end != value && *end == '\0', "not a number in: %s", value);
    for (const char *c = name; *c; c++)
      expect_that((*c >= 'a' && *c <= 'z') || *c == '_', "a bad metric name: %s", name);
    if (s.count == cap) {
      cap = cap ? 2 * cap : 64;
      struct sample *grown = realloc(s.samples, cap * sizeof *grown);
      cr_assert(grown != NULL);
      s.samples = grown;
    }
    s.samples[s.count++] = (struct sample){name, labels, number};
  }
  api_keep(s.samples, free);
  return s;
}

/* The value of name{labels}, or -1 when the scrape has no such sample. */
static double value_of(const struct scrape *s, const char *name, const char *labels)
{
  for (size_t i = 0; i < s->count; i++)
    if (strcmp(s->samples[i].name, name) == 0 && strcmp(s->samples[i].labels, labels) == 0)
      return s->samples[i].value;
  return -1;
}

/* As value_of, 0 for a counter that has not appeared yet. */
static double counter_of(const struct scrape *s, const char *name, const char *labels)
{
  double value = value_of(s, name, labels);
  return value < 0 ? 0 : value;
}

static const char *requests_labels(const char *method, const char *route, const char *status)
{
  return api_printf("method=\"%s\",route=\"%s\",status=\"%s\"", method, route, status);
}

static struct scrape scrape_at(const char *url)
{
  struct api_resp *r = api_get(url, NULL);
  expect_status(r, 200);
  expect_header(r, "Content-Type", METRICS_TYPE);
  return parse(r->body);
}

static struct scrape scrape(void)
{
  return scrape_at("/metrics");
}

/* ---- helpers ---------------------------------------------------------------- */

struct fetch {
  const char *url;
  struct api_resp *resp;
};

static void *fetch_main(void *arg)
{
  struct fetch *f = arg;
  f->resp = api_get(f->url, NULL);
  return NULL;
}

/*
 * GET url from a thread of its own (a new connection each time), so that
 * a 5xx is returned to the test rather than failing it.
 */
static struct api_resp *get_expecting_5xx(const char *url)
{
  struct fetch f = {.url = url};
  pthread_t thread;
  cr_assert(pthread_create(&thread, NULL, fetch_main, &f) == 0);
  pthread_join(thread, NULL);
  return f.resp;
}

/*
 * Scrapes until name{labels} reaches want: a request is counted when
 * libmicrohttpd reports it complete, an instant after the client has its
 * answer, so a scrape on another connection (handled by another thread)
 * may come first. A wait on what must happen, bounded at a minute.
 */
static struct scrape scrape_until(const char *name, const char *labels, double want)
{
  struct scrape s;
  for (int tries = 0;; tries++) {
    s = scrape();
    if (counter_of(&s, name, labels) >= want || tries == 3000)
      return s;
    usleep(20 * 1000);
  }
}

/*
 * On one kept-alive connection, libmicrohttpd's thread finishes a request
 * (and so counts it) before it reads the next: a scrape sent on the
 * connection of the requests it counts sees all of them. r came over the
 * connection before it.
 */
#define expect_same_connection(r) \
  expect_that((r)->num_connects == 0, "%s %s opened a new connection", (r)->method, (r)->path)

/* ---- /healthz --------------------------------------------------------------- */

Test(ops, healthz_is_ok_while_the_database_answers)
{
  struct api_resp *r = api_get("/healthz", NULL);
  expect_status(r, 200);
  expect_json_response(r);
  expect_body(r, "{'status':'ok'}");
  expect_header(r, "Cache-Control", "no-store");
  expect_status(api_get("/healthz/", NULL), 200);
}

/*
 * A node of its own on a SQLite file (whatever backend the suite runs on),
 * whose file is replaced by a folder after start: no thread of it has
 * connected yet (the start-up migration closes its connection and WORKER is
 * off), so each must open the database anew, and cannot.
 */
Test(ops, healthz_is_503_when_the_database_cannot_be_opened)
{
  const char *file = api_printf("%s/health.sqlite3", api_server_dir());
  const char *moved = api_printf("%s.moved", file);
  struct api_process node = {0};
  api_process_start(&node, (const char *const[]){"serve", NULL},
                    (const char *const[]){"DATABASE_URL", api_printf("sqlite:///%s", file),
                                          "WORKER", "off", NULL});
  const char *base = api_printf("http://127.0.0.1:%u", node.port);

  cr_assert(rename(file, moved) == 0, "rename %s: %s", file, strerror(errno));
  cr_assert(mkdir(file, 0700) == 0, "mkdir %s: %s", file, strerror(errno));

  /* Eight new connections: more than the node's four threads. */
  for (int i = 0; i < 8; i++) {
    struct api_resp *r = get_expecting_5xx(api_printf("%s/healthz", base));
    expect_status(r, 503);
    expect_json_response(r);
    expect_keys(r, "status", "detail", NULL);
    expect_str(r, "status", "unavailable");
    expect_header(r, "Retry-After", "1");
  }
  /* A view that needs the database counts the error by its class. */
  expect_status(get_expecting_5xx(api_printf("%s/api/events/", base)), 503);
  /* Each came on a connection of its own: wait until all are counted. */
  const char *requests = "eventapi_http_requests_total";
  const char *unavailable = requests_labels("GET", "/healthz/", "503");
  struct scrape s;
  for (int tries = 0; tries < 3000; tries++) {
    s = scrape_at(api_printf("%s/metrics", base));
    if (counter_of(&s, requests, unavailable) >= 8 &&
        counter_of(&s, requests, requests_labels("GET", "/api/events/", "503")) >= 1)
      break;
    usleep(20 * 1000);
  }
  cr_assert_eq(counter_of(&s, requests, unavailable), 8);
  cr_assert_eq(counter_of(&s, requests, requests_labels("GET", "/api/events/", "503")), 1);
  cr_assert_eq(counter_of(&s, "eventapi_db_errors_total", "kind=\"unavailable\""), 1);
  cr_assert_eq(counter_of(&s, "eventapi_db_errors_total", "kind=\"busy\""), 0);
  /* The outbox cannot be read: its gauge is left out, not made up. */
  cr_assert_eq(value_of(&s, "eventapi_outbox_messages", "state=\"pending\""), -1, "%s", s.text);

  /* The database back: the next connection opens it. */
  cr_assert(rmdir(file) == 0);
  cr_assert(rename(moved, file) == 0);
  struct api_resp *r = api_get(api_printf("%s/healthz", base), NULL);
  expect_status(r, 200);
  expect_body(r, "{'status':'ok'}");
  api_process_kill(&node, SIGTERM);
}

/* ---- /metrics --------------------------------------------------------------- */

Test(ops, metrics_count_requests_by_route_template)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long event = api_create_event(olga.access, "{'capacity':10}").id;
  long long missing = event + 1000;

  /* Every request and both scrapes on this thread's one connection. */
  struct scrape before = scrape();
  struct api_resp *sent[] = {
    api_get(api_printf("/api/events/%lld/", event), NULL),
    api_get(api_printf("/api/events/%lld/", missing), NULL),
    api_get("/no/such/path/", NULL),
    api_post("/api/events/", NULL, "{}"),
    api_options("/api/events/", NULL),
    /* One path, two routes (GET and POST): one template in the labels. */
    api_get("/api/events/categories/", NULL),
    api_post("/api/events/categories/", NULL, "{}"),
  };
  const long statuses[] = {200, 404, 404, 405, 200, 200, 401};
  for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++) {
    expect_status(sent[i], statuses[i]);
    expect_same_connection(sent[i]);
  }
  struct api_resp *scraped = api_get("/metrics", NULL);
  expect_status(scraped, 200);
  expect_same_connection(scraped);
  struct scrape after = parse(scraped->body);

  const char *counter = "eventapi_http_requests_total";
  cr_assert_eq(type_of(&after, counter) ? strcmp(type_of(&after, counter), "counter") : 1, 0);
  struct {
    const char *method, *route, *status;
    double delta;
  } moved[] = {
    {"GET", EVENT_ROUTE, "200", 1},
    {"GET", EVENT_ROUTE, "404", 1},
    {"GET", "unmatched", "404", 1},
    {"POST", "/api/events/", "405", 1},
    {"OPTIONS", "/api/events/", "200", 1},
    {"POST", "unmatched", "405", 0},
    {"GET", "/api/events/categories/", "200", 1},
    {"POST", "/api/events/categories/", "401", 1},
    {"GET", "/metrics/", "200", 1}, /* the first scrape; a scrape counts once done */
    {"GET", "/api/events/create/", "200", 0},
  };
  for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++) {
    const char *labels = requests_labels(moved[i].method, moved[i].route, moved[i].status);
    double delta = counter_of(&after, counter, labels) - counter_of(&before, counter, labels);
    cr_expect_eq(delta, moved[i].delta, "%s{%s} moved by %g, expected %g", counter, labels,
                 delta, moved[i].delta);
  }
  /* Every series once: a template shared by several routes is one label. */
  const char *count_line = "eventapi_http_request_duration_seconds_count{route=\"/api/events/categories/\"}";
  const char *first = strstr(after.text, count_line);
  cr_assert_not_null(first, "%s", after.text);
  cr_assert_null(strstr(first + 1, count_line), "a series twice: %s", after.text);
  /* Never the raw path: no label holds an id. */
  cr_assert_null(strstr(after.text, api_printf("/%lld/", missing)), "%s", after.text);
  cr_assert_null(strstr(after.text, "/no/such/path/"), "%s", after.text);

  /* The histogram: cumulative buckets ending at +Inf == _count, per route. */
  const char *histogram = "eventapi_http_request_duration_seconds";
  cr_assert_str_eq(type_of(&after, histogram), "histogram");
  const char *route = "route=\"" EVENT_ROUTE "\"";
  const char *count_name = api_printf("%s_count", histogram);
  cr_assert_eq(counter_of(&after, count_name, route) - counter_of(&before, count_name, route), 2);
  const char *bucket_name = api_printf("%s_bucket", histogram);
  size_t routes_seen = 0;
  for (size_t i = 0; i < after.count; i++) {
    if (strcmp(after.samples[i].name, count_name) != 0)
      continue;
    routes_seen++;
    const char *labels = after.samples[i].labels;
    double previous = 0, last = -1;
    size_t buckets = 0;
    for (size_t j = 0; j < after.count; j++) {
      const struct sample *b = &after.samples[j];
      size_t len = strlen(labels);
      if (strcmp(b->name, bucket_name) != 0 || strncmp(b->labels, labels, len) != 0 ||
          strncmp(b->labels + len, ",le=\"", 5) != 0)
        continue;
      cr_expect_geq(b->value, previous, "%s{%s} is not cumulative", bucket_name, b->labels);
      previous = last = b->value;
      buckets++;
      if (strstr(b->labels, "le=\"+Inf\""))
        cr_expect_eq(b->value, after.samples[i].value, "+Inf differs from _count for %s", labels);
    }
    cr_expect_geq(buckets, 10, "%s has %zu buckets", labels, buckets);
    cr_expect_eq(last, after.samples[i].value, "the last bucket of %s is not +Inf", labels);
    cr_expect_geq(value_of(&after, api_printf("%s_sum", histogram), labels), 0);
  }
  cr_assert_geq(routes_seen, 4);

  /* The scrape is itself in flight while it is written. */
  cr_assert_str_eq(type_of(&after, "eventapi_http_requests_in_flight"), "gauge");
  cr_assert_geq(value_of(&after, "eventapi_http_requests_in_flight", ""), 1);
  cr_assert_eq(value_of(&after, "eventapi_build_info", "version=\"0.1.0\""), 1, "%s", after.text);
  cr_assert_str_eq(type_of(&after, "eventapi_db_errors_total"), "counter");
  const char *kinds[] = {"busy", "unavailable", "constraint", "other"};
  for (size_t i = 0; i < 4; i++)
    cr_assert_eq(value_of(&after, "eventapi_db_errors_total",
                          api_printf("kind=\"%s\"", kinds[i])), 0);
}

Test(ops, metrics_count_exactly_under_concurrency)
{
  /* 25 races of 4 requests at once on one templated route, every id
   * different (a GET may carry a body, which holds it at the gate). */
  enum { THREADS = 4, EACH = 25 };
  struct scrape before = scrape();
  for (int round = 0; round < EACH; round++) {
    struct api_call calls[THREADS];
    for (int t = 0; t < THREADS; t++)
      calls[t] = (struct api_call){
        .method = "GET", .path = api_printf("/api/events/%d/", 900000 + round * THREADS + t),
      };
    api_race(calls, THREADS);
    for (int t = 0; t < THREADS; t++) {
      expect_status(calls[t].resp, 404);
      expect_detail(calls[t].resp, "No Event matches the given query.");
    }
  }
  const char *labels = requests_labels("GET", EVENT_ROUTE, "404");
  struct scrape after = scrape_until("eventapi_http_requests_total", labels,
                                     counter_of(&before, "eventapi_http_requests_total", labels) +
                                         THREADS * EACH);
  cr_assert_eq(counter_of(&after, "eventapi_http_requests_total", labels) -
                   counter_of(&before, "eventapi_http_requests_total", labels),
               THREADS * EACH);
  const char *count = "eventapi_http_request_duration_seconds_count";
  const char *route = "route=\"" EVENT_ROUTE "\"";
  cr_assert_eq(counter_of(&after, count, route) - counter_of(&before, count, route),
               THREADS * EACH);
}

Test(ops, metrics_show_the_outbox_of_a_registration)
{
  struct scrape before = scrape();
  for (const char *const *state = (const char *const[]){"pending", "sent", "dead", NULL}; *state;
       state++)
    cr_assert_eq(value_of(&before, "eventapi_outbox_messages", api_printf("state=\"%s\"", *state)),
                 0, "%s", before.text);
  cr_assert_str_eq(type_of(&before, "eventapi_outbox_messages"), "gauge");

  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = api_create_event(olga.access, "{'capacity':10}").id;
  expect_status(api_post(api_printf("/api/registrations/%lld/register/", event), alice.access,
                         "{}"), 200);
  /* The worker (WORKER_INTERVAL=100ms, mail to files) sends the confirmation. */
  api_db_wait("SELECT count(*) FROM outbox WHERE state = 'sent' AND id > ?", 0, 1, 60000);

  struct scrape after = scrape();
  double pending = value_of(&after, "eventapi_outbox_messages", "state=\"pending\"");
  double sent = value_of(&after, "eventapi_outbox_messages", "state=\"sent\"");
  double dead = value_of(&after, "eventapi_outbox_messages", "state=\"dead\"");
  cr_assert_geq(sent, 1, "%s", after.text);
  cr_assert_eq(dead, 0);
  cr_assert_eq(pending + sent + dead,
               api_db_int("SELECT count(*) FROM outbox WHERE id > ?", 0), "%s", after.text);
}

/* ---- what the API did ------------------------------------------------------------ */

struct domain {
  double confirmed, waitlisted, cancelled, promoted, checkins;
};

static struct domain domain_now(void)
{
  struct scrape s = scrape();
  cr_assert_str_eq(type_of(&s, "eventapi_registrations_total"), "counter");
  cr_assert_str_eq(type_of(&s, "eventapi_checkins_total"), "counter");
  return (struct domain){
    value_of(&s, "eventapi_registrations_total", "state=\"confirmed\""),
    value_of(&s, "eventapi_registrations_total", "state=\"waitlisted\""),
    value_of(&s, "eventapi_cancellations_total", ""),
    value_of(&s, "eventapi_promotions_total", ""),
    value_of(&s, "eventapi_checkins_total", ""),
  };
}

/* Each counter moved by exactly its delta since before. */
#define expect_domain_moved(before, confirmed_, waitlisted_, cancelled_, promoted_, checkins_) \
  do {                                                                                       \
    struct domain after_ = domain_now();                                                     \
    cr_expect_eq(after_.confirmed - (before).confirmed, confirmed_, "confirmed");            \
    cr_expect_eq(after_.waitlisted - (before).waitlisted, waitlisted_, "waitlisted");        \
    cr_expect_eq(after_.cancelled - (before).cancelled, cancelled_, "cancellations");        \
    cr_expect_eq(after_.promoted - (before).promoted, promoted_, "promotions");              \
    cr_expect_eq(after_.checkins - (before).checkins, checkins_, "check-ins");               \
  } while (0)

static long long event_for(const char *token, int capacity)
{
  return api_create_event(token, api_printf("{'capacity':%d}", capacity)).id;
}

static struct api_resp *register_for(long long event, const char *token)
{
  return api_post(api_printf("/api/registrations/%lld/register/", event), token, "{}");
}

Test(ops, metrics_count_registrations_cancellations_promotions_and_check_ins)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  long long event = event_for(olga.access, 1);

  struct domain before = domain_now();
  struct api_resp *first = register_for(event, alice.access);
  expect_status(first, 200);
  expect_bool(first, "is_waitlisted", false);
  struct api_resp *second = register_for(event, bob.access);
  expect_status(second, 200);
  expect_bool(second, "is_waitlisted", true);
  /* Refused: nothing happened, nothing counted. */
  expect_status(register_for(event, bob.access), 400);
  expect_domain_moved(before, 1, 1, 0, 0, 0);

  before = domain_now();
  const char *check_in = api_printf("/api/tickets/%s/check-in/", api_ticket_code(first));
  expect_status(api_post(check_in, olga.access, NULL), 200);
  expect_status(api_post(check_in, olga.access, NULL), 409);
  expect_domain_moved(before, 0, 0, 0, 0, 1);

  /* alice's place goes to bob. */
  before = domain_now();
  expect_status(api_delete(api_printf("/api/registrations/%lld/", api_id(first)), alice.access), 204);
  expect_domain_moved(before, 0, 0, 1, 1, 0);
  /* bob's promoted ticket, at the original's path. */
  struct api_resp *bobs = api_get(api_printf("/api/registrations/%lld/", api_id(second)), bob.access);
  expect_status(bobs, 200);
  before = domain_now();
  expect_status(api_post(api_printf("/api/registrations/ticket/%s/checkin/", api_ticket_code(bobs)),
                         olga.access, NULL), 200);
  expect_domain_moved(before, 0, 0, 0, 0, 1);
}

/*
 * A cancellation whose transaction rolls back is not counted: its signal
 * ran, but the count waits for the commit.
 */
Test(ops, metrics_count_nothing_that_rolled_back)
{
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = register_for(event_for(olga.access, 5), alice.access);
  expect_status(r, 200);
  long long id = api_id(r);

  struct domain before = domain_now();
  db_t *db;
  cr_assert_eq(db_open(&db), 0);
  arena_t arena = {0};
  struct registration registration;
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
  cr_assert_eq(registrations_get(db, id, &arena, &registration), 0);
  cr_assert_eq(registrations_cancel(db, &registration, time_now_us(), &arena), 0);
  db_rollback(db);
  arena_free(&arena);
  db_close(db);
  expect_domain_moved(before, 0, 0, 0, 0, 0);

  expect_status(api_delete(api_printf("/api/registrations/%lld/", id), alice.access), 204);
  expect_domain_moved(before, 0, 0, 1, 0, 0);
}

Test(ops, a_ticket_scanned_at_once_by_four_scanners_counts_once)
{
  enum { SCANNERS = 4 };
  struct api_user olga = api_signup("olga", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *r = register_for(event_for(olga.access, 5), alice.access);
  expect_status(r, 200);
  const char *path = api_printf("/api/tickets/%s/check-in/", api_ticket_code(r));

  struct domain before = domain_now();
  struct api_call scans[SCANNERS];
  for (int i = 0; i < SCANNERS; i++)
    scans[i] = (struct api_call){.method = "POST", .path = path, .token = olga.access};
  api_race(scans, SCANNERS);
  int ok = 0, conflicts = 0;
  for (int i = 0; i < SCANNERS; i++) {
    ok += scans[i].resp->status == 200;
    conflicts += scans[i].resp->status == 409;
  }
  cr_assert_eq(ok, 1);
  cr_assert_eq(conflicts, SCANNERS - 1);
  expect_domain_moved(before, 0, 0, 0, 0, 1);
}

/* ---- the process ---------------------------------------------------------------------- */

/* The descriptors this process holds, as /proc/self/fd lists them (less
 * the listing's own). */
static long fds_now(void)
{
  DIR *dir = opendir("/proc/self/fd");
  cr_assert(dir != NULL);
  long n = 0;
  for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
    n += entry->d_name[0] != '.';
  closedir(dir);
  return n - 1;
}

/*
 * A scrape taken while this process's descriptors stood still (as many
 * before it as after it), with that number in *count. The server's own
 * threads open and close a few at their start (a database connection, the
 * schema's fetch); a scrape that met one is taken again.
 */
static struct scrape scrape_counted(long *count)
{
  for (int tries = 0; tries < 1000; tries++) {
    long before = fds_now();
    struct scrape s = scrape();
    long after = fds_now();
    if (before == after) {
      *count = before;
      return s;
    }
  }
  expect_fail_at(__FILE__, __LINE__,
                 "this process's descriptors never stood still for a scrape");
}

/* This process's start time in seconds since the epoch: the boot time of
 * /proc/stat plus the start of /proc/self/stat in clock ticks. */
static double process_start_time(void)
{
  FILE *f = fopen("/proc/stat", "r");
  cr_assert(f != NULL);
  char line[512];
  unsigned long long boot = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "btime %llu", &boot) == 1)
      break;
  fclose(f);
  cr_assert(boot > 0, "no btime in /proc/stat");
  f = fopen("/proc/self/stat", "r");
  cr_assert(f != NULL);
  char stat[1024];
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  /* Field 22, counted after the command name's closing parenthesis (field 2). */
  const char *p = strrchr(stat, ')');
  cr_assert(p != NULL);
  unsigned long long ticks_since_boot = 0;
  int field = 2;
  for (p++; *p && field < 22; p++)
    if (*p == ' ' && ++field == 22)
      ticks_since_boot = strtoull(p + 1, NULL, 10);
  cr_assert_eq(field, 22, "/proc/self/stat: %s", stat);
  return (double)boot + (double)ticks_since_boot / (double)sysconf(_SC_CLK_TCK);
}

Test(ops, metrics_show_the_process_as_prometheus_clients_do)
{
  const char *gauges[] = {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                          "process_open_fds", "process_max_fds", "process_start_time_seconds"};
  struct scrape a = scrape();
  cr_assert_str_eq(type_of(&a, "process_cpu_seconds_total"), "counter");
  for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++)
    cr_assert_str_eq(type_of(&a, gauges[i]), "gauge", "%s", gauges[i]);

  /* The in-process server is this very process. */
  struct rlimit limit;
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &limit), 0);
  cr_assert_eq(value_of(&a, "process_max_fds", ""), (double)limit.rlim_cur);
  double resident = value_of(&a, "process_resident_memory_bytes", "");
  cr_assert_gt(resident, 1024 * 1024, "%s", a.text);
  cr_assert_geq(value_of(&a, "process_virtual_memory_bytes", ""), resident);
  /* The kernel's own record of this process's start, read here apart. */
  double started = value_of(&a, "process_start_time_seconds", "");
  double expected = process_start_time();
  cr_assert(started > expected - 0.006 && started < expected + 0.006,
            "started %.2f, the kernel says %.2f", started, expected);

  /* The descriptors are the process's real count, with ten files more
   * open, and with them closed again. */
  long counted;
  struct scrape before = scrape_counted(&counted);
  cr_assert_eq(value_of(&before, "process_open_fds", ""), (double)counted, "%s", before.text);
  int fds[10];
  for (int i = 0; i < 10; i++)
    cr_assert((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
  long more;
  struct scrape b = scrape_counted(&more);
  for (int i = 0; i < 10; i++)
    close(fds[i]);
  cr_assert_eq(value_of(&b, "process_open_fds", ""), (double)more, "%s", b.text);
  cr_assert_geq(more, 10, "%ld descriptors with ten files open", more);
  struct scrape c = scrape_counted(&counted);
  cr_assert_eq(value_of(&c, "process_open_fds", ""), (double)counted, "%s", c.text);
  cr_assert_leq(value_of(&b, "process_open_fds", ""), value_of(&b, "process_max_fds", ""));
  cr_assert_geq(value_of(&b, "process_cpu_seconds_total", ""),
                value_of(&a, "process_cpu_seconds_total", ""));
}

/* ---- /api/docs/ ---------------------------------------------------------------- */

/* The whole of a file (harness-owned), with its length. */
static const char *slurp_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  cr_assert(f != NULL, "%s: %s", path, strerror(errno));
  cr_assert(fseek(f, 0, SEEK_END) == 0);
  long size = ftell(f);
  cr_assert(size >= 0 && fseek(f, 0, SEEK_SET) == 0);
  char *data = malloc((size_t)size + 1);
  cr_assert(data != NULL && fread(data, 1, (size_t)size, f) == (size_t)size);
  fclose(f);
  data[size] = '\0';
  api_keep(data, free);
  *len = (size_t)size;
  return data;
}

/* The page that says what to do, for why (a fragment of its text). */
static void expect_advice_page(struct api_resp *r, const char *why)
{
  expect_status(r, 200);
  expect_header(r, "Content-Type", "text/html; charset=utf-8");
  const char *must[] = {
    "Swagger UI is not installed",
    "scripts/install-deps",
    "npm install --prefix /usr/local/share/eventapi/docs swagger-ui-dist@5.35.0",
    "<code>DOCS_ASSETS_DIR</code>",
    "DOCS_ASSETS_URL=https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/",
    "<a href=\"/api/schema/\">/api/schema/</a>",
    why,
  };
  for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
    cr_expect_not_null(strstr(r->body, must[i]), "\"%s\" is not in:\n%s", must[i], r->body);
  /* Nothing that would load, and stay blank. */
  cr_expect_null(strstr(r->body, "<script"), "%s", r->body);
}

/*
 * With no setting, Swagger UI comes from this server: from the copy that
 * scripts/install-deps installs, or another usual place (docs.h). Where
 * none is installed the page says what to do; CI installs one.
 */
Test(ops, docs_page_serves_swagger_ui_from_this_server_by_default)
{
  const char *dir = ops_docs_assets_find(docs_assets_search_path);
  struct api_resp *r = api_get("/api/docs/", NULL);
  if (dir == NULL) {
    cr_assert(getenv("CI") == NULL, "no Swagger UI installed although CI installs it");
    expect_advice_page(r, "It looked for npm's swagger-ui-dist in <code>"
                          "/usr/local/share/eventapi/docs/node_modules/swagger-ui-dist</code>");
    expect_status(api_get("/static/docs/swagger-ui.css", NULL), 404);
    cr_skip("no Swagger UI installed here (scripts/install-deps installs it)");
  }
  expect_status(r, 200);
  expect_header(r, "Content-Type", "text/html; charset=utf-8");
  cr_assert_not_null(strstr(r->body, "<script src=\"/static/docs/swagger-ui-bundle.js\">"),
                     "%s", r->body);
  cr_assert_not_null(strstr(r->body, "href=\"/static/docs/swagger-ui.css\""), "%s", r->body);
  cr_assert_not_null(strstr(r->body, "url: \"/api/schema/\""), "%s", r->body);
  cr_assert_null(strstr(r->body, "https://"), "nothing from elsewhere: %s", r->body);

  size_t len;
  const char *bundle = slurp_file(api_printf("%s/swagger-ui-bundle.js", dir), &len);
  r = api_get("/static/docs/swagger-ui-bundle.js", NULL);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "text/javascript; charset=utf-8");
  cr_assert(r->len == len && memcmp(r->body, bundle, len) == 0,
            "/static/docs/swagger-ui-bundle.js is not %s/swagger-ui-bundle.js", dir);
  expect_status(api_get("/static/docs/swagger-ui.css", NULL), 200);
}

static void start_without_assets(void)
{
  api_server_start_with((const char *const[]){"DOCS_ASSETS_DIR", "", NULL});
}

Test(docs_without_assets, docs_page_says_what_to_do_rather_than_stay_blank,
     .init = start_without_assets, .fini = api_server_stop)
{
  expect_advice_page(api_get("/api/docs/", NULL),
                     "<code>DOCS_ASSETS_DIR</code> is set empty, which turns the local copy off.");
  /* Nothing is served locally when there is nothing to serve. */
  expect_status(api_get("/static/docs/swagger-ui.css", NULL), 404);
}

static void start_with_an_empty_folder(void)
{
  tmpdir_create();
  api_server_start_with((const char *const[]){"DOCS_ASSETS_DIR", tmpdir_path(), NULL});
}

static void stop_with_a_folder(void)
{
  api_server_stop();
  tmpdir_remove();
}

Test(docs_without_assets, a_folder_without_swagger_ui_is_named_on_the_page,
     .init = start_with_an_empty_folder, .fini = stop_with_a_folder)
{
  expect_advice_page(api_get("/api/docs/", NULL),
                     "The folder that <code>DOCS_ASSETS_DIR</code> names lacks "
                     "swagger-ui-bundle.js or swagger-ui.css");
}

#define CDN "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/"

static void start_with_a_cdn(void)
{
  api_server_start_with((const char *const[]){"DOCS_ASSETS_URL", CDN, NULL});
}

Test(docs_from_a_cdn, docs_page_loads_swagger_ui_from_a_cdn_only_when_told,
     .init = start_with_a_cdn, .fini = api_server_stop)
{
  struct api_resp *r = api_get("/api/docs/", NULL);
  expect_status(r, 200);
  cr_assert_not_null(strstr(r->body, "<script src=\"" CDN "swagger-ui-bundle.js\">"), "%s",
                     r->body);
  cr_assert_not_null(strstr(r->body, "href=\"" CDN "swagger-ui.css\""), "%s", r->body);
  cr_assert_null(strstr(r->body, "/static/docs/"), "%s", r->body);
}

/* A folder of fake assets, and one file beside it that must stay out of reach. */
static char assets_dir[128];

static void start_with_local_assets(void)
{
  tmpdir_create();
  snprintf(assets_dir, sizeof assets_dir, "%s/assets", tmpdir_path());
  cr_assert(mkdir(assets_dir, 0700) == 0);
  tmpdir_write("assets/swagger-ui.css", "body{margin:0}\n");
  tmpdir_write("assets/swagger-ui-bundle.js", "window.SwaggerUIBundle=function(){};\n");
  tmpdir_write("assets/.hidden.js", "secret\n");
  tmpdir_write("assets/package.json", "{}\n");
  tmpdir_write("assets/LICENSE", "secret\n");
  tmpdir_write("assets.secret.js", "secret\n");
  char outside[160], link[160];
  snprintf(outside, sizeof outside, "%s.secret.js", assets_dir);
  snprintf(link, sizeof link, "%s/link.js", assets_dir);
  cr_assert(symlink(outside, link) == 0);
  api_server_start_with((const char *const[]){"DOCS_ASSETS_DIR", assets_dir, NULL});
}

Test(ops_local_assets, docs_assets_are_served_from_docs_assets_dir,
     .init = start_with_local_assets,
     .fini = stop_with_a_folder)
{
  struct api_resp *r = api_get("/api/docs/", NULL);
  expect_status(r, 200);
  cr_assert_not_null(strstr(r->body, "<script src=\"/static/docs/swagger-ui-bundle.js\">"),
                     "%s", r->body);
  cr_assert_not_null(strstr(r->body, "href=\"/static/docs/swagger-ui.css\""), "%s", r->body);

  r = api_get("/static/docs/swagger-ui-bundle.js", NULL);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "text/javascript; charset=utf-8");
  cr_assert_str_eq(r->body, "window.SwaggerUIBundle=function(){};\n");
  const char *etag = api_header(r, "ETag");
  cr_assert_not_null(etag);
  r = api_request("GET", "/static/docs/swagger-ui-bundle.js", NULL, NULL, NULL, 0,
                  (const char *const[]){api_printf("If-None-Match: %s", etag), NULL});
  expect_status(r, 304);
  r = api_get("/static/docs/swagger-ui.css", NULL);
  expect_status(r, 200);
  expect_header(r, "Content-Type", "text/css; charset=utf-8");

  /* Only plain asset names inside the folder, never through a link. */
  const char *refused[] = {
    "/static/docs/.hidden.js", "/static/docs/package.json", "/static/docs/link.js",
    "/static/docs/missing.js", "/static/docs/..%2F" "x.js",
    api_printf("/static/docs/..%%2F%s.secret.js", strrchr(assets_dir, '/') + 1),
    "/static/docs/%2e%2e", "/static/docs/swagger-ui-bundle", "/static/docs/LICENSE",
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    r = api_get(refused[i], NULL);
    expect_status(r, 404);
    cr_assert_null(strstr(r->body, "secret"), "%s: %s", refused[i], r->body);
  }
}
