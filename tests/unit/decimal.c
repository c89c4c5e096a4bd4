/*
 * decimal.c - Python's repr(float) and DRF's DecimalField checks on the
 * text of a decimal number (core/decimal.h).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/decimal.h"
#include "core/error.h"

static const char *
repr(double value)
{
  static char out[DECIMAL_REPR_MAX];
  size_t len = decimal_repr(value, out);
  cr_assert_eq(len, strlen(out));
  return out;
}

Test(decimal, repr_is_the_shortest_text_that_reads_back)
{
  cr_assert_str_eq(repr(0.3), "0.3");
  cr_assert_str_eq(repr(0.1 + 0.2), "0.30000000000000004");
  cr_assert_str_eq(repr(0.30000000000000004), "0.30000000000000004");
  cr_assert_str_eq(repr(19.99), "19.99");
  cr_assert_str_eq(repr(123456.785), "123456.785");
  cr_assert_str_eq(repr(1.7976931348623157e308), "1.7976931348623157e+308");
  cr_assert_str_eq(repr(5e-324), "5e-324");
  cr_assert_str_eq(repr(-2.5), "-2.5");
}

/* Near a power of two the nearest short text may not read back, another may. */
Test(decimal, repr_finds_the_neighbour_that_reads_back)
{
  cr_assert_str_eq(repr(ldexp(1.0, -1017)), "7.120236347223045e-307");
  cr_assert_str_eq(repr(ldexp(1.0, -1007)), "7.291122019556398e-304");
}

Test(decimal, repr_notation_follows_python)
{
  cr_assert_str_eq(repr(1.0), "1.0");
  cr_assert_str_eq(repr(1000.0), "1000.0");
  cr_assert_str_eq(repr(1e15), "1000000000000000.0");
  cr_assert_str_eq(repr(1e16), "1e+16");
  cr_assert_str_eq(repr(1.5e16), "1.5e+16");
  cr_assert_str_eq(repr(0.0001), "0.0001");
  cr_assert_str_eq(repr(0.00001), "1e-05");
  cr_assert_str_eq(repr(1e-7), "1e-07");
  cr_assert_str_eq(repr(1.25e-7), "1.25e-07");
  cr_assert_str_eq(repr(1e100), "1e+100");
  cr_assert_str_eq(repr(0.0), "0.0");
  cr_assert_str_eq(repr(-0.0), "-0.0");
  cr_assert_str_eq(repr(INFINITY), "inf");
  cr_assert_str_eq(repr(-INFINITY), "-inf");
  cr_assert_str_eq(repr(NAN), "nan");
}

static const struct decimal_rules money = {.max_digits = 8, .decimal_places = 2};
static const struct decimal_rules wide = {.max_digits = 12, .decimal_places = 6};

static long long
parsed(const char *text, const struct decimal_rules *rules)
{
  int64_t scaled = -1;
  char message[DECIMAL_MESSAGE_MAX] = "";
  cr_assert_eq(decimal_parse(text, rules, &scaled, message), 0, "\"%s\": %s", text, message);
  return (long long)scaled;
}

static const char *
refused(const char *text, const struct decimal_rules *rules)
{
  int64_t scaled;
  static char message[DECIMAL_MESSAGE_MAX];
  cr_assert_eq(decimal_parse(text, rules, &scaled, message), EVENTAPI_EINVAL, "\"%s\"", text);
  return message;
}

Test(decimal, parse_reads_python_decimal_literals)
{
  cr_assert_eq(parsed("12.5", &money), 1250);
  cr_assert_eq(parsed("+.5e-1", &money), 5);
  cr_assert_eq(parsed("1.", &money), 100);
  cr_assert_eq(parsed("\t 7 \n", &money), 700);
  cr_assert_eq(parsed("1_2_3", &money), 12300);
  cr_assert_eq(parsed("-3.25", &money), -325);
  cr_assert_eq(parsed("000000000012.50", &money), 1250);
  cr_assert_eq(parsed("0.000001", &wide), 1);
  cr_assert_eq(parsed("123456.123456", &wide), 123456123456);
  const char *invalid[] = { "", " ", ".", "e5", "1e", "1e+", "--1", "1 2", "0x10", "1,5",
                            "inf", "Infinity", "nan", "sNaN", "abc", "1.2.3", "_" };
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
    cr_assert_str_eq(refused(invalid[i], &money), "A valid number is required.", "\"%s\"",
                     invalid[i]);
}

/* DRF's validate_precision counts on the Decimal's digits and exponent. */
Test(decimal, parse_checks_digits_in_drfs_order)
{
  cr_assert_str_eq(refused("123456789", &money),
                   "Ensure that there are no more than 8 digits in total.");
  cr_assert_str_eq(refused("0.30000000000000004", &money),
                   "Ensure that there are no more than 8 digits in total.");
  cr_assert_str_eq(refused("0.001", &money),
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_eq(parsed("1.10", &money), 110);
  cr_assert_str_eq(refused("1.100", &money),
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_str_eq(refused("1000000", &money),
                   "Ensure that there are no more than 6 digits before the decimal point.");
  cr_assert_str_eq(refused("1e6", &money),
                   "Ensure that there are no more than 6 digits before the decimal point.");
  cr_assert_eq(parsed("9.9999999e5", &money), 99999999);
  cr_assert_str_eq(refused("1234567.1", &wide),
                   "Ensure that there are no more than 6 digits before the decimal point.");
  cr_assert_str_eq(refused("1e-13", &wide),
                   "Ensure that there are no more than 12 digits in total.");
}

/* Python's Decimal refuses exponents out of its range; the digits refuse the rest. */
Test(decimal, parse_bounds_the_exponent_as_python_does)
{
  const char *digits = "Ensure that there are no more than 8 digits in total.";
  const char *invalid = "A valid number is required.";
  cr_assert_str_eq(refused("1e999999999999999999", &money), digits);
  cr_assert_str_eq(refused("0.1e1000000000000000000", &money), digits);
  cr_assert_str_eq(refused("1e1000000000000000000", &money), invalid);
  cr_assert_str_eq(refused("10e999999999999999999", &money), invalid);
  cr_assert_str_eq(refused("0e1000000000000000000", &money), invalid);
  cr_assert_str_eq(refused("1e99999999999999999999999999", &money), invalid);
  cr_assert_str_eq(refused("12e-1999999999999999997", &money), digits);
  cr_assert_str_eq(refused("1.5e-1999999999999999997", &money), invalid);
  cr_assert_str_eq(refused("1e-99999999999999999999999999", &money), invalid);
  cr_assert_eq(parsed("0e-1", &money), 0);
}
