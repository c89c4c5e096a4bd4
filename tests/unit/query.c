/*
 * query.c - the request target, decoded (src/http/query.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "http/query.h"

static arena_t arena;

static void
fini(void)
{
  arena_free(&arena);
}

TestSuite(query, .fini = fini);

Test(query, path_and_parameters)
{
  const char *path;
  struct http_param *params;
  size_t count;
  cr_assert_eq(http_target_parse(&arena, "/api/events/?search=a+b%2Cc&limit=5&&flag&x=%zz",
                                 &path, &params, &count), HTTP_TARGET_OK);
  cr_assert_str_eq(path, "/api/events/");
  cr_assert_eq(count, 4);
  cr_assert_str_eq(params[0].name, "search");
  cr_assert_str_eq(params[0].value, "a b,c");
  cr_assert_str_eq(params[1].name, "limit");
  cr_assert_str_eq(params[1].value, "5");
  cr_assert_str_eq(params[2].name, "flag");
  cr_assert_str_eq(params[2].value, "");
  cr_assert_str_eq(params[3].value, "%zz", "a broken escape stays as written");
}

Test(query, paths_decode_escapes_but_not_plus)
{
  const char *path;
  struct http_param *params;
  size_t count;
  cr_assert_eq(http_target_parse(&arena, "/a%20b+c/%C3%A9", &path, &params, &count),
               HTTP_TARGET_OK);
  cr_assert_str_eq(path, "/a b+c/\xc3\xa9");
  cr_assert_eq(count, 0);
}

Test(query, a_nul_is_refused)
{
  const char *path;
  struct http_param *params;
  size_t count;
  cr_assert_eq(http_target_parse(&arena, "/api/events/%00/", &path, &params, &count),
               HTTP_TARGET_NUL_IN_PATH);
  cr_assert_eq(http_target_parse(&arena, "/api/events/?ordering=id%00;drop", &path, &params,
                                 &count), HTTP_TARGET_NUL_IN_QUERY);
  cr_assert_eq(http_target_parse(&arena, "/x?%00=1", &path, &params, &count),
               HTTP_TARGET_NUL_IN_QUERY);
}

Test(query, invalid_utf8_becomes_the_replacement_character)
{
  const char *path;
  struct http_param *params;
  size_t count;
  cr_assert_eq(http_target_parse(&arena, "/x?q=a%FFb", &path, &params, &count), HTTP_TARGET_OK);
  cr_assert_str_eq(params[0].value, "a\xef\xbf\xbd" "b");
}

Test(query, at_most_a_thousand_parameters)
{
  char target[8200] = "/x?";
  for (int i = 0; i < 1000; i++)
    strcat(target, i ? "&a=b" : "a=b");
  const char *path;
  struct http_param *params;
  size_t count;
  cr_assert_eq(http_target_parse(&arena, target, &path, &params, &count), HTTP_TARGET_OK);
  cr_assert_eq(count, 1000);
  strcat(target, "&a=b");
  cr_assert_eq(http_target_parse(&arena, target, &path, &params, &count),
               HTTP_TARGET_TOO_MANY_PARAMS);
  /* Empty pieces are not parameters. */
  char sparse[8200] = "/x?a=b";
  for (int i = 0; i < 2000; i++)
    strcat(sparse, "&");
  cr_assert_eq(http_target_parse(&arena, sparse, &path, &params, &count), HTTP_TARGET_OK);
  cr_assert_eq(count, 1);
}
