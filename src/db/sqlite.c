/*
 * sqlite.c - the SQLite backend of db.h.
 *
 * One connection per thread (opened with SQLITE_OPEN_NOMUTEX: the thread
 * owns it), WAL, synchronous=FULL unless opted out, foreign keys on, a busy
 * timeout so writers queue instead of failing. Statements are prepared once
 * per connection (db.c caches them by their SQL text), persistent when
 * cached.
 */
#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/log.h"
#include "db/backend.h"

#define BUSY_TIMEOUT_MS 10000
struct sqlite_stmt {
  struct db_stmt base;
  sqlite3_stmt *handle;
};

struct sqlite_db {
  struct db base;
  sqlite3 *handle;
};

static int
map_error(sqlite3 *handle, int rc)
{
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
    return 0;
  case SQLITE_CONSTRAINT:
    return EVENTAPI_ECONSTRAINT;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return EVENTAPI_EBUSY;
  case SQLITE_NOMEM:
    return EVENTAPI_ENOMEM;
  case SQLITE_CANTOPEN:
  case SQLITE_IOERR:
  case SQLITE_CORRUPT:
  case SQLITE_FULL:
  case SQLITE_NOTADB:
  case SQLITE_READONLY:
    log_error("sqlite: %s", handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    return EVENTAPI_EUNAVAILABLE;
  default:
    log_error("sqlite: %s", handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    return EVENTAPI_EDB;
  }
}

/*
 * Creates the folder that will hold the database file, if missing (only
 * the last one: a mistyped path makes no tree of folders).
 */
static int
make_parent_dir(const char *path, char *err, size_t errlen)
{
  char *copy = strdup(path);
  if (copy == NULL)
    return EVENTAPI_ENOMEM;
  char *dir = dirname(copy);
  int rc = 0;
  struct stat st;
  if (strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0) {
    /* the working directory or the root: there */
  } else if (mkdir(dir, 0750) == 0) {
    /* made */
  } else if (errno != EEXIST) {
    snprintf(err, errlen, "cannot create the folder %s: %s", dir, strerror(errno));
    rc = EVENTAPI_EUNAVAILABLE;
  } else if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(ENOTDIR));
    rc = EVENTAPI_EUNAVAILABLE;
  }
  free(copy);
  return rc;
}

static void sqlite_close(db_t *db);

static int
sqlite_open(const char *path, bool synchronous_normal, db_t **out, char *err, size_t errlen)
{
  int rc = make_parent_dir(path, err, errlen);
  if (rc < 0)
    return rc;
  struct sqlite_db *db = calloc(1, sizeof *db);
  if (db == NULL)
    return EVENTAPI_ENOMEM;
  db->base.ops = &db_sqlite_ops;
  int src = sqlite3_open_v2(path, &db->handle,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                            NULL);
  if (src != SQLITE_OK) {
    /* The system's reason (a folder in the way, no permission) says more
     * than SQLite's "unable to open database file". */
    int sys = db->handle ? sqlite3_system_errno(db->handle) : 0;
    snprintf(err, errlen, "cannot open %s: %s", path,
             sys ? strerror(sys) : db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(src));
    sqlite_close(&db->base);
    return EVENTAPI_EUNAVAILABLE;
  }
  sqlite3_busy_timeout(db->handle, BUSY_TIMEOUT_MS);
  char pragmas[256];
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; "
           "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
           synchronous_normal ? "NORMAL" : "FULL");
  char *msg = NULL;
  src = sqlite3_exec(db->handle, pragmas, NULL, NULL, &msg);
  if (src != SQLITE_OK) {
    int sys = sqlite3_system_errno(db->handle);
    snprintf(err, errlen, "cannot open %s: %s%s%s", path, msg ? msg : sqlite3_errstr(src),
             sys ? ": " : "", sys ? strerror(sys) : "");
    sqlite3_free(msg);
    sqlite_close(&db->base);
    return (src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED ? EVENTAPI_EBUSY
                                                                         : EVENTAPI_EUNAVAILABLE;
  }
  *out = &db->base;
  return 0;
}

static void
sqlite_close(db_t *base)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  sqlite3_close_v2(db->handle);
  free(db);
}

static db_stmt_t *
sqlite_prepare(db_t *base, const char *sql, bool persistent)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  struct sqlite_stmt *st = calloc(1, sizeof *st);
  if (st == NULL)
    return NULL;
  int rc = sqlite3_prepare_v3(db->handle, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                              &st->handle, NULL);
  if (rc != SQLITE_OK) {
    log_error("sqlite: prepare failed: %s: %s", sqlite3_errmsg(db->handle), sql);
    if (map_error(NULL, rc) == EVENTAPI_EUNAVAILABLE)
      db->base.broken = true;
    free(st);
    return NULL;
  }
  return &st->base;
}

#define HANDLE(st) (((struct sqlite_stmt *)(st))->handle)
#define DBH(st) (((struct sqlite_db *)(st)->db)->handle)

static int
sqlite_bind_int(db_stmt_t *st, int idx, int64_t value)
{
  return map_error(DBH(st), sqlite3_bind_int64(HANDLE(st), idx, value));
}

static int
sqlite_bind_text(db_stmt_t *st, int idx, const char *text)
{
  return map_error(DBH(st), sqlite3_bind_text(HANDLE(st), idx, text, -1, SQLITE_TRANSIENT));
}

static int
sqlite_bind_null(db_stmt_t *st, int idx)
{
  return map_error(DBH(st), sqlite3_bind_null(HANDLE(st), idx));
}

static int
sqlite_step(db_stmt_t *st)
{
  int rc = sqlite3_step(HANDLE(st));
  if (rc == SQLITE_ROW)
    return DB_ROW;
  if (rc == SQLITE_DONE)
    return DB_DONE;
  int err = map_error(DBH(st), rc);
  if (err == EVENTAPI_ECONSTRAINT)
    log_debug("sqlite: %s", sqlite3_errmsg(DBH(st)));
  return err ? err : EVENTAPI_EDB;
}

static int64_t
sqlite_column_int(db_stmt_t *st, int col)
{
  return sqlite3_column_int64(HANDLE(st), col);
}

static const char *
sqlite_column_text(db_stmt_t *st, int col)
{
  const unsigned char *text = sqlite3_column_text(HANDLE(st), col);
  return text ? (const char *)text : "";
}

static bool
sqlite_column_is_null(db_stmt_t *st, int col)
{
  return sqlite3_column_type(HANDLE(st), col) == SQLITE_NULL;
}

static int
sqlite_changes(db_stmt_t *st)
{
  return sqlite3_changes(DBH(st));
}

static void
sqlite_finalize(db_stmt_t *st)
{
  sqlite3_finalize(HANDLE(st));
  free(st);
}

static void
sqlite_reset(db_stmt_t *st)
{
  sqlite3_reset(HANDLE(st));
  sqlite3_clear_bindings(HANDLE(st));
}

static int
sqlite_exec_script(db_t *base, const char *sql)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  char *msg = NULL;
  int rc = sqlite3_exec(db->handle, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    log_error("sqlite: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return map_error(NULL, rc) ? map_error(NULL, rc) : EVENTAPI_EDB;
  }
  return 0;
}

const struct db_ops db_sqlite_ops = {
  .name = "sqlite",
  .open = sqlite_open,
  .close = sqlite_close,
  .prepare = sqlite_prepare,
  .finalize = sqlite_finalize,
  .bind_int = sqlite_bind_int,
  .bind_text = sqlite_bind_text,
  .bind_null = sqlite_bind_null,
  .step = sqlite_step,
  .column_int = sqlite_column_int,
  .column_text = sqlite_column_text,
  .column_is_null = sqlite_column_is_null,
  .changes = sqlite_changes,
  .reset = sqlite_reset,
  .exec_script = sqlite_exec_script,
  /* IMMEDIATE: the write lock from the first statement, so a transaction
   * never fails half-way on a lock upgrade. */
  .begin_read = "BEGIN DEFERRED",
  .begin_write = "BEGIN IMMEDIATE",
};
