#include <criterion/criterion.h>
#include <string.h>

#include "core/jsonutil.h"

static arena_t arena;
static json_t *errors;

static void
setup(void)
{
  errors = json_object();
}

static void
teardown(void)
{
  json_decref(errors);
  arena_free(&arena);
}

TestSuite(jsonutil, .init = setup, .fini = teardown);

/* The single message of errors[field]. */
static const char *
message(const char *field)
{
  json_t *list = json_object_get(errors, field);
  cr_assert(json_is_array(list), "no errors for %s", field);
  cr_assert_eq(json_array_size(list), 1);
  return json_string_value(json_array_get(list, 0));
}

static enum field_result
read_string(const char *body, const struct string_rules *rules, const char **out)
{
  json_t *obj = json_loads(body, 0, NULL);
  cr_assert_not_null(obj);
  enum field_result got = json_field_string(obj, "name", rules, errors, &arena, out);
  json_decref(obj);
  return got;
}

Test(jsonutil, errors_collect_per_field)
{
  cr_assert(!json_errors_any(errors));
  json_error_add(errors, "a", "one");
  json_error_add(errors, "a", "two");
  json_error_add(errors, "b", "three");
  cr_assert(json_errors_any(errors));
  char *text = json_dumps(errors, JSON_COMPACT);
  cr_assert_str_eq(text, "{\"a\":[\"one\",\"two\"],\"b\":[\"three\"]}");
  free(text);
}

Test(jsonutil, errors_ordered_by_field_list)
{
  json_error_add(errors, "zeta", "z");
  json_error_add(errors, "password", "p");
  json_error_add(errors, "username", "u");
  static const char *const order[] = {"username", "email", "password", NULL};
  json_t *ordered = json_errors_ordered(errors, order);
  char *text = json_dumps(ordered, JSON_COMPACT);
  cr_assert_str_eq(text, "{\"username\":[\"u\"],\"password\":[\"p\"],\"zeta\":[\"z\"]}");
  free(text);
  json_decref(ordered);
}

Test(jsonutil, string_required_null_blank)
{
  struct string_rules rules = {.required = true};
  const char *value;
  cr_assert_eq(read_string("{}", &rules, &value), FIELD_INVALID);
  cr_assert_str_eq(message("name"), "This field is required.");
  json_object_clear(errors);
  cr_assert_eq(read_string("{\"name\": null}", &rules, &value), FIELD_INVALID);
  cr_assert_str_eq(message("name"), "This field may not be null.");
  json_object_clear(errors);
  cr_assert_eq(read_string("{\"name\": \"   \"}", &rules, &value), FIELD_INVALID);
  cr_assert_str_eq(message("name"), "This field may not be blank.");
}

Test(jsonutil, string_optional_absent)
{
  struct string_rules rules = {0};
  const char *value = "unchanged";
  cr_assert_eq(read_string("{\"other\": 1}", &rules, &value), FIELD_ABSENT);
  cr_assert(!json_errors_any(errors));
}

Test(jsonutil, string_null_allowed)
{
  struct string_rules rules = {.allow_null = true};
  const char *value = "x";
  cr_assert_eq(read_string("{\"name\": null}", &rules, &value), FIELD_SET);
  cr_assert_null(value);
}

Test(jsonutil, string_types)
{
  struct string_rules rules = {0};
  const char *value;
  cr_assert_eq(read_string("{\"name\": 42}", &rules, &value), FIELD_SET);
  cr_assert_str_eq(value, "42");
  cr_assert_eq(read_string("{\"name\": true}", &rules, &value), FIELD_INVALID);
  cr_assert_str_eq(message("name"), "Not a valid string.");
  json_object_clear(errors);
  cr_assert_eq(read_string("{\"name\": [\"a\"]}", &rules, &value), FIELD_INVALID);
  cr_assert_str_eq(message("name"), "Not a valid string.");
  json_object_clear(errors);
  cr_assert_eq(read_string("{\"name\": {}}", &rules, &value), FIELD_INVALID);
  cr_assert_str_eq(message("name"), "Not a valid string.");
}

Test(jsonutil, string_trims_unless_asked)
{
  struct string_rules trim = {0}, keep = {.keep_spaces = true};
  const char *value;
  cr_assert_eq(read_string("{\"name\": \"  a b \\t\"}", &trim, &value), FIELD_SET);
  cr_assert_str_eq(value, "a b");
  cr_assert_eq(read_string("{\"name\": \"  a b \\t\"}", &keep, &value), FIELD_SET);
  cr_assert_str_eq(value, "  a b \t");
}

Test(jsonutil, string_max_length_counts_characters)
{
  struct string_rules rules = {.max_length = 3};
  const char *value;
  cr_assert_eq(read_string("{\"name\": \"\\u00e9\\u00e9\\u00e9\"}", &rules, &value), FIELD_SET);
  cr_assert_str_eq(value, "\xc3\xa9\xc3\xa9\xc3\xa9");
  cr_assert_eq(read_string("{\"name\": \"abcd\"}", &rules, &value), FIELD_INVALID);
  cr_assert_str_eq(message("name"), "Ensure this field has no more than 3 characters.");
}

static enum field_result
read_bool(const char *body, bool *out)
{
  json_t *obj = json_loads(body, 0, NULL);
  cr_assert_not_null(obj);
  enum field_result got = json_field_bool(obj, "flag", false, errors, out);
  json_decref(obj);
  return got;
}

Test(jsonutil, booleans_as_drf_reads_them)
{
  bool value;
  cr_assert_eq(read_bool("{\"flag\": true}", &value), FIELD_SET);
  cr_assert(value);
  cr_assert_eq(read_bool("{\"flag\": \"false\"}", &value), FIELD_SET);
  cr_assert(!value);
  cr_assert_eq(read_bool("{\"flag\": 1}", &value), FIELD_SET);
  cr_assert(value);
  cr_assert_eq(read_bool("{}", &value), FIELD_ABSENT);
  cr_assert_eq(read_bool("{\"flag\": \"maybe\"}", &value), FIELD_INVALID);
  cr_assert_str_eq(message("flag"), "Must be a valid boolean.");
  json_object_clear(errors);
  cr_assert_eq(read_bool("{\"flag\": 2}", &value), FIELD_INVALID);
  cr_assert_str_eq(message("flag"), "Must be a valid boolean.");
}

Test(jsonutil, set_string_or_null)
{
  json_t *obj = json_object();
  json_set_string(obj, "a", "x");
  json_set_string(obj, "b", NULL);
  cr_assert_str_eq(json_string_value(json_object_get(obj, "a")), "x");
  cr_assert(json_is_null(json_object_get(obj, "b")));
  json_decref(obj);
}

Test(jsonutil, int_text_as_a_query_parameter)
{
  int64_t value = 0;
  cr_assert(json_int_text("42", "limit", 1, 100, errors, &value));
  cr_assert_eq(value, 42);
  cr_assert(json_int_text("-3", "offset", -10, 10, errors, &value));
  cr_assert_eq(value, -3);
  cr_assert(!json_errors_any(errors));

  const char *not_integers[] = {"", "4x", " 4", "+4", "4 ", "4.0"};
  for (size_t i = 0; i < sizeof not_integers / sizeof not_integers[0]; i++) {
    json_object_clear(errors);
    cr_assert(!json_int_text(not_integers[i], "limit", 1, 100, errors, &value), "%s",
              not_integers[i]);
    cr_assert_str_eq(message("limit"), "A valid integer is required.");
  }
  json_object_clear(errors);
  cr_assert(!json_int_text("0", "limit", 1, 100, errors, &value));
  cr_assert_str_eq(message("limit"), "Ensure this value is greater than or equal to 1.");
  json_object_clear(errors);
  cr_assert(!json_int_text("101", "limit", 1, 100, errors, &value));
  cr_assert_str_eq(message("limit"), "Ensure this value is less than or equal to 100.");
}

Test(jsonutil, python_type_names)
{
  const char *cases[][2] = {
    {"{}", "dict"}, {"[]", "list"}, {"\"s\"", "str"}, {"1", "int"},
    {"1.5", "float"}, {"true", "bool"}, {"false", "bool"}, {"null", "NoneType"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *value = json_loads(cases[i][0], JSON_DECODE_ANY, NULL);
    cr_assert_not_null(value);
    cr_assert_str_eq(json_python_type(value), cases[i][1], "%s", cases[i][0]);
    json_decref(value);
  }
}
