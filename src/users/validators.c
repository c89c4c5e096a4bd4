/*
 * validators.c - Django's user field validators, with Django's messages.
 *
 * Letters, digits and case are classified with a private C.UTF-8 locale
 * object, so the answers never depend on the process locale. Python's own
 * notions are kept where glibc's differ and they matter: str.isdigit() and
 * str.isspace() come from small tables below.
 */
#include "users/validators.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>
#include <zlib.h>

#include "core/error.h"

/* ---------------------------------------------------------------------- */
/* Unicode                                                                 */

static pthread_once_t locale_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale; /* (locale_t)0 when C.UTF-8 is missing */

static void
locale_setup(void)
{
  utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t
unicode_locale(void)
{
  pthread_once(&locale_once, locale_setup);
  return utf8_locale;
}

static bool is_digit(uint32_t cp);

/*
 * Python's \w: letters, digits and underscore, in the Unicode sense, as
 * glibc's C.UTF-8 classifies them, plus what Python's str.isdigit() accepts
 * (superscripts, circled digits...), which glibc leaves out. Without the
 * C.UTF-8 locale only ASCII counts, so nothing non-ASCII gets through.
 */
static bool
is_word(uint32_t cp)
{
  locale_t loc;

  if (cp < 0x80)
    return cp == '_' || (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
           (cp >= 'A' && cp <= 'Z');
  loc = unicode_locale();
  return loc != (locale_t)0 && (iswalnum_l((wint_t)cp, loc) || is_digit(cp));
}

/*
 * Python's str.lower() for one code point, written to out (room for 2).
 * Returns the number of code points written. glibc gives the simple case
 * mapping; Python also applies the one unconditional special one, U+0130
 * (capital I with dot above) to "i" U+0307. (Python's final-sigma rule is
 * not followed: a final capital sigma lowers to U+03C3 here.)
 */
static size_t
to_lower(uint32_t cp, uint32_t out[2])
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

/* Python's str.isspace() for one code point. */
static bool
is_space(uint32_t cp)
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

/*
 * Python's str.isdigit() for one code point: Unicode Numeric_Type Decimal or
 * Digit (Unicode 14, as in Python 3.11). glibc's iswdigit knows only 0-9.
 */
static bool
is_digit(uint32_t cp)
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

/*
 * Decodes one code point from s[*at..len) and advances *at. Strict UTF-8:
 * no overlong forms, surrogates or values above U+10FFFF. Returns false on
 * a malformed sequence (and then advances by one byte).
 */
static bool
utf8_next(const unsigned char *s, size_t len, size_t *at, uint32_t *cp)
{
  size_t i = *at;
  unsigned char lead = s[i];
  size_t extra;
  uint32_t value, min;

  if (lead < 0x80) {
    *cp = lead;
    *at = i + 1;
    return true;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    extra = 1; value = lead & 0x1F; min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    extra = 2; value = lead & 0x0F; min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    extra = 3; value = lead & 0x07; min = 0x10000;
  } else {
    *at = i + 1;
    return false;
  }
  if (len - i - 1 < extra) {
    *at = i + 1;
    return false;
  }
  for (size_t k = 1; k <= extra; k++) {
    if ((s[i + k] & 0xC0) != 0x80) {
      *at = i + 1;
      return false;
    }
    value = (value << 6) | (s[i + k] & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    *at = i + 1;
    return false;
  }
  *cp = value;
  *at = i + 1 + extra;
  return true;
}

/*
 * Decodes s into a malloc'd array of code points (count in *count), each
 * malformed byte becoming U+FFFD, lower-cased as Python's str.lower() when
 * lower is set. NULL when out of memory.
 */
static uint32_t *
utf8_decode(const char *s, bool lower, size_t *count)
{
  const unsigned char *bytes = (const unsigned char *)s;
  size_t len = strlen(s), at = 0, n = 0;
  uint32_t *out = malloc((2 * len + 1) * sizeof *out);

  if (out == NULL)
    return NULL;
  while (at < len) {
    uint32_t cp;
    if (!utf8_next(bytes, len, &at, &cp))
      cp = 0xFFFD;
    if (lower)
      n += to_lower(cp, out + n);
    else
      out[n++] = cp;
  }
  *count = n;
  return out;
}

/* Encodes cps[0..n) as a malloc'd NUL-terminated UTF-8 string. */
static char *
utf8_encode(const uint32_t *cps, size_t n)
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

/*
 * Python's s.lower().strip() as a malloc'd UTF-8 string (bad bytes become
 * U+FFFD). NULL when out of memory.
 */
static char *
lower_strip(const char *s)
{
  size_t n, start = 0;
  uint32_t *cps = utf8_decode(s, true, &n);
  char *out;

  if (cps == NULL)
    return NULL;
  while (n > start && is_space(cps[n - 1]))
    n--;
  while (start < n && is_space(cps[start]))
    start++;
  out = utf8_encode(cps + start, n - start);
  free(cps);
  return out;
}

/* ---------------------------------------------------------------------- */
/* Username                                                                */

/* Django's UnicodeUsernameValidator: ^[\w.@+-]+\Z */
bool
users_username_valid(const char *username)
{
  const unsigned char *bytes = (const unsigned char *)username;
  size_t len, at = 0;

  if (username == NULL || username[0] == '\0')
    return false;
  len = strlen(username);
  while (at < len) {
    uint32_t cp;
    if (!utf8_next(bytes, len, &at, &cp))
      return false;
    if (cp != '.' && cp != '@' && cp != '+' && cp != '-' && !is_word(cp))
      return false;
  }
  return true;
}

/* ---------------------------------------------------------------------- */
/* Email                                                                   */

static bool
ascii_alnum(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

static bool
ascii_hex(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* RFC 5322 atext, as in Django's dot-atom [-!#$%&'*+/=?^_`{}|~0-9A-Z]. */
static bool
is_atext(unsigned char c)
{
  return ascii_alnum(c) || (c != '\0' && strchr("-!#$%&'*+/=?^_`{}|~", c));
}

/* Django's quoted-string text: [\001-\010\013\014\016-\037!#-\[\]-\177] */
static bool
is_qtext(unsigned char c)
{
  return (c >= 1 && c <= 8) || c == 11 || c == 12 || (c >= 14 && c <= 31) ||
         c == '!' || (c >= '#' && c <= '[') || (c >= ']' && c <= 127);
}

/* What may follow a backslash: [\001-\011\013\014\016-\177] */
static bool
is_quoted_pair(unsigned char c)
{
  return (c >= 1 && c <= 9) || c == 11 || c == 12 || (c >= 14 && c <= 127);
}

/* Django's user_regex: a dot-atom or a quoted-string. */
static bool
email_user_valid(const unsigned char *user, size_t len)
{
  if (len >= 2 && user[0] == '"') {
    size_t i = 1;
    while (i < len) {
      if (user[i] == '"')
        return i == len - 1;
      if (user[i] == '\\') {
        if (i + 1 >= len || !is_quoted_pair(user[i + 1]))
          return false;
        i += 2;
      } else if (is_qtext(user[i])) {
        i++;
      } else {
        return false;
      }
    }
    return false;
  }
  /* Atoms of atext separated by single dots, none empty. */
  if (len == 0 || user[0] == '.' || user[len - 1] == '.')
    return false;
  for (size_t i = 0; i < len; i++) {
    if (user[i] == '.') {
      if (user[i + 1] == '.')
        return false;
    } else if (!is_atext(user[i])) {
      return false;
    }
  }
  return true;
}

/*
 * Django's domain_regex:
 * ((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\Z
 * Note that the last label may hold digits and start with '-'.
 */
static bool
email_hostname_valid(const unsigned char *domain, size_t len)
{
  const unsigned char *last_dot = NULL;
  size_t tld_len, label_start = 0;

  for (size_t i = 0; i < len; i++)
    if (domain[i] == '.')
      last_dot = domain + i;
  if (last_dot == NULL)
    return false;

  tld_len = len - (size_t)(last_dot + 1 - domain);
  if (tld_len < 2 || tld_len > 63 || last_dot[tld_len] == '-')
    return false;
  for (size_t i = 1; i <= tld_len; i++)
    if (!ascii_alnum(last_dot[i]) && last_dot[i] != '-')
      return false;

  /* Every label up to and including the last dot. */
  for (size_t i = 0; domain + i <= last_dot; i++) {
    if (domain[i] != '.')
      continue;
    size_t label_len = i - label_start;
    const unsigned char *label = domain + label_start;
    if (label_len == 0 || label_len > 63 || !ascii_alnum(label[0]) ||
        !ascii_alnum(label[label_len - 1]))
      return false;
    for (size_t k = 1; k + 1 < label_len; k++)
      if (!ascii_alnum(label[k]) && label[k] != '-')
        return false;
    label_start = i + 1;
  }
  return true;
}

/* Python's ipaddress.IPv4Address(): four decimal octets, no leading zeros. */
static bool
ipv4_valid(const unsigned char *s, size_t len)
{
  size_t octets = 0, i = 0;

  while (octets < 4) {
    size_t start = i;
    unsigned value = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (unsigned)(s[i] - '0');
      if (i - start >= 3)
        return false;
      i++;
    }
    if (i == start || value > 255 || (s[start] == '0' && i - start > 1))
      return false;
    octets++;
    if (octets < 4) {
      if (i >= len || s[i] != '.')
        return false;
      i++;
    }
  }
  return i == len;
}

static bool
hextet_valid(const unsigned char *s, size_t len)
{
  if (len == 0 || len > 4)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!ascii_hex(s[i]))
      return false;
  return true;
}

/*
 * Django's is_valid_ipv6_address(): at most 39 characters, then Python's
 * ipaddress.IPv6Address() rules, followed step by step.
 */
static bool
ipv6_valid(const unsigned char *s, size_t len)
{
  static const unsigned char zero[] = "0";
  struct { const unsigned char *at; size_t len; } parts[41];
  size_t count = 0, start = 0, hi, lo;
  long skip = -1;

  if (len == 0 || len > 39)
    return false;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || s[i] == ':') {
      parts[count].at = s + start;
      parts[count].len = i - start;
      count++;
      start = i + 1;
    }
  }
  if (count < 3)
    return false;
  /* A dotted IPv4 suffix stands for the last two hextets. */
  if (memchr(parts[count - 1].at, '.', parts[count - 1].len)) {
    if (!ipv4_valid(parts[count - 1].at, parts[count - 1].len))
      return false;
    parts[count - 1].at = zero;
    parts[count - 1].len = 1;
    parts[count].at = zero;
    parts[count].len = 1;
    count++;
  }
  if (count > 9)
    return false;
  for (size_t i = 1; i + 1 < count; i++) {
    if (parts[i].len == 0) {
      if (skip >= 0)
        return false; /* at most one "::" */
      skip = (long)i;
    }
  }
  if (skip >= 0) {
    hi = (size_t)skip;
    lo = count - (size_t)skip - 1;
    if (parts[0].len == 0 && --hi != 0)
      return false;
    if (parts[count - 1].len == 0 && --lo != 0)
      return false;
    if (hi + lo > 7)
      return false;
  } else {
    if (count != 8 || parts[0].len == 0 || parts[count - 1].len == 0)
      return false;
    hi = count;
    lo = 0;
  }
  for (size_t i = 0; i < hi; i++)
    if (!hextet_valid(parts[i].at, parts[i].len))
      return false;
  for (size_t i = count - lo; i < count; i++)
    if (!hextet_valid(parts[i].at, parts[i].len))
      return false;
  return true;
}

/* Django's validate_domain_part(): a hostname or an [IPv4]/[IPv6] literal. */
static bool
email_domain_valid(const unsigned char *domain, size_t len)
{
  if (email_hostname_valid(domain, len))
    return true;
  if (len >= 3 && domain[0] == '[' && domain[len - 1] == ']')
    return ipv4_valid(domain + 1, len - 2) || ipv6_valid(domain + 1, len - 2);
  return false;
}

/*
 * Django's EmailValidator. Only ASCII is accepted: Django would also
 * convert an internationalised domain to punycode, and its case-insensitive
 * regexes match a few non-ASCII look-alikes (U+017F, U+212A, U+0130,
 * U+0131); both are refused here.
 */
bool
users_email_valid(const char *email)
{
  const unsigned char *bytes = (const unsigned char *)email;
  const unsigned char *at = NULL;
  size_t len;

  if (email == NULL)
    return false;
  len = strlen(email);
  /* The maximum length of an email is 320 characters (RFC 3696). */
  if (len == 0 || len > 320)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (bytes[i] >= 0x80)
      return false;
    if (bytes[i] == '@')
      at = bytes + i;
  }
  if (at == NULL)
    return false;
  if (!email_user_valid(bytes, (size_t)(at - bytes)))
    return false;
  /* Django's domain_allowlist, compared exactly. */
  if (strcmp((const char *)at + 1, "localhost") == 0)
    return true;
  return email_domain_valid(at + 1, len - (size_t)(at + 1 - bytes));
}

/* ---------------------------------------------------------------------- */
/* Common passwords                                                        */

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
 * Reads one whole line of any length into *line (grown as needed). Returns
 * 1 for a line, 0 at the end of the file (or on a read error, which gzerror
 * then reports), or EVENTAPI_ENOMEM.
 */
static int
gz_read_line(gzFile file, char **line, size_t *cap)
{
  size_t used = 0;

  for (;;) {
    if (*cap - used < 2) {
      size_t grown = *cap == 0 ? 256 : 2 * *cap;
      char *bigger = grown > INT_MAX ? NULL : realloc(*line, grown);
      if (bigger == NULL)
        return EVENTAPI_ENOMEM;
      *line = bigger;
      *cap = grown;
    }
    if (gzgets(file, *line + used, (int)(*cap - used)) == NULL)
      return used > 0;
    used += strlen(*line + used);
    if (used > 0 && (*line)[used - 1] == '\n')
      return 1;
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
    int got = gz_read_line(file, &line, &cap);
    if (got <= 0) {
      rc = got;
      break;
    }
    entry = lower_strip(line);
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

static bool
password_is_common(const char *normalized)
{
  if (common.slots != NULL)
    return set_contains(&common, normalized);
  for (size_t i = 0; i < sizeof builtin_common / sizeof builtin_common[0]; i++)
    if (strcmp(builtin_common[i], normalized) == 0)
      return true;
  return false;
}

/* ---------------------------------------------------------------------- */
/* Password validation                                                     */

#define MAX_SIMILARITY_NUM 7 /* max_similarity = 0.7 = 7 / 10 */
#define MAX_SIMILARITY_DEN 10
#define MIN_LENGTH 8

static int
compare_code_points(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return (x > y) - (x < y);
}

/*
 * Python's SequenceMatcher(a, b).quick_ratio() >= 0.7, in integers:
 * 2 * M / (len(a) + len(b)) where M is the size of the multiset
 * intersection. Both arrays must be sorted. Empty against empty is 1.0.
 */
static bool
quick_ratio_reaches(const uint32_t *a, size_t a_len, const uint32_t *b,
                    size_t b_len)
{
  size_t i = 0, j = 0, matches = 0;

  while (i < a_len && j < b_len) {
    if (a[i] < b[j]) {
      i++;
    } else if (a[i] > b[j]) {
      j++;
    } else {
      matches++;
      i++;
      j++;
    }
  }
  return 2 * matches * MAX_SIMILARITY_DEN >=
         MAX_SIMILARITY_NUM * (a_len + b_len);
}

/*
 * Django's exceeds_maximum_length_ratio(): a part far shorter than the
 * password is not compared. pwd_len >= 10 * value_len and
 * value_len < max_similarity / 2 * pwd_len.
 */
static bool
exceeds_length_ratio(size_t password_len, size_t value_len)
{
  return password_len >= 10 * value_len &&
         2 * MAX_SIMILARITY_DEN * value_len < MAX_SIMILARITY_NUM * password_len;
}

/*
 * True when the lowered, sorted password is too similar to value or one of
 * its \W+-separated parts. Returns -1 when out of memory.
 */
static int
too_similar(const uint32_t *password, size_t password_len, const char *value)
{
  size_t value_len;
  uint32_t *lowered = utf8_decode(value, true, &value_len);
  uint32_t *part;
  size_t start = 0;
  int similar = 0;

  if (lowered == NULL)
    return -1;
  part = malloc((value_len + 1) * sizeof *part);
  if (part == NULL) {
    free(lowered);
    return -1;
  }

  /* re.split(r'\W+', value) + [value]: the pieces, then the whole. */
  for (size_t i = 0; i <= value_len + 1 && !similar; i++) {
    size_t part_start, part_len;

    if (i == value_len + 1) {
      part_start = 0;
      part_len = value_len;
    } else if (i == value_len || !is_word(lowered[i])) {
      part_start = start;
      part_len = i - start;
      while (i + 1 < value_len && !is_word(lowered[i + 1]))
        i++; /* one separator run */
      start = i + 1;
    } else {
      continue;
    }
    if (exceeds_length_ratio(password_len, part_len))
      continue;
    memcpy(part, lowered + part_start, part_len * sizeof *part);
    qsort(part, part_len, sizeof *part, compare_code_points);
    similar = quick_ratio_reaches(password, password_len, part, part_len);
  }
  free(part);
  free(lowered);
  return similar;
}

static int
add_message(json_t *messages, const char *text)
{
  if (messages != NULL &&
      json_array_append_new(messages, json_string(text)) != 0)
    return EVENTAPI_ENOMEM;
  return 1;
}

/*
 * Appends Django's messages for password to messages. Returns how many were
 * added, or EVENTAPI_ENOMEM (then messages may hold some of them): a caller
 * must treat a negative result as a failure, never as "no messages".
 */
int
users_password_validate(const char *password, const char *username,
                        const char *email, const char *first_name,
                        const char *last_name, json_t *messages)
{
  /* Django's default user_attributes, with their verbose names. */
  const struct {
    const char *verbose_name;
    const char *value;
  } attributes[] = {
    { "username", username }, { "first name", first_name },
    { "last name", last_name }, { "email address", email },
  };
  uint32_t *cps;
  size_t len;
  char *normalized;
  bool numeric;
  int added = 0, rc;

  if (password == NULL)
    password = "";

  /* 1. UserAttributeSimilarityValidator: the first similar attribute only,
   * on the lower-cased password. */
  cps = utf8_decode(password, true, &len);
  if (cps == NULL)
    return EVENTAPI_ENOMEM;
  qsort(cps, len, sizeof *cps, compare_code_points);
  for (size_t i = 0; i < sizeof attributes / sizeof attributes[0]; i++) {
    const char *value = attributes[i].value;
    char text[64];

    if (value == NULL || value[0] == '\0')
      continue;
    rc = too_similar(cps, len, value);
    if (rc < 0) {
      free(cps);
      return EVENTAPI_ENOMEM;
    }
    if (rc > 0) {
      snprintf(text, sizeof text, "The password is too similar to the %s.",
               attributes[i].verbose_name);
      if (add_message(messages, text) < 0) {
        free(cps);
        return EVENTAPI_ENOMEM;
      }
      added++;
      break;
    }
  }
  free(cps);

  /* 2. MinimumLengthValidator(8), counted in code points. */
  cps = utf8_decode(password, false, &len);
  if (cps == NULL)
    return EVENTAPI_ENOMEM;
  numeric = len > 0;
  for (size_t i = 0; i < len && numeric; i++)
    numeric = is_digit(cps[i]);
  free(cps);
  if (len < MIN_LENGTH) {
    if (add_message(messages, "This password is too short. It must contain "
                              "at least 8 characters.") < 0)
      return EVENTAPI_ENOMEM;
    added++;
  }

  /* 3. CommonPasswordValidator: password.lower().strip() in the list. */
  normalized = lower_strip(password);
  if (normalized == NULL)
    return EVENTAPI_ENOMEM;
  if (password_is_common(normalized)) {
    if (add_message(messages, "This password is too common.") < 0) {
      free(normalized);
      return EVENTAPI_ENOMEM;
    }
    added++;
  }
  free(normalized);

  /* 4. NumericPasswordValidator: Python's str.isdigit(). */
  if (numeric) {
    if (add_message(messages, "This password is entirely numeric.") < 0)
      return EVENTAPI_ENOMEM;
    added++;
  }
  return added;
}
