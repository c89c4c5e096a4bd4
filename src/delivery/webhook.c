/*
 * webhook.c - the webhook channel (see webhook.h): its messages written,
 * and sent by the worker, signed, as HTTP POSTs through one libcurl easy
 * handle per worker thread (so that connections to an endpoint are kept
 * from one webhook to the next).
 *
 * The network rule is held where it cannot be talked around: libcurl
 * opens every socket through open_socket(), which refuses an address the
 * rule refuses, whatever name, numeric form or DNS answer led there (a
 * name that resolves to 127.0.0.1 today, a decimal IPv4 host). A proxy
 * from the environment (https_proxy, ...) is never used, since the
 * address checked would then be the proxy's.
 */
#include "delivery/webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "core/text.h"
#include "delivery/channel.h"
#include "delivery/outbox.h"
#include "delivery/retry.h"
#include "delivery/webhook_sign.h"
#include "delivery/webhook_url.h"
#include "http/address.h"

#ifndef EVENTAPI_VERSION
#define EVENTAPI_VERSION "unknown"
#endif

#define SECOND_US INT64_C(1000000)
#define SOURCE_PREFIX "webhook:"
/* "webhook:" and an int64 */
#define SOURCE_MAX (sizeof SOURCE_PREFIX + 20)
#define TIMEOUT_DEFAULT_MS 10000
/* How much of a reply is read at most; the rest is left unread and the
 * connection closed. Only its first DELIVERY_RESPONSE_MAX bytes are kept. */
#define RESPONSE_READ_MAX (64 * 1024)
#define USER_AGENT "eventapi/" EVENTAPI_VERSION

/* The waits after each failed try (webhook.h); one more try than waits. */
static const int64_t schedule_us[] = {
  5 * SECOND_US,
  5 * 60 * SECOND_US,
  30 * 60 * SECOND_US,
  2 * 3600 * SECOND_US,
  5 * 3600 * SECOND_US,
  10 * 3600 * SECOND_US,
};
#define NSCHEDULE (sizeof schedule_us / sizeof schedule_us[0])
#define MAX_ATTEMPTS (NSCHEDULE + 1)
#define STRING(x) #x
#define XSTRING(x) STRING(x)

/* ---- written ------------------------------------------------------------- */

/* Whether id can be a webhook-id: printable ASCII, no blank, not too long. */
static bool
message_id_valid(const char *id)
{
  size_t len = strlen(id);
  if (len == 0 || len > DELIVERY_MESSAGE_ID_MAX)
    return false;
  for (const unsigned char *c = (const unsigned char *)id; *c; c++)
    if (*c <= 0x20 || *c >= 0x7f)
      return false;
  return true;
}

static void
source_of(int64_t ref, char out[SOURCE_MAX])
{
  snprintf(out, SOURCE_MAX, SOURCE_PREFIX "%" PRId64, ref);
}

int
delivery_webhook_enqueue(db_t *db, const struct delivery_webhook *w, int64_t now, int64_t *id)
{
  if (w->url == NULL || w->type == NULL || w->body == NULL ||
      (w->message_id != NULL && !message_id_valid(w->message_id)))
    return EVENTAPI_EINVAL;
  char source[SOURCE_MAX];
  source_of(w->ref, source);
  struct delivery_new m = {
    .channel = DELIVERY_WEBHOOK,
    .kind = w->type,
    .target = w->url,
    .payload = w->body,
    .source = source,
    .message_id = w->message_id,
  };
  return delivery_enqueue(db, &m, now, id);
}

int
delivery_webhook_cancel(db_t *db, int64_t ref, int64_t now, int *cancelled)
{
  char source[SOURCE_MAX];
  source_of(ref, source);
  int none;
  return delivery_cancel(db, source, now, cancelled ? cancelled : &none);
}

int
delivery_webhook_list(db_t *db, int64_t ref, int64_t limit, int64_t offset, arena_t *arena,
                      struct delivery_message **out, size_t *count, int64_t *total)
{
  char source[SOURCE_MAX];
  source_of(ref, source);
  return delivery_list_source(db, source, limit, offset, arena, out, count, total);
}

int
delivery_webhook_get(db_t *db, int64_t ref, int64_t id, arena_t *arena,
                     struct delivery_message *out)
{
  char source[SOURCE_MAX];
  source_of(ref, source);
  int rc = delivery_get(db, id, arena, out);
  if (rc == 0 && (strcmp(out->channel, DELIVERY_WEBHOOK) != 0 || out->source == NULL ||
                  strcmp(out->source, source) != 0))
    rc = EVENTAPI_ENOTFOUND;
  return rc;
}

int
delivery_webhook_failing(db_t *db, int64_t ref, int64_t since, int64_t *failing_since,
                         bool *dead)
{
  char source[SOURCE_MAX];
  source_of(ref, source);
  return delivery_source_failing(db, source, since, failing_since, dead);
}

/* The endpoint a message's source names: 0, or EVENTAPI_EINVAL. */
static int
source_ref(const char *source, int64_t *ref)
{
  size_t prefix = sizeof SOURCE_PREFIX - 1;
  if (source == NULL || strncmp(source, SOURCE_PREFIX, prefix) != 0)
    return EVENTAPI_EINVAL;
  const char *digits = source + prefix;
  if (!((digits[0] >= '0' && digits[0] <= '9') || digits[0] == '-'))
    return EVENTAPI_EINVAL;
  char *end;
  errno = 0;
  long long value = strtoll(digits, &end, 10);
  if (errno != 0 || end == digits || *end != '\0')
    return EVENTAPI_EINVAL;
  *ref = value;
  return 0;
}

/* ---- the signing secrets, asked of the app ---------------------------------- */

/* Registered before any worker starts, only read afterwards. */
static delivery_webhook_keys_fn keys_fn;

void
delivery_webhook_keys_register(delivery_webhook_keys_fn fn)
{
  keys_fn = fn;
}

/* A look-up of secrets, as a read unit on the worker's connection. */
struct lookup {
  int64_t ref;
  arena_t *arena;
  struct delivery_webhook_keys *keys;
  char *err;
  size_t errlen;
};

static int
keys_unit(db_t *db, void *arg)
{
  struct lookup *l = arg;
  *l->keys = (struct delivery_webhook_keys){0}; /* a unit starts from its context */
  l->err[0] = '\0';
  return keys_fn(db, l->ref, l->arena, l->keys, l->err, l->errlen);
}

/*
 * The secrets of m's endpoint into keys, in arena memory: 0;
 * EVENTAPI_EINVAL, never to be sent (no endpoint named, no resolver, the
 * endpoint gone); EVENTAPI_EUNAVAILABLE worth retrying. The reason in
 * out->error.
 */
static int
keys_get(const struct delivery_message *m, arena_t *arena, struct delivery_webhook_keys *keys,
         int64_t *ref, struct delivery_result *out)
{
  if (source_ref(m->source, ref) < 0) {
    snprintf(out->error, sizeof out->error, "the message names no endpoint (its source is "
             "not " SOURCE_PREFIX "<ref>)");
    return EVENTAPI_EINVAL;
  }
  if (keys_fn == NULL) {
    snprintf(out->error, sizeof out->error,
             "cannot sign the webhook: no key resolver is registered");
    return EVENTAPI_EINVAL;
  }
  char why[sizeof out->error - 48] = ""; /* "" still when db_read could not begin */
  struct lookup l = {*ref, arena, keys, why, sizeof why};
  int rc = db_read(keys_unit, &l);
  if (rc == 0)
    return 0;
  snprintf(out->error, sizeof out->error, "cannot sign the webhook: %s",
           why[0] ? why : rc == EVENTAPI_ENOTFOUND ? "its endpoint is gone or inactive"
                                                   : eventapi_strerror(rc));
  return rc == EVENTAPI_ENOTFOUND ? EVENTAPI_EINVAL : EVENTAPI_EUNAVAILABLE;
}

/* ---- sent ---------------------------------------------------------------- */

/* A worker thread's sender. */
struct webhook_sender {
  const struct config *cfg;
  CURL *curl;
  struct http_networks allowed; /* WEBHOOK_ALLOWED_NETWORKS */
  int64_t timeout_ms;
  char description[256];
  /* The try in hand: the reply's start, and what open_socket() did. */
  char start[DELIVERY_RESPONSE_MAX + 4]; /* room for a character cut at the end */
  size_t kept, received;
  bool cut;                              /* stopped reading at RESPONSE_READ_MAX */
  unsigned opened, refused;
  char refusal[DELIVERY_WEBHOOK_REFUSAL_MAX];
  char curl_error[CURL_ERROR_SIZE];
};

static int64_t
timeout_ms(const struct config *cfg)
{
  return cfg->webhook_timeout_ms > 0 ? cfg->webhook_timeout_ms : TIMEOUT_DEFAULT_MS;
}

static int
webhook_check(const struct config *cfg, char *err, size_t errlen)
{
  struct http_networks allowed;
  int rc = delivery_webhook_networks_parse(cfg, &allowed, err, errlen);
  http_networks_free(&allowed);
  return rc;
}

static void
webhook_close(void *state)
{
  struct webhook_sender *s = state;
  if (s == NULL)
    return;
  if (s->curl != NULL)
    curl_easy_cleanup(s->curl);
  http_networks_free(&s->allowed);
  free(s);
}

static int
webhook_open(const struct config *cfg, void **state, char *err, size_t errlen)
{
  struct webhook_sender *s = calloc(1, sizeof *s);
  if (s == NULL)
    return EVENTAPI_ENOMEM;
  s->cfg = cfg;
  s->timeout_ms = timeout_ms(cfg);
  int rc = delivery_webhook_networks_parse(cfg, &s->allowed, err, errlen);
  if (rc == 0 && (s->curl = curl_easy_init()) == NULL) {
    snprintf(err, errlen, "webhook: cannot start libcurl");
    rc = EVENTAPI_ENOMEM;
  }
  if (rc < 0) {
    webhook_close(s);
    return rc;
  }
  const char *networks = cfg->webhook_allowed_networks;
  bool seconds = s->timeout_ms % 1000 == 0;
  snprintf(s->description, sizeof s->description,
           "signed POSTs to %s URLs, %" PRId64 " %s each at most%s%.120s",
           cfg->webhook_allow_http ? "https:// and http://" : "https://",
           seconds ? s->timeout_ms / 1000 : s->timeout_ms, seconds ? "s" : "ms",
           networks && networks[0] ? ", also to " : "", networks ? networks : "");
  *state = s;
  return 0;
}

static const char *
webhook_describe(const void *state)
{
  const struct webhook_sender *s = state;
  return s->description;
}

/* libcurl's socket for each address it connects to, if the rule allows it. */
static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
  struct webhook_sender *s = clientp;
  struct http_address addr;
  char why[DELIVERY_WEBHOOK_REFUSAL_MAX] = "an address of an unknown family";
  if (purpose != CURLSOCKTYPE_IPCXN || !http_address_from_sockaddr(&address->addr, &addr) ||
      delivery_webhook_address_check(&s->allowed, &addr, why) < 0) {
    if (s->refused++ == 0)
      snprintf(s->refusal, sizeof s->refusal, "%s", why);
    return CURL_SOCKET_BAD;
  }
  s->opened++;
  return socket(address->family, address->socktype, address->protocol);
}

/* Keeps the reply's start; stops reading past RESPONSE_READ_MAX. */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
  struct webhook_sender *s = userp;
  size_t len = size * nmemb;
  size_t room = sizeof s->start - s->kept;
  size_t copy = len < room ? len : room;
  memcpy(s->start + s->kept, data, copy);
  s->kept += copy;
  s->received += len;
  if (s->received > RESPONSE_READ_MAX) {
    s->cut = true;
    return 0; /* libcurl stops: CURLE_WRITE_ERROR */
  }
  return len;
}

/* Sets up the easy handle for one POST of body to url with headers. */
static CURLcode
prepare(struct webhook_sender *s, CURLU *url, const char *body, struct curl_slist *headers)
{
  CURL *h = s->curl;
  curl_easy_reset(h); /* keeps its connections, DNS and TLS sessions */
  CURLcode result = CURLE_OK;
#define SET(option, value)                                  \
  do {                                                      \
    if (result == CURLE_OK)                                 \
      result = curl_easy_setopt(h, option, value);          \
  } while (0)
  SET(CURLOPT_CURLU, url);
  SET(CURLOPT_PROTOCOLS_STR, s->cfg->webhook_allow_http ? "http,https" : "https");
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_PROXY, ""); /* none, whatever the environment says */
  SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
  SET(CURLOPT_OPENSOCKETDATA, s);
  SET(CURLOPT_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_SSL_VERIFYHOST, 2L);
  SET(CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
  SET(CURLOPT_CONNECTTIMEOUT_MS, (long)s->timeout_ms);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_POST, 1L);
  SET(CURLOPT_POSTFIELDS, body);
  SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
  SET(CURLOPT_HTTPHEADER, headers);
  SET(CURLOPT_USERAGENT, USER_AGENT);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, s);
  SET(CURLOPT_ERRORBUFFER, s->curl_error);
#undef SET
  return result;
}

/* The request's headers beyond libcurl's own, or NULL when out of memory. */
static struct curl_slist *
headers_make(const char *id, int64_t timestamp, const char *signature)
{
  char line[DELIVERY_WEBHOOK_SIGNATURE_MAX + DELIVERY_MESSAGE_ID_MAX + 32];
  struct curl_slist *list = NULL, *next;
  const char *fixed[] = {"Content-Type: application/json", "Expect:"};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    if ((next = curl_slist_append(list, fixed[i])) == NULL)
      goto fail;
    list = next;
  }
  for (int i = 0; i < 3; i++) {
    if (i == 0)
      snprintf(line, sizeof line, "webhook-id: %s", id);
    else if (i == 1)
      snprintf(line, sizeof line, "webhook-timestamp: %" PRId64, timestamp);
    else
      snprintf(line, sizeof line, "webhook-signature: %s", signature);
    if ((next = curl_slist_append(list, line)) == NULL)
      goto fail;
    list = next;
  }
  return list;
fail:
  curl_slist_free_all(list);
  return NULL;
}

/* How a POST ended, into out: 0 sent, else why, and whether worth retrying. */
static int
outcome(struct webhook_sender *s, CURLcode result, struct delivery_result *out)
{
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  out->status = status;
  text_utf8_repair(s->start, s->kept, out->response, sizeof out->response);
  if (result == CURLE_OK || (result == CURLE_WRITE_ERROR && s->cut)) {
    if (status >= 200 && status <= 299)
      return 0;
    snprintf(out->error, sizeof out->error, "HTTP %ld%s", status,
             status >= 300 && status <= 399 ? ": redirects are not followed" : "");
    return EVENTAPI_EUNAVAILABLE;
  }
  if (s->refused > 0 && s->opened == 0) {
    snprintf(out->error, sizeof out->error, "refused: %s; WEBHOOK_ALLOWED_NETWORKS can allow it",
             s->refusal);
    return EVENTAPI_EINVAL;
  }
  const char *why = s->curl_error[0] ? s->curl_error : curl_easy_strerror(result);
  if (result == CURLE_OPERATION_TIMEDOUT)
    snprintf(out->error, sizeof out->error, "no answer within %" PRId64
             " ms (WEBHOOK_TIMEOUT_SECONDS): %s", s->timeout_ms, why);
  else
    snprintf(out->error, sizeof out->error, "%s", why);
  return result == CURLE_UNSUPPORTED_PROTOCOL ? EVENTAPI_EINVAL : EVENTAPI_EUNAVAILABLE;
}

/* POSTs m's payload to url, signed with signature at timestamp. */
static int
post(struct webhook_sender *s, const struct delivery_message *m, CURLU *url,
     int64_t timestamp, const char *signature, struct delivery_result *out)
{
  struct curl_slist *headers = headers_make(m->message_id, timestamp, signature);
  if (headers == NULL) {
    snprintf(out->error, sizeof out->error, "out of memory");
    return EVENTAPI_EUNAVAILABLE;
  }
  s->kept = s->received = 0;
  s->cut = false;
  s->opened = s->refused = 0;
  s->refusal[0] = s->curl_error[0] = '\0';
  CURLcode result = prepare(s, url, m->payload, headers);
  int rc;
  if (result != CURLE_OK) {
    snprintf(out->error, sizeof out->error, "libcurl: %s", curl_easy_strerror(result));
    rc = EVENTAPI_EUNAVAILABLE;
  } else {
    rc = outcome(s, curl_easy_perform(s->curl), out);
  }
  /* Nothing of this try stays in the handle. */
  curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
  curl_easy_setopt(s->curl, CURLOPT_CURLU, (CURLU *)NULL);
  curl_slist_free_all(headers);
  return rc;
}

static int
webhook_send(void *state, const struct delivery_message *m, int64_t now,
             struct delivery_result *out)
{
  struct webhook_sender *s = state;
  if (!message_id_valid(m->message_id)) {
    snprintf(out->error, sizeof out->error, "the message_id cannot be a webhook-id");
    return EVENTAPI_EINVAL;
  }
  CURLU *url = NULL;
  char why[sizeof out->error - 16];
  int rc = delivery_webhook_url_parse(m->target, s->cfg->webhook_allow_http, &s->allowed, &url,
                                      why, sizeof why);
  if (rc < 0) {
    snprintf(out->error, sizeof out->error, "%s%s", rc == EVENTAPI_EINVAL ? "refused: " : "",
             why);
    return rc == EVENTAPI_EINVAL ? EVENTAPI_EINVAL : EVENTAPI_EUNAVAILABLE;
  }
  arena_t arena = {0};
  struct delivery_webhook_keys keys = {0};
  int64_t ref = 0;
  rc = keys_get(m, &arena, &keys, &ref, out);
  char signature[DELIVERY_WEBHOOK_SIGNATURE_MAX];
  int64_t timestamp = now / SECOND_US;
  if (rc == 0 && delivery_webhook_sign(&keys, m->message_id, timestamp, m->payload,
                                       strlen(m->payload), signature) < 0) {
    snprintf(out->error, sizeof out->error,
             "cannot sign the webhook: endpoint %" PRId64 " has no usable secret (1 to "
             XSTRING(DELIVERY_WEBHOOK_SECRETS_MAX) " of whsec_ and the base64 of 24 to 64 "
             "bytes)", ref);
    rc = EVENTAPI_EINVAL;
  }
  if (rc == 0)
    rc = post(s, m, url, timestamp, signature, out);
  arena_free(&arena);
  curl_url_cleanup(url);
  return rc;
}

static unsigned
webhook_max_attempts(const struct config *cfg)
{
  (void)cfg;
  return MAX_ATTEMPTS;
}

static int64_t
webhook_retry_us(const struct config *cfg, int64_t attempts)
{
  (void)cfg;
  return delivery_retry_schedule_us(schedule_us, NSCHEDULE, attempts);
}

/* One POST: libcurl's CURLOPT_TIMEOUT_MS bounds the whole of it. */
static int64_t
webhook_timeout_us(const struct config *cfg)
{
  return timeout_ms(cfg) * 1000;
}

const struct delivery_channel delivery_webhook_channel = {
  .name = DELIVERY_WEBHOOK,
  .attempts_setting = "the webhook schedule's 7 tries",
  .check = webhook_check,
  .open = webhook_open,
  .describe = webhook_describe,
  .send = webhook_send,
  .close = webhook_close,
  .max_attempts = webhook_max_attempts,
  .retry_us = webhook_retry_us,
  .timeout_us = webhook_timeout_us,
};

_Static_assert(MAX_ATTEMPTS == 7, "attempts_setting names the schedule's tries");
