/*
 * migrate.c - applies the embedded migrations of the connection's backend.
 *
 * Each migration runs in its own write transaction that first re-checks
 * schema_migrations, so several processes may migrate at once. On SQLite the
 * write lock (BEGIN IMMEDIATE) serialises them. On PostgreSQL a write
 * transaction takes no lock by itself, so the whole run, from creating
 * schema_migrations on, is serialised by a session advisory lock.
 */
#include "db/migrate.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/backend.h"

/* The advisory lock's key on PostgreSQL: any constant the app uses for nothing else. */
#define MIGRATE_LOCK_KEY "7300430001"

static bool
is_postgres(const db_t *db)
{
  return strcmp(db->ops->name, "postgres") == 0;
}

static const struct migration *
migrations_for(const db_t *db)
{
  if (strcmp(db->ops->name, "sqlite") == 0)
    return db_migrations_sqlite;
  if (is_postgres(db))
    return db_migrations_postgres;
  return NULL;
}

/* The bookkeeping table, in each backend's types (times need 64 bits). */
static const char *
schema_migrations_sql(const db_t *db)
{
  if (is_postgres(db))
    return "CREATE TABLE IF NOT EXISTS schema_migrations ("
           " version BIGINT PRIMARY KEY,"
           " name TEXT NOT NULL,"
           " applied_at BIGINT NOT NULL)";
  return "CREATE TABLE IF NOT EXISTS schema_migrations ("
         " version INTEGER PRIMARY KEY,"
         " name TEXT NOT NULL,"
         " applied_at INTEGER NOT NULL)";
}

/* 1 when version is recorded, 0 when not, negative on error. */
static int
applied(db_t *db, int version)
{
  db_stmt_t *st = db_prepare(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, version);
  int rc = db_step(st);
  db_reset(st);
  return rc < 0 ? rc : rc == DB_ROW;
}

static int
apply_all(db_t *db, const struct migration *list, int last, int verbose, char *err,
          size_t errlen)
{
  int rc = db_exec_script(db, schema_migrations_sql(db));
  if (rc < 0) {
    snprintf(err, errlen, "cannot create schema_migrations: %s", eventapi_strerror(rc));
    return rc;
  }
  for (const struct migration *m = list; m->version && m->version <= last; m++) {
    /* Each re-checks inside its write transaction: another process may
     * have applied it meanwhile. */
    if ((rc = db_begin(db, DB_WRITE)) < 0)
      return rc;
    rc = applied(db, m->version);
    if (rc == 0) {
      rc = db_exec_script(db, m->sql);
      if (rc == 0)
        rc = db_exec(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                     NULL, "isi", (int64_t)m->version, m->name, time_now_us());
      if (rc == 0 && (rc = db_commit(db)) == 0 && verbose) {
        printf("  applied %04d_%s\n", m->version, m->name);
        fflush(stdout);
      }
    } else if (rc == 1) {
      rc = db_commit(db);
    }
    if (rc < 0) {
      db_rollback(db);
      snprintf(err, errlen, "migration %04d_%s failed: %s", m->version, m->name,
               eventapi_strerror(rc));
      return rc;
    }
  }
  return 0;
}

int
db_migrate(db_t *db, int verbose, char *err, size_t errlen)
{
  return db_migrate_to(db, INT_MAX, verbose, err, errlen);
}

int
db_migrate_to(db_t *db, int version, int verbose, char *err, size_t errlen)
{
  if (errlen > 0)
    err[0] = '\0';
  const struct migration *list = migrations_for(db);
  if (list == NULL) {
    snprintf(err, errlen, "no migrations for the %s backend", db->ops->name);
    return EVENTAPI_EINVAL;
  }
  if (!is_postgres(db))
    return apply_all(db, list, version, verbose, err, errlen);
  /* Held by this session until unlocked (or the session ends): another
   * node's migrate waits here, then finds everything applied. */
  int rc = db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", NULL, NULL);
  if (rc < 0) {
    snprintf(err, errlen, "cannot take the migration lock: %s", eventapi_strerror(rc));
    return rc;
  }
  rc = apply_all(db, list, version, verbose, err, errlen);
  int unlocked = db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL, NULL);
  if (unlocked < 0)
    log_error("migrate: cannot release the migration lock: %s", eventapi_strerror(unlocked));
  return rc;
}

/* Whether schema_migrations exists (a database never migrated has none). */
static int
has_bookkeeping(db_t *db, bool *exists)
{
  db_stmt_t *st = db_prepare(db, is_postgres(db)
      ? "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
      : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (st == NULL)
    return EVENTAPI_EDB;
  int rc = db_step(st);
  if (rc == DB_ROW)
    *exists = db_column_int(st, 0) > 0;
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
db_migrations_status(db_t *db, const struct migration **list, bool *applied_out, size_t max)
{
  const struct migration *all = migrations_for(db);
  if (all == NULL)
    return EVENTAPI_EINVAL;
  bool exists = false;
  int rc = has_bookkeeping(db, &exists);
  size_t i = 0;
  for (const struct migration *m = all; rc == 0 && m->version; m++, i++) {
    if (i == max)
      return EVENTAPI_ETOOBIG;
    applied_out[i] = false;
    if (exists && (rc = applied(db, m->version)) >= 0) {
      applied_out[i] = rc == 1;
      rc = 0;
    }
  }
  if (rc == 0)
    *list = all;
  return rc;
}
