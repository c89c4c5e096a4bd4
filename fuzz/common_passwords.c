/*
 * common_passwords.c - the common-password list (users_common_passwords_load):
 * a file of lines, plain or gzip-compressed, each read as
 * line.lower().strip().
 *
 * Input: the file's bytes, plain or (from 1f 8b on) gzip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"
#include "support.h"
#include "users/common_passwords.h"

static int fd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  fd = memfd_create("common-passwords", 0);
  if (fd < 0)
    abort();
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return 0;
}

/* A line of ASCII with no NUL, as the list must hold it. */
static char *
ascii_entry(const uint8_t *line, size_t n)
{
  char *out = malloc(n + 1);
  size_t len = 0;

  if (out == NULL)
    abort();
  for (size_t i = 0; i < n; i++) {
    if (line[i] == 0 || line[i] >= 0x80) {
      free(out);
      return NULL;
    }
    out[len++] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + ('a' - 'A') : line[i]);
  }
  out[len] = '\0';
  while (len > 0 && ((out[len - 1] >= 0x09 && out[len - 1] <= 0x0D) ||
                     (out[len - 1] >= 0x1C && out[len - 1] <= 0x20)))
    out[--len] = '\0';
  size_t start = 0;
  while ((out[start] >= 0x09 && out[start] <= 0x0D) || (out[start] >= 0x1C && out[start] <= 0x20))
    start++;
  memmove(out, out + start, len - start + 1);
  return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
    abort();
  int rc = users_common_passwords_load(path);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EIO);
  if (rc == 0 && !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b)) {
    /* A plain list: every ASCII line of it is on the list, as read. */
    const uint8_t *s = data, *end = data + size;
    while (s < end) {
      const uint8_t *newline = memchr(s, '\n', (size_t)(end - s));
      size_t n = newline ? (size_t)(newline - s) : (size_t)(end - s);
      char *entry = ascii_entry(s, n);
      if (entry != NULL)
        FUZZ_CHECK(users_password_is_common(entry));
      free(entry);
      s += n + 1;
    }
  }
  FUZZ_CHECK(rc != 0 || size > 0); /* an empty list is refused */
  users_common_passwords_free();
  return 0;
}
