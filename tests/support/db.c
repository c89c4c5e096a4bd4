/*
 * db.c - the test server's database, read through the project's db.h.
 */
#include "support/db.h"

#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "db/db.h"

long long api_db_int(const char *sql, long long arg)
{
  db_t *db;
  int rc = db_open(&db);
  cr_assert_eq(rc, 0, "db_open: %d (is a server running?)", rc);
  db_stmt_t *st = db_prepare(db, sql);
  cr_assert(st != NULL, "cannot prepare: %s", sql);
  int params = 0;
  for (const char *p = sql; (p = strchr(p, '?')); p++)
    params++;
  for (int i = 1; i <= params; i++)
    db_bind_int(st, i, arg);
  rc = db_step(st);
  long long value = rc == DB_ROW ? (long long)db_column_int(st, 0) : 0;
  db_reset(st);
  db_close(db);
  cr_assert_eq(rc, DB_ROW, "no row (%d) for %s", rc, sql);
  return value;
}

long long api_db_wait(const char *sql, long long arg, long long want, int timeout_ms)
{
  long long value = api_db_int(sql, arg);
  for (int waited = 0; value < want && waited < timeout_ms; waited += 50) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    value = api_db_int(sql, arg);
  }
  return value;
}
