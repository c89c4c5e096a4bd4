/*
 * unicode.c - Python's notions of characters (see unicode.h).
 */
#include "core/unicode.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "core/text.h"

static pthread_once_t locale_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale; /* (locale_t)0 when C.UTF-8 is missing */

static void
locale_setup(void)
{
  utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

locale_t
unicode_locale(void)
{
  pthread_once(&locale_once, locale_setup);
  return utf8_locale;
}

bool
unicode_is_digit(uint32_t cp)
{
  static const uint32_t ranges[][2] = {
    {0x00B2, 0x00B3}, {0x00B9, 0x00B9}, {0x0660, 0x0669}, {0x06F0, 0x06F9},
    {0x07C0, 0x07C9}, {0x0966, 0x096F}, {0x09E6, 0x09EF}, {0x0A66, 0x0A6F},
    {0x0AE6, 0x0AEF}, {0x0B66, 0x0B6F}, {0x0BE6, 0x0BEF}, {0x0C66, 0x0C6F},
    {0x0CE6, 0x0CEF}, {0x0D66, 0x0D6F}, {0x0DE6, 0x0DEF}, {0x0E50, 0x0E59},
    {0x0ED0, 0x0ED9}, {0x0F20, 0x0F29}, {0x1040, 0x1049}, {0x1090, 0x1099},
    {0x1369, 0x1371}, {0x17E0, 0x17E9}, {0x1810, 0x1819}, {0x1946, 0x194F},
    {0x19D0, 0x19DA}, {0x1A80, 0x1A89}, {0x1A90, 0x1A99}, {0x1B50, 0x1B59},
    {0x1BB0, 0x1BB9}, {0x1C40, 0x1C49}, {0x1C50, 0x1C59}, {0x2070, 0x2070},
    {0x2074, 0x2079}, {0x2080, 0x2089}, {0x2460, 0x2468}, {0x2474, 0x247C},
    {0x2488, 0x2490}, {0x24EA, 0x24EA}, {0x24F5, 0x24FD}, {0x24FF, 0x24FF},
    {0x2776, 0x277E}, {0x2780, 0x2788}, {0x278A, 0x2792}, {0xA620, 0xA629},
    {0xA8D0, 0xA8D9}, {0xA900, 0xA909}, {0xA9D0, 0xA9D9}, {0xA9F0, 0xA9F9},
    {0xAA50, 0xAA59}, {0xABF0, 0xABF9}, {0xFF10, 0xFF19}, {0x104A0, 0x104A9},
    {0x10A40, 0x10A43}, {0x10D30, 0x10D39}, {0x10E60, 0x10E68},
    {0x11052, 0x1105A}, {0x11066, 0x1106F}, {0x110F0, 0x110F9},
    {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x112F0, 0x112F9},
    {0x11450, 0x11459}, {0x114D0, 0x114D9}, {0x11650, 0x11659},
    {0x116C0, 0x116C9}, {0x11730, 0x11739}, {0x118E0, 0x118E9},
    {0x11950, 0x11959}, {0x11C50, 0x11C59}, {0x11D50, 0x11D59},
    {0x11DA0, 0x11DA9}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9},
    {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149},
    {0x1E2F0, 0x1E2F9}, {0x1E950, 0x1E959}, {0x1F100, 0x1F10A},
    {0x1FBF0, 0x1FBF9},
  };
  size_t lo = 0, hi = sizeof ranges / sizeof ranges[0];

  if (cp < 0x80)
    return cp >= '0' && cp <= '9';
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cp < ranges[mid][0])
      hi = mid;
    else if (cp > ranges[mid][1])
      lo = mid + 1;
    else
      return true;
  }
  return false;
}

bool
unicode_is_word(uint32_t cp)
{
  locale_t loc;

  if (cp < 0x80)
    return cp == '_' || (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
           (cp >= 'A' && cp <= 'Z');
  loc = unicode_locale();
  return loc != (locale_t)0 && (iswalnum_l((wint_t)cp, loc) || unicode_is_digit(cp));
}

size_t
unicode_lower(uint32_t cp, uint32_t out[2])
{
  locale_t loc;

  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
    return 1;
  }
  if (cp == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  loc = unicode_locale();
  out[0] = loc != (locale_t)0 ? (uint32_t)towlower_l((wint_t)cp, loc) : cp;
  return 1;
}

bool
unicode_is_space(uint32_t cp)
{
  static const uint32_t others[] = {
    0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
  };

  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) ||
      (cp >= 0x2000 && cp <= 0x200A))
    return true;
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
    if (cp == others[i])
      return true;
  return false;
}

uint32_t *
unicode_decode(const char *s, bool lower, size_t *count)
{
  const unsigned char *bytes = (const unsigned char *)s;
  size_t len = strlen(s), at = 0, n = 0;
  uint32_t *out = malloc((2 * len + 1) * sizeof *out);

  if (out == NULL)
    return NULL;
  while (at < len) {
    uint32_t cp;
    size_t used = text_utf8_next(bytes + at, len - at, &cp);
    if (used == 0) {
      cp = 0xFFFD;
      used = 1;
    }
    at += used;
    if (lower)
      n += unicode_lower(cp, out + n);
    else
      out[n++] = cp;
  }
  *count = n;
  return out;
}

char *
unicode_encode(const uint32_t *cps, size_t n)
{
  char *out = malloc(4 * n + 1);
  size_t at = 0;

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = cps[i];
    if (cp < 0x80) {
      out[at++] = (char)cp;
    } else if (cp < 0x800) {
      out[at++] = (char)(0xC0 | (cp >> 6));
      out[at++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out[at++] = (char)(0xE0 | (cp >> 12));
      out[at++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      out[at++] = (char)(0x80 | (cp & 0x3F));
    } else {
      out[at++] = (char)(0xF0 | (cp >> 18));
      out[at++] = (char)(0x80 | ((cp >> 12) & 0x3F));
      out[at++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      out[at++] = (char)(0x80 | (cp & 0x3F));
    }
  }
  out[at] = '\0';
  return out;
}

char *
unicode_lower_strip(const char *s)
{
  size_t n, start = 0;
  uint32_t *cps = unicode_decode(s, true, &n);
  char *out;

  if (cps == NULL)
    return NULL;
  while (n > start && unicode_is_space(cps[n - 1]))
    n--;
  while (start < n && unicode_is_space(cps[start]))
    start++;
  out = unicode_encode(cps + start, n - start);
  free(cps);
  return out;
}
