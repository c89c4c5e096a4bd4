/*
 * email_url.c - the EMAIL_URL setting, read by libcurl's URL parser
 * (delivery_mail_url_parse): console://, file://, smtp:// and smtps:// with
 * credentials, host, port and ?starttls; the URL handed to libcurl, which
 * never holds the credentials; the description the log shows
 * (delivery_mailer_describe), which never holds the password; and the
 * mailer made from it (delivery_mailer_open).
 *
 * Input: the URL.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "delivery/mail_url.h"
#include "delivery/mailer.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup_delivery();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *url = fuzz_text(data, size);
  struct delivery_mail_url parsed;
  char err[256] = "";
  int rc = delivery_mail_url_parse(url, &parsed, err, sizeof err);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  if (rc == 0) {
    FUZZ_CHECK(parsed.description != NULL && strstr(parsed.description, "://") != NULL);
    fuzz_check_printable(parsed.description);
    if (parsed.scheme == DELIVERY_MAIL_FILE)
      FUZZ_CHECK(parsed.dir != NULL && parsed.dir[0] != '\0');
    if (parsed.scheme == DELIVERY_MAIL_SMTP) {
      FUZZ_CHECK(parsed.curl_url != NULL && parsed.server != NULL);
      FUZZ_CHECK(parsed.port >= 1 && parsed.port <= 65535);
      FUZZ_CHECK(strchr(parsed.curl_url, '@') == NULL); /* no credentials */
      /* With a password, the description shows it as "***" only. */
      if (parsed.password != NULL)
        FUZZ_CHECK(strstr(parsed.description, ":***@") != NULL);
    }
    delivery_mail_url_free(&parsed);
  } else {
    FUZZ_CHECK(err[0] != '\0');
    FUZZ_CHECK(parsed.description == NULL && parsed.password == NULL);
  }

  /* The mailer takes what the parser takes, and shows the same. */
  struct delivery_mailer *m = NULL;
  int opened = delivery_mailer_open(url, &m, err, sizeof err);
  FUZZ_CHECK(opened == rc || opened == EVENTAPI_ENOMEM);
  FUZZ_CHECK((opened == 0) == (m != NULL));
  if (opened == 0) {
    fuzz_check_printable(delivery_mailer_describe(m));
    delivery_mailer_close(m);
  }
  free(url);
  return 0;
}
