#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "events/serializers.h"

static int64_t
parse_ok(json_t *value)
{
  int64_t cents = -1;
  char message[DECIMAL_MESSAGE_MAX] = "";
  int rc = events_money_parse(value, &cents, message);
  cr_assert_eq(rc, 0, "refused: %s", message);
  json_decref(value);
  return cents;
}

static const char *
parse_error(json_t *value)
{
  int64_t cents;
  static char message[DECIMAL_MESSAGE_MAX];
  cr_assert_eq(events_money_parse(value, &cents, message), EVENTAPI_EINVAL);
  json_decref(value);
  return message;
}

Test(money, strings)
{
  cr_assert_eq(parse_ok(json_string("50.00")), 5000);
  cr_assert_eq(parse_ok(json_string("50")), 5000);
  cr_assert_eq(parse_ok(json_string("0.5")), 50);
  cr_assert_eq(parse_ok(json_string(".05")), 5);
  cr_assert_eq(parse_ok(json_string("0")), 0);
  cr_assert_eq(parse_ok(json_string("007.10")), 710);
  cr_assert_eq(parse_ok(json_string("999999.99")), 99999999);
  cr_assert_eq(parse_ok(json_string(" 12.30 ")), 1230);
}

Test(money, numbers_without_floating_point_error)
{
  cr_assert_eq(parse_ok(json_integer(12)), 1200);
  cr_assert_eq(parse_ok(json_real(10.5)), 1050);
  cr_assert_eq(parse_ok(json_real(0.1)), 10);
  cr_assert_eq(parse_ok(json_real(19.99)), 1999);
  cr_assert_eq(parse_ok(json_real(999999.99)), 99999999);
}

Test(money, drf_messages)
{
  cr_assert_str_eq(parse_error(json_string("abc")), "A valid number is required.");
  cr_assert_str_eq(parse_error(json_string("")), "A valid number is required.");
  cr_assert_str_eq(parse_error(json_string("1e3.5")), "A valid number is required.");
  cr_assert_str_eq(parse_error(json_string("Infinity")), "A valid number is required.");
  cr_assert_str_eq(parse_error(json_string("NaN")), "A valid number is required.");
  cr_assert_str_eq(parse_error(json_true()), "A valid number is required.");
  cr_assert_str_eq(parse_error(json_string("10.123")),
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_str_eq(parse_error(json_real(10.505)),
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_str_eq(parse_error(json_string("1000000")),
                   "Ensure that there are no more than 6 digits before the decimal point.");
  cr_assert_str_eq(parse_error(json_string("123456789")),
                   "Ensure that there are no more than 8 digits in total.");
  cr_assert_str_eq(parse_error(json_string("-1")),
                   "Ensure this value is greater than or equal to 0.");
  cr_assert_str_eq(parse_error(json_integer(-5)),
                   "Ensure this value is greater than or equal to 0.");
}

/* DRF reads str(value): a float as Python prints it, a string as a Decimal. */
Test(money, numbers_are_read_as_python_prints_them)
{
  cr_assert_str_eq(parse_error(json_real(0.30000000000000004)),
                   "Ensure that there are no more than 8 digits in total.");
  cr_assert_str_eq(parse_error(json_real(0.1 + 0.2)),
                   "Ensure that there are no more than 8 digits in total.");
  cr_assert_str_eq(parse_error(json_real(1e-7)), /* "1e-07": 7 places, 7 digits */
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_str_eq(parse_error(json_real(0.125)),
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_str_eq(parse_error(json_real(1e20)), /* "1e+20": 21 digits */
                   "Ensure that there are no more than 8 digits in total.");
  cr_assert_str_eq(parse_error(json_real(1234567.0)), /* "1234567.0": 8 digits, 7 whole */
                   "Ensure that there are no more than 6 digits before the decimal point.");
  cr_assert_str_eq(parse_error(json_real(12345678.0)), /* "12345678.0": 9 digits */
                   "Ensure that there are no more than 8 digits in total.");
  cr_assert_eq(parse_ok(json_real(0.3)), 30);
  cr_assert_eq(parse_ok(json_real(1e3)), 100000);      /* "1000.0" */
  cr_assert_eq(parse_ok(json_real(123456.0)), 12345600);
  cr_assert_eq(parse_ok(json_real(-0.0)), 0);
  cr_assert_eq(parse_ok(json_real(0.01)), 1);
}

Test(money, strings_are_python_decimals)
{
  cr_assert_eq(parse_ok(json_string("1e3")), 100000);
  cr_assert_eq(parse_ok(json_string("1.5E+2")), 15000);
  cr_assert_eq(parse_ok(json_string("12345E-2")), 12345);
  cr_assert_eq(parse_ok(json_string("1_000.5")), 100050);
  cr_assert_eq(parse_ok(json_string("-0")), 0);
  cr_assert_eq(parse_ok(json_string("5.")), 500);
  cr_assert_str_eq(parse_error(json_string("1e-7")),
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_str_eq(parse_error(json_string("1.000")),
                   "Ensure that there are no more than 2 decimal places.");
  cr_assert_str_eq(parse_error(json_string("0E+7")), /* 8 zeros before the point */
                   "Ensure that there are no more than 6 digits before the decimal point.");
  cr_assert_str_eq(parse_error(json_string("1e999999999999999999999")),
                   "A valid number is required.");
  cr_assert_str_eq(parse_error(json_string("-0.01")),
                   "Ensure this value is greater than or equal to 0.");
  /* DRF's limit counts characters once the white space around is gone. */
  char *long_text = malloc(1100);
  memset(long_text, ' ', 1099);
  long_text[1099] = '\0';
  memset(long_text + 50, '0', 1000);
  long_text[1049] = '5';
  cr_assert_eq(parse_ok(json_string(long_text)), 500);
  long_text[1050] = '0';
  cr_assert_str_eq(parse_error(json_string(long_text)), "String value too large.");
  free(long_text);
}

Test(money, format_two_places)
{
  char text[32];
  events_money_format(5000, text, sizeof text);
  cr_assert_str_eq(text, "50.00");
  events_money_format(5, text, sizeof text);
  cr_assert_str_eq(text, "0.05");
  events_money_format(99999999, text, sizeof text);
  cr_assert_str_eq(text, "999999.99");
  events_money_format(0, text, sizeof text);
  cr_assert_str_eq(text, "0.00");
}
