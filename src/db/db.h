/*
 * db.h - the one storage interface.
 *
 * Apps speak SQL with `?` placeholders through this header and never see the
 * backend. Each thread owns one connection for its lifetime (db_thread()),
 * opened lazily and reopened after a failure, with its prepared statements
 * cached: no pool, no per-request connect.
 *
 * Values: 64-bit integers (ids, microsecond timestamps, cents, booleans),
 * UTF-8 text, NULL. Every write runs inside db_begin(DB_WRITE)/db_commit().
 * New ids come from `INSERT ... RETURNING id`, which both backends speak
 * (SQLite's backend runs a single-row one without the clause and reads
 * the new rowid, which is cheaper than SQLite's RETURNING).
 */
#ifndef EVENTAPI_DB_DB_H
#define EVENTAPI_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/*
 * An IN-list of ids as one parameter: `WHERE id IN DB_ID_LIST`, bound with
 * db_bind_text() to a JSON array of integers ("[3,5,8]"). One statement for
 * any number of ids, so it stays cached. Each backend understands this
 * spelling (PostgreSQL's rewrites it with its `?` placeholders).
 */
#define DB_ID_LIST "(SELECT value FROM json_each(?))"

/*
 * Ends a `SELECT ... LIMIT n` that claims rows for this transaction, which
 * other claimers skip (a work queue): PostgreSQL's backend makes it
 * `FOR UPDATE SKIP LOCKED`; SQLite, whose write transactions already run one
 * at a time, reads it as a comment.
 */
#define DB_SKIP_LOCKED " /* skip locked */"

/*
 * Ends a SELECT of the rows that a write transaction checks and then goes on
 * to change (an event re-read to check its capacity): inside
 * db_begin(DB_WRITE), PostgreSQL's backend makes it FOR UPDATE, so that the
 * rows stay as read until the commit, as they do under SQLite, whose write
 * transactions run one at a time; elsewhere, and on SQLite, a comment.
 */
#define DB_FOR_WRITE " /* for write */"

typedef struct db db_t;
typedef struct db_stmt db_stmt_t;

enum db_step { DB_DONE = 0, DB_ROW = 1 };
enum db_txn { DB_READ, DB_WRITE };

/* How the database is run: the settings that are not in its URL. */
struct db_settings {
  bool synchronous_normal;   /* SQLITE_SYNCHRONOUS=normal: commits skip the fsync */
  /* SQLITE_CHECKPOINT_PAGES: the log's size at which a busy writer's log
   * is copied into the database file beside it (sqlite.c); 0: 16384. */
  unsigned checkpoint_pages;
};

/*
 * Sets the database every thread connects to (a DATABASE_URL), and how
 * (NULL: the defaults). Call once before any db_thread(); returns 0 or
 * EVENTAPI_EINVAL for an unknown scheme.
 */
int db_configure(const char *url, const struct db_settings *settings);

/*
 * Opens a connection of its own (for commands and migrations); the caller
 * closes it with db_close(). Returns 0 or a negative code, after logging
 * why.
 */
int db_open(db_t **out);

/*
 * As db_open, but instead of logging why it failed, writes one line of it
 * to err (the file or host, and the system's reason: "cannot create the
 * folder /srv/x: No such file or directory"): for start-up, whose errors
 * the command line reports itself. EVENTAPI_EINVAL means the setting is
 * wrong (not a connection string), any other code that the database
 * cannot be reached.
 */
int db_connect(db_t **out, char *err, size_t errlen);
void db_close(db_t *db);

/*
 * A read-only connection to another database than the configured one (one
 * to import from): url as DATABASE_URL reads it, or a plain path to a
 * SQLite file, which must exist and is left as it is (its journal mode
 * too). Returns 0 or a negative code with one line of why in err.
 * db_backend_of() names a connection's backend ("sqlite", "postgres").
 */
int db_connect_url(const char *url, db_t **out, char *err, size_t errlen);
const char *db_backend_of(db_t *db);

/*
 * Whether each statement on db is a round trip to a database server
 * (PostgreSQL), so that one statement doing more beats two doing less. On
 * SQLite a statement is a call into the process, and two plain ones can
 * beat one INSERT ... SELECT ... RETURNING, which SQLite runs through a
 * temporary table. For the hottest writes only.
 */
bool db_statements_are_round_trips(db_t *db);

/*
 * The calling thread's connection, opened on first use; NULL (logged) when
 * the database cannot be opened. Owned by the thread registry: never close it.
 */
db_t *db_thread(void);

/*
 * Lends db, in a unit of work, to this thread: until it is lent back
 * (NULL), db_thread() answers db, and db_read() runs its function in db's
 * open transaction. For an answer made inside the unit (a write with an
 * Idempotency-Key), which reads what the unit wrote. Returns what was
 * lent before, to lend back.
 */
db_t *db_thread_lend(db_t *db);
db_t *db_thread_lent(void);

/* Closes every thread's connection. Only once no thread uses its own. */
void db_close_all(void);

/*
 * Returns the prepared statement for sql, from the connection's cache
 * (keyed by the text), or NULL on error (logged). The statement is
 * borrowed: finish with db_reset(), after which it must not be used.
 */
db_stmt_t *db_prepare(db_t *db, const char *sql);

/*
 * As db_prepare, for SQL assembled at run time (a filter's clauses): cached
 * within a budget of its own, so that no number of combinations can crowd
 * the fixed statements out; past it, prepared for one use.
 */
db_stmt_t *db_prepare_assembled(db_t *db, const char *sql);

/* Binding: index from 1. Text is copied. Return 0 or a negative code. */
int db_bind_int(db_stmt_t *st, int idx, int64_t value);
int db_bind_text(db_stmt_t *st, int idx, const char *text); /* NULL binds NULL */
int db_bind_null(db_stmt_t *st, int idx);

/*
 * Runs the statement one row further: DB_ROW, DB_DONE, or a negative code
 * (EVENTAPI_ECONSTRAINT for a unique or foreign-key violation,
 * EVENTAPI_EBUSY, EVENTAPI_EUNAVAILABLE, EVENTAPI_EDB).
 */
int db_step(db_stmt_t *st);

/*
 * Runs an `INSERT ... RETURNING id` (or any statement giving one row whose
 * first column is an id), stores the id in *id and resets the statement.
 * Returns 0 or a negative code (EVENTAPI_ECONSTRAINT when a constraint
 * refused the row).
 */
int db_step_id(db_stmt_t *st, int64_t *id);

/* Columns from 0, valid until the next step or reset. */
int64_t db_column_int(db_stmt_t *st, int col);
const char *db_column_text(db_stmt_t *st, int col); /* "" for NULL */
bool db_column_is_null(db_stmt_t *st, int col);

/* The column's integer, or dflt when it is NULL (a nullable column). */
int64_t db_column_int_or(db_stmt_t *st, int col, int64_t dflt);

/*
 * A copy of the column's text in arena, or NULL when the column is NULL.
 * When arena cannot hold the copy, returns NULL and sets *failed, which is
 * never cleared: a row reader passes one flag for all its columns and
 * answers EVENTAPI_ENOMEM once, at the end.
 */
const char *db_column_text_dup(db_stmt_t *st, int col, arena_t *arena, bool *failed);

/* Clears bindings and rewinds; the statement goes back to the cache. */
void db_reset(db_stmt_t *st);

/*
 * Convenience for one statement without result rows: binds the arguments
 * described by fmt ('i' int64_t, 's' const char * or NULL, 'n' NULL) and
 * runs it. Returns 0 or a negative code; *changes (if not NULL) receives the
 * number of rows changed.
 */
int db_exec(db_t *db, const char *sql, int *changes, const char *fmt, ...);

/*
 * Reads a row of st into out: its columns, strings copied into arena.
 * Returns 0 or a negative code (EVENTAPI_ENOMEM).
 */
typedef int (*db_row_fn)(db_stmt_t *st, arena_t *arena, void *out);

/*
 * Steps st (prepared, its parameters bound: a SELECT of at most one row
 * that matters) once and reads the row with read: 0, EVENTAPI_ENOTFOUND
 * when there is none, or a negative code. Resets st either way; st NULL (a
 * failed prepare) is EVENTAPI_EDB.
 */
int db_row(db_stmt_t *st, db_row_fn read, arena_t *arena, void *out);

/*
 * Steps st (prepared, its parameters bound) through its rows, at most max
 * of them (0: all), reading each with read into a new arena array of items
 * of size bytes (each zeroed first): *items (NULL when there is none) and
 * *count. Returns 0 or a negative code. Resets st; st NULL is EVENTAPI_EDB.
 */
int db_rows(db_stmt_t *st, db_row_fn read, size_t size, size_t max, arena_t *arena,
            void **items, size_t *count);

/*
 * One page of a list, and the number of all its rows: count_sql ("SELECT
 * count(*) FROM ... WHERE ...") and page_sql (the same rows, ordered, and
 * "LIMIT ? OFFSET ?" last) take the same leading parameters, described by
 * fmt as db_exec() describes them and given after it; page_sql's limit
 * and offset follow them. The page goes into *items, an arena array of
 * *count items of size bytes read with read (NULL when there is none),
 * the count into *total. Run it in a read transaction (db_read) for the
 * two to agree. Returns 0 or a negative code.
 */
int db_page(db_t *db, const char *count_sql, const char *page_sql, int64_t limit, int64_t offset,
            db_row_fn read, size_t size, arena_t *arena, void **items, size_t *count,
            int64_t *total, const char *fmt, ...);

/*
 * The first column of st's row as an integer (a count), 0 when it yields
 * none: 0 with *out, or a negative code. Resets st; st NULL is EVENTAPI_EDB.
 */
int db_int(db_stmt_t *st, int64_t *out);

/*
 * Whether st (prepared, its parameters bound: a SELECT that yields a row
 * when the thing asked about exists) yields a row: 0 with the answer in
 * *found, or a negative code. Resets st either way; st NULL (a failed
 * prepare) is EVENTAPI_EDB.
 */
int db_exists(db_stmt_t *st, bool *found);

/*
 * The integers of the first column of every row of sql (ids), with its one
 * `?` bound to arg, in an array allocated from arena (NULL when none).
 * Returns 0 or a negative code.
 */
int db_ints(db_t *db, const char *sql, int64_t arg, arena_t *arena, int64_t **out,
            size_t *count);

/* Runs a multi-statement script (migrations). Returns 0 or a negative code. */
int db_exec_script(db_t *db, const char *sql);

/*
 * Transactions. DB_WRITE takes the write lock at once (SQLite BEGIN
 * IMMEDIATE) so that a transaction never fails half-way on lock upgrade.
 */
int db_begin(db_t *db, enum db_txn kind);
int db_commit(db_t *db);
void db_rollback(db_t *db);

/*
 * Runs fn(arg) once the open transaction has committed, in the order
 * registered; drops it if the transaction rolls back (Django's
 * transaction.on_commit): for what must not happen unless the change
 * stands, such as removing a deleted event's image file. Outside a
 * transaction fn runs at once. fn must not use db; arg must live until
 * the commit (the request's arena does). 0, or EVENTAPI_ENOMEM having run nothing.
 */
int db_on_commit(db_t *db, void (*fn)(void *arg), void *arg);

/*
 * ---- Notices between the processes on one database ----
 *
 * For what a process keeps in memory about rows that any process may
 * change (the live availability streams): PostgreSQL's NOTIFY and LISTEN.
 *
 * db_notify() sends payload on channel when db's open transaction commits,
 * and not at all if it rolls back; the same notice sent twice in one
 * transaction arrives once. channel is a plain lower-case name. On SQLite
 * it does nothing and returns 0: a process tells itself (db_on_commit),
 * and processes sharing one file hear nothing of each other.
 */
int db_notify(db_t *db, const char *channel, const char *payload);

struct db_listener;

/* What a listener calls, on its own thread. */
struct db_listen_calls {
  void (*heard)(const char *payload, void *arg); /* a notice, from any process, this one too */
  void (*resumed)(void *arg); /* (re)connected: notices sent meanwhile were missed */
  void *arg;
};

/*
 * Starts a thread that listens on channel over a connection of its own
 * and calls calls->heard for each notice. The connection is made on the
 * thread; when it cannot be made, or is lost, the thread says so once in
 * the log and tries again (every 100 ms at first, at most every 5 s),
 * then calls calls->resumed once it listens again, as it does after its
 * first connection. *out is NULL on SQLite (there is nothing to hear).
 * Returns 0, or EVENTAPI_ENOMEM.
 */
int db_listen(const char *channel, const struct db_listen_calls *calls,
              struct db_listener **out);

/* Stops the thread and closes its connection; NULL does nothing. */
void db_listen_stop(struct db_listener *l);

/*
 * ---- The write path: units of work ----
 *
 * A unit of work is a function that does database work only: no replies,
 * no other I/O, no sleeping, no db_begin/db_commit of its own. It returns 0
 * to keep its changes, or a negative code to undo them (its own only). A
 * unit may be run more than once (a batch is replayed after a failure that
 * ended its transaction, PostgreSQL retries a lost serialization race), so
 * it starts from its context each time and only the last run counts. What
 * it registers with db_on_commit() runs once its changes are durable.
 */
typedef int (*db_unit_fn)(db_t *db, void *ctx);

/*
 * Runs fn(db, ctx) in a write transaction and returns its result once the
 * transaction committed (durably: synchronous=FULL on SQLite), or the
 * storage error that prevented it. On SQLite units run on one writer
 * thread per process, several to a transaction (group commit); on
 * PostgreSQL on the calling thread's connection, retried when they lose a
 * race. Blocks the caller.
 */
int db_write(db_unit_fn fn, void *ctx);

/*
 * As db_write, without blocking: done(done_arg, rc) is called once the
 * unit's fate is durable, on the writer thread (SQLite), or before this
 * returns (PostgreSQL). ctx must live until then.
 */
void db_write_async(db_unit_fn fn, void *ctx, void (*done)(void *arg, int rc),
                    void *done_arg);

/* Whether db_write_async returns before the unit has run (SQLite). */
bool db_write_is_async(void);

/*
 * Runs fn(db, ctx) in one read transaction on the calling thread's
 * connection (one snapshot: a list and its count agree). Returns fn's
 * result, or the storage error.
 */
int db_read(db_unit_fn fn, void *ctx);

/*
 * The writer's batches: at most batch_max units to a transaction, and the
 * writer waits up to batch_wait_us for company before it begins one (0:
 * it takes what is pending; settings WRITE_BATCH_MAX, WRITE_BATCH_WAIT).
 */
void db_write_configure(unsigned batch_max, int64_t batch_wait_us);

/* What the writer (SQLite) did since the process started. */
struct db_write_stats {
  uint64_t batches;   /* transactions committed or failed */
  uint64_t units;     /* units of work they ran */
  uint64_t replays;   /* batches run again with a savepoint a unit, after one
                         failed having changed rows */
  /* Checkpoints that emptied the log or copied part of it: by the writer
   * itself, and by the thread beside it (sqlite.c). */
  uint64_t checkpoints_writer, checkpoints_beside;
};
void db_write_stats(struct db_write_stats *out);

/* Finishes what was queued, stops the writer, closes its connection. */
void db_writer_stop(void);

/*
 * ---- The catalogue's version ----
 *
 * The `catalogue` row's version is moved by triggers (migration 0008) in
 * every transaction that changes what the event catalogue shows: events,
 * their sessions and ticket types, categories; not registrations. Answers
 * built from the catalogue may be cached under the number this returns,
 * read before the answer's own reads: the number moves once such a
 * transaction has committed and before its caller learns that it did, in
 * every process on the database, so an answer cached under the number read
 * now is never older than what any acknowledged write left. Equal numbers
 * mean that no such transaction committed in between.
 *
 * SQLite: no query. Every process on the database file maps one counter
 * (a small file beside the database, as SQLite's own -shm), moved after
 * each commit of a connection of the process whose transaction changed the
 * catalogue row; once a second the row itself is read, so a change that
 * bypassed the counter (another program writing the file, a process killed
 * between its commit and the move) is seen within a second.
 * PostgreSQL: one query of the row on db.
 * Returns 0 or a negative code.
 */
int db_catalogue_version(db_t *db, uint64_t *out);

/* The configured backend's name: "sqlite" or "postgres" (their SQL differs
 * where each has its own kind of index, such as for substring search). */
const char *db_backend_name(void);

/* Cheap liveness check for /healthz. Returns 0 or a negative code. */
int db_ping(db_t *db);

#endif
