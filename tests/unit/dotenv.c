/*
 * Unit tests for core/dotenv: the .env syntax and loading files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dotenv.h"
#include "core/error.h"

static struct dotenv env;

static void
teardown(void)
{
  dotenv_free(&env);
}

TestSuite(dotenv, .fini = teardown);

/* Parses text, which must be valid. */
static void
parse(const char *text)
{
  int bad_line = 0;
  int rc = dotenv_parse(text, strlen(text), &env, &bad_line);
  cr_assert_eq(rc, 0, "parse failed (%d) at line %d", rc, bad_line);
}

/* Asserts that text is refused at line. */
static void
expect_bad_line(const char *text, int line)
{
  int bad_line = 0;
  int rc = dotenv_parse(text, strlen(text), &env, &bad_line);
  cr_assert_eq(rc, EVENTAPI_EINVAL, "accepted: %s", text);
  cr_assert_eq(bad_line, line, "bad line of %s: %d, not %d", text, bad_line,
               line);
  cr_assert_eq(env.count, 0);
  cr_assert_null(env.entries);
}

static void
expect(const char *key, const char *value)
{
  const char *got = dotenv_get(&env, key);
  cr_assert_not_null(got, "%s missing", key);
  cr_assert_str_eq(got, value, "%s", key);
}

Test(dotenv, plain_pairs)
{
  parse("PORT=8000\nBIND=0.0.0.0\n");
  cr_assert_eq(env.count, 2);
  expect("PORT", "8000");
  expect("BIND", "0.0.0.0");
  cr_assert_null(dotenv_get(&env, "port"));
  cr_assert_null(dotenv_get(&env, "MISSING"));
}

Test(dotenv, comments_blank_lines_and_crlf)
{
  parse("# settings\n\n   \n\t# indented comment\nA=1\r\nB = two \r\n");
  cr_assert_eq(env.count, 2);
  expect("A", "1");
  expect("B", "two");
}

Test(dotenv, last_line_without_newline)
{
  parse("A=1\nB=2");
  expect("B", "2");
}

Test(dotenv, export_prefix)
{
  parse("export SECRET_KEY=abc\nexport\tX=1\nexport=plain\n");
  expect("SECRET_KEY", "abc");
  expect("X", "1");
  expect("export", "plain");
}

Test(dotenv, empty_values)
{
  parse("A=\nB=   \nC=''\nD=\"\"\nE= # only a comment\n");
  cr_assert_eq(env.count, 5);
  static const char *const keys[] = {"A", "B", "C", "D", "E"};
  for (size_t i = 0; i < 5; i++)
    expect(keys[i], "");
}

Test(dotenv, inline_comments)
{
  parse("A=value # comment\nB=val#ue\nC=#notacomment\nD=x\t# tab comment\n");
  expect("A", "value");
  expect("B", "val#ue");
  expect("C", "#notacomment");
  expect("D", "x");
}

Test(dotenv, single_quotes_are_verbatim)
{
  parse("A='  spaced # not a comment \\n $HOME '\nB='x' # comment\n");
  expect("A", "  spaced # not a comment \\n $HOME ");
  expect("B", "x");
}

Test(dotenv, double_quotes_understand_escapes)
{
  parse("A=\"line1\\nline2\\ttab \\\"q\\\" back\\\\slash \\$HOME\"\n"
        "B=\"# kept\" # dropped\n"
        "C=\"it's\"\n");
  expect("A", "line1\nline2\ttab \"q\" back\\slash $HOME");
  expect("B", "# kept");
  expect("C", "it's");
}

Test(dotenv, unquoted_keeps_inner_quotes_and_equals)
{
  parse("DATABASE_URL=postgres://u:p@h/db?sslmode=require\nA=it's\n");
  expect("DATABASE_URL", "postgres://u:p@h/db?sslmode=require");
  expect("A", "it's");
}

Test(dotenv, last_value_wins)
{
  parse("PORT=1\nOTHER=x\nPORT=2\nexport PORT=3\n");
  cr_assert_eq(env.count, 2);
  expect("PORT", "3");
}

Test(dotenv, keys)
{
  parse("_A=1\na_b_9=2\n  SPACED  =  3  \n");
  expect("_A", "1");
  expect("a_b_9", "2");
  expect("SPACED", "3");
}

Test(dotenv, bad_lines_report_their_number)
{
  expect_bad_line("NOEQUALS\n", 1);
  expect_bad_line("A=1\n\n# c\n9KEY=1\n", 4);
  expect_bad_line("A=1\nMY-KEY=1\n", 2);
  expect_bad_line("=value\n", 1);
  expect_bad_line("A B=1\n", 1);
  expect_bad_line("export\n", 1);
  expect_bad_line("A=1\nB='unterminated\n", 2);
  expect_bad_line("A=\"unterminated\nB=1\n", 1);
  expect_bad_line("A=\"ends in backslash\\\n", 1);
  expect_bad_line("A=\"bad escape \\q\"\n", 1);
  expect_bad_line("A='x' trailing\n", 1);
  expect_bad_line("A=\"x\"trailing\n", 1);
}

Test(dotenv, nul_byte_is_a_bad_line)
{
  int bad_line = 0;
  static const char text[] = "A=1\nB=x\0y\n";
  cr_assert_eq(dotenv_parse(text, sizeof text - 1, &env, &bad_line),
               EVENTAPI_EINVAL);
  cr_assert_eq(bad_line, 2);
}

Test(dotenv, length_bounds_the_text)
{
  int bad_line = 0;
  const char *text = "A=123456";
  cr_assert_eq(dotenv_parse(text, 5, &env, &bad_line), 0);
  expect("A", "123");
}

Test(dotenv, missing_file_is_empty)
{
  int bad_line = 0;
  cr_assert_eq(dotenv_load("/nonexistent/eventapi/.env", &env, &bad_line), 0);
  cr_assert_eq(env.count, 0);
  cr_assert_null(dotenv_get(&env, "A"));
}

/* Writes text to a new file under /tmp; the caller unlinks the path. */
static void
write_temp(char path[static 64], const char *text)
{
  strcpy(path, "/tmp/eventapi-dotenv-XXXXXX");
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

Test(dotenv, load_file)
{
  char path[64];
  write_temp(path, "# comment\nexport A='1'\nB=2\n");
  int bad_line = 0;
  int rc = dotenv_load(path, &env, &bad_line);
  unlink(path);
  cr_assert_eq(rc, 0);
  expect("A", "1");
  expect("B", "2");
}

Test(dotenv, load_bad_file)
{
  char path[64];
  write_temp(path, "A=1\nB=2\noops\n");
  int bad_line = 0;
  int rc = dotenv_load(path, &env, &bad_line);
  unlink(path);
  cr_assert_eq(rc, EVENTAPI_EINVAL);
  cr_assert_eq(bad_line, 3);
}

/* A settings file of exactly n bytes: lines "K<i>=" and 100 digits, then
 * a comment line to make up the size. Its number of settings in *count. */
static char *
settings_of_size(size_t n, size_t *count)
{
  char *text = malloc(n + 1);
  cr_assert_not_null(text);
  size_t len = 0;
  *count = 0;
  char line[128];
  for (;;) {
    int w = snprintf(line, sizeof line, "K%zu=%0100zu\n", *count, *count);
    if (len + (size_t)w + 2 > n)
      break;
    memcpy(text + len, line, (size_t)w);
    len += (size_t)w;
    ++*count;
  }
  memset(text + len, '#', n - len);
  text[n - 1] = '\n';
  text[n] = '\0';
  return text;
}

Test(dotenv, load_reads_a_file_of_any_size_up_to_a_mebibyte)
{
  const size_t sizes[] = {4095, 4096, 4097, 100000, 1024 * 1024};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t count;
    char *text = settings_of_size(sizes[i], &count);
    char path[64];
    write_temp(path, text);
    int bad_line = 0;
    int rc = dotenv_load(path, &env, &bad_line);
    unlink(path);
    cr_assert_eq(rc, 0, "%zu bytes: %d (line %d)", sizes[i], rc, bad_line);
    cr_assert_eq(env.count, count, "%zu bytes", sizes[i]);
    char last[32];
    snprintf(last, sizeof last, "K%zu", count - 1);
    const char *value = dotenv_get(&env, last);
    cr_assert(value && strlen(value) == 100 && strtoull(value, NULL, 10) == count - 1,
              "%zu bytes: %s=%s", sizes[i], last, value ? value : "(none)");
    dotenv_free(&env);
    free(text);
  }
}

Test(dotenv, load_refuses_a_file_past_a_mebibyte)
{
  size_t count;
  char *text = settings_of_size(1024 * 1024 + 1, &count);
  char path[64];
  write_temp(path, text);
  int bad_line = 0;
  int rc = dotenv_load(path, &env, &bad_line);
  unlink(path);
  free(text);
  cr_assert_eq(rc, EVENTAPI_EIO);
  cr_assert_eq(env.count, 0);
}

Test(dotenv, load_directory_is_an_io_error)
{
  int bad_line = 0;
  cr_assert_eq(dotenv_load("/tmp", &env, &bad_line), EVENTAPI_EIO);
  cr_assert_eq(env.count, 0);
}
