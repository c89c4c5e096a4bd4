/*
 * mail_console.c - the console:// mail transport (delivery/mail_console):
 * each message in one log record, every line of it indented so that none
 * passes for a record of its own, CRLF shown as LF, a long message cut.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/mailer.h"
#include "support/mailer.h"
#include "support/tmpdir.h"

TestSuite(mail_console, .init = mailer_setup, .fini = mailer_teardown, .timeout = 60);

/* ---- helpers ---- */

/* Runs a console send with stderr (the log) going to a file; returns the log. */
static char *
console_log(const char *rcpt, const char *text, size_t len, int *rc)
{
  char path[128];
  snprintf(path, sizeof path, "%s/stderr", tmpdir_path());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  cr_assert_geq(fd, 0);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
  struct delivery_mailer *m = mailer_open_ok("console://");
  char err[512];
  *rc = delivery_mailer_send(m, "noreply@example.com", rcpt, text, len, "id", err, sizeof err);
  delivery_mailer_close(m);
  dup2(saved, STDERR_FILENO);
  close(saved);
  return tmpdir_read(path, NULL);
}

/* ---- console:// ---- */

Test(mail_console, logs_one_record)
{
  int rc;
  char *text = mailer_message("Hello", "line one\r\nline two");
  char *log = console_log("bob@example.com", text, strlen(text), &rc);
  cr_assert_eq(rc, 0);
  const char *record = strstr(log, " info email to bob@example.com:\n");
  cr_assert_not_null(record, "%s", log);
  cr_assert_not_null(strstr(log, "\n  Subject: Hello\n"), "%s", log);
  cr_assert_not_null(strstr(log, "\n  line one\n  line two\n"), "%s", log);
  cr_assert_null(strchr(log, '\r'), "CRLF is shown as LF");
  /* Every line after the first is indented: nothing passes for a record. */
  for (const char *p = strchr(log, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
    cr_assert(p[1] == ' ' && p[2] == ' ', "%s", log);
  free(log);
  free(text);
}

Test(mail_console, cuts_a_long_message)
{
  size_t len = 10000;
  char *text = malloc(len);
  cr_assert_not_null(text);
  for (size_t i = 0; i < len; i++)
    text[i] = (char)('a' + i % 26);
  int rc;
  char *log = console_log("bob@example.com", text, len, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_lt(strlen(log), 4096);
  cr_assert_not_null(strstr(log, " more bytes]\n"), "%s", log);
  for (const char *p = strchr(log, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
    cr_assert(p[1] == ' ' && p[2] == ' ', "one record: %s", log);
  free(log);
  free(text);
}
