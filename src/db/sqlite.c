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
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/backend.h"

#define BUSY_TIMEOUT_MS 10000

/*
 * A single-row `INSERT ... VALUES (...) RETURNING id` is run without its
 * RETURNING clause, and its one row is made from sqlite3_last_insert_rowid():
 * SQLite runs RETURNING through a temporary table, which costs more than
 * the insert itself (every table's id is its rowid). The row exists only if
 * the insert inserted (ON CONFLICT DO NOTHING may not).
 */
#define RETURNING_ID " RETURNING id"

enum rowid_state {
  ROWID_NONE,   /* a statement like any other */
  ROWID_FRESH,  /* a rowid insert, not yet stepped since its reset */
  ROWID_ON_ROW, /* stepped: on its one row, the new id */
  ROWID_DONE,   /* past its row, or it inserted nothing */
};

struct sqlite_stmt {
  struct db_stmt base;
  sqlite3_stmt *handle;
  enum rowid_state rowid_state;
  int64_t rowid;
  char rowid_text[24];
};

struct checkpointer;

struct sqlite_db {
  struct db base;
  sqlite3 *handle;
  struct checkpointer *bg; /* the writer's: checkpoints beside it (below) */
  int wal_frames;   /* frames in the write-ahead log after its last commit */
  int checkpoint_pages; /* SQLITE_CHECKPOINT_PAGES: the checkpoints' thresholds */
  bool full;        /* synchronous=FULL was asked for */
  bool catalogue_changed; /* the open transaction wrote the catalogue row */
};

/*
 * Checkpoints (copying the write-ahead log into the database file, with an
 * fsync) are kept out of SQLite's commits (wal_autocheckpoint=0) and run
 * between the writer's batches (sqlite_maintain): by the writer once it is
 * idle (no unit came for a while, write.c) and the log holds
 * WAL_CHECKPOINT_IDLE frames; while it is busy, by a thread beside it from
 * SQLITE_CHECKPOINT_PAGES frames (below); and by the writer itself at
 * WAL_CHECKPOINT_BUSY times that however busy it is, should the thread
 * fall behind. That bounds the log: 128 MiB of 4 KiB pages by default.
 */
#define WAL_CHECKPOINT_IDLE 1000
#define WAL_CHECKPOINT_BUSY 2
#define CHECKPOINT_PAGES_DEFAULT 16384

static pthread_once_t configured = PTHREAD_ONCE_INIT;

/* Process-wide, before any connection: no memory statistics, whose global
 * mutex every allocation of every connection would take. */
static void
configure_library(void)
{
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* refused if already in use: harmless */
}

/*
 * ---- The catalogue's version (db_catalogue_version) ----
 *
 * A 64-bit counter in a file beside the database ("<database>-catalogue"),
 * mapped shared by every process that opens the database, as SQLite maps
 * its -shm file: moved (after the commit) by each transaction of a
 * connection of this process that wrote the catalogue row, and read without
 * a query. When the file cannot be mapped, a counter of this process stands
 * in, and other processes' changes are seen by the check of the row each
 * second. Mappings live as long as the process (a reader may be using one),
 * one per database file opened.
 */
#define CATALOGUE_CHECK_US 1000000

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static char *counter_path;                       /* the database the counter is for */
static _Atomic(_Atomic uint64_t *) counter;      /* mapped, or &counter_local */
static _Atomic uint64_t counter_local;
static atomic_int_fast64_t row_checked_us;       /* when the row was last read */
static atomic_int_fast64_t row_version = -1;     /* as read then; -1: never */

static _Atomic uint64_t *
counter_map(const char *path)
{
  char *name = malloc(strlen(path) + sizeof "-catalogue");
  if (name == NULL)
    return NULL;
  sprintf(name, "%s-catalogue", path);
  void *mapped = MAP_FAILED;
  int fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct stat st;
  /* Two processes may create it at once: both grow it to the same size,
   * and a counter already moved is never cut. */
  if (fd >= 0 && fstat(fd, &st) == 0 &&
      (st.st_size >= 4096 || ftruncate(fd, 4096) == 0))
    mapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED)
    log_warn("sqlite: cannot map %s (%s): changes by other processes show within a second",
             name, strerror(errno));
  if (fd >= 0)
    close(fd);
  free(name);
  return mapped == MAP_FAILED ? NULL : mapped;
}

/* Points the counter at the database of path (once per file). */
static void
counter_open(const char *path)
{
  pthread_mutex_lock(&counter_lock);
  if (counter_path == NULL || strcmp(counter_path, path) != 0) {
    char *copy = strdup(path);
    _Atomic uint64_t *mapped = copy && strcmp(path, ":memory:") != 0 ? counter_map(path) : NULL;
    free(counter_path);
    counter_path = copy;
    atomic_store(&counter, mapped ? mapped : &counter_local);
    atomic_store(&row_version, -1);
    atomic_store(&row_checked_us, 0);
  }
  pthread_mutex_unlock(&counter_lock);
}

static void
counter_move(void)
{
  _Atomic uint64_t *c = atomic_load(&counter);
  atomic_fetch_add_explicit(c ? c : &counter_local, 1, memory_order_release);
}

static int
sqlite_catalogue_version(db_t *base, uint64_t *out)
{
  /* The safety net, once a second: the row itself. */
  int64_t now = time_monotonic_us();
  int64_t checked = atomic_load(&row_checked_us);
  if (now - checked >= CATALOGUE_CHECK_US &&
      atomic_compare_exchange_strong(&row_checked_us, &checked, now)) {
    uint64_t row;
    if (db_catalogue_row_version(base, &row) == 0) {
      int64_t seen = atomic_exchange(&row_version, (int64_t)row);
      if (seen >= 0 && (uint64_t)seen != row)
        counter_move();
    }
  }
  _Atomic uint64_t *c = atomic_load(&counter);
  *out = atomic_load_explicit(c ? c : &counter_local, memory_order_acquire);
  return 0;
}

/* Every row change, triggers' included: notes a write of the catalogue row. */
static void
note_update(void *arg, int op, const char *database, const char *table, sqlite3_int64 rowid)
{
  (void)op, (void)database, (void)rowid;
  if (table[0] == 'c' && strcmp(table, "catalogue") == 0)
    ((struct sqlite_db *)arg)->catalogue_changed = true;
}

static void
note_rollback(void *arg)
{
  ((struct sqlite_db *)arg)->catalogue_changed = false;
}

/* Called by SQLite once a transaction has committed (in WAL mode). */
static int
note_wal_size(void *arg, sqlite3 *handle, const char *name, int frames)
{
  (void)handle;
  (void)name;
  struct sqlite_db *db = arg;
  db->wal_frames = frames;
  if (db->catalogue_changed) {
    db->catalogue_changed = false;
    counter_move();
  }
  return SQLITE_OK;
}

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
  case SQLITE_FULL:
    /* The disk (or the database's size limit) is full: SQLite rolled the
     * transaction back, and the connection serves on once there is room. */
    log_error("sqlite: %s", handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    return EVENTAPI_EFULL;
  case SQLITE_CANTOPEN:
  case SQLITE_IOERR:
  case SQLITE_CORRUPT:
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

/* A failed sqlite3_open_v2() of path: why, in err; db is closed. The
 * system's reason (a folder in the way, no permission) says more than
 * SQLite's "unable to open database file". */
static int
open_failed(struct sqlite_db *db, const char *path, int src, char *err, size_t errlen)
{
  int sys = db->handle ? sqlite3_system_errno(db->handle) : 0;
  snprintf(err, errlen, "cannot open %s: %s", path,
           sys ? strerror(sys) : db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(src));
  sqlite_close(&db->base);
  return EVENTAPI_EUNAVAILABLE;
}

/* Another program's database file, read as it is: not created when
 * missing, its journal mode left alone, no counter file beside it. */
static int
sqlite_open_read_only(const char *path, db_t **out, char *err, size_t errlen)
{
  pthread_once(&configured, configure_library);
  struct sqlite_db *db = calloc(1, sizeof *db);
  if (db == NULL)
    return EVENTAPI_ENOMEM;
  db->base.ops = &db_sqlite_ops;
  int src = sqlite3_open_v2(path, &db->handle,
                            SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                            NULL);
  if (src != SQLITE_OK)
    return open_failed(db, path, src, err, errlen);
  sqlite3_busy_timeout(db->handle, BUSY_TIMEOUT_MS);
  *out = &db->base;
  return 0;
}

static int
sqlite_open(const char *path, const struct db_settings *settings, bool read_only, db_t **out,
            char *err, size_t errlen)
{
  bool synchronous_normal = settings->synchronous_normal;
  if (read_only)
    return sqlite_open_read_only(path, out, err, errlen);
  int rc = make_parent_dir(path, err, errlen);
  if (rc < 0)
    return rc;
  pthread_once(&configured, configure_library);
  struct sqlite_db *db = calloc(1, sizeof *db);
  if (db == NULL)
    return EVENTAPI_ENOMEM;
  db->base.ops = &db_sqlite_ops;
  int src = sqlite3_open_v2(path, &db->handle,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                            NULL);
  if (src != SQLITE_OK)
    return open_failed(db, path, src, err, errlen);
  sqlite3_busy_timeout(db->handle, BUSY_TIMEOUT_MS);
  char pragmas[256];
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; "
           "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
           "PRAGMA wal_autocheckpoint=0;",
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
  sqlite3_wal_hook(db->handle, note_wal_size, db);
  db->full = !synchronous_normal;
  /* At most a million (config.c): twice that still fits an int. */
  db->checkpoint_pages = settings->checkpoint_pages > 0 && settings->checkpoint_pages <= 1000000
                             ? (int)settings->checkpoint_pages
                             : CHECKPOINT_PAGES_DEFAULT;
  sqlite3_update_hook(db->handle, note_update, db);
  sqlite3_rollback_hook(db->handle, note_rollback, db);
  counter_open(path);
  *out = &db->base;
  return 0;
}

/*
 * A server thread's connection reads through its page cache, not a map of
 * the file: each connection maps the file on its own, so that N threads
 * reading the same pages would count them N times in the process's
 * resident memory (a big catalogue's would be several times its size). The
 * page cache bounds each connection (SQLite's default, 2 MiB); the kernel
 * keeps the file's pages once for all.
 */
static void
sqlite_thread_opened(db_t *base)
{
  sqlite3_exec(((struct sqlite_db *)base)->handle, "PRAGMA mmap_size=0", NULL, NULL, NULL);
}

/*
 * A busy writer's checkpoints, beside it. Copying the log into the
 * database file and syncing that file held the writer for tens of
 * milliseconds, and every unit queued meanwhile waited. A thread of its
 * own, on a connection of its own, copies the log once it holds
 * checkpoint_pages frames, while the writer goes on (SQLite lets a
 * checkpoint run beside a writer); it cannot copy what the writer adds
 * meanwhile. The log starts over only when a write begins with every
 * frame copied, so the writer copies that remainder itself, a few pages
 * and one sync, once it is at most 1/WAL_CHECKPOINT_REMAINDER of
 * checkpoint_pages. Should the thread never get that close, the writer
 * waits for its pass and copies the rest itself at WAL_CHECKPOINT_BUSY
 * times checkpoint_pages. Only one connection checkpoints at a time
 * (SQLite would answer the other SQLITE_BUSY and copy nothing), so the
 * writer never checkpoints during a pass of the thread.
 *
 * A kill -9 in the middle of either is safe: SQLite syncs the log before
 * it copies, and the log stays whole until a checkpoint has copied all of
 * it and synced the file.
 */
#define WAL_CHECKPOINT_REMAINDER 8

/*
 * A PASSIVE checkpoint on handle, by the writer or by the thread beside it
 * (beside): it waits for no reader, and copies what no reader still needs.
 * Returns SQLite's code, with *logged and *copied as
 * sqlite3_wal_checkpoint_v2() gives them when it ran, else 0. Counted for
 * /metrics when it copied anything.
 */
static int
checkpoint_passive(sqlite3 *handle, bool beside, int *logged, int *copied)
{
  int rc = sqlite3_wal_checkpoint_v2(handle, NULL, SQLITE_CHECKPOINT_PASSIVE, logged, copied);
  if (rc != SQLITE_OK) {
    if ((rc & 0xff) != SQLITE_BUSY)
      log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(handle));
    *logged = *copied = 0;
  } else if (*copied > 0) {
    db_write_note_checkpoint(beside);
  }
  return rc;
}

struct checkpointer {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;  /* a pass wanted, or stop */
  pthread_cond_t done;  /* a pass finished */
  sqlite3 *handle;
  bool wanted, running, stopping;
  /* Its last pass: the log's frames then, and how many of them were
   * copied; 0 once the writer has checkpointed since. */
  int logged, copied;
};

static void *
checkpointer_main(void *arg)
{
  struct checkpointer *c = arg;
  pthread_setname_np(pthread_self(), "db-checkpoint");
  pthread_mutex_lock(&c->lock);
  for (;;) {
    while (!c->wanted && !c->stopping)
      pthread_cond_wait(&c->wake, &c->lock);
    if (c->stopping)
      break;
    c->wanted = false;
    c->running = true;
    pthread_mutex_unlock(&c->lock);
    int logged, copied;
    checkpoint_passive(c->handle, true, &logged, &copied);
    pthread_mutex_lock(&c->lock);
    c->logged = logged;
    c->copied = copied;
    c->running = false;
    pthread_cond_broadcast(&c->done);
  }
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

static void
checkpointer_stop(struct checkpointer *c)
{
  if (c == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  c->stopping = true;
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
  pthread_join(c->thread, NULL);
  sqlite3_close_v2(c->handle);
  pthread_cond_destroy(&c->done);
  pthread_cond_destroy(&c->wake);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

/* The checkpointer of db's file, started; NULL when it cannot be (then the
 * writer checkpoints alone, as it would without). */
static struct checkpointer *
checkpointer_start(struct sqlite_db *db)
{
  const char *path = sqlite3_db_filename(db->handle, "main");
  if (path == NULL || path[0] == '\0')
    return NULL;
  struct checkpointer *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  if (sqlite3_open_v2(path, &c->handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                      NULL) != SQLITE_OK ||
      /* journal_mode reads the file's header: until a connection has, it
       * does not know the log, and a checkpoint does nothing. */
      sqlite3_exec(c->handle, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0", NULL,
                   NULL, NULL) != SQLITE_OK) {
    log_warn("sqlite: no checkpoints beside the writer: %s",
             c->handle ? sqlite3_errmsg(c->handle) : "out of memory");
    sqlite3_close_v2(c->handle);
    free(c);
    return NULL;
  }
  sqlite3_busy_timeout(c->handle, BUSY_TIMEOUT_MS);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->wake, NULL);
  pthread_cond_init(&c->done, NULL);
  if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
    log_warn("sqlite: no checkpoints beside the writer: cannot start a thread");
    sqlite3_close_v2(c->handle);
    pthread_cond_destroy(&c->done);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return NULL;
  }
  return c;
}

/*
 * Whether the writer checkpoints now, itself (having waited for a pass of
 * the thread beside it to end): when it is idle, when the log has reached
 * WAL_CHECKPOINT_BUSY times checkpoint_pages, or when the thread's last
 * pass left at most the remainder of this log uncopied. A pass of an older
 * log (one that has started over since) had more frames than this one
 * holds, and is ignored. Otherwise wakes the thread, unless it is copying
 * already, and returns false.
 */
static bool
checkpoint_by_writer(struct sqlite_db *db, bool idle)
{
  int pages = db->checkpoint_pages;
  if (db->bg == NULL && (idle || (db->bg = checkpointer_start(db)) == NULL))
    return true;
  struct checkpointer *c = db->bg;
  pthread_mutex_lock(&c->lock);
  bool now = idle || db->wal_frames >= WAL_CHECKPOINT_BUSY * pages ||
             (!c->running && c->copied > 0 && c->logged <= db->wal_frames &&
              db->wal_frames - c->copied <= pages / WAL_CHECKPOINT_REMAINDER);
  if (now) {
    c->wanted = false;
    while (c->running)
      pthread_cond_wait(&c->done, &c->lock);
    c->logged = c->copied = 0;
  } else if (!c->running) {
    c->wanted = true;
    pthread_cond_signal(&c->wake);
  }
  pthread_mutex_unlock(&c->lock);
  return now;
}

static void
sqlite_maintain(db_t *base, bool idle)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  int pages = db->checkpoint_pages;
  if (db->wal_frames < (idle && pages > WAL_CHECKPOINT_IDLE ? WAL_CHECKPOINT_IDLE : pages) ||
      !checkpoint_by_writer(db, idle))
    return;
  /* The log starts over once all of it was copied. */
  int logged, copied;
  if (checkpoint_passive(db->handle, false, &logged, &copied) == SQLITE_OK && logged >= 0 &&
      copied >= logged)
    db->wal_frames = 0;
}

static int
sqlite_checkpoint(db_t *base)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  /* TRUNCATE: waits (the busy timeout) for readers of older snapshots, so
   * that every frame is copied; syncs the log, copies it, syncs the
   * database file, then empties the log, so that the next commit starts
   * it afresh (new salts) rather than chaining onto frames that the disk
   * may not hold. */
  int logged = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db->handle, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logged,
                                     &copied);
  if (rc != SQLITE_OK) {
    int mapped = map_error(db->handle, rc); /* logged, unless busy */
    return mapped < 0 ? mapped : EVENTAPI_EDB;
  }
  if (logged < 0 || copied < logged)
    return EVENTAPI_EBUSY;
  db->wal_frames = 0;
  return 0;
}

static int
sqlite_defer_sync(db_t *base, char *path, size_t len, bool *deferred)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  *deferred = false;
  if (!db->full)
    return 0;
  const char *file = sqlite3_db_filename(db->handle, "main");
  if (file == NULL || file[0] == '\0' || (size_t)snprintf(path, len, "%s-wal", file) >= len)
    return EVENTAPI_EINVAL;
  char *msg = NULL;
  /* NORMAL in WAL mode: a commit writes the log but does not fsync it;
   * the log is synced before every checkpoint, and the writer syncs it
   * before it answers anyone. */
  if (sqlite3_exec(db->handle, "PRAGMA synchronous=NORMAL", NULL, NULL, &msg) != SQLITE_OK) {
    log_error("sqlite: %s", msg ? msg : "cannot set synchronous=NORMAL");
    sqlite3_free(msg);
    return EVENTAPI_EDB;
  }
  *deferred = true;
  return 0;
}

static void
sqlite_close(db_t *base)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  checkpointer_stop(db->bg);
  sqlite3_close_v2(db->handle);
  free(db);
}

/*
 * Whether sql is a single-row insert ending in RETURNING_ID (see above).
 * Not an INSERT ... SELECT or a multi-row VALUES (their rows have several
 * ids), nor an upsert's DO UPDATE (its row's id is not the last inserted):
 * those keep SQLite's RETURNING.
 */
static bool
is_rowid_insert(const char *sql)
{
  size_t len = strlen(sql), tail = strlen(RETURNING_ID);
  return strncmp(sql, "INSERT INTO ", 12) == 0 && len > tail &&
         strcmp(sql + len - tail, RETURNING_ID) == 0 && strstr(sql, " VALUES (") != NULL &&
         strstr(sql, " SELECT ") == NULL && strstr(sql, "), (") == NULL &&
         strstr(sql, " DO UPDATE ") == NULL;
}

static db_stmt_t *
sqlite_prepare(db_t *base, const char *sql, bool persistent)
{
  struct sqlite_db *db = (struct sqlite_db *)base;
  struct sqlite_stmt *st = calloc(1, sizeof *st);
  if (st == NULL)
    return NULL;
  int len = -1;
  if (is_rowid_insert(sql)) {
    len = (int)(strlen(sql) - strlen(RETURNING_ID));
    st->rowid_state = ROWID_FRESH;
  }
  int rc = sqlite3_prepare_v3(db->handle, sql, len, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
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

#define SQLITE_STMT(st) ((struct sqlite_stmt *)(st))
#define HANDLE(st) (SQLITE_STMT(st)->handle)
#define ON_ROWID(st) (SQLITE_STMT(st)->rowid_state == ROWID_ON_ROW)
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

/* Steps a rowid insert (see the top): its row is the new id, if it inserted. */
static int
step_rowid(struct sqlite_stmt *st, sqlite3 *handle)
{
  if (st->rowid_state != ROWID_FRESH) {
    st->rowid_state = ROWID_DONE; /* stepping again must not insert again */
    return SQLITE_DONE;
  }
  int rc = sqlite3_step(st->handle);
  if (rc != SQLITE_DONE)
    return rc == SQLITE_ROW ? SQLITE_MISUSE : rc;
  st->rowid_state = ROWID_DONE;
  if (sqlite3_changes64(handle) != 1)
    return SQLITE_DONE;
  st->rowid = sqlite3_last_insert_rowid(handle);
  snprintf(st->rowid_text, sizeof st->rowid_text, "%lld", (long long)st->rowid);
  st->rowid_state = ROWID_ON_ROW;
  return SQLITE_ROW;
}

static int
sqlite_step(db_stmt_t *st)
{
  int rc = SQLITE_STMT(st)->rowid_state != ROWID_NONE ? step_rowid(SQLITE_STMT(st), DBH(st))
                                                      : sqlite3_step(HANDLE(st));
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
  if (ON_ROWID(st))
    return col == 0 ? SQLITE_STMT(st)->rowid : 0;
  return sqlite3_column_int64(HANDLE(st), col);
}

static const char *
sqlite_column_text(db_stmt_t *st, int col)
{
  if (ON_ROWID(st))
    return col == 0 ? SQLITE_STMT(st)->rowid_text : "";
  const unsigned char *text = sqlite3_column_text(HANDLE(st), col);
  return text ? (const char *)text : "";
}

static bool
sqlite_column_is_null(db_stmt_t *st, int col)
{
  if (ON_ROWID(st))
    return col != 0;
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
  if (SQLITE_STMT(st)->rowid_state != ROWID_NONE)
    SQLITE_STMT(st)->rowid_state = ROWID_FRESH;
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

static bool
sqlite_in_transaction(db_t *base)
{
  return !sqlite3_get_autocommit(((struct sqlite_db *)base)->handle);
}

static int64_t
sqlite_total_changes(db_t *base)
{
  return sqlite3_total_changes64(((struct sqlite_db *)base)->handle);
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
  .in_transaction = sqlite_in_transaction,
  .total_changes = sqlite_total_changes,
  .group_commit = true,
  .round_trips = false,
  .maintain = sqlite_maintain,
  .defer_sync = sqlite_defer_sync,
  .checkpoint = sqlite_checkpoint,
  .catalogue_version = sqlite_catalogue_version,
  .thread_opened = sqlite_thread_opened,
};
