/*
 * yaml.c - jansson values as block YAML (see yaml.h).
 */
#include "ops/yaml.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/strbuf.h"

static void
put_indent(struct strbuf *out, int indent)
{
  static const char spaces[] = "                                ";
  while (indent > 0) {
    int n = indent < (int)sizeof spaces - 1 ? indent : (int)sizeof spaces - 1;
    strbuf_append(out, spaces, (size_t)n);
    indent -= n;
  }
}

/* Decodes one UTF-8 sequence at s (len bytes left); *cp gets the code point,
 * or U+FFFD for a malformed byte. Returns the bytes used (at least 1). */
static size_t
utf8_next(const unsigned char *s, size_t len, unsigned long *cp)
{
  unsigned char c = s[0];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || n > len) {
    *cp = 0xFFFD;
    return 1;
  }
  unsigned long v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    v = (v << 6) | (s[i] & 0x3Fu);
  }
  *cp = v;
  return n;
}

/* A double-quoted YAML scalar with JSON-style escapes. */
static void
put_string(struct strbuf *out, const char *text, size_t len)
{
  const unsigned char *s = (const unsigned char *)text;
  char esc[24];
  strbuf_append(out, "\"", 1);
  for (size_t i = 0; i < len;) {
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      size_t run = i;
      while (run < len && s[run] >= 0x20 && s[run] < 0x7F && s[run] != '"' && s[run] != '\\')
        run++;
      strbuf_append(out, text + i, run - i);
      i = run;
      continue;
    }
    unsigned long cp;
    i += utf8_next(s + i, len - i, &cp);
    switch (cp) {
    case '"': strbuf_puts(out, "\\\""); break;
    case '\\': strbuf_puts(out, "\\\\"); break;
    case '\n': strbuf_puts(out, "\\n"); break;
    case '\t': strbuf_puts(out, "\\t"); break;
    case '\r': strbuf_puts(out, "\\r"); break;
    default:
      if (cp > 0xFFFF)
        snprintf(esc, sizeof esc, "\\U%08lX", cp);
      else
        snprintf(esc, sizeof esc, "\\u%04lX", cp);
      strbuf_puts(out, esc);
    }
  }
  strbuf_append(out, "\"", 1);
}

/* Whether a key can be written plain: an identifier that no YAML resolver
 * reads as a boolean, null or number. */
static bool
plain_key(const char *key)
{
  static const char *const reserved[] = {"true", "false", "null", "yes", "no", "on",
                                         "off", "y", "n", "~"};
  if (!(isalpha((unsigned char)key[0]) || key[0] == '_'))
    return false;
  for (const char *p = key; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.'))
      return false;
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strcasecmp(key, reserved[i]) == 0)
      return false;
  return true;
}

/* A scalar, or an empty container, on the current line. */
static void
put_scalar(struct strbuf *out, const json_t *value)
{
  char number[64];
  switch (json_typeof(value)) {
  case JSON_STRING:
    put_string(out, json_string_value(value), json_string_length(value));
    break;
  case JSON_INTEGER:
    snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    strbuf_puts(out, number);
    break;
  case JSON_REAL: {
    /* jansson holds no inf or nan. YAML 1.1 reads a float only with a '.':
     * 1e+20 is written 1.0e+20, and 3 as 3.0. */
    snprintf(number, sizeof number, "%.17g", json_real_value(value));
    char *e = strpbrk(number, "eE");
    if (strchr(number, '.') != NULL) {
      strbuf_puts(out, number);
    } else if (e != NULL) {
      strbuf_append(out, number, (size_t)(e - number));
      strbuf_puts(out, ".0");
      strbuf_puts(out, e);
    } else {
      strbuf_puts(out, number);
      strbuf_puts(out, ".0");
    }
    break;
  }
  case JSON_TRUE: strbuf_puts(out, "true"); break;
  case JSON_FALSE: strbuf_puts(out, "false"); break;
  case JSON_NULL: strbuf_puts(out, "null"); break;
  case JSON_OBJECT: strbuf_puts(out, "{}"); break;
  case JSON_ARRAY: strbuf_puts(out, "[]"); break;
  }
}

static bool
is_block(const json_t *value)
{
  return (json_is_object(value) && json_object_size(value) > 0) ||
         (json_is_array(value) && json_array_size(value) > 0);
}

static void put_sequence(struct strbuf *out, const json_t *array, int indent, bool inline_first);

/*
 * The pairs of a non-empty object, each on its own line at indent; when
 * inline_first, the first pair continues the current line (after "- ").
 */
static void
put_mapping(struct strbuf *out, const json_t *object, int indent, bool inline_first)
{
  const char *key;
  const json_t *value;
  bool first = true;
  json_object_foreach((json_t *)object, key, value) {
    if (!(first && inline_first))
      put_indent(out, indent);
    first = false;
    if (plain_key(key))
      strbuf_puts(out, key);
    else
      put_string(out, key, strlen(key));
    strbuf_append(out, ":", 1);
    if (json_is_object(value) && is_block(value)) {
      strbuf_append(out, "\n", 1);
      put_mapping(out, value, indent + 2, false);
    } else if (is_block(value)) {
      strbuf_append(out, "\n", 1);
      put_sequence(out, value, indent + 2, false);
    } else {
      strbuf_append(out, " ", 1);
      put_scalar(out, value);
      strbuf_append(out, "\n", 1);
    }
  }
}

/* The items of a non-empty array as "- item" lines at indent. */
static void
put_sequence(struct strbuf *out, const json_t *array, int indent, bool inline_first)
{
  size_t i;
  const json_t *item;
  json_array_foreach(array, i, item) {
    if (!(i == 0 && inline_first))
      put_indent(out, indent);
    strbuf_append(out, "- ", 2);
    if (json_is_object(item) && is_block(item)) {
      put_mapping(out, item, indent + 2, true);
    } else if (is_block(item)) {
      put_sequence(out, item, indent + 2, true);
    } else {
      put_scalar(out, item);
      strbuf_append(out, "\n", 1);
    }
  }
}

char *
ops_yaml_dump(const json_t *value, size_t *len)
{
  struct strbuf out = {0};
  if (json_is_object(value) && is_block(value)) {
    put_mapping(&out, value, 0, false);
  } else if (is_block(value)) {
    put_sequence(&out, value, 0, false);
  } else {
    put_scalar(&out, value);
    strbuf_append(&out, "\n", 1);
  }
  if (out.failed) {
    strbuf_free(&out);
    return NULL;
  }
  size_t taken;
  char *text = strbuf_take(&out, &taken);
  if (len != NULL)
    *len = taken;
  return text;
}
