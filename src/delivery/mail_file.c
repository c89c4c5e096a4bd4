/*
 * mail_file.c - the file:// mail transport: one .eml file per message (see
 * delivery_mailer_send() in mailer.h).
 *
 * Each message is written under a temporary name, fsynced and moved to its
 * final name without ever replacing a file (renameat2 with
 * RENAME_NOREPLACE, or link(2) where the file system lacks it), then the
 * folder is fsynced, so a file that exists is whole and survives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "delivery/mail_transport.h"

#define HINT_MAX 100
#define COUNTER_MAX 9999

struct file_mailer {
  char *dir; /* without trailing slashes */
};

/* [A-Za-z0-9._-]: what a file's name keeps of its hint. */
static bool
name_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_';
}

/* mkdir -p dir, each missing level 0700. Returns 0 or an errno value. */
static int
make_dirs(const char *dir)
{
  char path[PATH_MAX];
  size_t len = strlen(dir);
  memcpy(path, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    path[i] = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return errno;
    path[i] = i < len ? '/' : '\0';
  }
  struct stat st;
  if (stat(dir, &st) != 0)
    return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static int
write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static int
fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

/* Moves from to to unless to exists. Returns 0 or an errno value (EEXIST). */
static int
move_no_replace(const char *from, const char *to)
{
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return errno;
  /* A file system without RENAME_NOREPLACE: link(2) never replaces either. */
  if (link(from, to) != 0)
    return errno;
  unlink(from);
  return 0;
}

/* The file name's hint: see delivery_mailer_send() in mailer.h. */
static void
sanitize_hint(const char *hint, char out[HINT_MAX + 1])
{
  size_t len = hint ? strlen(hint) : 0;
  if (len >= 2 && hint[0] == '<' && hint[len - 1] == '>') {
    hint++;
    len -= 2;
  }
  if (len > HINT_MAX)
    len = HINT_MAX;
  for (size_t i = 0; i < len; i++) {
    char c = hint[i];
    out[i] = name_char(c) ? c : '_';
  }
  out[len] = '\0';
  if (len == 0)
    strcpy(out, "message");
}

static int
file_send(void *state, const char *from, const char *rcpt, const char *message, size_t len,
          const char *hint, char *err, size_t errlen)
{
  (void)from, (void)rcpt;
  const struct file_mailer *m = state;
  const char *sep = strcmp(m->dir, "/") == 0 ? "" : "/";
  int error = make_dirs(m->dir);
  if (error != 0)
    return eventapi_fail(err, errlen, EVENTAPI_EUNAVAILABLE,
                         "file mailer: cannot create %s: %s", m->dir, strerror(error));

  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s%s.tmp-XXXXXX", m->dir, sep);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return eventapi_fail(err, errlen, EVENTAPI_EUNAVAILABLE,
                         "file mailer: cannot create a file in %s: %s",
                         m->dir, strerror(errno));
  const char *failed = NULL;
  if (write_all(fd, message, len) != 0)
    failed = "write";
  else if (fsync(fd) != 0)
    failed = "fsync";
  error = errno;
  if (close(fd) != 0 && failed == NULL) {
    failed = "close";
    error = errno;
  }
  if (failed != NULL) {
    unlink(tmp);
    return eventapi_fail(err, errlen, EVENTAPI_EUNAVAILABLE,
                         "file mailer: %s %s: %s", failed, tmp, strerror(error));
  }

  char stamp[32], base[HINT_MAX + 1], path[PATH_MAX];
  struct tm tm;
  time_t now = (time_t)(time_now_us() / 1000000);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
  sanitize_hint(hint, base);
  error = EEXIST;
  for (unsigned counter = 0; error == EEXIST && counter <= COUNTER_MAX; counter++) {
    if (counter == 0)
      snprintf(path, sizeof path, "%s%s%s-%s.eml", m->dir, sep, stamp, base);
    else
      snprintf(path, sizeof path, "%s%s%s-%s-%u.eml", m->dir, sep, stamp, base, counter);
    error = move_no_replace(tmp, path);
  }
  if (error != 0) {
    unlink(tmp);
    return eventapi_fail(err, errlen, EVENTAPI_EUNAVAILABLE,
                         "file mailer: rename %s: %s", tmp, strerror(error));
  }
  if (fsync_dir(m->dir) != 0) {
    /* The file is whole but its name may not survive a crash: fail. */
    error = errno;
    unlink(path);
    return eventapi_fail(err, errlen, EVENTAPI_EUNAVAILABLE,
                         "file mailer: fsync %s: %s", m->dir, strerror(error));
  }
  return 0;
}

static int
file_open(const struct delivery_mail_url *url, void **state, char *err, size_t errlen)
{
  struct file_mailer *m = calloc(1, sizeof *m);
  if (m == NULL || (m->dir = strdup(url->dir)) == NULL) {
    free(m);
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  }
  *state = m;
  return 0;
}

static void
file_close(void *state)
{
  struct file_mailer *m = state;
  if (m != NULL)
    free(m->dir);
  free(m);
}

const struct delivery_mail_transport delivery_mail_file = {
  .open = file_open,
  .send = file_send,
  .close = file_close,
};
