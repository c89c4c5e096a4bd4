/*
 * mail_file.c - the file:// mail transport (delivery/mail_file): each
 * message written once, byte for byte, to a file of its own (mode 0600, in a
 * folder made 0700), never over another, named from the hint whatever it
 * holds; a relative folder; and a failure worth retrying. Each test is its
 * own process with its own temporary folder.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
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
#include "delivery/worker.h"

static char dir[64];      /* this test's temporary folder */
static char err[512];

static void
setup(void)
{
  strcpy(dir, "/tmp/eventapi-mail-file-XXXXXX");
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

TestSuite(mail_file, .init = setup, .fini = teardown, .timeout = 60);

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

static int
send_text(struct delivery_mailer *m, const char *rcpt, const char *text, const char *hint)
{
  err[0] = '\0';
  return delivery_mailer_send(m, "noreply@example.com", rcpt, text, strlen(text), hint, err,
                              sizeof err);
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

/* The names in folder (without . and ..), sorted, at most max; returns the count. */
static size_t
list_dir(const char *folder, char names[][256], size_t max)
{
  DIR *d = opendir(folder);
  if (d == NULL)
    return 0;
  size_t count = 0;
  struct dirent *entry;
  while ((entry = readdir(d)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
      continue;
    cr_assert_lt(count, max, "too many files in %s", folder);
    snprintf(names[count++], 256, "%s", entry->d_name);
  }
  closedir(d);
  qsort(names, count, 256, (int (*)(const void *, const void *))strcmp);
  return count;
}

static bool
ends_with(const char *s, const char *suffix)
{
  size_t len = strlen(s), slen = strlen(suffix);
  return len >= slen && strcmp(s + len - slen, suffix) == 0;
}

static void
write_file(const char *name, const char *text)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  cr_assert_eq(fclose(f), 0);
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
  snprintf(folder, sizeof folder, "%s/out/mail", dir);
  snprintf(url, sizeof url, "file://%s/", folder);
  struct delivery_mailer *m = open_ok(url);
  char *first = make_message("First", "one\r\n.leading dot");
  char *second = make_message("Second", "two");
  cr_assert_eq(send_text(m, "bob@example.com", first, "<m1@example.com>"), 0, "%s", err);
  cr_assert_eq(send_text(m, "bob@example.com", second, "<m1@example.com>"), 0, "%s", err);
  delivery_mailer_close(m);

  struct stat st;
  cr_assert_eq(stat(folder, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700, "the folder is created 0700");

  char names[8][256];
  cr_assert_eq(list_dir(folder, names, 8), 2, "two files and no temporary one");
  int firsts = 0, seconds = 0;
  for (int i = 0; i < 2; i++) {
    cr_assert(ends_with(names[i], "-m1_example.com.eml") ||
                  ends_with(names[i], "-m1_example.com-1.eml"),
              "%s", names[i]);
    cr_assert_eq(names[i][8], 'T', "%s", names[i]);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", folder, names[i]);
    size_t len;
    char *text = slurp(path, &len);
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
    snprintf(path, sizeof path, "%s/%s-x.eml", dir, taken[i]);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("taken", f);
    fclose(f);
  }
  char url[128];
  snprintf(url, sizeof url, "file://%s", dir);
  struct delivery_mailer *m = open_ok(url);
  cr_assert_eq(send_text(m, "bob@example.com", "new\r\n", "x"), 0, "%s", err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(list_dir(dir, names, 8), 3);
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s-x.eml", dir, taken[i]);
    char *text = slurp(path, NULL);
    cr_assert_str_eq(text, "taken");
    free(text);
  }
  snprintf(path, sizeof path, "%s/%s-x-1.eml", dir, now);
  char *text = slurp(path, NULL);
  cr_assert_str_eq(text, "new\r\n");
  free(text);
  time_test_freeze(0);
}

Test(mail_file, names_from_any_hint)
{
  char url[128];
  snprintf(url, sizeof url, "file://%s", dir);
  struct delivery_mailer *m = open_ok(url);
  char long_hint[300];
  memset(long_hint, 'a', sizeof long_hint - 1);
  long_hint[sizeof long_hint - 1] = '\0';
  cr_assert_eq(send_text(m, "bob@example.com", "1", "<a/../b c@x.org>"), 0, "%s", err);
  cr_assert_eq(send_text(m, "bob@example.com", "2", NULL), 0, "%s", err);
  cr_assert_eq(send_text(m, "bob@example.com", "3", long_hint), 0, "%s", err);
  delivery_mailer_close(m);

  char names[8][256], want[128];
  cr_assert_eq(list_dir(dir, names, 8), 3);
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
  cr_assert_eq(chdir(dir), 0);
  struct delivery_mailer *m = open_ok("file://relative/path");
  cr_assert_eq(send_text(m, "bob@example.com", "hello\r\n", "id"), 0, "%s", err);
  delivery_mailer_close(m);
  char names[8][256], folder[128];
  snprintf(folder, sizeof folder, "%s/relative/path", dir);
  cr_assert_eq(list_dir(folder, names, 8), 1);
  cr_assert(ends_with(names[0], "-id.eml"), "%s", names[0]);
}

Test(mail_file, failure_is_worth_retrying)
{
  char path[128], url[160];
  snprintf(path, sizeof path, "%s/plain-file", dir);
  write_file("plain-file", "not a folder");
  snprintf(url, sizeof url, "file://%s/mail", path);
  struct delivery_mailer *m = open_ok(url);
  cr_assert_eq(send_text(m, "bob@example.com", "hello\r\n", "id"), EVENTAPI_EUNAVAILABLE);
  cr_assert_not_null(strstr(err, "plain-file"), "%s", err);
  delivery_mailer_close(m);
}
