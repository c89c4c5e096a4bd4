/*
 * mailer.c - the mail transports' tests' set-up and helpers (see mailer.h).
 */
#include "support/mailer.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "delivery/worker.h"
#include "support/tmpdir.h"

char mailer_err[512];

void mailer_setup(void)
{
  tmpdir_create();
  cr_assert_eq(delivery_global_init(), 0);
}

void mailer_teardown(void)
{
  delivery_global_cleanup();
  tmpdir_remove();
}

struct delivery_mailer *mailer_open_ok(const char *url)
{
  struct delivery_mailer *m = NULL;
  mailer_err[0] = '\0';
  int rc = delivery_mailer_open(url, &m, mailer_err, sizeof mailer_err);
  cr_assert_eq(rc, 0, "delivery_mailer_open(%s): %d %s", url ? url : "NULL", rc, mailer_err);
  cr_assert_not_null(m);
  return m;
}

int mailer_send_text(struct delivery_mailer *m, const char *rcpt, const char *text,
                     const char *hint)
{
  mailer_err[0] = '\0';
  return delivery_mailer_send(m, "noreply@example.com", rcpt, text, strlen(text), hint,
                              mailer_err, sizeof mailer_err);
}

char *mailer_message(const char *subject, const char *body)
{
  char *text;
  cr_assert_geq(asprintf(&text,
                         "From: eventapi <noreply@example.com>\r\n"
                         "To: bob@example.com\r\n"
                         "Subject: %s\r\n"
                         "Message-ID: <m1@example.com>\r\n"
                         "\r\n"
                         "%s\r\n",
                         subject, body),
                0);
  return text;
}
