/*
 * db_insert.c - new ids from `INSERT ... RETURNING id` on SQLite, which
 * the backend runs without the clause and answers from the new rowid
 * (db/sqlite.c): one row with the id when a row was inserted, none when
 * ON CONFLICT DO NOTHING inserted nothing, and never a second insert for
 * a statement stepped past its row; the statement reused after a reset.
 * An upsert's DO UPDATE keeps SQLite's RETURNING: its row is the updated
 * one's, not the last inserted.
 */
#include <criterion/criterion.h>

#include "core/error.h"
#include "db/db.h"
#include "support/db.h"

static db_t *db;

static void
setup(void)
{
  db = unit_db_open();
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
}

static void
teardown(void)
{
  db_rollback(db);
  unit_db_close();
}

TestSuite(db_insert, .init = setup, .fini = teardown);

#define INSERT_CATEGORY                                                       \
  "INSERT INTO categories (name, name_key, slug) VALUES (?, ?, ?)"            \
  " ON CONFLICT DO NOTHING RETURNING id"

/* Steps INSERT_CATEGORY for name: the new id, or 0 when nothing was inserted. */
static int64_t
insert_category(const char *name)
{
  db_stmt_t *st = db_prepare(db, INSERT_CATEGORY);
  cr_assert_not_null(st);
  db_bind_text(st, 1, name);
  db_bind_text(st, 2, name);
  db_bind_text(st, 3, name);
  int64_t id = 0;
  int rc = db_step(st);
  if (rc == DB_ROW) {
    id = db_column_int(st, 0);
    cr_assert_str_eq(db_column_text(st, 0), unit_db_text("SELECT ?", id));
    cr_assert(!db_column_is_null(st, 0));
    cr_assert_eq(db_step(st), DB_DONE, "one row only");
  } else {
    cr_assert_eq(rc, DB_DONE);
  }
  cr_assert_eq(db_step(st), DB_DONE, "stepping past the end inserts nothing more");
  db_reset(st);
  return id;
}

Test(db_insert, gives_the_new_rowid)
{
  int64_t first = insert_category("concerts");
  int64_t second = insert_category("talks");
  cr_assert_gt(first, 0);
  cr_assert_gt(second, first);
  cr_assert_eq(unit_db_int("SELECT id FROM categories WHERE name = 'concerts'", 0), first);
  cr_assert_eq(unit_db_int("SELECT id FROM categories WHERE name = 'talks'", 0), second);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM categories", 0), 2);
}

Test(db_insert, no_row_when_nothing_was_inserted)
{
  int64_t first = insert_category("concerts");
  cr_assert_gt(first, 0);
  /* The conflict inserts nothing: no row, though the last insert's rowid
   * is still first. */
  cr_assert_eq(insert_category("concerts"), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM categories", 0), 1);
  cr_assert_gt(insert_category("talks"), first);
}

Test(db_insert, db_step_id)
{
  db_stmt_t *st = db_prepare(db, "INSERT INTO categories (name, name_key, slug)"
                                 " VALUES (?, ?, ?) RETURNING id");
  cr_assert_not_null(st);
  int64_t ids[3];
  const char *names[3] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    db_bind_text(st, 1, names[i]);
    db_bind_text(st, 2, names[i]);
    db_bind_text(st, 3, names[i]);
    cr_assert_eq(db_step_id(st, &ids[i]), 0);
  }
  cr_assert(ids[0] > 0 && ids[0] < ids[1] && ids[1] < ids[2]);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM categories", 0), 3);
  cr_assert_eq(unit_db_int("SELECT id FROM categories WHERE name = 'c'", 0), ids[2]);
}

Test(db_insert, an_upsert_answers_the_row_it_updated)
{
  int64_t first = insert_category("concerts");
  int64_t second = insert_category("talks");
  cr_assert(first > 0 && second > first);
  db_stmt_t *st = db_prepare(db, "INSERT INTO categories (name, name_key, slug)"
                                 " VALUES (?, ?, ?) ON CONFLICT (slug) DO UPDATE"
                                 " SET name = excluded.name RETURNING id");
  cr_assert_not_null(st);
  db_bind_text(st, 1, "Concerts");
  db_bind_text(st, 2, "concerts-renamed");
  db_bind_text(st, 3, "concerts");
  int64_t id = 0;
  cr_assert_eq(db_step_id(st, &id), 0);
  cr_assert_eq(id, first, "the updated row, not the last inserted (%lld)", (long long)second);
  cr_assert_str_eq(unit_db_text("SELECT name FROM categories WHERE id = ?", first), "Concerts");
}
