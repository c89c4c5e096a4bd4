/*
 * db.c - backend selection, per-thread connections, and the generic calls
 * of db.h dispatched to the backend.
 */
#include "db/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "db/backend.h"

static const struct db_ops *backend;
static char *target;          /* backend-specific: a file path, a conninfo */
static struct db_settings settings;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db *registry;   /* every thread's connection */
static atomic_uint generation; /* bumped by db_close_all */

static _Thread_local struct db *thread_db;
static _Thread_local struct db *lent_db; /* db_thread_lend() */

db_t *
db_thread_lend(db_t *db)
{
  db_t *before = lent_db;
  lent_db = db;
  return before;
}

db_t *
db_thread_lent(void)
{
  return lent_db;
}
static _Thread_local unsigned thread_generation;

#define ASSEMBLED_MAX 256 /* cached statements of run-time SQL, per connection */

/*
 * Whether url names a PostgreSQL database: a postgres:// or postgresql://
 * URI, or libpq's key=value form ("host=... dbname=...").
 */
static bool
is_postgres(const char *url)
{
  if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
    return true;
  return strchr(url, '=') != NULL && strstr(url, "://") == NULL;
}

/* The SQLite file of a sqlite: URL, or NULL. */
static const char *
sqlite_path(const char *url)
{
  const char *path = NULL;
  if (strncmp(url, "sqlite://", 9) == 0)
    path = url + 9;                 /* sqlite:///rel/path, sqlite:////abs */
  else if (strncmp(url, "sqlite:", 7) == 0)
    path = url + 7;
  if (path == NULL)
    return NULL;
  if (path[0] == '/' && strncmp(url, "sqlite://", 9) == 0)
    path++;                         /* the third slash ends the empty host */
  return path[0] ? path : NULL;
}

int
db_configure(const char *url, const struct db_settings *s)
{
  const struct db_ops *ops = &db_sqlite_ops;
  const char *chosen = sqlite_path(url);
  if (chosen == NULL && is_postgres(url)) {
    ops = &db_postgres_ops;
    chosen = url;                   /* libpq reads it whole */
  }
  if (chosen == NULL)
    return EVENTAPI_EINVAL;
  char *copy = strdup(chosen);
  if (copy == NULL)
    return EVENTAPI_ENOMEM;
  free(target);
  target = copy;
  backend = ops;
  settings = s ? *s : (struct db_settings){0};
  return 0;
}

bool
db_backend_groups_commits(void)
{
  return backend != NULL && backend->group_commit;
}

int
db_connect(db_t **out, char *err, size_t errlen)
{
  if (errlen > 0)
    err[0] = '\0';
  if (backend == NULL) {
    snprintf(err, errlen, "no database configured");
    return EVENTAPI_EINVAL;
  }
  int rc = backend->open(target, &settings, false, out, err, errlen);
  if (rc < 0 && errlen > 0 && err[0] == '\0')
    snprintf(err, errlen, "%s", eventapi_strerror(rc));
  return rc;
}

int
db_notify(db_t *db, const char *channel, const char *payload)
{
  return db->ops->notify ? db->ops->notify(db, channel, payload) : 0;
}

int
db_listen(const char *channel, const struct db_listen_calls *calls, struct db_listener **out)
{
  *out = NULL;
  if (backend == NULL || backend->listen == NULL)
    return 0;
  return backend->listen(target, channel, calls, out);
}

void
db_listen_stop(struct db_listener *l)
{
  if (l != NULL && backend != NULL && backend->listen_stop != NULL)
    backend->listen_stop(l);
}

int
db_connect_url(const char *url, db_t **out, char *err, size_t errlen)
{
  if (errlen > 0)
    err[0] = '\0';
  const struct db_ops *ops = &db_sqlite_ops;
  const char *chosen = sqlite_path(url);
  if (chosen == NULL && is_postgres(url)) {
    ops = &db_postgres_ops;
    chosen = url;
  } else if (chosen == NULL && strchr(url, ':') == NULL && url[0] != '\0') {
    chosen = url; /* a plain path: a SQLite file */
  }
  if (chosen == NULL) {
    snprintf(err, errlen, "not a SQLite file nor a PostgreSQL URL");
    return EVENTAPI_EINVAL;
  }
  int rc = ops->open(chosen, &(struct db_settings){0}, true, out, err, errlen);
  if (rc < 0 && errlen > 0 && err[0] == '\0')
    snprintf(err, errlen, "%s", eventapi_strerror(rc));
  return rc;
}

const char *
db_backend_of(db_t *db)
{
  return db->ops->name;
}

bool
db_statements_are_round_trips(db_t *db)
{
  return db->ops->round_trips;
}

int
db_open(db_t **out)
{
  char err[512];
  int rc = db_connect(out, err, sizeof err);
  if (rc < 0)
    log_error("database: %s", err);
  return rc;
}


static void
stmt_finalize(db_stmt_t *st)
{
  free(st->sql);
  st->db->ops->finalize(st);
}

void
db_close(db_t *db)
{
  if (db == NULL)
    return;
  for (size_t i = 0; i < db->cache_size; i++)
    if (db->cache[i])
      stmt_finalize(db->cache[i]);
  free(db->cache);
  free(db->on_commit);
  db->ops->close(db);
}

static void
unregister(struct db *db)
{
  pthread_mutex_lock(&registry_lock);
  for (struct db **p = &registry; *p; p = &(*p)->next) {
    if (*p == db) {
      *p = db->next;
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
}

db_t *
db_thread(void)
{
  /* Read on every call: an atomic, no lock (a thread's own connection is
   * the fast path of every request). */
  if (lent_db)
    return lent_db;
  unsigned current = atomic_load(&generation);
  if (thread_db && thread_generation != current)
    thread_db = NULL; /* closed by db_close_all */
  if (thread_db && thread_db->broken) {
    unregister(thread_db);
    db_close(thread_db);
    thread_db = NULL;
  }
  if (thread_db)
    return thread_db;
  db_t *db;
  if (db_open(&db) < 0)
    return NULL; /* logged */
  if (db->ops->thread_opened)
    db->ops->thread_opened(db);
  pthread_mutex_lock(&registry_lock);
  db->next = registry;
  registry = db;
  thread_generation = atomic_load(&generation);
  pthread_mutex_unlock(&registry_lock);
  thread_db = db;
  return db;
}

void
db_close_all(void)
{
  db_writer_stop();
  pthread_mutex_lock(&registry_lock);
  struct db *db = registry;
  registry = NULL;
  atomic_fetch_add(&generation, 1);
  pthread_mutex_unlock(&registry_lock);
  while (db) {
    struct db *next = db->next;
    db_close(db);
    db = next;
  }
  thread_db = NULL;
}

/* ---- the statement cache of a connection ---- */

/* A statement's text runs to hundreds of bytes, hashed at every prepare:
 * eight at a time, each word mixed in by a multiply and a shift. */
static size_t
hash_sql(const char *sql)
{
  size_t len = strlen(sql);
  uint64_t h = 0x9E3779B97F4A7C15u ^ len, word;

  for (; len >= 8; sql += 8, len -= 8) {
    memcpy(&word, sql, 8);
    h = (h ^ word) * 0xFF51AFD7ED558CCDu;
    h ^= h >> 32;
  }
  word = 0;
  memcpy(&word, sql, len);
  h = (h ^ word) * 0xC4CEB9FE1A85EC53u;
  return (size_t)(h ^ (h >> 29));
}

static void
cache_put(struct db_stmt **cache, size_t size, struct db_stmt *st)
{
  size_t i = st->hash & (size - 1);
  while (cache[i])
    i = (i + 1) & (size - 1);
  cache[i] = st;
}

static int
cache_grow(struct db *db)
{
  size_t size = db->cache_size ? db->cache_size * 2 : 64;
  struct db_stmt **cache = calloc(size, sizeof *cache);
  if (cache == NULL)
    return EVENTAPI_ENOMEM;
  for (size_t i = 0; i < db->cache_size; i++)
    if (db->cache[i])
      cache_put(cache, size, db->cache[i]);
  free(db->cache);
  db->cache = cache;
  db->cache_size = size;
  return 0;
}

static db_stmt_t *
prepare(db_t *db, const char *sql, bool assembled)
{
  size_t hash = hash_sql(sql);
  if (db->cache_size) {
    for (size_t i = hash & (db->cache_size - 1); db->cache[i];
         i = (i + 1) & (db->cache_size - 1)) {
      if (db->cache[i]->hash == hash && strcmp(db->cache[i]->sql, sql) == 0)
        return db->cache[i];
    }
  }
  bool cached = !assembled || db->assembled_used < ASSEMBLED_MAX;
  if (cached && (db->cache_used + 1) * 2 > db->cache_size && cache_grow(db) < 0)
    return NULL;
  db_stmt_t *st = db->ops->prepare(db, sql, cached);
  if (st == NULL)
    return NULL;
  st->db = db;
  st->hash = hash;
  st->uncached = !cached;
  if ((st->sql = strdup(sql)) == NULL) {
    db->ops->finalize(st);
    return NULL;
  }
  if (cached) {
    cache_put(db->cache, db->cache_size, st);
    db->cache_used++;
    db->assembled_used += assembled;
  }
  return st;
}

db_stmt_t *
db_prepare(db_t *db, const char *sql)
{
  return prepare(db, sql, false);
}

db_stmt_t *
db_prepare_assembled(db_t *db, const char *sql)
{
  return prepare(db, sql, true);
}

int
db_bind_int(db_stmt_t *st, int idx, int64_t value)
{
  return st->db->ops->bind_int(st, idx, value);
}

int
db_bind_text(db_stmt_t *st, int idx, const char *text)
{
  if (text == NULL)
    return st->db->ops->bind_null(st, idx);
  return st->db->ops->bind_text(st, idx, text);
}

int
db_bind_null(db_stmt_t *st, int idx)
{
  return st->db->ops->bind_null(st, idx);
}

int
db_step(db_stmt_t *st)
{
  int rc = st->db->ops->step(st);
  if (rc == EVENTAPI_EUNAVAILABLE)
    st->db->broken = true;
  return rc;
}

int
db_step_id(db_stmt_t *st, int64_t *id)
{
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *id = db_column_int(st, 0);
    rc = 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_EDB; /* no row: not an INSERT ... RETURNING */
  }
  db_reset(st);
  return rc;
}

int64_t
db_column_int(db_stmt_t *st, int col)
{
  return st->db->ops->column_int(st, col);
}

const char *
db_column_text(db_stmt_t *st, int col)
{
  return st->db->ops->column_text(st, col);
}

bool
db_column_is_null(db_stmt_t *st, int col)
{
  return st->db->ops->column_is_null(st, col);
}

int64_t
db_column_int_or(db_stmt_t *st, int col, int64_t dflt)
{
  return db_column_is_null(st, col) ? dflt : db_column_int(st, col);
}

const char *
db_column_text_dup(db_stmt_t *st, int col, arena_t *arena, bool *failed)
{
  if (db_column_is_null(st, col))
    return NULL;
  const char *copy = arena_strdup(arena, db_column_text(st, col));
  if (copy == NULL)
    *failed = true;
  return copy;
}

void
db_reset(db_stmt_t *st)
{
  if (st->uncached)
    stmt_finalize(st);
  else
    st->db->ops->reset(st);
}

static int
bind_va(db_stmt_t *st, const char *fmt, va_list ap)
{
  int rc = 0;
  for (int i = 0; fmt && fmt[i] && rc == 0; i++) {
    switch (fmt[i]) {
    case 'i':
      rc = db_bind_int(st, i + 1, va_arg(ap, int64_t));
      break;
    case 's':
      rc = db_bind_text(st, i + 1, va_arg(ap, const char *));
      break;
    case 'n':
      rc = db_bind_null(st, i + 1);
      break;
    default:
      rc = EVENTAPI_EINVAL;
    }
  }
  return rc;
}

int
db_exec(db_t *db, const char *sql, int *changes, const char *fmt, ...)
{
  db_stmt_t *st = db_prepare(db, sql);
  if (st == NULL)
    return EVENTAPI_EDB;
  va_list ap;
  va_start(ap, fmt);
  int rc = bind_va(st, fmt, ap);
  va_end(ap);
  if (rc == 0) {
    while ((rc = db_step(st)) == DB_ROW)
      ;
  }
  if (rc == 0 && changes)
    *changes = db->ops->changes(st);
  db_reset(st);
  return rc;
}

int
db_row(db_stmt_t *st, db_row_fn read, arena_t *arena, void *out)
{
  if (st == NULL)
    return EVENTAPI_EDB;
  int rc = db_step(st);
  if (rc == DB_ROW)
    rc = read(st, arena, out);
  else if (rc == DB_DONE)
    rc = EVENTAPI_ENOTFOUND;
  db_reset(st);
  return rc;
}

int
db_rows(db_stmt_t *st, db_row_fn read, size_t size, size_t max, arena_t *arena,
        void **items, size_t *count)
{
  *items = NULL;
  *count = 0;
  if (st == NULL)
    return EVENTAPI_EDB;
  char *list = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  while ((max == 0 || n < max) && (rc = db_step(st)) == DB_ROW) {
    if ((list = arena_grow(arena, list, n, &cap, size)) == NULL) {
      rc = EVENTAPI_ENOMEM;
      break;
    }
    memset(list + n * size, 0, size);
    if ((rc = read(st, arena, list + n++ * size)) < 0)
      break;
  }
  db_reset(st);
  if (rc < 0)
    return rc;
  *items = list;
  *count = n;
  return 0;
}

int
db_page(db_t *db, const char *count_sql, const char *page_sql, int64_t limit, int64_t offset,
        db_row_fn read, size_t size, arena_t *arena, void **items, size_t *count,
        int64_t *total, const char *fmt, ...)
{
  *items = NULL;
  *count = 0;
  *total = 0;
  va_list ap, again;
  va_start(ap, fmt);
  va_copy(again, ap);
  db_stmt_t *st = db_prepare(db, count_sql);
  int rc = st ? bind_va(st, fmt, ap) : EVENTAPI_EDB;
  if (rc == 0)
    rc = db_int(st, total);
  else if (st)
    db_reset(st);
  if (rc == 0 && *total > offset) {
    int n = fmt ? (int)strlen(fmt) : 0;
    st = db_prepare(db, page_sql);
    rc = st ? bind_va(st, fmt, again) : EVENTAPI_EDB;
    if (rc == 0)
      rc = db_bind_int(st, n + 1, limit);
    if (rc == 0)
      rc = db_bind_int(st, n + 2, offset);
    int64_t left = *total - offset;
    if (rc == 0)
      rc = db_rows(st, read, size, (size_t)(left < limit ? left : limit), arena, items, count);
    else if (st)
      db_reset(st);
  }
  va_end(again);
  va_end(ap);
  return rc;
}

int
db_int(db_stmt_t *st, int64_t *out)
{
  *out = 0;
  if (st == NULL)
    return EVENTAPI_EDB;
  int rc = db_step(st);
  if (rc == DB_ROW)
    *out = db_column_int(st, 0);
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
db_exists(db_stmt_t *st, bool *found)
{
  *found = false;
  if (st == NULL)
    return EVENTAPI_EDB;
  int rc = db_step(st);
  db_reset(st);
  *found = rc == DB_ROW;
  return rc < 0 ? rc : 0;
}

int
db_ints(db_t *db, const char *sql, int64_t arg, arena_t *arena, int64_t **out, size_t *count)
{
  *out = NULL;
  *count = 0;
  db_stmt_t *st = db_prepare(db, sql);
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, arg);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if ((*out = arena_grow(arena, *out, *count, &cap, sizeof **out)) == NULL) {
      rc = EVENTAPI_ENOMEM;
      break;
    }
    (*out)[(*count)++] = db_column_int(st, 0);
  }
  db_reset(st);
  return rc == DB_DONE ? 0 : rc;
}

int
db_exec_script(db_t *db, const char *sql)
{
  return db->ops->exec_script(db, sql);
}

/* Transactions are statements like any other, cached by the backend. */
int
db_begin(db_t *db, enum db_txn kind)
{
  if (db->in_unit) {
    log_error("database: a unit of work began a transaction of its own");
    return EVENTAPI_EINTERNAL;
  }
  db->non_commit = 0; /* none left over from a transaction never ended */
  int rc = db_exec(db, kind == DB_WRITE ? db->ops->begin_write : db->ops->begin_read, NULL, NULL);
  if (rc == 0) {
    db->txn_depth = 1;
    db->txn_write = kind == DB_WRITE;
  }
  return rc;
}

int
db_commit_keeping(db_t *db, struct db_on_commit **after, size_t *nafter)
{
  *after = NULL;
  *nafter = 0;
  int rc = db_exec(db, "COMMIT", NULL, NULL);
  if (rc < 0) {
    db_rollback(db);
    return rc;
  }
  db->txn_depth = 0;
  db->txn_write = false;
  if (db->non_commit > 0) {
    *after = malloc(db->non_commit * sizeof **after);
    if (*after == NULL) {
      /* Committed: its after-commit work runs now rather than never. */
      for (size_t i = 0; i < db->non_commit; i++)
        db->on_commit[i].fn(db->on_commit[i].arg);
    } else {
      memcpy(*after, db->on_commit, db->non_commit * sizeof **after);
      *nafter = db->non_commit;
    }
  }
  db->non_commit = 0;
  return 0;
}

int
db_commit(db_t *db)
{
  struct db_on_commit *after;
  size_t nafter;
  int rc = db_commit_keeping(db, &after, &nafter);
  for (size_t i = 0; i < nafter; i++)
    after[i].fn(after[i].arg);
  free(after);
  return rc;
}

int
db_on_commit(db_t *db, void (*fn)(void *arg), void *arg)
{
  if (db->txn_depth == 0) {
    fn(arg);
    return 0;
  }
  if (db->non_commit == db->on_commit_cap) {
    size_t cap = db->on_commit_cap ? 2 * db->on_commit_cap : 8;
    struct db_on_commit *grown = realloc(db->on_commit, cap * sizeof *grown);
    if (grown == NULL)
      return EVENTAPI_ENOMEM;
    db->on_commit = grown;
    db->on_commit_cap = cap;
  }
  db->on_commit[db->non_commit++] = (struct db_on_commit){fn, arg};
  return 0;
}

void
db_rollback(db_t *db)
{
  db->non_commit = 0;
  if (db->txn_depth == 0)
    return;
  if (!db->ops->in_transaction(db)) {
    /* Ended already: SQLite rolls back by itself on a full disk or an I/O
     * error, and a lost PostgreSQL connection took its transaction along
     * (and is marked broken). Nothing to undo, nothing broken. */
    db->txn_depth = 0;
    db->txn_write = false;
    return;
  }
  int rc = db_exec(db, "ROLLBACK", NULL, NULL);
  if (rc < 0) {
    log_error("database: rollback failed: %s", eventapi_strerror(rc));
    db->broken = true;
  }
  db->txn_depth = 0;
  db->txn_write = false;
}

const char *
db_backend_name(void)
{
  return backend ? backend->name : "";
}

int
db_catalogue_row_version(db_t *db, uint64_t *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT version FROM catalogue WHERE id = 1");
  if (st == NULL)
    return EVENTAPI_EDB;
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *out = (uint64_t)db_column_int(st, 0);
    rc = 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_EDB; /* the row of migration 0008 is missing */
  }
  db_reset(st);
  return rc;
}

int
db_catalogue_version(db_t *db, uint64_t *out)
{
  if (db->ops->catalogue_version)
    return db->ops->catalogue_version(db, out);
  return db_catalogue_row_version(db, out);
}

int
db_ping(db_t *db)
{
  db_stmt_t *st = db_prepare(db, "SELECT 1");
  if (st == NULL)
    return EVENTAPI_EUNAVAILABLE;
  int rc = db_step(st);
  db_reset(st);
  return rc == DB_ROW ? 0 : (rc < 0 ? rc : EVENTAPI_EDB);
}
