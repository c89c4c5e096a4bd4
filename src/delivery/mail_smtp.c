/*
 * mail_smtp.c - the smtp:// and smtps:// mail transports (see
 * delivery_mailer_send() in mailer.h), through libcurl.
 *
 * Each mailer drives one easy handle, so that libcurl keeps the connection
 * to the server open from one message to the next. Whether a refusal is
 * permanent depends on which command the server refused, which libcurl
 * does not say in its result code, so a debug callback follows the
 * dialogue: it keeps the verb of the last command sent (never its
 * arguments: AUTH lines carry the credentials) and the last reply line
 * received.
 */
#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "delivery/mail_transport.h"

#define CONNECT_TIMEOUT_MS 10000L
#define TIMEOUT_MS 30000L /* one message, unless delivery_mailer_set_timeout() */

/*
 * The wait for any one reply, in whole seconds (libcurl's unit): the
 * message's timeout, rounded up. While a message is sent it changes
 * nothing (libcurl takes the shorter of the two), but it is the only bound
 * on the QUIT that libcurl says when it drops the connection (after a
 * refusal, and at close): without it a server that never answers QUIT
 * holds the mailer, and a worker told to stop, for libcurl's default of
 * 120 s.
 */
static long
reply_timeout_s(long timeout_ms)
{
  return timeout_ms <= 0 ? 1 : (timeout_ms + 999) / 1000;
}

struct smtp_mailer {
  CURL *curl;
  char *server; /* "host:port", for messages */
  /* The message being sent, for read_message(). */
  const char *data;
  size_t len, pos;
  /* The dialogue of the current send, kept by on_debug(). */
  char command[16];
  char reply[256];
  bool quitting; /* since QUIT: see note_command() */
  char curl_error[CURL_ERROR_SIZE];
};

/* ---- the SMTP dialogue, as libcurl runs it ---- */

static size_t
read_message(char *buffer, size_t size, size_t nitems, void *userp)
{
  struct smtp_mailer *m = userp;
  size_t room = size * nitems;
  size_t left = m->len - m->pos;
  size_t n = left < room ? left : room;
  if (n > 0) {
    memcpy(buffer, m->data + m->pos, n);
    m->pos += n;
  }
  return n;
}

/* The commands whose verb is noted; AUTH's continuation lines (base64
 * credentials) match none of them and are never copied. */
static const char *const smtp_verbs[] = {
  "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "QUIT", "NOOP",
};

/*
 * libcurl says QUIT when it drops a connection, which it does right after
 * a refusal: the QUIT and its reply are not noted, so the refusal stays the
 * last thing noted. The next command is another dialogue.
 */
static void
note_command(struct smtp_mailer *m, const char *line, size_t size)
{
  size_t word = 0;
  while (word < size && line[word] != ' ' && line[word] != '\r' && line[word] != '\n')
    word++;
  for (size_t i = 0; i < sizeof smtp_verbs / sizeof smtp_verbs[0]; i++) {
    if (strlen(smtp_verbs[i]) == word && strncasecmp(line, smtp_verbs[i], word) == 0) {
      m->quitting = strcmp(smtp_verbs[i], "QUIT") == 0;
      if (!m->quitting)
        snprintf(m->command, sizeof m->command, "%s", smtp_verbs[i]);
      return;
    }
  }
}

/* Keeps the last line of a server reply, printable ASCII only. */
static void
note_reply(struct smtp_mailer *m, const char *data, size_t size)
{
  if (m->quitting)
    return;
  while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
    size--;
  size_t start = size;
  while (start > 0 && data[start - 1] != '\n')
    start--;
  size_t n = 0;
  for (size_t i = start; i < size && n + 1 < sizeof m->reply; i++) {
    unsigned char c = (unsigned char)data[i];
    m->reply[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  m->reply[n] = '\0';
  /* After "354 go ahead" the next reply is the one to the message. */
  if (strncmp(m->reply, "354", 3) == 0)
    snprintf(m->command, sizeof m->command, "message");
}

static int
on_debug(CURL *handle, curl_infotype type, char *data, size_t size, void *userp)
{
  (void)handle;
  if (type == CURLINFO_HEADER_OUT)
    note_command(userp, data, size);
  else if (type == CURLINFO_HEADER_IN)
    note_reply(userp, data, size);
  return 0;
}

/* The reply code of the last reply line, or 0. */
static long
reply_code(const struct smtp_mailer *m)
{
  const char *r = m->reply;
  if (r[0] < '1' || r[0] > '5' || r[1] < '0' || r[1] > '9' || r[2] < '0' || r[2] > '9')
    return 0;
  return (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
}

static const char *
command_name(const char *verb)
{
  if (strcmp(verb, "MAIL") == 0)
    return "MAIL FROM";
  if (strcmp(verb, "RCPT") == 0)
    return "RCPT TO";
  return verb[0] ? verb : "connection";
}

/*
 * The result of a failed transfer. Permanent only for a 5xx reply to the
 * mail transaction itself (MAIL FROM, RCPT TO, DATA, the message): a 5xx to
 * the greeting, EHLO, STARTTLS or AUTH, and 530 "authentication required",
 * are the server's or the operator's problem, fixed by configuration, and
 * worth retrying once fixed.
 */
static int
smtp_failure(struct smtp_mailer *m, CURLcode result, char *err, size_t errlen)
{
  long code = reply_code(m);
  bool transaction = strcmp(m->command, "MAIL") == 0 || strcmp(m->command, "RCPT") == 0 ||
                     strcmp(m->command, "DATA") == 0 || strcmp(m->command, "message") == 0;
  bool permanent = transaction && code >= 500 && code <= 599 && code != 530;
  int rc = permanent ? EVENTAPI_EINVAL : EVENTAPI_EUNAVAILABLE;
  if (code >= 400)
    return eventapi_fail(err, errlen, rc,
                         "smtp %s: %s refused: %s",
                         m->server, command_name(m->command), m->reply);
  const char *why = m->curl_error[0] ? m->curl_error : curl_easy_strerror(result);
  return eventapi_fail(err, errlen, rc, "smtp %s: %s", m->server, why);
}

static int
smtp_send(void *state, const char *from, const char *rcpt, const char *message, size_t len,
          const char *hint, char *err, size_t errlen)
{
  (void)hint;
  struct smtp_mailer *m = state;
  struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
  if (rcpts == NULL)
    return eventapi_fail(err, errlen, EVENTAPI_EUNAVAILABLE,
                         "smtp %s: out of memory", m->server);
  m->data = message;
  m->len = len;
  m->pos = 0;
  m->command[0] = '\0';
  m->reply[0] = '\0';
  m->quitting = false;
  m->curl_error[0] = '\0';
  CURLcode result = curl_easy_setopt(m->curl, CURLOPT_MAIL_FROM, from ? from : "");
  if (result == CURLE_OK)
    result = curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, rcpts);
  if (result == CURLE_OK)
    result = curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
  if (result == CURLE_OK)
    result = curl_easy_perform(m->curl);
  curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
  curl_slist_free_all(rcpts);
  m->data = NULL;
  if (result == CURLE_OK)
    return 0;
  return smtp_failure(m, result, err, errlen);
}

/* CURLOPT_USE_SSL for the URL's STARTTLS choice (smtps: TLS from the start). */
static long
smtp_use_ssl(enum delivery_mail_starttls starttls)
{
  switch (starttls) {
  case DELIVERY_STARTTLS_REQUIRED:
    return (long)CURLUSESSL_ALL;
  case DELIVERY_STARTTLS_TRY:
    return (long)CURLUSESSL_TRY;
  case DELIVERY_STARTTLS_NEVER:
  case DELIVERY_STARTTLS_IMPLICIT:
    break;
  }
  return (long)CURLUSESSL_NONE;
}

/*
 * The easy handle with every option that does not change from one message
 * to the next. The credentials are copied by libcurl.
 */
static int
smtp_setup(struct smtp_mailer *m, const struct delivery_mail_url *u, char *err, size_t errlen)
{
  m->curl = curl_easy_init();
  if (m->curl == NULL)
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "cannot initialise libcurl");
  CURL *h = m->curl;
  CURLcode result = CURLE_OK;
#define SET(option, value)                                  \
  do {                                                      \
    if (result == CURLE_OK)                                 \
      result = curl_easy_setopt(h, option, value);          \
  } while (0)
  SET(CURLOPT_URL, u->curl_url);
  SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  SET(CURLOPT_USE_SSL, smtp_use_ssl(u->starttls));
  SET(CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
  SET(CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
  SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, reply_timeout_s(TIMEOUT_MS));
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_UPLOAD, 1L);
  SET(CURLOPT_READFUNCTION, read_message);
  SET(CURLOPT_READDATA, m);
  SET(CURLOPT_ERRORBUFFER, m->curl_error);
  SET(CURLOPT_DEBUGFUNCTION, on_debug);
  SET(CURLOPT_DEBUGDATA, m);
  SET(CURLOPT_VERBOSE, 1L); /* feeds on_debug; nothing is printed */
  if (u->user != NULL)
    SET(CURLOPT_USERNAME, u->user);
  if (u->password != NULL)
    SET(CURLOPT_PASSWORD, u->password);
#undef SET
  if (result != CURLE_OK)
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: libcurl refused an option: %s",
                         curl_easy_strerror(result));
  return 0;
}

static void
smtp_close(void *state)
{
  struct smtp_mailer *m = state;
  if (m == NULL)
    return;
  if (m->curl != NULL)
    curl_easy_cleanup(m->curl); /* QUIT, if a connection is open */
  free(m->server);
  free(m);
}

static int
smtp_open(const struct delivery_mail_url *url, void **state, char *err, size_t errlen)
{
  struct smtp_mailer *m = calloc(1, sizeof *m);
  if (m == NULL || (m->server = strdup(url->server)) == NULL) {
    free(m);
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  }
  int rc = smtp_setup(m, url, err, errlen);
  if (rc < 0) {
    smtp_close(m);
    return rc;
  }
  *state = m;
  return 0;
}

static void
smtp_set_timeout(void *state, int64_t ms)
{
  struct smtp_mailer *m = state;
  long total = ms > LONG_MAX ? LONG_MAX : (long)ms;
  curl_easy_setopt(m->curl, CURLOPT_TIMEOUT_MS, total);
  curl_easy_setopt(m->curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, reply_timeout_s(total));
  curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT_MS,
                   total < CONNECT_TIMEOUT_MS ? total : CONNECT_TIMEOUT_MS);
}

static long
smtp_reply_code(const void *state)
{
  return reply_code(state);
}

const struct delivery_mail_transport delivery_mail_smtp = {
  .open = smtp_open,
  .send = smtp_send,
  .set_timeout = smtp_set_timeout,
  .reply_code = smtp_reply_code,
  .close = smtp_close,
};
