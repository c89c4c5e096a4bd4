/*
 * decimal.c - Python's repr(float) and DRF's DecimalField over decimal text.
 *
 * The shortest text of a double is found the plain way: the double printed
 * (correctly rounded, by glibc) with 1, 2, ... 17 significant digits until
 * strtod reads the same double back. Near a power of two the doubles below
 * are twice as dense as those above, so the nearest p-digit number may miss
 * while its neighbour on the other side still reads back; that neighbour is
 * tried too, which makes the result David Gay's shortest, as Python's.
 */
#include "core/decimal.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define SIGNIFICANT_MAX 17       /* digits that always identify a double */
/* The exponents Python's Decimal (libmpdec, 64-bit) takes: the adjusted one
 * (of the first digit) at most EMAX, the last digit's at least ETINY. */
#define EXPONENT_EMAX INT64_C(999999999999999999)
#define EXPONENT_ETINY INT64_C(-1999999999999999997)
#define EXPONENT_SATURATED INT64_C(4000000000000000000) /* beyond both, still an int64 */

/* ---- repr ---- */

/*
 * The significant digits of mantissa (no trailing zeros) into digits, and
 * where the point goes: the value is 0.<digits> x 10^decpt.
 */
static void
set_digits(uint64_t mantissa, int scale, char digits[24], int *decpt)
{
  int len = snprintf(digits, 24, "%" PRIu64, mantissa);
  *decpt = len + scale;
  while (len > 1 && digits[len - 1] == '0')
    digits[--len] = '\0';
}

/* The shortest digits of x (finite, > 0) that read back as x. */
static void
shortest_digits(double x, char digits[24], int *decpt)
{
  char text[48];
  for (int precision = 1; precision <= SIGNIFICANT_MAX; precision++) {
    snprintf(text, sizeof text, "%.*e", precision - 1, x);
    uint64_t mantissa = 0;
    const char *p = text;
    for (; *p != 'e'; p++)
      if (*p >= '0' && *p <= '9')
        mantissa = mantissa * 10 + (uint64_t)(*p - '0');
    int scale = atoi(p + 1) - (precision - 1); /* x ~ mantissa * 10^scale */
    double nearest = strtod(text, NULL);
    if (nearest == x || precision == SIGNIFICANT_MAX) { /* 17 digits always read back */
      set_digits(mantissa, scale, digits, decpt);
      return;
    }
    uint64_t other = nearest < x ? mantissa + 1 : mantissa - 1;
    snprintf(text, sizeof text, "%" PRIu64 "e%d", other, scale);
    if (strtod(text, NULL) == x) {
      set_digits(other, scale, digits, decpt);
      return;
    }
  }
}

size_t
decimal_repr(double value, char out[DECIMAL_REPR_MAX])
{
  if (isnan(value))
    return (size_t)snprintf(out, DECIMAL_REPR_MAX, "nan");
  if (isinf(value))
    return (size_t)snprintf(out, DECIMAL_REPR_MAX, "%sinf", value < 0 ? "-" : "");
  char *p = out;
  if (signbit(value)) {
    *p++ = '-';
    value = -value;
  }
  if (value == 0)
    return (size_t)(p - out) + (size_t)snprintf(p, 4, "0.0");
  char digits[24];
  int decpt;
  shortest_digits(value, digits, &decpt);
  int ndigits = (int)strlen(digits);
  if (decpt > -4 && decpt <= 16) { /* Python's float_repr_style 'short' */
    if (decpt <= 0) {
      p += sprintf(p, "0.");
      for (int i = 0; i < -decpt; i++)
        *p++ = '0';
      p += sprintf(p, "%s", digits);
    } else if (decpt >= ndigits) {
      p += sprintf(p, "%s", digits);
      for (int i = ndigits; i < decpt; i++)
        *p++ = '0';
      p += sprintf(p, ".0");
    } else {
      p += sprintf(p, "%.*s.%s", decpt, digits, digits + decpt);
    }
  } else {
    int exponent = decpt - 1;
    *p++ = digits[0];
    if (ndigits > 1)
      p += sprintf(p, ".%s", digits + 1);
    p += sprintf(p, "e%c%02d", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
  }
  return (size_t)(p - out);
}

/* ---- DecimalField ---- */

/* What Python's str.strip() drops, in ASCII. */
static bool
is_space(char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

/* The next character of [*p, end) that is not an underscore, or NUL. */
static char
peek(const char **p, const char *end)
{
  while (*p < end && **p == '_')
    (*p)++;
  return *p < end ? **p : '\0';
}

static bool
is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/*
 * A Python Decimal literal in [p, end): its sign, the number of digits of
 * its coefficient (leading zeros not counted, at least 1), the coefficient
 * when it has at most 18 digits, and its exponent. False when it is none.
 */
static bool
parse_literal(const char *p, const char *end, bool *negative, int64_t *ndigits,
              uint64_t *coefficient, int64_t *exponent)
{
  *negative = false;
  *ndigits = 0;
  *coefficient = 0;
  char c = peek(&p, end);
  if (c == '+' || c == '-') {
    *negative = c == '-';
    p++;
  }
  int64_t seen = 0, places = 0;
  bool point = false;
  for (;; p++) {
    c = peek(&p, end);
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (!is_digit(c))
      break;
    seen++;
    places += point;
    if (c == '0' && *ndigits == 0)
      continue; /* a leading zero */
    if (++*ndigits <= 18)
      *coefficient = *coefficient * 10 + (uint64_t)(c - '0');
  }
  if (seen == 0)
    return false;
  if (*ndigits == 0)
    *ndigits = 1; /* zero is the digit 0 */
  int64_t written = 0;
  if (c == 'e' || c == 'E') {
    p++;
    c = peek(&p, end);
    bool minus = c == '-';
    if (c == '+' || c == '-') {
      p++;
      c = peek(&p, end);
    }
    if (!is_digit(c))
      return false;
    for (; is_digit(c = peek(&p, end)); p++)
      written = written >= EXPONENT_SATURATED / 10 ? EXPONENT_SATURATED
                                                   : written * 10 + (c - '0');
    written = minus ? -written : written;
  }
  if (p != end)
    return false;
  *exponent = written - places;
  /* Beyond what Python's Decimal takes (places is at most the text's length). */
  return *exponent >= EXPONENT_ETINY && *exponent + *ndigits - 1 <= EXPONENT_EMAX;
}

int
decimal_parse(const char *text, const struct decimal_rules *rules, int64_t *scaled,
              char message[DECIMAL_MESSAGE_MAX])
{
  const char *start = text, *end = text + strlen(text);
  while (start < end && is_space(*start))
    start++;
  while (end > start && is_space(end[-1]))
    end--;
  size_t characters = 0;
  for (const char *p = start; p < end; p++)
    characters += ((unsigned char)*p & 0xc0) != 0x80;
  if (characters > DECIMAL_MAX_STRING_LENGTH) {
    snprintf(message, DECIMAL_MESSAGE_MAX, "String value too large.");
    return EVENTAPI_EINVAL;
  }
  bool negative;
  int64_t ndigits, exponent;
  uint64_t coefficient;
  if (!parse_literal(start, end, &negative, &ndigits, &coefficient, &exponent)) {
    snprintf(message, DECIMAL_MESSAGE_MAX, "A valid number is required.");
    return EVENTAPI_EINVAL;
  }
  /* DRF's validate_precision, on the Decimal's digits and exponent. */
  int64_t total, whole, places;
  if (exponent >= 0) {
    total = ndigits + exponent;
    whole = total;
    places = 0;
  } else if (ndigits > -exponent) {
    total = ndigits;
    whole = ndigits + exponent;
    places = -exponent;
  } else {
    total = -exponent;
    whole = 0;
    places = total;
  }
  if (total > rules->max_digits) {
    snprintf(message, DECIMAL_MESSAGE_MAX,
             "Ensure that there are no more than %d digits in total.", rules->max_digits);
    return EVENTAPI_EINVAL;
  }
  if (places > rules->decimal_places) {
    snprintf(message, DECIMAL_MESSAGE_MAX,
             "Ensure that there are no more than %d decimal places.", rules->decimal_places);
    return EVENTAPI_EINVAL;
  }
  if (whole > rules->max_digits - rules->decimal_places) {
    snprintf(message, DECIMAL_MESSAGE_MAX,
             "Ensure that there are no more than %d digits before the decimal point.",
             rules->max_digits - rules->decimal_places);
    return EVENTAPI_EINVAL;
  }
  /* Now ndigits <= total <= max_digits <= 18 and 0 <= exponent + decimal_places. */
  int64_t value = (int64_t)coefficient;
  for (int64_t i = 0; i < exponent + rules->decimal_places; i++)
    value *= 10;
  *scaled = negative ? -value : value;
  return 0;
}
