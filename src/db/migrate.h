/*
 * migrate.h - numbered schema migrations embedded in the binary.
 *
 * The SQL files under src/db/migrations/<backend>/ are compiled in by
 * scripts/embed-migrations.py, one array per backend, ended by a zero entry.
 */
#ifndef EVENTAPI_DB_MIGRATE_H
#define EVENTAPI_DB_MIGRATE_H

#include "db/db.h"

struct migration {
  int version;
  const char *name;
  const char *sql;
};

extern const struct migration db_migrations_sqlite[];
extern const struct migration db_migrations_postgres[];

/*
 * Applies every migration not yet recorded in schema_migrations, each in its
 * own write transaction, in order. With verbose, prints each one applied to
 * stdout. Safe to run from several processes at once. Returns 0 or a
 * negative code (logged).
 */
int db_migrate(db_t *db, int verbose);

#endif
