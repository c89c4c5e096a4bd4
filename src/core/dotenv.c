#include "core/dotenv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* A larger file is refused with EVENTAPI_EIO: it cannot be a settings file. */
#define DOTENV_MAX_FILE (1024 * 1024)

static bool
is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static bool
is_key_start(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_key_char(char c)
{
  return is_key_start(c) || (c >= '0' && c <= '9');
}

/* Stores key=value, replacing an earlier value of the same key. Takes value. */
static int
put(struct dotenv *d, const char *key, size_t keylen, char *value)
{
  for (size_t i = 0; i < d->count; i++) {
    if (strlen(d->entries[i].key) == keylen &&
        memcmp(d->entries[i].key, key, keylen) == 0) {
      free(d->entries[i].value);
      d->entries[i].value = value;
      return 0;
    }
  }
  struct dotenv_entry *grown =
      realloc(d->entries, (d->count + 1) * sizeof *d->entries);
  char *copy = strndup(key, keylen);
  if (grown == NULL || copy == NULL) {
    if (grown)
      d->entries = grown;
    free(copy);
    free(value);
    return EVENTAPI_ENOMEM;
  }
  d->entries = grown;
  d->entries[d->count++] = (struct dotenv_entry){copy, value};
  return 0;
}

/* True when p..end holds only blanks, optionally followed by a comment. */
static bool
only_comment_left(const char *p, const char *end)
{
  while (p < end && is_blank(*p))
    p++;
  return p == end || *p == '#';
}

/*
 * Parses the value part of a line, the text p..end after its `=`, into a new
 * string in *out. Returns 0, EVENTAPI_EINVAL or EVENTAPI_ENOMEM.
 */
static int
parse_value(const char *p, const char *end, char **out)
{
  const char *after_equals = p;
  while (p < end && is_blank(*p))
    p++;
  char *value = malloc((size_t)(end - p) + 1);
  if (value == NULL)
    return EVENTAPI_ENOMEM;
  size_t n = 0;

  if (p < end && *p == '\'') {
    const char *close = memchr(p + 1, '\'', (size_t)(end - p - 1));
    if (close == NULL || !only_comment_left(close + 1, end))
      goto bad;
    n = (size_t)(close - p - 1);
    memcpy(value, p + 1, n);
  } else if (p < end && *p == '"') {
    for (p++; p < end && *p != '"'; p++) {
      char c = *p;
      if (c == '\\') {
        if (++p == end)
          goto bad;
        switch (*p) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case '"': case '\\': case '$': c = *p; break;
        default: goto bad;
        }
      }
      value[n++] = c;
    }
    if (p == end || !only_comment_left(p + 1, end))
      goto bad;
  } else {
    /* Unquoted: ends at a `#` that follows a blank, then trailing blanks go. */
    const char *stop = p;
    while (stop < end &&
           !(*stop == '#' && stop > after_equals && is_blank(stop[-1])))
      stop++;
    while (stop > p && is_blank(stop[-1]))
      stop--;
    n = (size_t)(stop - p);
    memcpy(value, p, n);
  }
  value[n] = '\0';
  *out = value;
  return 0;
bad:
  free(value);
  return EVENTAPI_EINVAL;
}

/*
 * Parses one line of len bytes (without its newline) into d; blank and
 * comment lines add nothing.
 */
static int
parse_line(const char *line, size_t len, struct dotenv *d)
{
  if (memchr(line, '\0', len))
    return EVENTAPI_EINVAL;
  if (len > 0 && line[len - 1] == '\r')
    len--;
  const char *p = line, *end = line + len;
  while (p < end && is_blank(*p))
    p++;
  if (p == end || *p == '#')
    return 0;
  if (end - p > 7 && memcmp(p, "export", 6) == 0 && is_blank(p[6])) {
    p += 7;
    while (p < end && is_blank(*p))
      p++;
  }

  const char *key = p;
  if (p == end || !is_key_start(*p))
    return EVENTAPI_EINVAL;
  while (p < end && is_key_char(*p))
    p++;
  size_t keylen = (size_t)(p - key);
  while (p < end && is_blank(*p))
    p++;
  if (p == end || *p != '=')
    return EVENTAPI_EINVAL;

  char *value;
  int rc = parse_value(p + 1, end, &value);
  if (rc == 0)
    rc = put(d, key, keylen, value);
  return rc;
}

int
dotenv_parse(const char *text, size_t len, struct dotenv *out, int *bad_line)
{
  *out = (struct dotenv){0};
  size_t pos = 0;
  for (int line = 1; pos < len; line++) {
    const char *eol = memchr(text + pos, '\n', len - pos);
    size_t line_len = eol ? (size_t)(eol - (text + pos)) : len - pos;
    int rc = parse_line(text + pos, line_len, out);
    if (rc != 0) {
      if (rc == EVENTAPI_EINVAL && bad_line)
        *bad_line = line;
      dotenv_free(out);
      return rc;
    }
    pos += line_len + 1;
  }
  return 0;
}

int
dotenv_load(const char *path, struct dotenv *out, int *bad_line)
{
  *out = (struct dotenv){0};
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return errno == ENOENT ? 0 : EVENTAPI_EIO;

  /* Read into a buffer that grows with the file, up to DOTENV_MAX_FILE. */
  size_t cap = 0, len = 0;
  char *text = NULL;
  int rc = 0;
  for (;;) {
    if (len == cap) {
      if (cap == DOTENV_MAX_FILE) {
        rc = fgetc(f) == EOF ? 0 : EVENTAPI_EIO; /* too large for a settings file */
        break;
      }
      size_t more = cap == 0 ? 4096 : cap * 2 < DOTENV_MAX_FILE ? cap * 2 : DOTENV_MAX_FILE;
      char *grown = realloc(text, more);
      if (grown == NULL) {
        rc = EVENTAPI_ENOMEM;
        break;
      }
      text = grown;
      cap = more;
    }
    len += fread(text + len, 1, cap - len, f);
    if (len < cap) {
      rc = ferror(f) ? EVENTAPI_EIO : 0;
      break;
    }
  }
  fclose(f);
  if (rc == 0)
    rc = dotenv_parse(text, len, out, bad_line);
  free(text);
  return rc;
}

const char *
dotenv_get(const struct dotenv *d, const char *key)
{
  for (size_t i = 0; i < d->count; i++)
    if (strcmp(d->entries[i].key, key) == 0)
      return d->entries[i].value;
  return NULL;
}

void
dotenv_free(struct dotenv *d)
{
  for (size_t i = 0; i < d->count; i++) {
    free(d->entries[i].key);
    free(d->entries[i].value);
  }
  free(d->entries);
  *d = (struct dotenv){0};
}
