/*
 * webhook.c - the webhook channel (delivery/webhook) on a real (SQLite)
 * database, sent by the outbox worker to a real HTTP receiver on
 * 127.0.0.1 (libmicrohttpd in this process, on a port the kernel chose)
 * that records what it gets and answers as each test tells it.
 *
 * A webhook is POSTed with its body byte for byte and the Standard
 * Webhooks headers, each signature checked here with libsodium (both
 * during a rotation); a failure (500, a hang past the timeout, a closed
 * connection, a redirect, which is not followed) is tried again on the
 * schedule under the same webhook-id, then dead; only the start of a
 * large answer is kept. What the network rule refuses is dead at once and
 * never reaches the receiver: http:// unless allowed, loopback unless in
 * WEBHOOK_ALLOWED_NETWORKS (by address, by name, by a decimal IPv4 host),
 * link-local, IPv6 loopback; so is a webhook whose endpoint is gone. The
 * clock stands still (time_test_freeze) and is moved by the test.
 */
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "delivery/outbox.h"
#include "delivery/webhook.h"
#include "delivery/webhook_sign.h"
#include "delivery/worker.h"
#include "support/db.h"

#define SECOND INT64_C(1000000)
#define T0 (INT64_C(1900000000) * SECOND)
#define BODY "{\"type\":\"registration.created\",\"data\":{\"id\":7,\"note\":\"caf\xc3\xa9\"}}"
#define ENDPOINT 42
/* 24 bytes: the Standard Webhooks specification's example secret. */
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
/* 32 bytes: 0, 1, ..., 31. */
#define SECRET_NEXT "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static struct config cfg;
static db_t *db;
static arena_t arena;

/* ---- the receiver ---------------------------------------------------------- */

enum behaviour { ANSWER, HANG, CLOSE };

/* How the receiver answers one request. */
struct answer {
  enum behaviour how;
  unsigned status;
  size_t size;          /* of the body: that many bytes of PATTERN */
  const char *body;     /* or this body */
  bool redirect;        /* with Location: /elsewhere */
};

/* One request as the receiver got it. */
struct exchange {
  char method[16], path[256];
  char id[256], timestamp[64], signature[256], content_type[128], user_agent[128];
  char *body;
  size_t len;
};

#define EXCHANGES_MAX 16
#define PATTERN "0123456789abcdefghijklmnopqrstuvwxyz"

static struct {
  struct MHD_Daemon *daemon;
  unsigned port;
  pthread_mutex_t lock;
  pthread_cond_t change;
  bool released;                       /* a hanging request may end */
  struct answer answers[EXCHANGES_MAX]; /* to each request in turn; then 200 "ok" */
  size_t nanswers;
  struct exchange got[EXCHANGES_MAX];
  size_t ngot;
} rx = {.lock = PTHREAD_MUTEX_INITIALIZER, .change = PTHREAD_COND_INITIALIZER};

static void
header(struct MHD_Connection *c, const char *name, char *out, size_t outlen)
{
  const char *value = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
  snprintf(out, outlen, "%s", value ? value : "");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state)
{
  (void)cls;
  (void)version;
  struct exchange *e = *state;
  if (e == NULL) {
    e = calloc(1, sizeof *e);
    snprintf(e->method, sizeof e->method, "%s", method);
    const char *query = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "x");
    snprintf(e->path, sizeof e->path, "%s%s%s", url, query ? "?x=" : "", query ? query : "");
    header(c, "webhook-id", e->id, sizeof e->id);
    header(c, "webhook-timestamp", e->timestamp, sizeof e->timestamp);
    header(c, "webhook-signature", e->signature, sizeof e->signature);
    header(c, "Content-Type", e->content_type, sizeof e->content_type);
    header(c, "User-Agent", e->user_agent, sizeof e->user_agent);
    *state = e;
    return MHD_YES;
  }
  if (*upload_size > 0) {
    e->body = realloc(e->body, e->len + *upload_size + 1);
    memcpy(e->body + e->len, upload, *upload_size);
    e->len += *upload_size;
    e->body[e->len] = '\0';
    *upload_size = 0;
    return MHD_YES;
  }
  pthread_mutex_lock(&rx.lock);
  size_t n = rx.ngot;
  struct answer answer = n < rx.nanswers ? rx.answers[n] : (struct answer){ANSWER, 200, 0, "ok"};
  if (n < EXCHANGES_MAX) {
    rx.got[n] = *e;
    e->body = NULL; /* now the record's */
    rx.ngot++;
  }
  pthread_cond_broadcast(&rx.change);
  if (answer.how == HANG) {
    /* Until the test ends (never a pause to wait for something: the
     * client gives up first). */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    while (!rx.released && pthread_cond_timedwait(&rx.change, &rx.lock, &until) == 0)
      ;
  }
  pthread_mutex_unlock(&rx.lock);
  if (answer.how != ANSWER)
    return MHD_NO; /* the connection is closed without an answer */
  struct MHD_Response *r;
  if (answer.body) {
    r = MHD_create_response_from_buffer(strlen(answer.body), (void *)answer.body,
                                        MHD_RESPMEM_MUST_COPY);
  } else {
    char *bytes = malloc(answer.size + 1);
    for (size_t i = 0; i < answer.size; i++)
      bytes[i] = PATTERN[i % (sizeof PATTERN - 1)];
    r = MHD_create_response_from_buffer(answer.size, bytes, MHD_RESPMEM_MUST_FREE);
  }
  if (answer.redirect)
    MHD_add_response_header(r, "Location", "/elsewhere");
  enum MHD_Result queued = MHD_queue_response(c, answer.status, r);
  MHD_destroy_response(r);
  return queued;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **state,
             enum MHD_RequestTerminationCode why)
{
  (void)cls;
  (void)c;
  (void)why;
  struct exchange *e = *state;
  if (e != NULL) {
    free(e->body);
    free(e);
  }
  *state = NULL;
}

static void
receiver_start(void)
{
  struct sockaddr_in bind_to = {.sin_family = AF_INET, .sin_port = 0,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  rx.daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                               0, NULL, NULL, on_request, NULL,
                               MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&bind_to,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                               MHD_OPTION_END);
  cr_assert_not_null(rx.daemon, "the receiver did not start");
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(rx.daemon, MHD_DAEMON_INFO_BIND_PORT);
  cr_assert_not_null(info);
  rx.port = info->port;
  cr_assert_gt(rx.port, 0);
}

static void
receiver_stop(void)
{
  pthread_mutex_lock(&rx.lock);
  rx.released = true;
  pthread_cond_broadcast(&rx.change);
  pthread_mutex_unlock(&rx.lock);
  MHD_stop_daemon(rx.daemon);
  for (size_t i = 0; i < rx.ngot; i++)
    free(rx.got[i].body);
}

/* The receiver answers the next requests so, in turn. */
static void
answer(struct answer a)
{
  pthread_mutex_lock(&rx.lock);
  cr_assert_lt(rx.nanswers, EXCHANGES_MAX);
  rx.answers[rx.nanswers++] = a;
  pthread_mutex_unlock(&rx.lock);
}

static size_t
received(void)
{
  pthread_mutex_lock(&rx.lock);
  size_t n = rx.ngot;
  pthread_mutex_unlock(&rx.lock);
  return n;
}

/* ---- the endpoints' secrets, as an app would keep them ---------------------------- */

static pthread_t test_thread;
static int lookups;
static bool rotating;         /* two secrets */
static int lookup_rc;         /* a failure of the app's own */
static const char *secret = SECRET;

/* Endpoint 42 has SECRET (and SECRET_NEXT while rotating); any other is gone. */
static int
endpoint_keys(db_t *keys_db, int64_t ref, arena_t *keys_arena, struct delivery_webhook_keys *keys,
              char *err, size_t errlen)
{
  lookups++;
  cr_assert(pthread_equal(pthread_self(), test_thread), "asked on the worker's thread");
  cr_assert_eq(keys->count, 0, "asked with no keys");
  /* Inside a read transaction of the worker's own connection. */
  db_stmt_t *st = db_prepare(keys_db, "SELECT count(*) FROM outbox");
  cr_assert_not_null(st);
  cr_assert_eq(db_step(st), DB_ROW);
  db_reset(st);
  if (lookup_rc < 0) {
    snprintf(err, errlen, "the endpoints' table is away");
    return lookup_rc;
  }
  if (ref != ENDPOINT) {
    snprintf(err, errlen, "endpoint %lld is gone", (long long)ref);
    return EVENTAPI_ENOTFOUND;
  }
  keys->secrets[keys->count++] = arena_strdup(keys_arena, secret);
  if (rotating)
    keys->secrets[keys->count++] = SECRET_NEXT;
  return 0;
}

/* ---- set-up ------------------------------------------------------------------ */

static char url_ok[128];

static void
setup(void)
{
  db = unit_db_open();
  cr_assert_eq(delivery_global_init(), 0);
  cfg.email_url = "console://";
  cfg.email_from = "Events <events@example.com>";
  cfg.email_max_attempts = 3;
  cfg.email_retry_ms = 30000;
  cfg.email_timeout_ms = 2000;
  cfg.worker_interval_ms = 50;
  cfg.webhook_timeout_ms = 5000;
  cfg.webhook_allow_http = true; /* the receiver speaks HTTP */
  cfg.webhook_allowed_networks = "127.0.0.1/32";
  receiver_start();
  snprintf(url_ok, sizeof url_ok, "http://127.0.0.1:%u/hooks/in?x=1", rx.port);
  test_thread = pthread_self();
  delivery_webhook_keys_register(endpoint_keys);
  time_test_freeze(T0);
}

static void
teardown(void)
{
  time_test_freeze(0);
  receiver_stop();
  arena_free(&arena);
  delivery_global_cleanup();
  unit_db_close();
}

TestSuite(webhook, .init = setup, .fini = teardown, .timeout = 60);

/* A webhook to url for endpoint ref, as an app writes it; its id. */
static int64_t
add_webhook(const char *url, int64_t ref, const char *message_id)
{
  struct delivery_webhook w = {url, "registration.created", BODY, ref, message_id};
  int64_t id = 0;
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
  cr_assert_eq(delivery_webhook_enqueue(db, &w, T0, &id), 0);
  cr_assert_eq(db_commit(db), 0);
  return id;
}

/* Runs a worker until nothing is due. */
static void
run_once(void)
{
  volatile sig_atomic_t stop = 0;
  cr_assert_eq(delivery_worker_run(&cfg, &stop, true), 0);
}

static struct delivery_message
message(int64_t id)
{
  struct delivery_message m;
  cr_assert_eq(delivery_get(db, id, &arena, &m), 0);
  return m;
}

/* The signature of id.timestamp.body with secret, as a receiver makes it. */
static void
expected_signature(const char *with, const char *id, const char *timestamp, const char *body,
                   size_t len, char out[64])
{
  unsigned char key[64];
  size_t key_len = 0;
  const char *b64 = with + strlen("whsec_");
  cr_assert_eq(sodium_base642bin(key, sizeof key, b64, strlen(b64), NULL, &key_len, NULL,
                                 sodium_base64_VARIANT_ORIGINAL), 0);
  crypto_auth_hmacsha256_state state;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&state, key, key_len);
  crypto_auth_hmacsha256_update(&state, (const unsigned char *)id, strlen(id));
  crypto_auth_hmacsha256_update(&state, (const unsigned char *)".", 1);
  crypto_auth_hmacsha256_update(&state, (const unsigned char *)timestamp, strlen(timestamp));
  crypto_auth_hmacsha256_update(&state, (const unsigned char *)".", 1);
  crypto_auth_hmacsha256_update(&state, (const unsigned char *)body, len);
  crypto_auth_hmacsha256_final(&state, mac);
  strcpy(out, "v1,");
  sodium_bin2base64(out + 3, 61, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
}

/* e's webhook-signature holds exactly the signatures of secrets, in order. */
static void
expect_signed(const struct exchange *e, const char *const *secrets, size_t n)
{
  char want[256] = "";
  for (size_t i = 0; i < n; i++) {
    char one[64];
    expected_signature(secrets[i], e->id, e->timestamp, e->body, e->len, one);
    if (i > 0)
      strcat(want, " ");
    strcat(want, one);
  }
  cr_assert_str_eq(e->signature, want);
}

/* ---- sent ---------------------------------------------------------------------- */

Test(webhook, a_webhook_is_posted_signed_and_sent)
{
  int64_t id = add_webhook(url_ok, ENDPOINT, NULL);
  struct delivery_message m = message(id);
  cr_assert_str_eq(m.channel, "webhook");
  cr_assert_str_eq(m.kind, "registration.created");
  cr_assert_str_eq(m.target, url_ok);
  cr_assert_str_eq(m.payload, BODY);
  cr_assert_str_eq(m.source, "webhook:42");
  cr_assert_eq(lookups, 0, "no secret is asked for when written");

  run_once();
  cr_assert_eq(received(), 1);
  const struct exchange *e = &rx.got[0];
  cr_assert_str_eq(e->method, "POST");
  cr_assert_str_eq(e->path, "/hooks/in?x=1");
  cr_assert_str_eq(e->body, BODY, "the body byte for byte");
  cr_assert_eq(e->len, strlen(BODY));
  cr_assert_str_eq(e->content_type, "application/json");
  cr_assert_str_eq(e->user_agent, "eventapi/" EVENTAPI_VERSION);
  cr_assert_str_eq(e->id, m.message_id, "webhook-id is the outbox's message_id");
  cr_assert_str_eq(e->timestamp, "1900000000", "Unix seconds when sent");
  expect_signed(e, (const char *[]){SECRET}, 1);
  cr_assert_eq(lookups, 1);

  m = message(id);
  cr_assert_str_eq(m.state, "sent");
  cr_assert_eq(m.attempts, 1);
  cr_assert_eq(m.sent_at, T0);
  cr_assert_eq(m.last_status, 200);
  cr_assert_str_eq(m.last_response, "ok");
  run_once();
  cr_assert_eq(received(), 1, "sent once");
}

Test(webhook, during_a_rotation_both_secrets_sign)
{
  rotating = true;
  add_webhook(url_ok, ENDPOINT, NULL);
  answer((struct answer){ANSWER, 204, 0, "", false});
  run_once();
  cr_assert_eq(received(), 1);
  cr_assert_not_null(strchr(rx.got[0].signature, ' '), "%s", rx.got[0].signature);
  expect_signed(&rx.got[0], (const char *[]){SECRET, SECRET_NEXT}, 2);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE state = 'sent'", 0), 1);
}

Test(webhook, a_redelivery_keeps_its_webhook_id)
{
  int64_t id = add_webhook(url_ok, ENDPOINT, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
  cr_assert_str_eq(message(id).message_id, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
  run_once();
  cr_assert_eq(received(), 1);
  cr_assert_str_eq(rx.got[0].id, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
  expect_signed(&rx.got[0], (const char *[]){SECRET}, 1);
}

/* ---- tried again ------------------------------------------------------------------ */

/* m is pending after try attempts, due again wait later (give or take a tenth). */
static void
expect_retry(const struct delivery_message *m, int64_t attempts, int64_t now, int64_t wait)
{
  cr_assert_str_eq(m->state, "pending");
  cr_assert_eq(m->attempts, attempts);
  cr_assert_eq(m->claimed_until, 0, "the claim is let go");
  cr_assert(m->next_attempt_at >= now + wait - wait / 10 &&
                m->next_attempt_at <= now + wait + wait / 10,
            "try %lld: due at +%lld us, expected about +%lld", (long long)attempts,
            (long long)(m->next_attempt_at - now), (long long)wait);
}

Test(webhook, a_failure_is_tried_again_under_the_same_webhook_id)
{
  int64_t id = add_webhook(url_ok, ENDPOINT, NULL);
  answer((struct answer){ANSWER, 500, 0, "busy", false});
  run_once();
  struct delivery_message m = message(id);
  expect_retry(&m, 1, T0, 5 * SECOND);
  cr_assert_eq(m.last_status, 500);
  cr_assert_str_eq(m.last_error, "HTTP 500");
  cr_assert_str_eq(m.last_response, "busy");
  run_once();
  cr_assert_eq(received(), 1, "not before its time");

  int64_t retry = m.next_attempt_at;
  time_test_freeze(retry);
  run_once();
  cr_assert_eq(received(), 2);
  m = message(id);
  cr_assert_str_eq(m.state, "sent");
  cr_assert_eq(m.attempts, 2);
  cr_assert_eq(m.last_status, 200);
  cr_assert_str_eq(rx.got[0].id, rx.got[1].id, "the same webhook-id on every try");
  cr_assert_str_eq(rx.got[1].id, m.message_id);
  char stamp[32];
  snprintf(stamp, sizeof stamp, "%lld", (long long)(retry / SECOND));
  cr_assert_str_eq(rx.got[1].timestamp, stamp, "the time of this try");
  expect_signed(&rx.got[1], (const char *[]){SECRET}, 1);
}

Test(webhook, failures_follow_the_schedule_then_the_webhook_is_dead)
{
  static const int64_t waits[] = {5 * SECOND, 300 * SECOND, 1800 * SECOND, 7200 * SECOND,
                                  18000 * SECOND, 36000 * SECOND};
  int64_t id = add_webhook(url_ok, ENDPOINT, NULL);
  for (size_t i = 0; i < 7; i++)
    answer((struct answer){ANSWER, i % 2 ? 404 : 503, 0, "no", false});
  int64_t now = T0;
  for (size_t i = 0; i < 6; i++) {
    run_once();
    struct delivery_message m = message(id);
    expect_retry(&m, (int64_t)i + 1, now, waits[i]);
    now = m.next_attempt_at;
    time_test_freeze(now);
  }
  run_once();
  struct delivery_message m = message(id);
  cr_assert_str_eq(m.state, "dead", "seven tries");
  cr_assert_eq(m.attempts, 7);
  cr_assert_str_eq(m.last_error, "HTTP 503");
  cr_assert_eq(received(), 7);
  time_test_freeze(now + 86400 * SECOND);
  run_once();
  cr_assert_eq(received(), 7, "dead stays dead");
}

Test(webhook, a_receiver_that_hangs_past_the_timeout_is_tried_again)
{
  cfg.webhook_timeout_ms = 300;
  int64_t id = add_webhook(url_ok, ENDPOINT, NULL);
  answer((struct answer){HANG, 0, 0, NULL, false});
  int64_t started = time_monotonic_us();
  run_once();
  int64_t took = time_monotonic_us() - started;
  cr_assert_eq(received(), 1, "the request arrived");
  struct delivery_message m = message(id);
  expect_retry(&m, 1, T0, 5 * SECOND);
  cr_assert_eq(m.last_status, 0);
  cr_assert_eq(strncmp(m.last_error, "no answer within 300 ms (WEBHOOK_TIMEOUT_SECONDS)", 49),
               0, "%s", m.last_error);
  cr_assert_lt(took, 5 * SECOND, "given up after the timeout, not when the receiver let go");
}

Test(webhook, a_closed_connection_is_tried_again)
{
  int64_t id = add_webhook(url_ok, ENDPOINT, NULL);
  answer((struct answer){CLOSE, 0, 0, NULL, false});
  run_once();
  cr_assert_eq(received(), 1);
  struct delivery_message m = message(id);
  expect_retry(&m, 1, T0, 5 * SECOND);
  cr_assert_eq(m.last_status, 0);
  cr_assert_not_null(m.last_error);
  cr_assert_not_null(strstr(m.last_error, "reply"), "%s", m.last_error); /* "Empty reply from server" */
}

Test(webhook, a_redirect_is_not_followed)
{
  int64_t id = add_webhook(url_ok, ENDPOINT, NULL);
  answer((struct answer){ANSWER, 302, 0, "moved", true});
  run_once();
  cr_assert_eq(received(), 1, "nothing sent to /elsewhere");
  cr_assert_str_eq(rx.got[0].path, "/hooks/in?x=1");
  struct delivery_message m = message(id);
  expect_retry(&m, 1, T0, 5 * SECOND);
  cr_assert_eq(m.last_status, 302);
  cr_assert_str_eq(m.last_error, "HTTP 302: redirects are not followed");
}

/* The first n bytes of what the receiver sends for a body of size. */
static char *
pattern(size_t n)
{
  char *text = malloc(n + 1);
  for (size_t i = 0; i < n; i++)
    text[i] = PATTERN[i % (sizeof PATTERN - 1)];
  text[n] = '\0';
  return text;
}

Test(webhook, of_a_large_answer_only_the_start_is_kept)
{
  char *start = pattern(1024);
  /* Past the bound on what is read at all: the status still counts. */
  int64_t sent = add_webhook(url_ok, ENDPOINT, NULL);
  answer((struct answer){ANSWER, 200, 200000, NULL, false});
  run_once();
  struct delivery_message m = message(sent);
  cr_assert_str_eq(m.state, "sent");
  cr_assert_eq(m.last_status, 200);
  cr_assert_eq(strlen(m.last_response), 1024);
  cr_assert_str_eq(m.last_response, start);

  int64_t failed = add_webhook(url_ok, ENDPOINT, NULL);
  answer((struct answer){ANSWER, 500, 5000, NULL, false});
  run_once();
  m = message(failed);
  expect_retry(&m, 1, T0, 5 * SECOND);
  cr_assert_str_eq(m.last_response, start);
  free(start);
}

/* ---- refused ------------------------------------------------------------------- */

/* Dead at its first try, nothing received, with a reason starting so. */
static void
expect_dead_at_once(int64_t id, const char *reason)
{
  run_once();
  cr_assert_eq(received(), 0, "nothing reached the receiver");
  struct delivery_message m = message(id);
  cr_assert_str_eq(m.state, "dead");
  cr_assert_eq(m.attempts, 1);
  cr_assert_not_null(m.last_error);
  cr_assert_eq(strncmp(m.last_error, reason, strlen(reason)), 0, "%s", m.last_error);
}

Test(webhook, http_is_refused_unless_allowed)
{
  cfg.webhook_allow_http = false;
  expect_dead_at_once(add_webhook(url_ok, ENDPOINT, NULL),
                      "refused: the URL must begin with https:// (WEBHOOK_ALLOW_HTTP allows");
}

Test(webhook, loopback_is_refused_unless_in_the_allowed_networks)
{
  cfg.webhook_allowed_networks = "";
  expect_dead_at_once(add_webhook(url_ok, ENDPOINT, NULL),
                      "refused: the URL's host 127.0.0.1 is a loopback address; "
                      "WEBHOOK_ALLOWED_NETWORKS can allow it");
  cr_assert_eq(lookups, 0, "refused before any secret is read");
}

Test(webhook, the_metadata_address_is_refused)
{
  cfg.webhook_allowed_networks = "";
  expect_dead_at_once(add_webhook("http://169.254.169.254/latest/meta-data/", ENDPOINT, NULL),
                      "refused: the URL's host 169.254.169.254 is a link-local address");
}

Test(webhook, ipv6_loopback_is_refused)
{
  char url[128];
  snprintf(url, sizeof url, "http://[::1]:%u/hooks/in", rx.port);
  expect_dead_at_once(add_webhook(url, ENDPOINT, NULL),
                      "refused: the URL's host ::1 is a loopback address");
}

Test(webhook, a_decimal_ipv4_host_is_refused)
{
  cfg.webhook_allowed_networks = "";
  char url[128];
  snprintf(url, sizeof url, "http://2130706433:%u/hooks/in", rx.port);
  expect_dead_at_once(add_webhook(url, ENDPOINT, NULL), "refused: ");
  cr_assert_not_null(strstr(message(1).last_error, "127.0.0.1 is a loopback address"), "%s",
                     message(1).last_error);
}

/* A name is checked by the address it leads to, when the connection is made. */
Test(webhook, a_name_that_leads_to_loopback_is_refused_when_connecting)
{
  cfg.webhook_allowed_networks = "";
  char url[128];
  snprintf(url, sizeof url, "http://localhost:%u/hooks/in", rx.port);
  char err[256] = "";
  cr_assert_eq(delivery_webhook_url_check(&cfg, url, err, sizeof err), 0,
               "a name passes the URL check: %s", err);
  expect_dead_at_once(add_webhook(url, ENDPOINT, NULL), "refused: ");
  cr_assert_not_null(strstr(message(1).last_error, " is a loopback address; "
                                                   "WEBHOOK_ALLOWED_NETWORKS can allow it"),
                     "%s", message(1).last_error);
  cr_assert_eq(lookups, 1, "the secret was read: the refusal came when connecting");
}

Test(webhook, a_name_that_leads_to_an_allowed_network_is_sent)
{
  char url[128];
  snprintf(url, sizeof url, "http://localhost:%u/hooks/in", rx.port);
  int64_t id = add_webhook(url, ENDPOINT, NULL);
  run_once();
  cr_assert_eq(received(), 1);
  cr_assert_str_eq(message(id).state, "sent");
}

Test(webhook, a_webhook_whose_endpoint_is_gone_is_dead_at_once)
{
  expect_dead_at_once(add_webhook(url_ok, 7, NULL),
                      "cannot sign the webhook: endpoint 7 is gone");
  cr_assert_eq(lookups, 1);
}

Test(webhook, a_failure_to_read_the_secrets_is_tried_again)
{
  lookup_rc = EVENTAPI_EUNAVAILABLE;
  int64_t id = add_webhook(url_ok, ENDPOINT, NULL);
  run_once();
  cr_assert_eq(received(), 0);
  struct delivery_message m = message(id);
  expect_retry(&m, 1, T0, 5 * SECOND);
  cr_assert_str_eq(m.last_error, "cannot sign the webhook: the endpoints' table is away");
}

Test(webhook, without_a_key_resolver_nothing_is_sent)
{
  delivery_webhook_keys_register(NULL);
  expect_dead_at_once(add_webhook(url_ok, ENDPOINT, NULL),
                      "cannot sign the webhook: no key resolver is registered");
}

Test(webhook, a_secret_that_cannot_be_used_is_never_shown)
{
  secret = "whsec_c2hvcnQ="; /* "short": 5 bytes */
  expect_dead_at_once(add_webhook(url_ok, ENDPOINT, NULL),
                      "cannot sign the webhook: endpoint 42 has no usable secret");
  cr_assert_null(strstr(message(1).last_error, "c2hvcnQ"), "%s", message(1).last_error);
}

Test(webhook, a_message_not_written_by_the_channel_is_dead_at_once)
{
  struct delivery_new m = {.channel = "webhook", .kind = "ping", .target = url_ok,
                           .payload = "{}", .source = "notification:3"};
  int64_t id;
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  expect_dead_at_once(id, "the message names no endpoint");
}

/* ---- written ---------------------------------------------------------------------- */

Test(webhook, what_cannot_be_written_is_refused)
{
  struct delivery_webhook good = {url_ok, "ping", "{}", ENDPOINT, NULL};
  struct delivery_webhook w = good;
  w.url = NULL;
  cr_assert_eq(delivery_webhook_enqueue(db, &w, T0, NULL), EVENTAPI_EINVAL);
  w = good;
  w.type = NULL;
  cr_assert_eq(delivery_webhook_enqueue(db, &w, T0, NULL), EVENTAPI_EINVAL);
  w = good;
  w.body = NULL;
  cr_assert_eq(delivery_webhook_enqueue(db, &w, T0, NULL), EVENTAPI_EINVAL);
  static const char *const bad_ids[] = {"", "msg 1", "msg\r\nX-Evil: 1", "msg\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
    w = good;
    w.message_id = bad_ids[i];
    cr_assert_eq(delivery_webhook_enqueue(db, &w, T0, NULL), EVENTAPI_EINVAL, "%s", bad_ids[i]);
  }
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox", 0), 0);
  cr_assert_eq(delivery_webhook_enqueue(db, &good, T0, NULL), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox", 0), 1);
}

Test(webhook, an_endpoint_s_unsent_webhooks_are_cancelled)
{
  add_webhook(url_ok, ENDPOINT, NULL);
  add_webhook(url_ok, ENDPOINT, NULL);
  int64_t other = add_webhook(url_ok, 43, NULL);
  int cancelled = -1;
  cr_assert_eq(delivery_webhook_cancel(db, ENDPOINT, T0, &cancelled), 0);
  cr_assert_eq(cancelled, 2);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox", 0), 1);
  cr_assert_str_eq(message(other).source, "webhook:43");
  cr_assert_eq(delivery_webhook_cancel(db, 43, T0, NULL), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox", 0), 0);
}

/* ---- signatures ---------------------------------------------------------------------- */

/* The example of the Standard Webhooks specification (and its libraries' tests). */
Test(webhook, the_specification_s_example_signs_alike)
{
  struct delivery_webhook_keys keys = {{SECRET}, 1};
  const char *body = "{\"test\": 2432232314}";
  char signature[DELIVERY_WEBHOOK_SIGNATURE_MAX];
  cr_assert_eq(delivery_webhook_sign(&keys, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                     strlen(body), signature), 0);
  cr_assert_str_eq(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

Test(webhook, secrets_that_cannot_be_used_sign_nothing)
{
  static const char *const bad[] = {
    "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",             /* no prefix */
    "whsec_",                                       /* no key */
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",       /* not base64 */
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",      /* a blank after it */
    "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRY=",       /* 23 bytes */
    "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=", /* 65 */
    NULL,
  };
  const char *body = "{}";
  char signature[DELIVERY_WEBHOOK_SIGNATURE_MAX];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct delivery_webhook_keys keys = {{bad[i]}, 1};
    cr_assert_eq(delivery_webhook_sign(&keys, "msg_1", 1, body, 2, signature), EVENTAPI_EINVAL,
                 "%s", bad[i] ? bad[i] : "NULL");
    cr_assert_str_eq(signature, "");
    /* Nor beside a good one. */
    keys = (struct delivery_webhook_keys){{SECRET, bad[i]}, 2};
    cr_assert_eq(delivery_webhook_sign(&keys, "msg_1", 1, body, 2, signature), EVENTAPI_EINVAL);
    cr_assert_str_eq(signature, "");
  }
  struct delivery_webhook_keys none = {{NULL}, 0}, too_many = {{SECRET, SECRET}, 3};
  cr_assert_eq(delivery_webhook_sign(&none, "msg_1", 1, body, 2, signature), EVENTAPI_EINVAL);
  cr_assert_eq(delivery_webhook_sign(&too_many, "msg_1", 1, body, 2, signature),
               EVENTAPI_EINVAL);
  /* 64 bytes, and a key written without its padding, are fine. */
  struct delivery_webhook_keys longest = {
    {"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
     "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}, 2};
  cr_assert_eq(delivery_webhook_sign(&longest, "msg_1", 1, body, 2, signature), 0);
}

/* ---- the URL check ---------------------------------------------------------------------- */

/* url passes or not under cfg; a refusal's reason holds why and never the URL's secret. */
static void
expect_url(const char *url, bool allowed, const char *why)
{
  char err[256] = "";
  int rc = delivery_webhook_url_check(&cfg, url, err, sizeof err);
  if (allowed) {
    cr_expect_eq(rc, 0, "%s refused: %s", url, err);
    return;
  }
  cr_expect_eq(rc, EVENTAPI_EINVAL, "%s allowed", url);
  cr_expect(why == NULL || strstr(err, why) != NULL, "%s: \"%s\" lacks \"%s\"", url, err, why);
  cr_expect_null(strstr(err, "s3cret"), "%s: %s", url, err);
}

Test(webhook, urls_are_checked_as_the_channel_sends)
{
  cfg.webhook_allow_http = false;
  cfg.webhook_allowed_networks = "";
  expect_url("https://hooks.example.com/in?token=s3cret", true, NULL);
  expect_url("HTTPS://hooks.example.com:8443/in", true, NULL);
  expect_url("https://203.0.113.9/in", true, NULL);
  expect_url("https://[2001:db8::1]/in", true, NULL);
  expect_url("https://172.32.0.1/", true, NULL);
  expect_url("https://100.128.0.1/", true, NULL);
  expect_url("http://hooks.example.com/in?token=s3cret", false, "must begin with https://");
  expect_url("ftp://hooks.example.com/", false, "must begin with https://");
  expect_url("hooks.example.com/in", false, "must begin with https://");
  expect_url("hooks.example.com:443/in", false, "must begin with https://");
  expect_url("", false, "the URL is missing");
  expect_url(NULL, false, "the URL is missing");
  expect_url("https://user:s3cret@hooks.example.com/", false, "user name or password");
  expect_url("https://s3cret@hooks.example.com/", false, "user name or password");
  expect_url("https:///in?token=s3cret", false, "the URL has no host");
  expect_url("https:/hooks.example.com/in", false, "must begin with https://");
  expect_url("https:hooks.example.com/in", false, "must begin with https://");
  expect_url("https://hooks.example.com/in?token=s3cret\n", false, "control character");
  expect_url("https://hooks.example.com/a b", false, "control character or a blank");
  expect_url("https://[fe80::1%25eth0]/", false, NULL);
  char long_url[DELIVERY_WEBHOOK_URL_MAX + 2];
  memset(long_url, 'a', sizeof long_url - 1);
  memcpy(long_url, "https://a.example/", 18);
  long_url[sizeof long_url - 1] = '\0';
  expect_url(long_url, false, "longer than 2048 bytes");
  long_url[sizeof long_url - 2] = '\0';
  expect_url(long_url, true, NULL);

  /* Literal addresses, in every form, under the network rule. */
  static const struct {
    const char *host, *why;
  } refused[] = {
    {"127.0.0.1", "127.0.0.1 is a loopback address"},
    {"127.1.2.3", "loopback"},
    {"2130706433", "127.0.0.1 is a loopback address"},
    {"0x7f.1", "127.0.0.1 is a loopback address"},
    {"0177.0.0.1", "127.0.0.1 is a loopback address"},
    {"10.1.2.3", "a private address"},
    {"172.16.0.1", "a private address"},
    {"172.31.255.255", "a private address"},
    {"192.168.1.1", "a private address"},
    {"100.64.0.1", "a shared (CGNAT) address"},
    {"100.127.255.255", "a shared (CGNAT) address"},
    {"169.254.169.254", "169.254.169.254 is a link-local address"},
    {"0.0.0.0", "an unspecified address"},
    {"0", "0.0.0.0 is an unspecified address"},
    {"224.0.0.1", "a multicast address"},
    {"239.255.255.250", "a multicast address"},
    {"255.255.255.255", "the broadcast address"},
    {"240.0.0.1", "a reserved address"},
    {"[::1]", "::1 is a loopback address"},
    {"[::]", "an unspecified address"},
    {"[fc00::1]", "a private (unique local) address"},
    {"[fd12:3456::1]", "a private (unique local) address"},
    {"[fe80::1]", "a link-local address"},
    {"[fec0::1]", "a site-local address"},
    {"[ff02::1]", "a multicast address"},
    {"[::ffff:127.0.0.1]", "127.0.0.1 is a loopback address"},
    {"[::ffff:169.254.169.254]", "169.254.169.254 is a link-local address"},
    {"[::ffff:7f00:1]", "127.0.0.1 is a loopback address"},
    {"[::127.0.0.1]", "::127.0.0.1 embeds 127.0.0.1, a loopback address"},
    {"[::10.0.0.1]", "embeds 10.0.0.1, a private address"},
    {"[::ffff:0:10.0.0.1]", "embeds 10.0.0.1, a private address"},
    {"[64:ff9b::a9fe:a9fe]", "embeds 169.254.169.254, a link-local address"},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    char url[128];
    snprintf(url, sizeof url, "https://%s/in?token=s3cret", refused[i].host);
    expect_url(url, false, refused[i].why);
  }
  expect_url("https://[64:ff9b::cb00:7109]/", true, NULL);  /* NAT64 of 203.0.113.9 */
  expect_url("https://[::cb00:7109]/", true, NULL);

  /* What WEBHOOK_ALLOWED_NETWORKS lists is allowed, in any form. */
  cfg.webhook_allowed_networks = "127.0.0.0/8, 10.0.0.0/8, fd00::/8";
  expect_url("https://127.0.0.1:8443/in", true, NULL);
  expect_url("https://2130706433/in", true, NULL);
  expect_url("https://[::ffff:127.0.0.1]/in", true, NULL);
  expect_url("https://[::10.0.0.1]/in", true, NULL);
  expect_url("https://[fd00::1]/in", true, NULL);
  expect_url("https://[fc00::1]/in", false, "unique local");
  expect_url("https://169.254.169.254/", false, "link-local");
  expect_url("https://[::1]/in", false, "loopback");

  cfg.webhook_allowed_networks = "10.0.0.1/8";
  expect_url("https://hooks.example.com/", false,
             "WEBHOOK_ALLOWED_NETWORKS: \"10.0.0.1/8\" is not an address or a CIDR");
}
