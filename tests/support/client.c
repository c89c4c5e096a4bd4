/*
 * client.c - the tests' HTTP client (libcurl, and raw sockets for bytes no
 * well-behaved client sends), plus helpers for users and tokens.
 */
#include "support/api.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ops/schema.h"
#include "support/schema_check.h"

/* Each thread talks over its own handle, so a thread's requests share a
 * kept-alive connection and threads never share a handle. */
static _Thread_local CURL *thread_curl;

static void release_curl(void *p)
{
  curl_easy_cleanup(p);
}

static void release_resp(void *p)
{
  struct api_resp *r = p;
  for (size_t i = 0; i < r->nheaders; i++) {
    free(r->headers[i].name);
    free(r->headers[i].value);
  }
  free(r->headers);
  free(r->body);
  json_decref(r->json);
  free(r);
}

static struct api_resp *resp_new(const char *method, const char *path)
{
  struct api_resp *r = calloc(1, sizeof *r);
  if (!r)
    abort();
  r->method = api_strdup(method);
  r->path = api_strdup(path);
  r->body = calloc(1, 1);
  if (!r->body)
    abort();
  api_keep(r, release_resp);
  return r;
}

static void body_append(struct api_resp *r, const char *data, size_t n)
{
  char *grown = realloc(r->body, r->len + n + 1);
  if (!grown)
    abort();
  memcpy(grown + r->len, data, n);
  r->len += n;
  grown[r->len] = '\0';
  r->body = grown;
}

static void headers_clear(struct api_resp *r)
{
  for (size_t i = 0; i < r->nheaders; i++) {
    free(r->headers[i].name);
    free(r->headers[i].value);
  }
  r->nheaders = 0;
}

/* Adds one "Name: value" line (without its line end). */
static void header_add(struct api_resp *r, const char *line, size_t n)
{
  const char *colon = memchr(line, ':', n);
  if (!colon)
    return;
  const char *value = colon + 1;
  const char *end = line + n;
  while (value < end && (*value == ' ' || *value == '\t'))
    value++;
  while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  struct api_header *grown =
      realloc(r->headers, (r->nheaders + 1) * sizeof *grown);
  if (!grown)
    abort();
  r->headers = grown;
  r->headers[r->nheaders].name = strndup(line, (size_t)(colon - line));
  r->headers[r->nheaders].value = strndup(value, (size_t)(end - value));
  r->nheaders++;
}

static void resp_parse_json(struct api_resp *r)
{
  json_error_t error;
  if (r->len > 0)
    r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, &error);
}

static void check_no_server_error(const struct api_resp *r)
{
  /* 501 and 505 refuse a transfer coding or an HTTP version the server
   * does not speak: answers about the request, not failures of the server. */
  if (r->status < 500 || r->status == 501 || r->status == 505)
    return;
  /* Only the test's own (main) thread may fail the test; the answers of
   * other threads are checked by the test when they are joined. */
  if (gettid() == getpid())
    expect_fail_at(__FILE__, __LINE__, "%s %s answered %ld: %.500s", r->method,
                   r->path, r->status, r->body);
}

/* ---- every answer against the OpenAPI document ------------------------ */

/*
 * Each answer the client receives is checked against the OpenAPI document:
 * its status must be documented for the operation, and a JSON body must
 * match the documented schema (schema_check.h). The document is the one the
 * server serves at /api/schema/, joined from the same fragments in this
 * process (ops_schema_document) rather than fetched and parsed again for
 * every test; tests/api/schema.c holds the served bytes to it. A document
 * that cannot be built fails every check: the checks never switch
 * themselves off. A mismatch fails the test at once on the test's own
 * thread; another thread's first mismatch is reported at the test thread's
 * next request, or failing that when the server stops.
 */
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;
static bool schema_kept;          /* release_schema is registered */
static char schema_pending[2048]; /* another thread's first mismatch */

/* Called by api_server_stop(), when the test's threads have ended (so
 * without schema_lock, which is held while api_keep takes the harness's). */
static void release_schema(void *p)
{
  (void)p;
  if (schema_pending[0]) /* never reported: no request followed */
    cr_expect_fail("%s", schema_pending);
  schema_pending[0] = '\0';
  schema_kept = false;
}

static void check_against_schema(const struct api_resp *r)
{
  if (r->status == 0) /* no answer: nothing to check */
    return;
  bool main_thread = gettid() == getpid();
  char pending[sizeof schema_pending] = "";
  char err[1024] = ""; /* fits in schema_pending with its prefix and body */
  bool ok = true;

  /* The document is read-only once fetched (until the server stops, after
   * the test's threads ended), so answers are checked outside the lock. */
  const json_t *doc = ops_schema_document();
  pthread_mutex_lock(&schema_lock);
  if (!schema_kept) {
    schema_kept = true;
    api_keep(&schema_kept, release_schema);
  }
  if (main_thread && schema_pending[0]) {
    memcpy(pending, schema_pending, sizeof pending);
    schema_pending[0] = '\0';
  }
  pthread_mutex_unlock(&schema_lock);

  if (doc) {
    /* A child node's absolute URL: its path, against the same document. */
    const char *path = r->path;
    if (strncmp(path, "http://", 7) == 0) {
      const char *slash = strchr(path + 7, '/');
      path = slash ? slash : "/";
    }
    ok = schema_check_response(doc, r->method, path, r->status,
                               api_header(r, "Content-Type"), r->json, r->len,
                               err, sizeof err);
  } else {
    ok = false;
    snprintf(err, sizeof err, "the OpenAPI document could not be built to check it (see the log)");
  }
  if (!ok && !main_thread) {
    pthread_mutex_lock(&schema_lock);
    if (!schema_pending[0])
      snprintf(schema_pending, sizeof schema_pending,
               "answer not as the OpenAPI document says (on another thread): %s; body: %.300s",
               err, r->body);
    pthread_mutex_unlock(&schema_lock);
  }
  if (pending[0])
    expect_fail_at(__FILE__, __LINE__, "%s", pending);
  if (!ok && main_thread)
    expect_fail_at(__FILE__, __LINE__, "answer not as the OpenAPI document says: %s; body: %.500s",
                   err, r->body);
}

const char *api_header(const struct api_resp *r, const char *name)
{
  for (size_t i = 0; i < r->nheaders; i++)
    if (strcasecmp(r->headers[i].name, name) == 0)
      return r->headers[i].value;
  return NULL;
}

/* ---- libcurl ------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
  body_append(userdata, data, size * nmemb);
  return size * nmemb;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
  struct api_resp *r = userdata;
  size_t n = size * nmemb;
  size_t len = n;
  while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
    len--;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
    headers_clear(r); /* a new answer (after a 100 Continue) */
  else if (len > 0)
    header_add(r, data, len);
  return n;
}

struct upload {
  const char *data;
  size_t len;
  size_t sent;
  void (*hold)(void *); /* called before the last byte, if set */
  void *hold_arg;
};

static size_t on_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
  struct upload *up = userdata;
  size_t room = size * nitems;
  size_t left = up->len - up->sent;
  size_t n = left < room ? left : room;
  if (n > 16384)
    n = 16384;
  memcpy(buffer, up->data + up->sent, n);
  up->sent += n;
  return n;
}

/* The body but its last byte; then hold() before the last byte goes. */
static size_t on_read_held(char *buffer, size_t size, size_t nitems, void *userdata)
{
  struct upload *up = userdata;
  size_t room = size * nitems;
  if (up->sent + 1 < up->len) {
    size_t n = up->len - 1 - up->sent;
    if (n > room)
      n = room;
    memcpy(buffer, up->data + up->sent, n);
    up->sent += n;
    return n;
  }
  if (up->sent == up->len || room == 0)
    return 0;
  up->hold(up->hold_arg);
  buffer[0] = up->data[up->sent++];
  return 1;
}

static CURL *thread_handle(void)
{
  if (!thread_curl) {
    thread_curl = curl_easy_init();
    if (!thread_curl)
      abort();
    api_keep(thread_curl, release_curl);
  } else {
    curl_easy_reset(thread_curl); /* keeps the open connection */
  }
  return thread_curl;
}

static struct api_resp *perform(const char *method, const char *path,
                                const char *token, const char *content_type,
                                const void *body, size_t len,
                                const char *const *headers, bool chunked,
                                void (*hold)(void *), void *hold_arg)
{
  struct api_resp *r = resp_new(method, path);
  CURL *curl = thread_handle();
  struct curl_slist *list = NULL;
  struct upload up = { body, len, 0, hold, hold_arg };
  bool sends_body = body || strcmp(method, "POST") == 0 ||
                    strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;

  curl_easy_setopt(curl, CURLOPT_URL, api_url(path));
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);

  if (chunked) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    list = curl_slist_append(list, "Transfer-Encoding: chunked");
  } else if (hold) {
    /* Read from the callback, Content-Length known, no 100-continue. */
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read_held);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    list = curl_slist_append(list, "Expect:");
  } else if (sends_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  if (hold || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);

  /* "Content-Type:" with no value stops curl adding its form type. */
  list = curl_slist_append(list, api_printf("Content-Type:%s%s",
                                            content_type ? " " : "",
                                            content_type ? content_type : ""));
  if (token)
    list = curl_slist_append(list, api_printf("Authorization: Bearer %s", token));
  for (const char *const *h = headers; h && *h; h++)
    list = curl_slist_append(list, *h);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &r->num_connects);
  if (rc != CURLE_OK)
    snprintf(r->error, sizeof r->error, "curl: %s", curl_easy_strerror(rc));
  curl_slist_free_all(list);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);

  resp_parse_json(r);
  check_no_server_error(r);
  check_against_schema(r);
  return r;
}

struct api_resp *api_request(const char *method, const char *path,
                             const char *token, const char *content_type,
                             const void *body, size_t len,
                             const char *const *headers)
{
  return perform(method, path, token, content_type, body, len, headers, false, NULL, NULL);
}

struct api_resp *api_request_held(const char *method, const char *path, const char *token,
                                  const char *content_type, const void *body, size_t len,
                                  const char *const *headers, void (*hold)(void *), void *arg)
{
  cr_assert(hold != NULL && body != NULL && len >= 2,
            "a held request needs a body of two bytes or more");
  return perform(method, path, token, content_type, body, len, headers, false, hold, arg);
}

struct api_resp *api_request_chunked(const char *method, const char *path,
                                     const char *token,
                                     const char *content_type,
                                     const void *body, size_t len)
{
  return perform(method, path, token, content_type, body, len, NULL, true, NULL, NULL);
}

static struct api_resp *json_request(const char *method, const char *path,
                                     const char *token, const char *json)
{
  return api_request(method, path, token, json ? "application/json" : NULL,
                     json, json ? strlen(json) : 0, NULL);
}

struct api_resp *api_get(const char *path, const char *token)
{
  return json_request("GET", path, token, NULL);
}

struct api_resp *api_delete(const char *path, const char *token)
{
  return json_request("DELETE", path, token, NULL);
}

struct api_resp *api_options(const char *path, const char *token)
{
  return json_request("OPTIONS", path, token, NULL);
}

struct api_resp *api_post(const char *path, const char *token, const char *json)
{
  return json_request("POST", path, token, json);
}

struct api_resp *api_put(const char *path, const char *token, const char *json)
{
  return json_request("PUT", path, token, json);
}

struct api_resp *api_patch(const char *path, const char *token, const char *json)
{
  return json_request("PATCH", path, token, json);
}

/* ---- requests whose 5xx the test reads ------------------------------------ */

struct attempt {
  const char *method, *path, *token, *content_type;
  const void *body;
  size_t len;
  struct api_resp *resp;
};

static void *send_attempt(void *arg)
{
  struct attempt *a = arg;
  a->resp = api_request(a->method, a->path, a->token, a->content_type, a->body, a->len, NULL);
  return NULL;
}

struct api_resp *api_attempt(const char *method, const char *path, const char *token,
                             const char *content_type, const void *body, size_t len)
{
  struct attempt a = {method, path, token, content_type, body, len, NULL};
  pthread_t thread;
  cr_assert_eq(pthread_create(&thread, NULL, send_attempt, &a), 0);
  pthread_join(thread, NULL);
  cr_assert(a.resp != NULL && a.resp->status != 0, "%s %s got no answer: %s", method, path,
            a.resp ? a.resp->error : "");
  return a.resp;
}

struct api_resp *api_attempt_json(const char *method, const char *path, const char *token,
                                  const char *json)
{
  return api_attempt(method, path, token, json ? "application/json" : NULL, json,
                     json ? strlen(json) : 0);
}

/* ---- raw sockets -------------------------------------------------------- */

int api_connect_from(const char *source, int rcvbuf)
{
  return api_connect_to((unsigned)api_server_port(), source, rcvbuf);
}

int api_connect_to(unsigned port, const char *source, int rcvbuf)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert(fd >= 0, "socket: %s", strerror(errno));
  if (rcvbuf > 0)
    cr_assert(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0,
              "SO_RCVBUF: %s", strerror(errno));
  if (source) {
    struct sockaddr_in from = { .sin_family = AF_INET };
    cr_assert(inet_pton(AF_INET, source, &from.sin_addr) == 1, "not an address: %s", source);
    cr_assert(bind(fd, (struct sockaddr *)&from, sizeof from) == 0, "bind %s: %s", source,
              strerror(errno));
  }
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port) };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0,
            "connect: %s", strerror(errno));
  return fd;
}

static int raw_connect(void)
{
  return api_connect_from(NULL, 0);
}

/* Sends all of bytes; stops quietly if the server closed (it may answer
 * before reading everything). */
static void raw_send(int fd, const void *bytes, size_t len)
{
  const char *p = bytes;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    p += n;
    len -= (size_t)n;
  }
}

/* How long api_raw() waits for an answer: a bound that a healthy run, even
 * under the sanitizers and a loaded machine, never reaches. */
#define RAW_TIMEOUT_MS 30000

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the raw bytes read so far hold a whole answer; parses it if so. */
static bool raw_parse(struct api_resp *r, const char *data, size_t len,
                      bool closed)
{
  const char *end = memmem(data, len, "\r\n\r\n", 4);
  if (!end)
    return false;
  size_t head_len = (size_t)(end - data) + 4;
  const char *body = data + head_len;
  size_t body_len = len - head_len;

  long status = 0;
  if (sscanf(data, "HTTP/%*d.%*d %ld", &status) != 1)
    return false;
  if (status >= 100 && status < 200) /* 100 Continue: the answer follows */
    return raw_parse(r, body, body_len, closed);

  headers_clear(r);
  const char *line = memchr(data, '\n', head_len) + 1;
  while (line < end) {
    const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
    header_add(r, line, (size_t)(eol - line));
    line = eol + 2;
  }
  const char *content_length = api_header(r, "Content-Length");
  if (content_length) {
    size_t want = strtoul(content_length, NULL, 10);
    if (body_len < want && !closed)
      return false;
    if (body_len > want)
      body_len = want;
  } else if (!closed) {
    return false;
  }
  r->status = status;
  r->len = 0;
  body_append(r, body, body_len);
  return true;
}

struct api_resp *api_raw(const void *bytes, size_t len)
{
  struct api_resp *r = resp_new("RAW", "(raw bytes)");
  int fd = raw_connect();
  raw_send(fd, bytes, len);

  char *data = NULL;
  size_t got = 0;
  bool closed = false, complete = false;
  long long deadline = now_ms() + RAW_TIMEOUT_MS;
  while (!complete && !closed) {
    long long left = deadline - now_ms();
    if (left <= 0)
      break;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int ready = poll(&pfd, 1, (int)left);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      break;
    char chunk[16384];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      closed = true;
    } else {
      char *grown = realloc(data, got + (size_t)n + 1);
      if (!grown)
        abort();
      data = grown;
      memcpy(data + got, chunk, (size_t)n);
      got += (size_t)n;
      data[got] = '\0'; /* for sscanf */
    }
    complete = data && raw_parse(r, data, got, closed);
  }
  close(fd);
  if (!complete && (!data || !raw_parse(r, data, got, true)))
    snprintf(r->error, sizeof r->error, "no parsable answer (%zu bytes read%s)",
             got, closed ? ", then closed" : "");
  free(data);
  resp_parse_json(r);
  check_no_server_error(r);
  return r;
}

void api_raw_abort(const void *bytes, size_t len)
{
  int fd = raw_connect();
  raw_send(fd, bytes, len);
  close(fd);
}

/* ---- JSON text ---------------------------------------------------------- */

const char *api_json(const char *single_quoted)
{
  char *json = api_strdup(api_date(single_quoted));
  for (char *p = json; *p; p++)
    if (*p == '\'')
      *p = '"';
  return json;
}

const char *api_jsonf(const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  const char *json = api_json(s);
  free(s);
  return json;
}

static const char *dump(json_t *json)
{
  char *text = json_dumps(json, JSON_COMPACT);
  if (!text)
    abort();
  api_keep(text, free);
  json_decref(json);
  return text;
}

/* ---- users -------------------------------------------------------------- */

struct api_user api_login(const char *username, const char *password)
{
  struct api_resp *r = api_post(
      "/auth/token/", NULL,
      dump(json_pack("{s:s, s:s}", "username", username, "password", password)));
  expect_status(r, 200);
  expect_keys(r, "refresh", "access", NULL);
  struct api_user user = {
    .username = api_strdup(username),
    .access = api_strdup(json_string_value(json_object_get(r->json, "access"))),
    .refresh = api_strdup(json_string_value(json_object_get(r->json, "refresh"))),
  };
  user.id = api_jwt_claim(user.access, "user_id");
  return user;
}

struct api_user api_signup(const char *username, const char *role)
{
  const char *email = api_printf("%s@example.com", username);
  json_t *body = json_pack("{s:s, s:s, s:s}", "username", username,
                           "email", email, "password", API_PASSWORD);
  if (role)
    json_object_set_new(body, "role", json_string(role));
  struct api_resp *r = api_post("/api/users/register/", NULL, dump(body));
  expect_status(r, 201);
  struct api_user user = api_login(username, API_PASSWORD);
  user.email = email;
  expect_int(r, "id", user.id);
  return user;
}

struct api_user api_admin(const char *username)
{
  const char *email = api_printf("%s@example.com", username);
  api_create_superuser(username, email, API_PASSWORD);
  struct api_user user = api_login(username, API_PASSWORD);
  user.email = email;
  return user;
}

const char *api_user_path(long long id)
{
  return api_printf("/api/users/%lld/", id);
}

/* ---- JWT ---------------------------------------------------------------- */

static const char *b64url(const void *bin, size_t len)
{
  size_t size = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *text = malloc(size);
  if (!text)
    abort();
  sodium_bin2base64(text, size, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  api_keep(text, free);
  return text;
}

/* The n-th dot-separated part of token, decoded as JSON, or NULL. */
static json_t *jwt_part(const char *token, int n)
{
  const char *start = token;
  for (int i = 0; i < n && start; i++) {
    start = strchr(start, '.');
    if (start)
      start++;
  }
  if (!start)
    return NULL;
  const char *end = strchr(start, '.');
  size_t len = end ? (size_t)(end - start) : strlen(start);
  unsigned char *bin = malloc(len + 1);
  size_t bin_len = 0;
  json_t *json = NULL;
  if (bin && sodium_base642bin(bin, len + 1, start, len, NULL, &bin_len, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0)
    json = json_loadb((const char *)bin, bin_len, 0, NULL);
  free(bin);
  return json ? api_keep_json(json) : NULL;
}

json_t *api_jwt_header(const char *token)
{
  return jwt_part(token, 0);
}

json_t *api_jwt_payload(const char *token)
{
  return jwt_part(token, 1);
}

long long api_jwt_claim(const char *token, const char *claim)
{
  json_t *payload = api_jwt_payload(token);
  json_t *value = payload ? json_object_get(payload, claim) : NULL;
  cr_assert(json_is_integer(value), "token %s has no integer claim %s", token, claim);
  return json_integer_value(value);
}

const char *api_jwt_sign(const char *alg, const char *payload_json,
                         const char *key)
{
  const char *header = api_printf("{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
  const char *input = api_printf("%s.%s", b64url(header, strlen(header)),
                                 b64url(payload_json, strlen(payload_json)));
  const unsigned char *k = (const unsigned char *)key;
  const unsigned char *in = (const unsigned char *)input;
  if (strcmp(alg, "HS256") == 0) {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, k, strlen(key));
    crypto_auth_hmacsha256_update(&st, in, strlen(input));
    crypto_auth_hmacsha256_final(&st, mac);
    return api_printf("%s.%s", input, b64url(mac, sizeof mac));
  }
  if (strcmp(alg, "HS512") == 0) {
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state st;
    crypto_auth_hmacsha512_init(&st, k, strlen(key));
    crypto_auth_hmacsha512_update(&st, in, strlen(input));
    crypto_auth_hmacsha512_final(&st, mac);
    return api_printf("%s.%s", input, b64url(mac, sizeof mac));
  }
  return api_printf("%s.", input);
}

const char *api_jwt_with_payload(const char *token, const char *payload_json)
{
  const char *first = strchr(token, '.');
  const char *second = first ? strchr(first + 1, '.') : NULL;
  cr_assert(second != NULL, "not a JWT: %s", token);
  return api_printf("%.*s.%s%s", (int)(first - token), token,
                    b64url(payload_json, strlen(payload_json)), second);
}

/* ---- metrics ------------------------------------------------------------ */

double api_metric(const char *sample)
{
  struct api_resp *r = api_get("/metrics", NULL);
  expect_status(r, 200);
  size_t len = strlen(sample);
  for (const char *line = r->body; line && *line;) {
    if (strncmp(line, sample, len) == 0 && line[len] == ' ')
      return strtod(line + len + 1, NULL);
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  cr_assert_fail("no sample %s in /metrics: %.2000s", sample, r->body);
  return -1;
}
