/*
 * mailer.c - picks the mail transport that EMAIL_URL names (mail_url.c)
 * and checks the envelope's addresses before any transport sees them.
 */
#include "delivery/mailer.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "delivery/mail_transport.h"
#include "delivery/mail_url.h"

#define ADDRESS_MAX 320

struct delivery_mailer {
  const struct delivery_mail_transport *transport;
  void *state;       /* the transport's */
  char *description; /* delivery_mailer_describe() */
};

static const struct delivery_mail_transport *
transport_of(enum delivery_mail_scheme scheme)
{
  switch (scheme) {
  case DELIVERY_MAIL_CONSOLE:
    return &delivery_mail_console;
  case DELIVERY_MAIL_FILE:
    return &delivery_mail_file;
  case DELIVERY_MAIL_SMTP:
    return &delivery_mail_smtp;
  }
  return NULL;
}

int
delivery_mailer_open(const char *email_url, struct delivery_mailer **out, char *err,
                     size_t errlen)
{
  *out = NULL;
  struct delivery_mail_url url;
  int rc = delivery_mail_url_parse(email_url, &url, err, errlen);
  if (rc < 0)
    return rc;
  struct delivery_mailer *m = calloc(1, sizeof *m);
  if (m == NULL) {
    delivery_mail_url_free(&url);
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  }
  m->transport = transport_of(url.scheme);
  rc = m->transport->open(&url, &m->state, err, errlen);
  if (rc == 0) {
    m->description = url.description;
    url.description = NULL;
  }
  delivery_mail_url_free(&url); /* the transport copied what it keeps */
  if (rc < 0) {
    free(m);
    return rc;
  }
  *out = m;
  return 0;
}

/* An addr-spec fit for an SMTP command: no control character, blank or
 * angle bracket can end the command early or add another. */
static bool
address_valid(const char *s, bool may_be_empty)
{
  if (s == NULL || s[0] == '\0')
    return may_be_empty;
  size_t len = 0;
  for (; s[len]; len++) {
    unsigned char c = (unsigned char)s[len];
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
      return false;
  }
  return len <= ADDRESS_MAX;
}

int
delivery_mailer_send(struct delivery_mailer *m, const char *envelope_from, const char *rcpt,
                     const char *message, size_t len, const char *message_id_hint, char *err,
                     size_t errlen)
{
  assert(m != NULL);
  assert(message != NULL || len == 0);
  if (!address_valid(rcpt, false))
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "the recipient's address is not valid");
  if (!address_valid(envelope_from, true))
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "the sender's address is not valid");
  return m->transport->send(m->state, envelope_from, rcpt, message, len, message_id_hint, err,
                            errlen);
}

const char *
delivery_mailer_describe(const struct delivery_mailer *m)
{
  return m->description;
}

void
delivery_mailer_close(struct delivery_mailer *m)
{
  if (m == NULL)
    return;
  m->transport->close(m->state);
  free(m->description);
  free(m);
}

void
delivery_mailer_set_timeout(struct delivery_mailer *m, int64_t ms)
{
  if (m->transport->set_timeout != NULL && ms > 0)
    m->transport->set_timeout(m->state, ms);
}

long
delivery_mailer_reply_code(const struct delivery_mailer *m)
{
  return m->transport->reply_code ? m->transport->reply_code(m->state) : 0;
}
