/*
 * dotenv.h - read a `.env` file of KEY=VALUE lines.
 *
 * Syntax: blank lines and lines starting with `#` are ignored; an optional
 * leading `export `; whitespace around the key and an unquoted value is
 * trimmed; an unquoted value ends at ` #` (inline comment); 'single quotes'
 * keep their content verbatim; "double quotes" understand \n \t \" \\ \$.
 * Keys are [A-Za-z_][A-Za-z0-9_]*.
 */
#ifndef EVENTAPI_CORE_DOTENV_H
#define EVENTAPI_CORE_DOTENV_H

#include <stddef.h>

struct dotenv_entry {
  char *key;
  char *value;
};

struct dotenv {
  struct dotenv_entry *entries;
  size_t count;
};

/*
 * Parses text (len bytes, need not be NUL-terminated) into out, which the
 * caller frees with dotenv_free(). Returns 0, EVENTAPI_ENOMEM, or
 * EVENTAPI_EINVAL with the 1-based line number of the bad line in *bad_line.
 * A key given twice keeps its last value.
 */
int dotenv_parse(const char *text, size_t len, struct dotenv *out, int *bad_line);

/*
 * Reads and parses the file at path. A missing file is not an error: out is
 * left empty and 0 returned. Other errors as dotenv_parse, or EVENTAPI_EIO.
 */
int dotenv_load(const char *path, struct dotenv *out, int *bad_line);

/* The value of key, or NULL. Borrowed from d. */
const char *dotenv_get(const struct dotenv *d, const char *key);

void dotenv_free(struct dotenv *d);

#endif
