/*
 * email.c - Django's EmailValidator (see email.h): the local part as a
 * dot-atom or a quoted string, the domain as a hostname or an IPv4 or IPv6
 * literal, each as Django's regular expressions and Python's ipaddress
 * module read them.
 */
#include "users/email.h"

#include <stddef.h>
#include <string.h>

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
