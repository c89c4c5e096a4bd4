/*
 * email_url.c - the EMAIL_URL setting (mailer_open): console://, file://,
 * smtp:// and smtps:// with credentials, host, port and ?starttls, and the
 * description the log shows (mailer_describe), which never holds the
 * password.
 *
 * Input: the URL.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "notifications/mailer.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  if (mailer_global_init() < 0)
    abort();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *url = fuzz_text(data, size);
  struct mailer *m = NULL;
  char err[256] = "";
  int rc = mailer_open(url, &m, err, sizeof err);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  FUZZ_CHECK((rc == 0) == (m != NULL));
  if (rc == 0) {
    const char *shown = mailer_describe(m);
    FUZZ_CHECK(shown != NULL && strstr(shown, "://") != NULL);
    for (const char *c = shown; *c; c++)
      FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
    /* With credentials, the password is always shown as "***". */
    const char *at = strrchr(url, '@');
    const char *colon = strchr(url, ':');
    if (at && colon && strncmp(url, "smtp", 4) == 0) {
      const char *password = strchr(colon + 3, ':');
      if (password && password < at && at - password > 1)
        FUZZ_CHECK(strstr(shown, ":***@") != NULL);
    }
    mailer_close(m);
  } else {
    FUZZ_CHECK(err[0] != '\0');
  }
  free(url);
  return 0;
}
