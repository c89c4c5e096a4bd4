/*
 * common_passwords.c - Django's CommonPasswordValidator's list (see
 * common_passwords.h): an open-addressing set of strings, loaded once and
 * only read after.
 */
#include "users/common_passwords.h"

#include <errno.h>
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

/* An open-addressing set of strings, filled once and only read after. Every
 * entry sits, NUL-terminated, in one block of text; a slot holds its
 * offset there plus one, 0 being empty. Two allocations for the whole list,
 * not one an entry: start-up (and every test server's) stays cheap. */
struct string_set {
  char *text;
  uint32_t *slots;
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
  free(set->text);
  free(set->slots);
  memset(set, 0, sizeof *set);
}

/* The slot that holds s, or the empty one where it would go. */
static size_t
set_find(const struct string_set *set, const char *s)
{
  size_t i = (size_t)string_hash(s) & set->mask;

  while (set->slots[i] != 0 && strcmp(set->text + set->slots[i] - 1, s) != 0)
    i = (i + 1) & set->mask;
  return i;
}

/* The most a list may hold, read or normalized: offsets fit in a slot. */
#define LIST_MAX ((size_t)1 << 28)

/* A block of bytes that grows. */
struct block {
  char *bytes;
  size_t len, cap;
};

/* Makes room for more bytes after len: 0, EVENTAPI_EIO past LIST_MAX, or
 * EVENTAPI_ENOMEM. */
static int
block_reserve(struct block *b, size_t more)
{
  size_t cap = b->cap == 0 ? 65536 : b->cap;
  char *bigger;

  if (more > LIST_MAX - b->len)
    return EVENTAPI_EIO;
  if (b->cap - b->len >= more)
    return 0;
  while (cap - b->len < more)
    cap *= 2;
  if ((bigger = realloc(b->bytes, cap)) == NULL)
    return EVENTAPI_ENOMEM;
  b->bytes = bigger;
  b->cap = cap;
  return 0;
}

/* Reads the whole (inflated) file into raw, NUL-terminated. */
static int
read_all(gzFile file, struct block *raw)
{
  enum { CHUNK = 65536 };
  int zerr = Z_OK;
  int rc, n;

  do {
    if ((rc = block_reserve(raw, CHUNK + 1)) != 0)
      return rc;
    if ((n = gzread(file, raw->bytes + raw->len, CHUNK)) < 0)
      return EVENTAPI_EIO;
    raw->len += (size_t)n;
  } while (n > 0);
  (void)gzerror(file, &zerr);
  if (zerr != Z_OK)
    return EVENTAPI_EIO;
  raw->bytes[raw->len] = '\0';
  return 0;
}

/* Python's str.isspace() for a code point below 0x80 (unicode_is_space). */
static bool
ascii_space(unsigned char c)
{
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
}

/*
 * Appends the line of n bytes at s (followed by a byte it may borrow) to
 * text as line.lower().strip(), NUL-terminated. An ASCII line, as nearly
 * every line of Django's list is, is done here byte by byte, as the Unicode
 * tables would do it; any other goes through them. A NUL ends the line.
 */
static int
append_entry(struct block *text, char *s, size_t n)
{
  char *nul = memchr(s, '\0', n);
  size_t i = 0;
  int rc;

  if (nul != NULL)
    n = (size_t)(nul - s);
  while (i < n && (unsigned char)s[i] < 0x80)
    i++;
  if (i == n) {
    while (n > 0 && ascii_space((unsigned char)s[n - 1]))
      n--;
    while (n > 0 && ascii_space((unsigned char)*s)) {
      s++;
      n--;
    }
    if ((rc = block_reserve(text, n + 1)) != 0)
      return rc;
    for (i = 0; i < n; i++)
      text->bytes[text->len++] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + ('a' - 'A') : s[i]);
    text->bytes[text->len++] = '\0';
    return 0;
  }

  char borrowed = s[n];
  s[n] = '\0';
  char *entry = unicode_lower_strip(s);
  s[n] = borrowed;
  if (entry == NULL)
    return EVENTAPI_ENOMEM;
  n = strlen(entry);
  if ((rc = block_reserve(text, n + 1)) == 0) {
    memcpy(text->bytes + text->len, entry, n + 1);
    text->len += n + 1;
  }
  free(entry);
  return rc;
}

/* Fills set with the lines of raw (its text taken from text). */
static int
set_fill(struct string_set *set, struct block *raw, struct block *text)
{
  char *s = raw->bytes, *end = raw->bytes + raw->len;
  size_t lines = 0, size = 16;
  int rc = 0;

  while (rc == 0 && s < end) {
    char *newline = memchr(s, '\n', (size_t)(end - s));
    size_t n = newline != NULL ? (size_t)(newline - s) : (size_t)(end - s);
    rc = append_entry(text, s, n);
    lines++;
    s += n + 1;
  }
  if (rc != 0)
    return rc;
  while (size < 2 * lines + 2)
    size *= 2;
  set->slots = calloc(size, sizeof *set->slots);
  if (set->slots == NULL)
    return EVENTAPI_ENOMEM;
  set->mask = size - 1;
  set->text = text->bytes;
  text->bytes = NULL;
  for (size_t at = 0; at < text->len; at += strlen(set->text + at) + 1) {
    size_t slot = set_find(set, set->text + at);
    if (set->slots[slot] == 0) {
      set->slots[slot] = (uint32_t)at + 1;
      set->count++;
    }
  }
  return 0;
}

int
users_common_passwords_load(const char *path)
{
  struct string_set loaded = { NULL, NULL, 0, 0 };
  struct block raw = { NULL, 0, 0 }, text = { NULL, 0, 0 };
  gzFile file;
  int rc;

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
  rc = read_all(file, &raw);
  gzclose(file);
  if (rc == 0)
    rc = set_fill(&loaded, &raw, &text);
  free(raw.bytes);
  free(text.bytes);
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
    return common.slots[set_find(&common, normalized)] != 0;
  for (size_t i = 0; i < sizeof builtin_common / sizeof builtin_common[0]; i++)
    if (strcmp(builtin_common[i], normalized) == 0)
      return true;
  return false;
}
