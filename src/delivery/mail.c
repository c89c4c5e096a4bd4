/*
 * mail.c - the mail channel (see mail.h): its payload written, and read
 * back by the worker to build and send the message.
 */
#include "delivery/mail.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "delivery/channel.h"
#include "delivery/mail_message.h"
#include "delivery/mailer.h"
#include "delivery/retry.h"

#define ADDRESS_MAX 320
/* A claim outlasts the mailer's bound on one message (EMAIL_TIMEOUT) twice
 * over, with a margin: a live worker never loses its message. */
#define LEASE_MARGIN_US (INT64_C(5) * 1000000)
#define RETRY_MAX_US (INT64_C(3600) * 1000000)
/* "<" + 32 hex digits + "@" + domain + ">" */
#define MESSAGE_ID_LOCAL 32

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

static int
mail_send(void *state, const struct delivery_message *m, int64_t now,
          struct delivery_result *out)
{
  struct mail_sender *s = state;
  json_t *payload = json_loads(m->payload, 0, NULL);
  const char *to = payload_text(payload, "to");
  const char *subject = payload_text(payload, "subject");
  const char *text = payload_text(payload, "text");
  const char *html = payload_text(payload, "html");
  int rc = 0;
  if (to == NULL || subject == NULL || text == NULL || html == NULL) {
    snprintf(out->error, sizeof out->error, "the payload is not a mail");
    rc = EVENTAPI_EINVAL;
  } else if (!delivery_mail_address_valid(to)) {
    snprintf(out->error, sizeof out->error, "the recipient's address cannot be used");
    rc = EVENTAPI_EINVAL;
  }
  char message_id[DELIVERY_MAIL_MESSAGE_ID_MAX + 2];
  char *bytes = NULL;
  size_t len = 0;
  if (rc == 0) {
    message_id_header(m->message_id, s->from_address, message_id, sizeof message_id);
    struct delivery_mail_message mail = {
      .from = s->cfg->email_from,
      .to = to,
      .to_name = payload_text(payload, "to_name"),
      .subject = subject,
      .text = text,
      .html = html,
      .message_id = message_id,
      .date = now,
    };
    if ((rc = delivery_mail_render(&mail, &bytes, &len)) < 0)
      snprintf(out->error, sizeof out->error, "cannot build the message: %s",
               eventapi_strerror(rc));
  }
  if (rc == 0) {
    rc = delivery_mailer_send(s->mailer, s->from_address, to, bytes, len, message_id,
                              out->error, sizeof out->error);
    out->status = delivery_mailer_reply_code(s->mailer);
  }
  free(bytes);
  json_decref(payload);
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

static int64_t
mail_lease_us(const struct config *cfg)
{
  return 2 * cfg->email_timeout_ms * 1000 + LEASE_MARGIN_US;
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
  .lease_us = mail_lease_us,
};
