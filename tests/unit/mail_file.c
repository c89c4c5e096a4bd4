/*
 * mail_file.c - the file:// mail transport (delivery/mail_file): each
 * message written once, byte for byte, to a file of its own (mode 0600, in a
 * folder made 0700), never over another, named from the hint whatever it
 * holds; a relative folder; and a failure worth retrying. Each test is its
 * own process with its own temporary folder.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "delivery/mailer.h"
#include "support/mailer.h"
#include "support/tmpdir.h"

TestSuite(mail_file, .init = mailer_setup, .fini = mailer_teardown, .timeout = 60);

/* ---- helpers ---- */

static bool
ends_with(const char *s, const char *suffix)
{
  size_t len = strlen(s), slen = strlen(suffix);
  return len >= slen && strcmp(s + len - slen, suffix) == 0;
}

/* "yyyymmddThhmmss" of the (frozen) test clock + delta seconds, UTC. */
static void
stamp(char out[32], int delta)
{
  time_t t = (time_t)(time_now_us() / 1000000) + delta;
  struct tm tm;
  strftime(out, 32, "%Y%m%dT%H%M%S", gmtime_r(&t, &tm));
}

/* ---- file:// ---- */

Test(mail_file, writes_each_message_once_byte_for_byte)
{
  char url[160], folder[128];
  snprintf(folder, sizeof folder, "%s/out/mail", tmpdir_path());
  snprintf(url, sizeof url, "file://%s/", folder);
  struct delivery_mailer *m = mailer_open_ok(url);
  char *first = mailer_message("First", "one\r\n.leading dot");
  char *second = mailer_message("Second", "two");
  cr_assert_eq(mailer_send_text(m, "bob@example.com", first, "<m1@example.com>"), 0, "%s",
               mailer_err);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", second, "<m1@example.com>"), 0, "%s",
               mailer_err);
  delivery_mailer_close(m);

  struct stat st;
  cr_assert_eq(stat(folder, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700, "the folder is created 0700");

  char names[8][256];
  cr_assert_eq(tmpdir_list(folder, names, 8), 2, "two files and no temporary one");
  int firsts = 0, seconds = 0;
  for (int i = 0; i < 2; i++) {
    cr_assert(ends_with(names[i], "-m1_example.com.eml") ||
                  ends_with(names[i], "-m1_example.com-1.eml"),
              "%s", names[i]);
    cr_assert_eq(names[i][8], 'T', "%s", names[i]);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", folder, names[i]);
    size_t len;
    char *text = tmpdir_read(path, &len);
    if (len == strlen(first) && memcmp(text, first, len) == 0)
      firsts++;
    if (len == strlen(second) && memcmp(text, second, len) == 0)
      seconds++;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "%s", names[i]);
    free(text);
  }
  cr_assert_eq(firsts, 1);
  cr_assert_eq(seconds, 1);
  free(first);
  free(second);
}

Test(mail_file, never_overwrites)
{
  /* The clock stands still: the name this second takes, and the next
   * second's, are already there. */
  time_test_freeze(time_now_us());
  char now[32], next[32], path[256];
  stamp(now, 0);
  stamp(next, 1);
  const char *taken[] = {now, next};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s-x.eml", tmpdir_path(), taken[i]);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("taken", f);
    fclose(f);
  }
  char url[128];
  snprintf(url, sizeof url, "file://%s", tmpdir_path());
  struct delivery_mailer *m = mailer_open_ok(url);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", "new\r\n", "x"), 0, "%s", mailer_err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(tmpdir_list(tmpdir_path(), names, 8), 3);
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s-x.eml", tmpdir_path(), taken[i]);
    char *text = tmpdir_read(path, NULL);
    cr_assert_str_eq(text, "taken");
    free(text);
  }
  snprintf(path, sizeof path, "%s/%s-x-1.eml", tmpdir_path(), now);
  char *text = tmpdir_read(path, NULL);
  cr_assert_str_eq(text, "new\r\n");
  free(text);
  time_test_freeze(0);
}

Test(mail_file, names_from_any_hint)
{
  char url[128];
  snprintf(url, sizeof url, "file://%s", tmpdir_path());
  struct delivery_mailer *m = mailer_open_ok(url);
  char long_hint[300];
  memset(long_hint, 'a', sizeof long_hint - 1);
  long_hint[sizeof long_hint - 1] = '\0';
  cr_assert_eq(mailer_send_text(m, "bob@example.com", "1", "<a/../b c@x.org>"), 0, "%s",
               mailer_err);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", "2", NULL), 0, "%s", mailer_err);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", "3", long_hint), 0, "%s", mailer_err);
  delivery_mailer_close(m);

  char names[8][256], want[128];
  cr_assert_eq(tmpdir_list(tmpdir_path(), names, 8), 3);
  int seen = 0;
  memset(want, 'a', 100);
  strcpy(want + 100, ".eml");
  for (int i = 0; i < 3; i++) {
    const char *rest = names[i] + 16; /* after "yyyymmddThhmmss-" */
    cr_assert_eq(names[i][15], '-', "%s", names[i]);
    if (strcmp(rest, "a_.._b_c_x.org.eml") == 0)
      seen |= 1;
    else if (strcmp(rest, "message.eml") == 0)
      seen |= 2;
    else if (strcmp(rest, want) == 0)
      seen |= 4;
    else
      cr_assert_fail("unexpected file %s", names[i]);
  }
  cr_assert_eq(seen, 7);
}

Test(mail_file, relative_folder)
{
  cr_assert_eq(chdir(tmpdir_path()), 0);
  struct delivery_mailer *m = mailer_open_ok("file://relative/path");
  cr_assert_eq(mailer_send_text(m, "bob@example.com", "hello\r\n", "id"), 0, "%s", mailer_err);
  delivery_mailer_close(m);
  char names[8][256], folder[128];
  snprintf(folder, sizeof folder, "%s/relative/path", tmpdir_path());
  cr_assert_eq(tmpdir_list(folder, names, 8), 1);
  cr_assert(ends_with(names[0], "-id.eml"), "%s", names[0]);
}

Test(mail_file, failure_is_worth_retrying)
{
  char path[128], url[160];
  snprintf(path, sizeof path, "%s/plain-file", tmpdir_path());
  tmpdir_write("plain-file", "not a folder");
  snprintf(url, sizeof url, "file://%s/mail", path);
  struct delivery_mailer *m = mailer_open_ok(url);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", "hello\r\n", "id"), EVENTAPI_EUNAVAILABLE);
  cr_assert_not_null(strstr(mailer_err, "plain-file"), "%s", mailer_err);
  delivery_mailer_close(m);
}
