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
 * stdout. Safe to run from several processes at once. Returns 0, or a
 * negative code with what failed in err.
 */
int db_migrate(db_t *db, int verbose, char *err, size_t errlen);

/*
 * As db_migrate, up to migration version only (those after it are left
 * unapplied): for tests of what a later migration does to the data an
 * earlier schema held.
 */
int db_migrate_to(db_t *db, int version, int verbose, char *err, size_t errlen);

/*
 * What `eventapi showmigrations` shows: the migrations this binary holds for
 * db's backend (ended by a zero entry) in *list, and in applied[i] whether
 * the i-th is recorded in schema_migrations (none is, on a database never
 * migrated). Only reads. applied has room for max entries
 * (EVENTAPI_ETOOBIG when there are more). Returns 0 or a negative code.
 */
int db_migrations_status(db_t *db, const struct migration **list, bool *applied, size_t max);

#endif
