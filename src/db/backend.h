/*
 * backend.h - what a storage backend provides to db.c. Private to src/db/.
 */
#ifndef EVENTAPI_DB_BACKEND_H
#define EVENTAPI_DB_BACKEND_H

#include "db/db.h"

struct db_ops {
  const char *name; /* "sqlite", "postgres": selects the migrations */
  /* A new connection (read_only: to another program's database, which it
   * must leave as it found it), or a negative code with one line of why in err
   * (naming the file or host, and the system's reason), not logged. */
  int (*open)(const char *target, const struct db_settings *settings, bool read_only,
              db_t **out, char *err, size_t errlen);
  void (*close)(db_t *db);
  /* A new statement (db.c caches it), kept for the connection's life when
   * persistent; NULL on an error, logged. */
  db_stmt_t *(*prepare)(db_t *db, const char *sql, bool persistent);
  void (*finalize)(db_stmt_t *st); /* frees the statement */
  int (*bind_int)(db_stmt_t *st, int idx, int64_t value);
  int (*bind_text)(db_stmt_t *st, int idx, const char *text);
  int (*bind_null)(db_stmt_t *st, int idx);
  int (*step)(db_stmt_t *st);
  int64_t (*column_int)(db_stmt_t *st, int col);
  const char *(*column_text)(db_stmt_t *st, int col);
  bool (*column_is_null)(db_stmt_t *st, int col);
  int (*changes)(db_stmt_t *st);
  void (*reset)(db_stmt_t *st);    /* rewinds it for the next use */
  int (*exec_script)(db_t *db, const char *sql);
  const char *begin_read;  /* the statements that open a transaction */
  const char *begin_write;
  /* Whether a transaction is open on db (SQLite may end one by itself, on a
   * full disk or an I/O error, rolling the whole of it back). */
  bool (*in_transaction)(db_t *db);
  /* Rows inserted, updated or deleted on db since it opened. */
  int64_t (*total_changes)(db_t *db);
  /* Writes go through one writer per process, in batches (SQLite, whose
   * writers run one at a time anyway), rather than on each caller's own
   * connection (PostgreSQL, which groups concurrent commits itself). */
  bool group_commit;
  /* Each statement is a round trip to a server (PostgreSQL), not a call
   * into the process (SQLite): see db_statements_are_round_trips(). */
  bool round_trips;
  /* Housekeeping between the writer's batches (SQLite: checkpoints, kept
   * out of the commits of a busy writer); idle when no unit waits. May be
   * NULL. */
  void (*maintain)(db_t *db, bool idle);
  /*
   * For the writer's connection: when commits must be durable (SQLite's
   * synchronous=FULL), makes its commits skip the fsync, writes the path
   * of the file to fsync instead (the write-ahead log) into path and sets
   * *deferred; *deferred is false when nothing is to be synced
   * (synchronous=normal). Returns 0 or a negative code. May be NULL.
   */
  int (*defer_sync)(db_t *db, char *path, size_t len, bool *deferred);
  /*
   * Makes every commit so far durable without trusting an earlier fsync of
   * the log: copies the whole write-ahead log into the database file,
   * syncs that, and empties the log (SQLite: a TRUNCATE checkpoint); the
   * caller then syncs the emptied log. 0 when all of it is there, else a
   * negative code (EVENTAPI_EBUSY: a reader held it up). For the writer,
   * after an fsync of the log failed. May be NULL.
   */
  int (*checkpoint)(db_t *db);
  /* The catalogue's version without a query (db_catalogue_version), or
   * NULL: db.c then reads the catalogue row. */
  int (*catalogue_version)(db_t *db, uint64_t *out);
  /* Settles a server thread's own connection (db_thread), which serves
   * reads; may be NULL. */
  void (*thread_opened)(db_t *db);
  /* db_notify() and db_listen() (db.h); NULL where processes cannot
   * tell each other anything (SQLite). */
  int (*notify)(db_t *db, const char *channel, const char *payload);
  int (*listen)(const char *target, const char *channel, const struct db_listen_calls *calls,
                struct db_listener **out);
  void (*listen_stop)(struct db_listener *l);
};

/* Work to run once a transaction is durable (db_on_commit). */
struct db_on_commit {
  void (*fn)(void *arg);
  void *arg;
};

/* Every backend's connection and statement start with these. */
struct db {
  const struct db_ops *ops;
  struct db *next;   /* thread registry */
  bool broken;       /* reopen before the next use */
  int txn_depth;
  bool txn_write;    /* the open transaction is a DB_WRITE one */
  bool in_unit;      /* a unit of work runs on it (db_begin is then a bug) */
  struct db_on_commit *on_commit; /* db_on_commit(), in order */
  size_t non_commit, on_commit_cap;
  struct db_stmt **cache; /* by SQL text: open addressing, power-of-two size */
  size_t cache_size, cache_used, assembled_used;
};

struct db_stmt {
  struct db *db;
  char *sql;         /* a copy of the text: the cache key, for the logs too */
  size_t hash;
  bool uncached;     /* finalized by db_reset() */
};

/*
 * Commits without running the after-commit work: it is handed to the caller
 * (*after malloc'd, *nafter entries), to run once the commit is durable.
 */
int db_commit_keeping(db_t *db, struct db_on_commit **after, size_t *nafter);

/* Whether the configured backend writes through the group-committing writer. */
bool db_backend_groups_commits(void);

/* The catalogue row's version, read by a query on db (no transaction of
 * its own). */
int db_catalogue_row_version(db_t *db, uint64_t *out);

/* Counts a checkpoint for db_write_stats(): by the writer itself, or by
 * the thread beside it (beside). */
void db_write_note_checkpoint(bool beside);

/* PostgreSQL's notices (pg_listen.c), for db_postgres_ops. */
int db_pg_notify(db_t *db, const char *channel, const char *payload);
int db_pg_listen(const char *target, const char *channel, const struct db_listen_calls *calls,
                 struct db_listener **out);
void db_pg_listen_stop(struct db_listener *l);

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_postgres_ops;

#endif
