#include "core/text.h"

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "core/unicode.h"

/*
 * Decodes the well-formed UTF-8 sequence at s[0..len) into *cp and returns
 * its length, or 0 for a NUL byte, an overlong form, a surrogate, a code
 * point above U+10FFFF or a truncated sequence.
 */
size_t
text_utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
  unsigned char lead = s[0];
  size_t need;
  uint32_t min;
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2, min = 0x80, *cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3, min = 0x800, *cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4, min = 0x10000, *cp = lead & 0x07;
  } else {
    return 0; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
  }
  if (len < need)
    return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    *cp = *cp << 6 | (s[i] & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
    return 0;
  return need;
}

/* As text_utf8_next, with NUL refused: text is a C string here. */
static size_t
decode(const unsigned char *s, size_t len, uint32_t *cp)
{
  return s[0] == 0 ? 0 : text_utf8_next(s, len, cp);
}

static size_t
encode(uint32_t cp, char *out)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

bool
text_valid_utf8(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  uint32_t cp;
  while (len > 0) {
    size_t n = decode(p, len, &cp);
    if (n == 0)
      return false;
    p += n;
    len -= n;
  }
  return true;
}

size_t
text_utf8_length(const char *s)
{
  size_t count = 0;
  for (; *s; s++)
    count += ((unsigned char)*s & 0xC0) != 0x80;
  return count;
}

/*
 * Folds with lower(upper(c)), the usual approximation of Unicode simple case
 * folding: it also merges the lowercase letters that have two forms, so
 * "ΣΑΣ", "σας" and "σασ" all fold to "σασ". Returns NULL too when the
 * C.UTF-8 locale is missing (Debian's libc-bin always ships it).
 */
char *
text_fold(const char *s)
{
  locale_t utf8_locale = unicode_locale();
  if (utf8_locale == (locale_t)0)
    return NULL;

  size_t len = strlen(s);
  if (len > (SIZE_MAX - 1) / 4)
    return NULL;
  /* A code point takes at least one byte in and at most four out. */
  char *folded = malloc(4 * len + 1);
  if (folded == NULL)
    return NULL;
  const unsigned char *p = (const unsigned char *)s;
  size_t used = 0;
  while (len > 0) {
    uint32_t cp;
    size_t n = decode(p, len, &cp);
    if (n == 0) {
      free(folded);
      return NULL;
    }
    wint_t upper = towupper_l((wint_t)cp, utf8_locale);
    used += encode((uint32_t)towlower_l(upper, utf8_locale), folded + used);
    p += n;
    len -= n;
  }
  folded[used] = '\0';
  return folded;
}

size_t
text_latin1_to_utf8(const char *s, size_t len, char *out, size_t size)
{
  size_t used = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (used + (c < 0x80 ? 1 : 2) >= size)
      break;
    used += encode(c, out + used);
  }
  out[used] = '\0';
  return used;
}

size_t
text_utf8_prefix(const char *s, size_t max)
{
  size_t n = strnlen(s, max);
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--; /* s[n] continues the character s[n - 1] began */
  return n;
}

size_t
text_utf8_repair(const char *s, size_t len, char *out, size_t size)
{
  size_t used = 0;
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    size_t n = decode((const unsigned char *)s + i, len - i, &cp);
    size_t step = n ? n : 1;
    size_t need = n ? n : 3;
    if (used + need >= size)
      break;
    if (n)
      memcpy(out + used, s + i, n);
    else
      memcpy(out + used, "\xEF\xBF\xBD", 3);
    used += need;
    i += step;
  }
  out[used] = '\0';
  return used;
}

void
text_hex(const unsigned char *bytes, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0x0F];
  }
  out[2 * len] = '\0';
}

bool
text_list_next(const char **pos, const char **item, size_t *len)
{
  const char *p = *pos;
  if (*p == '\0')
    return false;
  size_t span = strcspn(p, ",");
  const char *start = p, *end = p + span;
  while (start < end && (*start == ' ' || *start == '\t'))
    start++;
  while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  *item = start;
  *len = (size_t)(end - start);
  p += span;
  *pos = *p == ',' ? p + 1 : p;
  return true;
}

size_t
text_list_capacity(const char *list)
{
  size_t count = 1;
  for (const char *p = list; *p; p++)
    count += *p == ',';
  return count;
}
