/*
 * faults_memory.c - memory under a long mixed load. 100,000 requests, good
 * and bad (lists, details, 304s, sign-ups refused, bad JSON, bad tokens,
 * unknown routes, wrong methods, edits, registrations and their
 * cancellations, malformed HTTP), from four threads, to a node of its own
 * (`eventapi serve`, a child process): once warmed up, its resident memory
 * (VmRSS of /proc/PID/status) stays within 10% of what it was, to the end.
 *
 * Caches are bounded, not leaks: the event cache gets a budget (1 MiB)
 * that the warm-up fills, and the database hardly grows (edits rewrite one
 * row; a registration and its cancellation add a few), so what the node
 * holds after the warm-up is what it needs. A leak of a few dozen bytes a
 * request would pass the bound.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/api.h"
#include "support/process.h"

/* Built with AddressSanitizer (gcc says so one way, clang another)? */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define REQUESTS 100000
#define CLIENTS 4
#define WARM_UP (REQUESTS / 5)

static struct api_process node;

static void
start(void)
{
  const char *env[] = {"WORKER", "off", NULL};
  api_server_start_with(env);
}

static void
stop(void)
{
  api_process_kill(&node, SIGTERM);
  api_server_stop();
}

TestSuite(memory, .init = start, .fini = stop, .timeout = 900);

/* The node's resident memory in KiB, from /proc/PID/status. */
static long
rss_kib(const char *field)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)node.pid);
  FILE *f = fopen(path, "r");
  cr_assert(f != NULL, "%s: the node is gone", path);
  char line[256];
  long kib = -1;
  size_t len = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, len) == 0 && line[len] == ':')
      kib = atol(line + len + 1);
  fclose(f);
  cr_assert_geq(kib, 0, "no %s in %s", field, path);
  return kib;
}

struct client {
  int index;
  const char *base;
  unsigned port;
  long long event, own_event;  /* public; and the one this client edits */
  const char *organizer, *attendee;
  char etag[128];              /* of the event's detail */
  long long registration;
  CURL *curl;
  long failures;               /* 5xx, or no answer */
  long status_of_failure;
  long failed_request;
};

static atomic_long sent_total;

/* ---- a client that keeps nothing: 100,000 answers would fill the harness --- */

struct answer {
  char body[256];              /* its beginning */
  size_t len;
  char etag[128];
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
  struct answer *a = arg;
  size_t n = size * nmemb;
  if (a->len < sizeof a->body - 1) {
    size_t keep = sizeof a->body - 1 - a->len < n ? sizeof a->body - 1 - a->len : n;
    memcpy(a->body + a->len, data, keep);
    a->len += keep;
    a->body[a->len] = '\0';
  }
  return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
  struct answer *a = arg;
  size_t n = size * nmemb;
  if (n > 6 && strncasecmp(data, "ETag: ", 6) == 0 && n - 6 < sizeof a->etag)
    snprintf(a->etag, sizeof a->etag, "%.*s", (int)strcspn(data + 6, "\r\n"), data + 6);
  return n;
}

/* method path (on the node) with token, body (JSON) and an extra header;
 * the status, 0 for no answer. */
static long
send_request(struct client *c, const char *method, const char *path, const char *token,
             const char *body, const char *header, struct answer *a)
{
  char target[512];
  snprintf(target, sizeof target, "%s%s", c->base, path);
  struct curl_slist *headers = NULL;
  char auth[1024];
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    headers = curl_slist_append(headers, auth);
  }
  if (body)
    headers = curl_slist_append(headers, "Content-Type: application/json");
  if (header)
    headers = curl_slist_append(headers, header);
  CURL *curl = c->curl;
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, target);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0 &&
      strcmp(method, "OPTIONS") != 0) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  *a = (struct answer){0};
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, a);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  return status;
}

/* Malformed HTTP on a connection of its own; the status line's code, or 0. */
static long
send_garbage(struct client *c, const char *bytes)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  long status = 0;
  if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof to) == 0 &&
      send(fd, bytes, strlen(bytes), MSG_NOSIGNAL) == (ssize_t)strlen(bytes)) {
    char head[64] = "";
    ssize_t n = recv(fd, head, sizeof head - 1, 0);
    if (n > 0)
      sscanf(head, "HTTP/1.%*d %ld", &status);
  }
  if (fd >= 0)
    close(fd);
  return status;
}

/* One request of the mix, chosen by n; its status. */
static long
one(struct client *c, long n)
{
  static const char *const garbage[] = {
    "GARBAGE\r\n\r\n",
    "GET /api/events/ HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
    "POST /api/users/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n",
  };
  char path[256], body[256], header[192];
  struct answer a;
  long status;
  switch (n % 20) {
  case 0:
    return send_request(c, "GET", "/api/events/", NULL, NULL, NULL, &a);
  case 1:
    snprintf(path, sizeof path, "/api/events/?search=night%ld&ordering=-date_time", n % 50);
    return send_request(c, "GET", path, NULL, NULL, NULL, &a);
  case 2:
    snprintf(path, sizeof path, "/api/events/%lld/", c->event);
    status = send_request(c, "GET", path, NULL, NULL, NULL, &a);
    if (status == 200 && a.etag[0])
      snprintf(c->etag, sizeof c->etag, "%s", a.etag);
    return status;
  case 3:
    return send_request(c, "GET", "/api/events/999999/", NULL, NULL, NULL, &a);
  case 4:
    return send_request(c, "POST", "/api/users/register/", NULL, "{\"username\": \"bro", NULL,
                        &a);
  case 5:
    snprintf(body, sizeof body,
             "{\"username\":\"x%ld\",\"email\":\"not an address\",\"password\":\"short\"}", n);
    return send_request(c, "POST", "/api/users/register/", NULL, body, NULL, &a);
  case 6:
    return send_request(c, "GET", "/api/users/me/", NULL, NULL, NULL, &a);
  case 7:
    return send_request(c, "GET", "/api/users/me/", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
                        NULL, NULL, &a);
  case 8:
    return send_request(c, "GET", "/api/users/me/", c->attendee, NULL, NULL, &a);
  case 9:
    return send_request(c, "DELETE", "/api/events/", c->organizer, NULL, NULL, &a);
  case 10:
    snprintf(path, sizeof path, "/api/nothing/%ld/", n);
    return send_request(c, "GET", path, NULL, NULL, NULL, &a);
  case 11:
    snprintf(path, sizeof path, "/api/events/%lld/update/", c->own_event);
    snprintf(body, sizeof body, "{\"location\":\"Room %ld\"}", n % 7);
    return send_request(c, "PATCH", path, c->organizer, body, NULL, &a);
  case 12:
    snprintf(path, sizeof path, "/api/events/%lld/update/", c->own_event);
    return send_request(c, "PATCH", path, c->organizer, "{\"capacity\": -1, \"title\": \"\"}",
                        NULL, &a);
  case 13:
    return send_request(c, "GET", "/api/events/?page=abc&page_size=-4&date_from=yesterday",
                        NULL, NULL, NULL, &a);
  case 14:
    if (n % 100 != 14)
      return send_request(c, "GET", "/api/registrations/me/", c->attendee, NULL, NULL, &a);
    /* A registration and its cancellation, now and then. */
    snprintf(path, sizeof path, "/api/registrations/%lld/register/", c->event);
    status = send_request(c, "POST", path, c->attendee, "{}", NULL, &a);
    const char *id = strstr(a.body, "\"id\":");
    if (status == 200 && id)
      c->registration = atoll(id + 5);
    return status;
  case 15:
    if (c->registration == 0)
      return send_request(c, "GET", "/api/events/categories/", NULL, NULL, NULL, &a);
    snprintf(path, sizeof path, "/api/registrations/%lld/", c->registration);
    c->registration = 0;
    return send_request(c, "DELETE", path, c->attendee, NULL, NULL, &a);
  case 16:
    return send_request(c, "GET", "/healthz", NULL, NULL, NULL, &a);
  case 17:
    return send_request(c, "POST", "/auth/token/", NULL, "[1, 2, 3]", NULL, &a);
  case 18:
    if (n % 100 == 18)
      return send_garbage(c, garbage[(n / 100) % 3]);
    return send_request(c, "OPTIONS", "/api/events/", NULL, NULL, NULL, &a);
  default:
    snprintf(path, sizeof path, "/api/events/%lld/", c->event);
    snprintf(header, sizeof header, "If-None-Match: %s", c->etag[0] ? c->etag : "\"x\"");
    return send_request(c, "GET", path, NULL, NULL, header, &a);
  }
}

static void *
load(void *arg)
{
  struct client *c = arg;
  c->curl = curl_easy_init();
  for (long n = c->index; c->curl && n < REQUESTS; n += CLIENTS) {
    long status = one(c, n);
    atomic_fetch_add(&sent_total, 1);
    /* 505: the version that HTTP/9.9 asks for, an answer about the request. */
    bool failed = status == 0 || (status >= 500 && status != 505);
    if (failed && c->failures++ == 0) {
      c->status_of_failure = status;
      c->failed_request = n;
    }
  }
  curl_easy_cleanup(c->curl);
  return NULL;
}

Test(memory, a_hundred_thousand_mixed_requests_leave_resident_memory_flat)
{
  struct api_user olga = api_signup("olga", "organizer");
  long long event = api_create_event(olga.access, "{'title':'Night at the museum'}").id;
  struct client clients[CLIENTS];
  for (int i = 0; i < CLIENTS; i++) {
    clients[i] = (struct client){
      .index = i,
      .event = event,
      .own_event = api_create_event(olga.access, api_printf("{'title':'Night %d'}", i)).id,
      .organizer = olga.access,
      .attendee = api_signup(api_printf("guest%d", i), NULL).access,
    };
  }
  const char *serve[] = {"serve", NULL};
#ifdef UNDER_ASAN
  /* AddressSanitizer keeps freed memory from reuse for a while (its
   * quarantine, 256 MiB): memory that was freed would count as held. */
  const char *asan = getenv("ASAN_OPTIONS");
  const char *env[] = {"THREADS", "4", "EVENT_CACHE_MB", "1", "ASAN_OPTIONS",
                       api_printf("%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0",
                                  asan ? asan : "", asan && *asan ? ":" : ""),
                       NULL};
#else
  const char *env[] = {"THREADS", "4", "EVENT_CACHE_MB", "1", NULL};
#endif
  api_process_start(&node, serve, env);
  const char *base = api_printf("http://127.0.0.1:%u", node.port);
  long started_kib = rss_kib("VmRSS");

  pthread_t threads[CLIENTS];
  for (int i = 0; i < CLIENTS; i++) {
    clients[i].base = base;
    clients[i].port = node.port;
    cr_assert_eq(pthread_create(&threads[i], NULL, load, &clients[i]), 0);
  }
  long warm_kib = 0, peak_kib = 0;
  while (atomic_load(&sent_total) < REQUESTS) {
    long sent = atomic_load(&sent_total);
    long kib = rss_kib("VmRSS");
    if (sent >= WARM_UP && warm_kib == 0) {
      warm_kib = kib;
      cr_log_info("after the warm-up (%ld requests): %ld KiB resident (%ld at start)", sent,
                  kib, started_kib);
    }
    if (warm_kib && kib > peak_kib)
      peak_kib = kib;
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  for (int i = 0; i < CLIENTS; i++)
    pthread_join(threads[i], NULL);
  cr_assert_eq(atomic_load(&sent_total), REQUESTS);
  long end_kib = rss_kib("VmRSS");
  if (end_kib > peak_kib)
    peak_kib = end_kib;
  cr_log_info("after %d requests: %ld KiB resident, at most %ld since the warm-up (%ld KiB of "
              "it anonymous)", REQUESTS, end_kib, peak_kib, rss_kib("RssAnon"));

  for (int i = 0; i < CLIENTS; i++)
    cr_expect_eq(clients[i].failures, 0, "client %d: %ld requests failed; the first, %ld "
                 "(kind %ld of the mix), with status %ld", i, clients[i].failures,
                 clients[i].failed_request, clients[i].failed_request % 20,
                 clients[i].status_of_failure);
  cr_assert_gt(warm_kib, 0);
  cr_assert_leq(peak_kib * 10, warm_kib * 11,
                "resident memory grew from %ld KiB after the warm-up to %ld KiB (more than 10%%)",
                warm_kib, peak_kib);
  expect_status(api_get(api_printf("%s/healthz", base), NULL), 200);
  /* It stops cleanly; in the sanitizer build, LeakSanitizer would make a
   * leak its exit status. */
  int status = api_process_kill(&node, SIGTERM);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "the node ended with status %d: %s", status, api_process_output(&node));
}
