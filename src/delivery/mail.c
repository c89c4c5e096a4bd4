/*
 * mail.c - the mail channel (see mail.h): its payload written, and read
 * back by the worker (rendered then, for a reference) to build and send
 * the message.
 */
#include "delivery/mail.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "delivery/channel.h"
#include "delivery/mail_message.h"
#include "delivery/mailer.h"
#include "delivery/retry.h"

#define ADDRESS_MAX 320
#define RETRY_MAX_US (INT64_C(3600) * 1000000)
/* "<" + 32 hex digits + "@" + domain + ">" */
#define MESSAGE_ID_LOCAL 32
#define RENDERERS_MAX 8
/* {"render":"<name>","ref":<id>} */
#define REFERENCE_MAX (DELIVERY_MAIL_RENDERER_MAX + 48)

/* ---- written ------------------------------------------------------------- */

int
delivery_mail_enqueue(db_t *db, const struct delivery_mail *mail,
                      const struct delivery_new *m, int64_t now, int64_t *id)
{
  if (mail->to == NULL)
    return EVENTAPI_EINVAL;
  json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:s}",
                              "to", mail->to,
                              "to_name", mail->to_name ? mail->to_name : "",
                              "subject", mail->subject ? mail->subject : "",
                              "text", mail->text ? mail->text : "",
                              "html", mail->html ? mail->html : "");
  char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
  json_decref(payload);
  if (text == NULL)
    return EVENTAPI_ENOMEM;
  struct delivery_new message = *m;
  message.channel = DELIVERY_MAIL;
  message.target = mail->to;
  message.payload = text;
  int rc = delivery_enqueue(db, &message, now, id);
  free(text);
  return rc;
}

/* ---- rendered at send time ---------------------------------------------- */

/* Registered before any worker starts, only read afterwards. */
static struct {
  char name[DELIVERY_MAIL_RENDERER_MAX + 1];
  delivery_mail_render_fn fn;
} renderers[RENDERERS_MAX];
static size_t nrenderers;

/* Whether name can name a renderer (and sit in a payload unescaped). */
static bool
renderer_name_valid(const char *name)
{
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len > DELIVERY_MAIL_RENDERER_MAX)
    return false;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '_'))
      return false;
  return true;
}

static delivery_mail_render_fn
renderer_find(const char *name)
{
  for (size_t i = 0; i < nrenderers; i++)
    if (strcmp(renderers[i].name, name) == 0)
      return renderers[i].fn;
  return NULL;
}

int
delivery_mail_renderer_register(const char *name, delivery_mail_render_fn fn)
{
  if (!renderer_name_valid(name) || fn == NULL) {
    log_error("delivery: a mail renderer needs a function and a name of 1 to %d letters, "
              "digits and '_'", DELIVERY_MAIL_RENDERER_MAX);
    return EVENTAPI_EINVAL;
  }
  for (size_t i = 0; i < nrenderers; i++)
    if (strcmp(renderers[i].name, name) == 0) {
      renderers[i].fn = fn;
      return 0;
    }
  if (nrenderers == RENDERERS_MAX) {
    log_error("delivery: too many mail renderers; \"%s\" is left out", name);
    return EVENTAPI_EINVAL;
  }
  snprintf(renderers[nrenderers].name, sizeof renderers[nrenderers].name, "%s", name);
  renderers[nrenderers++].fn = fn;
  return 0;
}

int
delivery_mail_enqueue_ref(db_t *db, const char *renderer, int64_t ref, const char *to,
                          const struct delivery_new *m, int64_t now, int64_t *id)
{
  if (to == NULL || !renderer_name_valid(renderer))
    return EVENTAPI_EINVAL;
  char payload[REFERENCE_MAX];
  snprintf(payload, sizeof payload, "{\"render\":\"%s\",\"ref\":%lld}", renderer,
           (long long)ref);
  struct delivery_new message = *m;
  message.channel = DELIVERY_MAIL;
  message.target = to;
  message.payload = payload;
  return delivery_enqueue(db, &message, now, id);
}

/* A rendering, as a read unit on the worker's connection. */
struct rendering {
  delivery_mail_render_fn fn;
  int64_t ref;
  arena_t *arena;
  struct delivery_mail *mail;
  char *err;
  size_t errlen;
};

static int
render_unit(db_t *db, void *arg)
{
  struct rendering *r = arg;
  const char *to = r->mail->to;
  memset(r->mail, 0, sizeof *r->mail); /* a unit starts from its context */
  r->mail->to = to;
  r->err[0] = '\0';
  return r->fn(db, r->ref, r->arena, r->mail, r->err, r->errlen);
}

/*
 * Renders the reference payload (its "render" and "ref") of m into mail,
 * to its target, in arena memory: 0; EVENTAPI_EINVAL, never to be sent
 * (no such renderer, what it refers to gone); EVENTAPI_EUNAVAILABLE worth
 * retrying. The reason in out->error.
 */
static int
render(json_t *payload, const struct delivery_message *m, arena_t *arena,
       struct delivery_mail *mail, struct delivery_result *out)
{
  const char *name = json_string_value(json_object_get(payload, "render"));
  json_t *ref = json_object_get(payload, "ref");
  if (name == NULL || !json_is_integer(ref)) {
    snprintf(out->error, sizeof out->error, "the payload is not a mail");
    return EVENTAPI_EINVAL;
  }
  struct rendering r = {renderer_find(name), json_integer_value(ref), arena, mail, NULL, 0};
  if (r.fn == NULL) {
    snprintf(out->error, sizeof out->error,
             "cannot render the mail: no renderer \"%.*s\" is registered",
             DELIVERY_MAIL_RENDERER_MAX, name);
    return EVENTAPI_EINVAL;
  }
  char why[sizeof out->error - 32] = "";
  r.err = why;
  r.errlen = sizeof why;
  mail->to = m->target;
  int rc = db_read(render_unit, &r);
  if (rc == 0)
    return 0;
  snprintf(out->error, sizeof out->error, "cannot render the mail: %s",
           why[0] ? why : eventapi_strerror(rc));
  return rc == EVENTAPI_ENOTFOUND || rc == EVENTAPI_EINVAL ? EVENTAPI_EINVAL
                                                            : EVENTAPI_EUNAVAILABLE;
}

/* ---- sent ---------------------------------------------------------------- */

/* A worker thread's sender. */
struct mail_sender {
  const struct config *cfg;
  struct delivery_mailer *mailer;
  char from_address[ADDRESS_MAX]; /* the envelope's, from EMAIL_FROM */
};

static int
mail_check(const struct config *cfg, char *err, size_t errlen)
{
  char address[ADDRESS_MAX];
  if (delivery_mail_envelope_address(cfg->email_from, address, sizeof address) < 0) {
    snprintf(err, errlen, "EMAIL_FROM: expected an address such as noreply@example.com or "
                          "\"Events <noreply@example.com>\"");
    return EVENTAPI_EINVAL;
  }
  const char *at = strrchr(address, '@');
  if (at && 1 + MESSAGE_ID_LOCAL + strlen(at) + 1 > DELIVERY_MAIL_MESSAGE_ID_MAX) {
    snprintf(err, errlen, "EMAIL_FROM: the domain is too long to name a Message-ID");
    return EVENTAPI_EINVAL;
  }
  /* The mailer's messages name EMAIL_URL themselves. */
  struct delivery_mailer *m;
  if (delivery_mailer_open(cfg->email_url, &m, err, errlen) < 0)
    return EVENTAPI_EINVAL;
  delivery_mailer_close(m);
  return 0;
}

static void
mail_close(void *state)
{
  struct mail_sender *s = state;
  if (s != NULL)
    delivery_mailer_close(s->mailer);
  free(s);
}

static int
mail_open(const struct config *cfg, void **state, char *err, size_t errlen)
{
  struct mail_sender *s = calloc(1, sizeof *s);
  if (s == NULL)
    return EVENTAPI_ENOMEM;
  s->cfg = cfg;
  int rc = delivery_mail_envelope_address(cfg->email_from, s->from_address,
                                          sizeof s->from_address);
  if (rc < 0)
    snprintf(err, errlen, "EMAIL_FROM: not a valid address");
  else
    rc = delivery_mailer_open(cfg->email_url, &s->mailer, err, errlen);
  if (rc < 0) {
    mail_close(s);
    return rc;
  }
  delivery_mailer_set_timeout(s->mailer, cfg->email_timeout_ms);
  *state = s;
  return 0;
}

static const char *
mail_describe(const void *state)
{
  const struct mail_sender *s = state;
  return delivery_mailer_describe(s->mailer);
}

/* The payload's string key, or NULL. */
static const char *
payload_text(json_t *payload, const char *key)
{
  return json_string_value(json_object_get(payload, key));
}

/* "<id@domain of EMAIL_FROM>", or "<id>" when id holds its own domain. */
static void
message_id_header(const char *id, const char *from_address, char *out, size_t outlen)
{
  if (strchr(id, '@') != NULL) {
    snprintf(out, outlen, "<%s>", id);
    return;
  }
  const char *at = strrchr(from_address, '@');
  snprintf(out, outlen, "<%s@%s>", id, at ? at + 1 : "localhost");
}

/* Builds mail as a message and hands it to the transport. */
static int
send_mail(struct mail_sender *s, const struct delivery_message *m,
          const struct delivery_mail *mail, int64_t now, struct delivery_result *out)
{
  if (!delivery_mail_address_valid(mail->to)) {
    snprintf(out->error, sizeof out->error, "the recipient's address cannot be used");
    return EVENTAPI_EINVAL;
  }
  char message_id[DELIVERY_MAIL_MESSAGE_ID_MAX + 2];
  message_id_header(m->message_id, s->from_address, message_id, sizeof message_id);
  struct delivery_mail_message message = {
    .from = s->cfg->email_from,
    .to = mail->to,
    .to_name = mail->to_name,
    .subject = mail->subject ? mail->subject : "",
    .text = mail->text ? mail->text : "",
    .html = mail->html ? mail->html : "",
    .message_id = message_id,
    .date = now,
  };
  char *bytes = NULL;
  size_t len = 0;
  int rc = delivery_mail_render(&message, &bytes, &len);
  if (rc < 0) {
    snprintf(out->error, sizeof out->error, "cannot build the message: %s",
             eventapi_strerror(rc));
    return rc;
  }
  rc = delivery_mailer_send(s->mailer, s->from_address, mail->to, bytes, len, message_id,
                            out->error, sizeof out->error);
  out->status = delivery_mailer_reply_code(s->mailer);
  free(bytes);
  return rc;
}

static int
mail_send(void *state, const struct delivery_message *m, int64_t now,
          struct delivery_result *out)
{
  struct mail_sender *s = state;
  arena_t arena = {0};
  json_t *payload = json_loads(m->payload, 0, NULL);
  struct delivery_mail mail = {
    .to = payload_text(payload, "to"),
    .to_name = payload_text(payload, "to_name"),
    .subject = payload_text(payload, "subject"),
    .text = payload_text(payload, "text"),
    .html = payload_text(payload, "html"),
  };
  int rc = 0;
  if (json_object_get(payload, "render") != NULL)
    rc = render(payload, m, &arena, &mail, out);
  else if (mail.to == NULL || mail.subject == NULL || mail.text == NULL || mail.html == NULL) {
    snprintf(out->error, sizeof out->error, "the payload is not a mail");
    rc = EVENTAPI_EINVAL;
  }
  if (rc == 0)
    rc = send_mail(s, m, &mail, now, out);
  json_decref(payload);
  arena_free(&arena);
  return rc;
}

static unsigned
mail_max_attempts(const struct config *cfg)
{
  return cfg->email_max_attempts;
}

static int64_t
mail_retry_us(const struct config *cfg, int64_t attempts)
{
  return delivery_retry_us(cfg->email_retry_ms * 1000, RETRY_MAX_US, attempts);
}

/* The mailer's bound on one message (EMAIL_TIMEOUT, delivery_mailer_set_timeout). */
static int64_t
mail_timeout_us(const struct config *cfg)
{
  return cfg->email_timeout_ms * 1000;
}

const struct delivery_channel delivery_mail_channel = {
  .name = DELIVERY_MAIL,
  .attempts_setting = "EMAIL_MAX_ATTEMPTS",
  .check = mail_check,
  .open = mail_open,
  .describe = mail_describe,
  .send = mail_send,
  .close = mail_close,
  .max_attempts = mail_max_attempts,
  .retry_us = mail_retry_us,
  .timeout_us = mail_timeout_us,
};
