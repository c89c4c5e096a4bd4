#include <criterion/criterion.h>
#include <string.h>

#include "core/error.h"
#include "events/serializers.h"

static int64_t
parse_ok(json_t *value)
{
  int64_t cents = -1;
  const char *message = NULL;
  int rc = money_parse(value, &cents, &message);
  cr_assert_eq(rc, 0, "refused: %s", message ? message : "?");
  json_decref(value);
  return cents;
}

static const char *
parse_error(json_t *value)
{
  int64_t cents;
  const char *message = NULL;
  cr_assert_eq(money_parse(value, &cents, &message), EVENTAPI_EINVAL);
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
  cr_assert_str_eq(parse_error(json_string("1e3")), "A valid number is required.");
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

Test(money, format_two_places)
{
  char text[32];
  money_format(5000, text, sizeof text);
  cr_assert_str_eq(text, "50.00");
  money_format(5, text, sizeof text);
  cr_assert_str_eq(text, "0.05");
  money_format(99999999, text, sizeof text);
  cr_assert_str_eq(text, "999999.99");
  money_format(0, text, sizeof text);
  cr_assert_str_eq(text, "0.00");
}
