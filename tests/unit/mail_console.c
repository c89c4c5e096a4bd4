/*
 * mail_console.c - the console:// mail transport (delivery/mail_console):
 * each message in one log record, every line of it indented so that none
 * passes for a record of its own, CRLF shown as LF, a long message cut.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "delivery/mailer.h"
#include "delivery/worker.h"

static char dir[64];      /* this test's temporary folder */
static char err[512];

static void
setup(void)
{
  strcpy(dir, "/tmp/eventapi-mail-console-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  cr_assert_eq(delivery_global_init(), 0);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void
teardown(void)
{
  delivery_global_cleanup();
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(mail_console, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

static struct delivery_mailer *
open_ok(const char *url)
{
  struct delivery_mailer *m = NULL;
  err[0] = '\0';
  int rc = delivery_mailer_open(url, &m, err, sizeof err);
  cr_assert_eq(rc, 0, "delivery_mailer_open(%s): %d %s", url ? url : "NULL", rc, err);
  cr_assert_not_null(m);
  return m;
}

/* A message as the renderer makes them: CRLF line ends. */
static char *
make_message(const char *subject, const char *body)
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

/* A whole file, NUL-terminated, malloc'd; its length in *len. */
static char *
slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot read %s", path);
  char *data = malloc(1 << 20);
  cr_assert_not_null(data);
  size_t n = fread(data, 1, (1 << 20) - 1, f);
  fclose(f);
  data[n] = '\0';
  if (len)
    *len = n;
  return data;
}

/* Runs a console send with stderr (the log) going to a file; returns the log. */
static char *
console_log(const char *rcpt, const char *text, size_t len, int *rc)
{
  char path[128];
  snprintf(path, sizeof path, "%s/stderr", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  cr_assert_geq(fd, 0);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
  struct delivery_mailer *m = open_ok("console://");
  *rc = delivery_mailer_send(m, "noreply@example.com", rcpt, text, len, "id", err, sizeof err);
  delivery_mailer_close(m);
  dup2(saved, STDERR_FILENO);
  close(saved);
  return slurp(path, NULL);
}

/* ---- console:// ---- */

Test(mail_console, logs_one_record)
{
  int rc;
  char *text = make_message("Hello", "line one\r\nline two");
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
