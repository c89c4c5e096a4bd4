/*
 * common_passwords.c - Django's CommonPasswordValidator's list (see
 * common_passwords.h): an open-addressing set of strings, loaded once and
 * only read after.
 */
#include "users/common_passwords.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/unicode.h"

/* Used when no list is loaded: some of the most common passwords of all. */
static const char *const builtin_common[] = {
  "123456",    "123456789", "12345678",  "password",  "qwerty",
  "12345",     "1234567",   "111111",    "1234567890", "123123",
  "abc123",    "1234",      "password1", "iloveyou",  "1q2w3e4r",
  "000000",    "qwerty123", "zaq12wsx",  "dragon",    "sunshine",
  "princess",  "letmein",   "654321",    "monkey",    "football",
  "baseball",  "welcome",   "admin",     "master",    "shadow",
  "superman",  "trustno1",  "passw0rd",  "qwertyuiop", "starwars",
};

/* An open-addressing set of strings; readers never write. */
struct string_set {
  char **slots;
  size_t mask;   /* slot count - 1; the count is a power of two */
  size_t count;
};

static struct string_set common; /* empty: the built-in list is used */

static uint64_t
string_hash(const char *s)
{
  uint64_t hash = 0xcbf29ce484222325u; /* FNV-1a */

  for (; *s != '\0'; s++) {
    hash ^= (unsigned char)*s;
    hash *= 0x100000001b3u;
  }
  return hash;
}

static void
set_free(struct string_set *set)
{
  if (set->slots != NULL)
    for (size_t i = 0; i <= set->mask; i++)
      free(set->slots[i]);
  free(set->slots);
  memset(set, 0, sizeof *set);
}

static bool
set_contains(const struct string_set *set, const char *s)
{
  size_t i = (size_t)string_hash(s) & set->mask;

  while (set->slots[i] != NULL) {
    if (strcmp(set->slots[i], s) == 0)
      return true;
    i = (i + 1) & set->mask;
  }
  return false;
}

/* Adds s (taking ownership) unless present. Returns 0 or EVENTAPI_ENOMEM. */
static int
set_add(struct string_set *set, char *s)
{
  size_t i;

  if (set->slots == NULL || 2 * (set->count + 1) > set->mask + 1) {
    size_t size = set->slots == NULL ? 1024 : 2 * (set->mask + 1);
    struct string_set grown = { calloc(size, sizeof(char *)), size - 1, 0 };

    if (grown.slots == NULL) {
      free(s);
      return EVENTAPI_ENOMEM;
    }
    if (set->slots != NULL)
      for (size_t k = 0; k <= set->mask; k++)
        if (set->slots[k] != NULL) {
          i = (size_t)string_hash(set->slots[k]) & grown.mask;
          while (grown.slots[i] != NULL)
            i = (i + 1) & grown.mask;
          grown.slots[i] = set->slots[k];
          grown.count++;
        }
    free(set->slots);
    *set = grown;
  }
  if (set_contains(set, s)) {
    free(s);
    return 0;
  }
  i = (size_t)string_hash(s) & set->mask;
  while (set->slots[i] != NULL)
    i = (i + 1) & set->mask;
  set->slots[i] = s;
  set->count++;
  return 0;
}

/*
 * Reads one whole line of any length into *line (grown as needed): 0 with
 * *got (false at the end of the file, or on a read error, which gzerror
 * then reports), or EVENTAPI_ENOMEM.
 */
static int
gz_read_line(gzFile file, char **line, size_t *cap, bool *got)
{
  size_t used = 0;

  *got = false;
  for (;;) {
    if (*cap - used < 2) {
      size_t grown = *cap == 0 ? 256 : 2 * *cap;
      char *bigger = grown > INT_MAX ? NULL : realloc(*line, grown);
      if (bigger == NULL)
        return EVENTAPI_ENOMEM;
      *line = bigger;
      *cap = grown;
    }
    if (gzgets(file, *line + used, (int)(*cap - used)) == NULL) {
      *got = used > 0;
      return 0;
    }
    used += strlen(*line + used);
    if (used > 0 && (*line)[used - 1] == '\n') {
      *got = true;
      return 0;
    }
  }
}

int
users_common_passwords_load(const char *path)
{
  struct string_set loaded = { NULL, 0, 0 };
  char *line = NULL;
  size_t cap = 0;
  gzFile file;
  int zerr = Z_OK;
  int rc = 0;

  if (path == NULL) {
    set_free(&common);
    return 0;
  }
  errno = 0;
  file = gzopen(path, "rb");
  if (file == NULL) {
    if (errno == ENOENT) {
      set_free(&common);
      return 0;
    }
    return EVENTAPI_EIO;
  }
  while (rc == 0) {
    char *entry;
    bool got;
    if ((rc = gz_read_line(file, &line, &cap, &got)) < 0 || !got)
      break;
    entry = unicode_lower_strip(line);
    rc = entry == NULL ? EVENTAPI_ENOMEM : set_add(&loaded, entry);
  }
  if (rc == 0) {
    (void)gzerror(file, &zerr);
    if (zerr != Z_OK)
      rc = EVENTAPI_EIO;
  }
  gzclose(file);
  free(line);
  if (rc == 0 && loaded.count == 0)
    rc = EVENTAPI_EIO; /* an empty list is a mistake, not a choice */
  if (rc != 0) {
    set_free(&loaded);
    return rc == EVENTAPI_ENOMEM ? EVENTAPI_ENOMEM : EVENTAPI_EIO;
  }
  set_free(&common);
  common = loaded;
  return 0;
}

void
users_common_passwords_free(void)
{
  set_free(&common);
}

bool
users_password_is_common(const char *normalized)
{
  if (common.slots != NULL)
    return set_contains(&common, normalized);
  for (size_t i = 0; i < sizeof builtin_common / sizeof builtin_common[0]; i++)
    if (strcmp(builtin_common[i], normalized) == 0)
      return true;
  return false;
}
