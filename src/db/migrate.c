#include "db/migrate.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/backend.h"

static const struct migration *
migrations_for(const db_t *db)
{
  if (strcmp(db->ops->name, "sqlite") == 0)
    return db_migrations_sqlite;
  return NULL;
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

int
db_migrate(db_t *db, int verbose)
{
  const struct migration *list = migrations_for(db);
  if (list == NULL)
    return EVENTAPI_EINVAL;
  int rc = db_exec_script(db,
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " applied_at INTEGER NOT NULL)");
  if (rc < 0)
    return rc;
  for (const struct migration *m = list; m->version; m++) {
    /* The write lock serialises concurrent migrators: each re-checks. */
    if ((rc = db_begin(db, DB_WRITE)) < 0)
      return rc;
    rc = applied(db, m->version);
    if (rc == 0) {
      rc = db_exec_script(db, m->sql);
      if (rc == 0)
        rc = db_exec(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                     NULL, "isi", (int64_t)m->version, m->name, time_now_us());
      if (rc == 0 && (rc = db_commit(db)) == 0 && verbose)
        printf("  applied %04d_%s\n", m->version, m->name);
    } else if (rc == 1) {
      rc = db_commit(db);
    }
    if (rc < 0) {
      db_rollback(db);
      log_error("migrate: %04d_%s failed: %s", m->version, m->name, eventapi_strerror(rc));
      return rc;
    }
  }
  return 0;
}
