/*
 * Unit tests for db/pgsql: the PostgreSQL backend's rewrite of db.h's
 * portable SQL (placeholders, DB_ID_LIST, DB_SKIP_LOCKED).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/pgsql.h"

static void
expect_rewrite(const char *sql, const char *expected, int expected_params)
{
  int nparams = -1;
  char *out = pg_rewrite_sql(sql, &nparams);
  cr_assert_not_null(out, "rewrite of %s", sql);
  cr_assert_str_eq(out, expected, "rewrite of %s", sql);
  cr_assert_eq(nparams, expected_params, "parameters of %s: %d", sql, nparams);
  free(out);
}

Test(pg_rewrite, placeholders_are_numbered_in_order)
{
  expect_rewrite("SELECT 1", "SELECT 1", 0);
  expect_rewrite("", "", 0);
  expect_rewrite("SELECT * FROM t WHERE a = ? AND b = ?",
                 "SELECT * FROM t WHERE a = $1 AND b = $2", 2);
  expect_rewrite("INSERT INTO t (a, b, c) VALUES (?,?,?) RETURNING id",
                 "INSERT INTO t (a, b, c) VALUES ($1,$2,$3) RETURNING id", 3);
  expect_rewrite("?", "$1", 1);
  expect_rewrite("(? = 0 OR id = ?)", "($1 = 0 OR id = $2)", 2);
}

Test(pg_rewrite, many_placeholders_get_many_digits)
{
  char sql[64 * 2 + 1] = "";
  for (int i = 0; i < 12; i++)
    strcat(sql, "?,");
  int n = 0;
  char *out = pg_rewrite_sql(sql, &n);
  cr_assert_str_eq(out, "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,");
  cr_assert_eq(n, 12);
  free(out);
}

Test(pg_rewrite, question_marks_in_literals_identifiers_and_comments_stay)
{
  expect_rewrite("SELECT '?' , ?", "SELECT '?' , $1", 1);
  expect_rewrite("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1);
  expect_rewrite("SELECT \"a?b\" FROM t WHERE x = ?", "SELECT \"a?b\" FROM t WHERE x = $1", 1);
  expect_rewrite("SELECT \"a\"\"?\" , ?", "SELECT \"a\"\"?\" , $1", 1);
  expect_rewrite("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2);
  expect_rewrite("SELECT ? /* what? /* nested? */ still? */ , ?",
                 "SELECT $1 /* what? /* nested? */ still? */ , $2", 2);
  /* A standard string: the backslash is an ordinary character. */
  expect_rewrite("x LIKE ? ESCAPE '\\' AND y = ?", "x LIKE $1 ESCAPE '\\' AND y = $2", 2);
}

Test(pg_rewrite, unterminated_text_is_copied_as_is)
{
  expect_rewrite("SELECT '?", "SELECT '?", 0);
  expect_rewrite("SELECT \"?", "SELECT \"?", 0);
  expect_rewrite("SELECT ? /* ?", "SELECT $1 /* ?", 1);
  expect_rewrite("SELECT ? -- ?", "SELECT $1 -- ?", 1);
  expect_rewrite("a - b / c - ?", "a - b / c - $1", 1);
}

Test(pg_rewrite, id_list_becomes_json_array_elements)
{
  expect_rewrite("SELECT id FROM events WHERE organizer_id = ? AND id IN " DB_ID_LIST
                 " ORDER BY id LIMIT ?",
                 "SELECT id FROM events WHERE organizer_id = $1 AND id IN"
                 " (SELECT value::bigint FROM json_array_elements_text($2::json))"
                 " ORDER BY id LIMIT $3", 3);
}

Test(pg_rewrite, skip_locked_becomes_for_update)
{
  expect_rewrite("UPDATE n SET a = ? WHERE id = (SELECT id FROM n WHERE s = ? LIMIT 1"
                 DB_SKIP_LOCKED ") RETURNING id",
                 "UPDATE n SET a = $1 WHERE id = (SELECT id FROM n WHERE s = $2 LIMIT 1"
                 " FOR UPDATE SKIP LOCKED) RETURNING id", 2);
  /* Only the marker: other comments stay comments. */
  expect_rewrite("SELECT 1 /* skip */", "SELECT 1 /* skip */", 0);
}

Test(pg_rewrite, for_write_locks_only_in_a_write_transaction)
{
  const char *sql = "SELECT id FROM events WHERE id = ?" DB_FOR_WRITE;
  expect_rewrite(sql, "SELECT id FROM events WHERE id = $1", 1);
  int n = 0;
  char *out = pg_rewrite_sql_for_write(sql, &n);
  cr_assert_str_eq(out, "SELECT id FROM events WHERE id = $1 FOR UPDATE");
  cr_assert_eq(n, 1);
  free(out);
}
