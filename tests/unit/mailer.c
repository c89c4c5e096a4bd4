/*
 * mailer.c - the mailer (delivery/mailer): EMAIL_URL picks the transport
 * (console:// by default), a mailer shows itself without the password, a
 * bad URL makes no mailer, and no envelope address that could end an SMTP
 * command early or add one reaches a transport. The transports have their
 * own tests (mail_console.c, mail_file.c, mail_smtp.c), the URL's forms
 * mail_url.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "delivery/mailer.h"
#include "support/mailer.h"
#include "support/tmpdir.h"

#define PASSWORD "hunter2"

TestSuite(mailer, .init = mailer_setup, .fini = mailer_teardown, .timeout = 60);

Test(mailer, console_is_the_default)
{
  const char *urls[] = {NULL, "", "console://", "CONSOLE://"};
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
    struct delivery_mailer *m = mailer_open_ok(urls[i]);
    cr_assert_str_eq(delivery_mailer_describe(m), "console://");
    delivery_mailer_close(m);
  }
  delivery_mailer_close(NULL);
}

/* The forms of EMAIL_URL are tests/unit/mail_url.c's; here, what a mailer shows. */
Test(mailer, describes_itself_without_the_password)
{
  struct delivery_mailer *m = mailer_open_ok("smtp://user:" PASSWORD "@mail.example.com:587");
  cr_assert_str_eq(delivery_mailer_describe(m), "smtp://user:***@mail.example.com:587");
  delivery_mailer_close(m);
  m = mailer_open_ok("file:///var/spool/eventapi/");
  cr_assert_str_eq(delivery_mailer_describe(m), "file:///var/spool/eventapi/");
  delivery_mailer_close(m);
}

Test(mailer, a_bad_url_makes_no_mailer)
{
  struct delivery_mailer *m = (struct delivery_mailer *)&m; /* not NULL, to see it cleared */
  char err[512] = "";
  int rc = delivery_mailer_open("smtp://user:" PASSWORD "@mail.example.com:0", &m, err,
                                sizeof err);
  cr_assert_eq(rc, EVENTAPI_EINVAL);
  cr_assert_null(m);
  cr_assert_gt(strlen(err), 0);
  cr_assert_null(strstr(err, PASSWORD), "%s", err);
}

Test(mailer, bad_addresses_are_refused)
{
  char url[128];
  snprintf(url, sizeof url, "file://%s", tmpdir_path());
  struct delivery_mailer *m = mailer_open_ok(url);
  char err[512];
  const char *bad[] = {NULL, "", "bob@example.com\r\nRCPT TO:<eve@example.com>",
                       "bob@example.com>", "bob @example.com"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(delivery_mailer_send(m, "a@example.com", bad[i], "x", 1, NULL, err, sizeof err),
                 EVENTAPI_EINVAL, "rcpt %zu", i);
    if (bad[i] != NULL && bad[i][0] != '\0')
      cr_assert_eq(delivery_mailer_send(m, bad[i], "b@example.com", "x", 1, NULL, err, sizeof err),
                   EVENTAPI_EINVAL, "from %zu", i);
  }
  cr_assert_eq(delivery_mailer_send(m, NULL, "b@example.com", "x", 1, NULL, err, sizeof err), 0,
               "the null sender");
  delivery_mailer_close(m);
}
