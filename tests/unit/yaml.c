/*
 * yaml.c - the JSON to YAML emitter: exact text for the common shapes, and
 * a round trip through PyYAML (when python3-yaml is installed) for the
 * awkward values: escapes, non-ASCII, keys that look like other types,
 * nested and empty containers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/yaml.h"

static char *
dump(const char *json_text)
{
  json_error_t error;
  json_t *value = json_loads(json_text, JSON_DECODE_ANY, &error);
  cr_assert(value != NULL, "bad test JSON: %s", error.text);
  char *text = ops_yaml_dump(value, NULL);
  json_decref(value);
  cr_assert(text != NULL);
  return text;
}

static void
expect_yaml(const char *json_text, const char *yaml)
{
  char *text = dump(json_text);
  cr_expect_str_eq(text, yaml, "for %s:\n%s\nexpected:\n%s", json_text, text, yaml);
  free(text);
}

Test(yaml, scalars)
{
  expect_yaml("\"text\"", "\"text\"\n");
  expect_yaml("42", "42\n");
  expect_yaml("-7", "-7\n");
  expect_yaml("1.5", "1.5\n");
  expect_yaml("3.0", "3.0\n");
  expect_yaml("1e20", "1.0e+20\n");
  expect_yaml("true", "true\n");
  expect_yaml("false", "false\n");
  expect_yaml("null", "null\n");
  expect_yaml("{}", "{}\n");
  expect_yaml("[]", "[]\n");
}

Test(yaml, strings_are_double_quoted_with_json_escapes)
{
  expect_yaml("\"say \\\"hi\\\"\\n\\tback\\\\slash\"", "\"say \\\"hi\\\"\\n\\tback\\\\slash\"\n");
  expect_yaml("\"\\u0001\"", "\"\\u0001\"\n");
  expect_yaml("\"M\\u00fasica \\u2028 \\ud83c\\udfb7\"", "\"M\\u00FAsica \\u2028 \\U0001F3B7\"\n");
  expect_yaml("\"123\"", "\"123\"\n");
}

Test(yaml, block_mappings_and_sequences)
{
  expect_yaml("{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"t\",\"version\":\"1\"}}",
              "openapi: \"3.1.0\"\n"
              "info:\n"
              "  title: \"t\"\n"
              "  version: \"1\"\n");
  expect_yaml("{\"tags\":[\"a\",{\"name\":\"b\",\"x\":[]},[1,2]],\"e\":{}}",
              "tags:\n"
              "  - \"a\"\n"
              "  - name: \"b\"\n"
              "    x: []\n"
              "  - - 1\n"
              "    - 2\n"
              "e: {}\n");
}

Test(yaml, keys_that_are_not_plain_identifiers_are_quoted)
{
  expect_yaml("{\"200\":1,\"$ref\":2,\"/api/users/\":3,\"yes\":4,\"No\":5,\"a-b.c_d\":6,\"\":7}",
              "\"200\": 1\n"
              "\"$ref\": 2\n"
              "\"/api/users/\": 3\n"
              "\"yes\": 4\n"
              "\"No\": 5\n"
              "a-b.c_d: 6\n"
              "\"\": 7\n");
}

static bool
have_pyyaml(void)
{
  return system("/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1") == 0;
}

/* PyYAML reads the text back as the same value. */
static void
expect_round_trip(const char *json_text)
{
  char *text = dump(json_text);
  char path[] = "/tmp/eventapi-yaml-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  free(text);
  char cmd[256];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c 'import sys, json, yaml; "
           "print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding=\"utf-8\"))))' %s",
           path);
  FILE *p = popen(cmd, "r");
  cr_assert(p != NULL);
  char out[8192];
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  unlink(path);
  cr_assert_eq(status, 0, "PyYAML failed on the output of %s", json_text);
  json_t *want = json_loads(json_text, JSON_DECODE_ANY, NULL);
  json_t *got = json_loads(out, JSON_DECODE_ANY, NULL);
  cr_expect(got != NULL && json_equal(want, got), "round trip of %s gave %s", json_text, out);
  json_decref(want);
  json_decref(got);
}

Test(yaml, pyyaml_reads_it_back)
{
  cr_assert(have_pyyaml(), "python3-yaml is missing: scripts/install-deps --test installs it");
  expect_round_trip("{\"a\":{\"b\":[1,-2.5,1e20,true,null,\"x\"],\"c\":{}},\"d\":[]}");
  expect_round_trip("{\"true\":\"yes\",\"null\":\"~\",\"on\":\"off\",\"1\":\"1.0\",\"y\":\"n\"}");
  expect_round_trip("{\"s\":\"tab\\tquote\\\" back\\\\ nl\\n cr\\r \\u007f \\u00e9 \\u2028 \\ud83c\\udfb7\"}");
  expect_round_trip("[[[1,[]],{\"k\":[{\"a\":1,\"b\":[2]}]}],{}]");
  expect_round_trip("{\"key: with colon\":\"- dash\",\"#hash\":\"&anchor *alias !tag %\",\"\":\"\"}");
}
