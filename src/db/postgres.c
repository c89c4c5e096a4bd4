/*
 * postgres.c - the PostgreSQL backend of db.h, over libpq.
 *
 * One connection per thread (db.c's registry), opened with the
 * DATABASE_URL as given (a postgres:// URI or a key=value string), named
 * "eventapi" in pg_stat_activity, with a 5 s connect timeout unless the URL
 * sets one, and UTF-8 on the wire.
 *
 * The portable SQL of db.h is rewritten once per statement (pg_rewrite_sql:
 * `?` to `$n`, DB_ID_LIST, DB_SKIP_LOCKED, DB_FOR_WRITE, which is FOR UPDATE
 * only when run inside a write transaction) once per connection, as db.c
 * caches statements by their text; one it does not cache (run-time SQL past
 * its budget) runs unnamed, with PQexecParams. Statements are prepared on the server lazily, at their first
 * step, with the types of the values bound (int8, text, or unknown for
 * NULL): PostgreSQL cannot infer the type of a bare placeholder in a SELECT
 * list. A later run that binds other types gets a statement of its own.
 * Values travel in text format; a whole result arrives at once and steps
 * walk its rows.
 *
 * Errors map to db.h's classes: integrity violations (SQLSTATE class 23)
 * are EVENTAPI_ECONSTRAINT; serialization failures, deadlocks and lock
 * timeouts EVENTAPI_EBUSY; a lost connection or a server shutting down
 * EVENTAPI_EUNAVAILABLE, and the connection is marked broken so that the
 * thread reconnects before its next use. A connection found dead by a BEGIN
 * or a read outside any transaction (the server restarted while it sat
 * idle) is reconnected at once and the statement run again, since it cannot
 * have changed anything: a restart costs no request that came after it. Logs name the host and database,
 * never the URL (it may hold a password), and never a bound value.
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "db/backend.h"
#include "db/pgsql.h"

#define VARIANTS_MAX 4    /* server statements per SQL text, by bound types */
#define CONNECT_TIMEOUT "5"
#define SQL_LOG_MAX 300   /* how much of a failed statement's text is logged */

/* PostgreSQL's type oids (pg_type.dat) for the values db.h binds. */
#define OID_UNKNOWN 0
#define OID_INT8 20
#define OID_TEXT 25

enum bound { BOUND_NULL, BOUND_INT, BOUND_TEXT };

/* One server-side prepared statement of an SQL text, for some parameter types. */
struct variant {
  unsigned id;     /* its name is "e<id>"; 0: none */
  Oid *types;      /* nparams types as declared when prepared */
  bool for_write;  /* prepared from pgsql_write */
};

struct pg_stmt {
  struct db_stmt base;  /* base.sql: the portable text */
  char *pgsql;          /* rewritten for PostgreSQL */
  char *pgsql_write;    /* with DB_FOR_WRITE: as run in a write transaction */
  int nparams;
  const char **values;  /* nparams: NULL, into numbers, or owned text */
  unsigned char *kinds; /* nparams enum bound */
  char (*numbers)[24];  /* nparams: integers as text */
  struct variant variants[VARIANTS_MAX];
  int nvariants;
  PGresult *result;
  int row, nrows;       /* row: the current one, -1 before the first */
  bool executed;
  bool commit;          /* the statement is COMMIT */
  bool rerunnable;      /* BEGIN or SELECT: safe to run again on a new connection */
};

struct pg_db {
  struct db base;
  PGconn *conn;
  unsigned next_id;       /* names server statements */
  char where[160];        /* "host/database", for the log (no password) */
};

#define PGDB(st) ((struct pg_db *)(st)->db)

/* ---- the rewrite ---------------------------------------------------------- */

static const char id_list[] = DB_ID_LIST;
static const char skip_locked[] = DB_SKIP_LOCKED;
static const char for_write[] = DB_FOR_WRITE;

static void
put_param(struct strbuf *out, int *n)
{
  char number[16];
  snprintf(number, sizeof number, "$%d", ++*n);
  strbuf_puts(out, number);
}

/* Copies the quoted text at p (a '...' literal or a "..." identifier, with
 * its doubled quotes) to out; returns where it ends. */
static const char *
copy_quoted(struct strbuf *out, const char *p)
{
  char quote = *p;
  const char *start = p++;
  for (;;) {
    if (*p == '\0')
      break;
    if (*p == quote && p[1] == quote) {
      p += 2;
      continue;
    }
    if (*p++ == quote)
      break;
  }
  strbuf_append(out, start, (size_t)(p - start));
  return p;
}

/* Copies the comment at p (-- to the line's end, or a nested block) to out. */
static const char *
copy_comment(struct strbuf *out, const char *p)
{
  const char *start = p;
  if (p[0] == '-') {
    while (*p && *p != '\n')
      p++;
  } else {
    int depth = 0;
    while (*p) {
      if (p[0] == '/' && p[1] == '*') {
        depth++;
        p += 2;
      } else if (p[0] == '*' && p[1] == '/') {
        p += 2;
        if (--depth == 0)
          break;
      } else {
        p++;
      }
    }
  }
  strbuf_append(out, start, (size_t)(p - start));
  return p;
}

static char *
rewrite(const char *sql, bool writing, int *nparams)
{
  struct strbuf out = {0};
  int n = 0;
  const char *p = sql;
  strbuf_append(&out, "", 0);
  while (*p) {
    if (strncmp(p, id_list, sizeof id_list - 1) == 0) {
      strbuf_puts(&out, "(SELECT value::bigint FROM json_array_elements_text(");
      put_param(&out, &n);
      strbuf_puts(&out, "::json))");
      p += sizeof id_list - 1;
    } else if (strncmp(p, skip_locked, sizeof skip_locked - 1) == 0) {
      strbuf_puts(&out, " FOR UPDATE SKIP LOCKED");
      p += sizeof skip_locked - 1;
    } else if (strncmp(p, for_write, sizeof for_write - 1) == 0) {
      if (writing)
        strbuf_puts(&out, " FOR UPDATE");
      p += sizeof for_write - 1;
    } else if (*p == '\'' || *p == '"') {
      p = copy_quoted(&out, p);
    } else if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
      p = copy_comment(&out, p);
    } else if (*p == '?') {
      put_param(&out, &n);
      p++;
    } else {
      const char *start = p;
      while (*p && !strchr("'\"-/?( ", *p))
        p++;
      if (p == start)
        p++;
      strbuf_append(&out, start, (size_t)(p - start));
    }
  }
  if (out.failed) {
    strbuf_free(&out);
    return NULL;
  }
  *nparams = n;
  size_t len;
  return strbuf_take(&out, &len);
}

char *
pg_rewrite_sql(const char *sql, int *nparams)
{
  return rewrite(sql, false, nparams);
}

char *
pg_rewrite_sql_for_write(const char *sql, int *nparams)
{
  return rewrite(sql, true, nparams);
}

/* ---- errors ------------------------------------------------------------- */

static bool
state_is(const char *state, const char *prefix)
{
  return state && strncmp(state, prefix, strlen(prefix)) == 0;
}

static void
log_failed_sql(const char *what, const char *state, const char *sql)
{
  log_error("postgres: %s (SQLSTATE %s) in: %.*s", what, state ? state : "none",
            SQL_LOG_MAX, sql ? sql : "(script)");
}

/*
 * The db.h code of a failed result (res may be NULL: out of memory, or the
 * connection is gone). Marks the connection broken when it is lost. sql is
 * the statement's text for the log: never its values.
 */
static int
map_error(struct pg_db *db, const PGresult *res, const char *sql)
{
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  if (PQstatus(db->conn) != CONNECTION_OK || state_is(state, "08") ||
      state_is(state, "57P01") || state_is(state, "57P02") || state_is(state, "57P03")) {
    if (!db->base.broken) /* not PQhost(): a lost connection may have let it go */
      log_error("postgres: connection to %s lost: %s", db->where, state ? state : "no SQLSTATE");
    db->base.broken = true;
    return EVENTAPI_EUNAVAILABLE;
  }
  if (state == NULL) {
    /* A client-side failure: libpq's message, which holds no value. */
    const char *msg = PQerrorMessage(db->conn);
    log_error("postgres: %.*s in: %.*s", (int)strcspn(msg, "\n"), msg, SQL_LOG_MAX,
              sql ? sql : "(script)");
    return res ? EVENTAPI_EDB : EVENTAPI_ENOMEM;
  }
  if (state_is(state, "23")) {
    const char *name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    log_debug("postgres: constraint %s violated (SQLSTATE %s)", name ? name : "?", state);
    return EVENTAPI_ECONSTRAINT;
  }
  if (state_is(state, "40001") || state_is(state, "40P01") || state_is(state, "55P03") ||
      state_is(state, "26000") /* a prepared statement dropped under us, in a transaction */) {
    log_debug("postgres: busy (SQLSTATE %s)", state);
    return EVENTAPI_EBUSY;
  }
  if (state_is(state, "53")) { /* insufficient resources: disk full, out of memory */
    log_failed_sql("insufficient resources", state, sql);
    return state_is(state, "53100") ? EVENTAPI_EFULL : EVENTAPI_EUNAVAILABLE;
  }
  /* Data exceptions quote the value at fault: only their code is logged. */
  const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  log_failed_sql(state_is(state, "22") || primary == NULL ? "data exception" : primary,
                 state, sql);
  return EVENTAPI_EDB;
}

/* ---- connections --------------------------------------------------------- */

static void
ignore_notice(void *arg, const char *message)
{
  (void)arg;
  (void)message; /* "relation already exists, skipping" and the like */
}

static void pg_close(db_t *db);

/*
 * What every session needs, whatever the server's or the role's defaults:
 * backslashes are plain characters in string literals (LIKE ... ESCAPE '\'
 * is written so, and the `?` rewrite reads quotes so).
 */
static int
session_setup(struct pg_db *db)
{
  PGresult *res = PQexec(db->conn, "SET standard_conforming_strings = on");
  int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : EVENTAPI_EUNAVAILABLE;
  PQclear(res);
  return rc;
}

static int
pg_open(const char *target, const struct db_settings *settings, bool read_only, db_t **out,
        char *err, size_t errlen)
{
  (void)settings; /* SQLite's; PostgreSQL's are the server's */
  /* Checked first: libpq's message about a malformed string may quote a
   * piece of it, which could be the password. */
  char *parse_error = NULL;
  PQconninfoOption *options = PQconninfoParse(target, &parse_error);
  PQfreemem(parse_error);
  if (options == NULL) {
    snprintf(err, errlen, "not a valid PostgreSQL connection string");
    return EVENTAPI_EINVAL;
  }
  PQconninfoFree(options);

  struct pg_db *db = calloc(1, sizeof *db);
  if (db == NULL)
    return EVENTAPI_ENOMEM;
  db->base.ops = &db_postgres_ops;
  /* Entries before dbname (the URL, expanded) are defaults that it may
   * override; those after it are always set. */
  const char *const keys[] = {"application_name", "connect_timeout", "dbname",
                              "client_encoding", NULL};
  const char *const values[] = {"eventapi", CONNECT_TIMEOUT, target, "UTF8", NULL};
  db->conn = PQconnectdbParams(keys, values, 1);
  if (db->conn == NULL) {
    free(db);
    return EVENTAPI_ENOMEM;
  }
  if (PQstatus(db->conn) != CONNECTION_OK) {
    const char *msg = PQerrorMessage(db->conn);
    snprintf(err, errlen, "cannot connect to PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
    pg_close(&db->base);
    return EVENTAPI_EUNAVAILABLE;
  }
  PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
  if (session_setup(db) < 0) {
    const char *msg = PQerrorMessage(db->conn);
    snprintf(err, errlen, "cannot set up the PostgreSQL session: %.*s", (int)strcspn(msg, "\n"),
             msg);
    pg_close(&db->base);
    return EVENTAPI_EUNAVAILABLE;
  }
  if (read_only) {
    PGresult *res = PQexec(db->conn, "SET default_transaction_read_only = on");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
      snprintf(err, errlen, "cannot make the PostgreSQL session read-only");
      pg_close(&db->base);
      return EVENTAPI_EUNAVAILABLE;
    }
  }
  snprintf(db->where, sizeof db->where, "%s/%s", PQhost(db->conn) ? PQhost(db->conn) : "?",
           PQdb(db->conn) ? PQdb(db->conn) : "?");
  *out = &db->base;
  return 0;
}

static void
stmt_free(struct pg_stmt *st)
{
  PQclear(st->result);
  for (int i = 0; st->kinds && i < st->nparams; i++)
    if (st->kinds[i] == BOUND_TEXT)
      free((char *)st->values[i]);
  for (int i = 0; i < st->nvariants; i++)
    free(st->variants[i].types);
  free(st->values);
  free(st->kinds);
  free(st->numbers);
  free(st->pgsql);
  free(st->pgsql_write);
  free(st);
}

static void
pg_finalize(db_stmt_t *st)
{
  stmt_free((struct pg_stmt *)st);
}

static void
pg_close(db_t *base)
{
  struct pg_db *db = (struct pg_db *)base;
  PQfinish(db->conn);
  free(db);
}

/* ---- statements ---------------------------------------------------------- */

static struct pg_stmt *
stmt_new(const char *sql)
{
  struct pg_stmt *st = calloc(1, sizeof *st);
  if (st == NULL)
    return NULL;
  st->row = -1;
  st->pgsql = pg_rewrite_sql(sql, &st->nparams);
  size_t n = st->pgsql && st->nparams > 0 ? (size_t)st->nparams : 1;
  st->values = calloc(n, sizeof *st->values);
  st->kinds = calloc(n, sizeof *st->kinds);
  st->numbers = calloc(n, sizeof *st->numbers);
  if (st->pgsql == NULL || st->values == NULL || st->kinds == NULL ||
      st->numbers == NULL) {
    stmt_free(st);
    return NULL;
  }
  int nparams;
  if (strstr(sql, for_write) &&
      (st->pgsql_write = pg_rewrite_sql_for_write(sql, &nparams)) == NULL) {
    stmt_free(st);
    return NULL;
  }
  st->commit = strcmp(sql, "COMMIT") == 0;
  st->rerunnable = strncmp(sql, "BEGIN", 5) == 0 || strncmp(sql, "SELECT", 6) == 0;
  return st;
}

/* Nothing reaches the server here: statements are prepared at their first step. */
static db_stmt_t *
pg_prepare(db_t *base, const char *sql, bool persistent)
{
  (void)base;
  (void)persistent; /* base.uncached, set by db.c, says how it runs */
  struct pg_stmt *st = stmt_new(sql);
  if (st == NULL)
    log_error("postgres: out of memory preparing a statement");
  return st ? &st->base : NULL;
}

/* ---- binding ------------------------------------------------------------ */

/* Forgets what parameter idx (from 1) held; false when idx is out of range. */
static bool
unbind(struct pg_stmt *st, int idx)
{
  if (idx < 1 || idx > st->nparams)
    return false;
  if (st->kinds[idx - 1] == BOUND_TEXT)
    free((char *)st->values[idx - 1]);
  st->kinds[idx - 1] = BOUND_NULL;
  st->values[idx - 1] = NULL;
  return true;
}

static int
pg_bind_int(db_stmt_t *base, int idx, int64_t value)
{
  struct pg_stmt *st = (struct pg_stmt *)base;
  if (!unbind(st, idx))
    return EVENTAPI_EINVAL;
  snprintf(st->numbers[idx - 1], sizeof st->numbers[idx - 1], "%lld", (long long)value);
  st->kinds[idx - 1] = BOUND_INT;
  st->values[idx - 1] = st->numbers[idx - 1];
  return 0;
}

static int
pg_bind_text(db_stmt_t *base, int idx, const char *text)
{
  struct pg_stmt *st = (struct pg_stmt *)base;
  if (!unbind(st, idx))
    return EVENTAPI_EINVAL;
  char *copy = strdup(text);
  if (copy == NULL)
    return EVENTAPI_ENOMEM;
  st->kinds[idx - 1] = BOUND_TEXT;
  st->values[idx - 1] = copy;
  return 0;
}

static int
pg_bind_null(db_stmt_t *base, int idx)
{
  return unbind((struct pg_stmt *)base, idx) ? 0 : EVENTAPI_EINVAL;
}

/* ---- running ------------------------------------------------------------ */

static Oid
type_of(enum bound kind)
{
  return kind == BOUND_INT ? OID_INT8 : kind == BOUND_TEXT ? OID_TEXT : OID_UNKNOWN;
}

/*
 * Whether v is the statement's text for now (a write transaction's or not)
 * and its declared types accept the values bound now: the same types, or a
 * NULL where v declared one. Not the other way round: a placeholder left
 * unknown had its type guessed by the server, maybe too narrow.
 */
static bool
variant_fits(const struct pg_stmt *st, const struct variant *v, bool writing)
{
  if (v->for_write != writing)
    return false;
  for (int i = 0; i < st->nparams; i++) {
    Oid bound = type_of((enum bound)st->kinds[i]);
    if (bound != OID_UNKNOWN && v->types[i] != bound)
      return false;
  }
  return true;
}

static void
variant_name(const struct variant *v, char *name, size_t size)
{
  snprintf(name, size, "e%u", v->id);
}

/* Drops v on the server (best effort: a failure leaves an unused statement). */
static void
variant_drop(struct pg_db *db, struct variant *v)
{
  char sql[32];
  snprintf(sql, sizeof sql, "DEALLOCATE e%u", v->id);
  PQclear(PQexec(db->conn, sql));
  free(v->types);
  v->types = NULL;
  v->id = 0;
}

/*
 * Prepares st on the server with the types bound now, as a new variant (the
 * oldest is dropped when there are VARIANTS_MAX already). Returns it, or
 * NULL with *rc set.
 */
static struct variant *
variant_prepare(struct pg_db *db, struct pg_stmt *st, bool writing, int *rc)
{
  if (st->nvariants == VARIANTS_MAX) {
    variant_drop(db, &st->variants[0]);
    memmove(&st->variants[0], &st->variants[1], (VARIANTS_MAX - 1) * sizeof st->variants[0]);
    st->nvariants--;
  }
  size_t n = st->nparams > 0 ? (size_t)st->nparams : 1;
  Oid *types = calloc(n, sizeof *types);
  if (types == NULL) {
    *rc = EVENTAPI_ENOMEM;
    return NULL;
  }
  for (int i = 0; i < st->nparams; i++)
    types[i] = type_of((enum bound)st->kinds[i]);
  struct variant v = {.id = ++db->next_id, .types = types, .for_write = writing};
  char name[16];
  variant_name(&v, name, sizeof name);
  PGresult *res = PQprepare(db->conn, name, writing ? st->pgsql_write : st->pgsql,
                            st->nparams, types);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    *rc = map_error(db, res, st->base.sql);
    PQclear(res);
    free(types);
    return NULL;
  }
  PQclear(res);
  st->variants[st->nvariants] = v;
  return &st->variants[st->nvariants++];
}

/* Runs st with its bindings; its result, or NULL with *rc set. */
static PGresult *
run(struct pg_db *db, struct pg_stmt *st, int *rc)
{
  bool writing = st->pgsql_write && db->base.txn_write && db->base.txn_depth > 0;
  if (st->base.uncached) {
    size_t n = st->nparams > 0 ? (size_t)st->nparams : 1;
    Oid *declared = calloc(n, sizeof *declared);
    if (declared == NULL) {
      *rc = EVENTAPI_ENOMEM;
      return NULL;
    }
    for (int i = 0; i < st->nparams; i++)
      declared[i] = type_of((enum bound)st->kinds[i]);
    PGresult *res = PQexecParams(db->conn, writing ? st->pgsql_write : st->pgsql, st->nparams,
                                 declared, st->values, NULL, NULL, 0);
    free(declared);
    return res;
  }
  struct variant *v = NULL;
  for (int i = 0; i < st->nvariants && v == NULL; i++)
    if (variant_fits(st, &st->variants[i], writing))
      v = &st->variants[i];
  for (int attempt = 0; attempt < 2; attempt++) {
    if (v == NULL && (v = variant_prepare(db, st, writing, rc)) == NULL)
      return NULL;
    char name[16];
    variant_name(v, name, sizeof name);
    PGresult *res = PQexecPrepared(db->conn, name, st->nparams, st->values, NULL, NULL, 0);
    /* Gone from the server (a DISCARD, a pooler in between): forgotten, and
     * prepared again unless the failure has aborted a transaction, which
     * then fails as busy, for the client to retry. */
    if (attempt == 0 && PQresultStatus(res) == PGRES_FATAL_ERROR &&
        state_is(PQresultErrorField(res, PG_DIAG_SQLSTATE), "26000")) {
      free(v->types);
      *v = st->variants[--st->nvariants];
      st->variants[st->nvariants] = (struct variant){0};
      v = NULL;
      if (PQtransactionStatus(db->conn) == PQTRANS_INERROR)
        return res;
      PQclear(res);
      continue;
    }
    return res;
  }
  *rc = EVENTAPI_EDB;
  return NULL;
}

static int
execute_once(struct pg_db *db, struct pg_stmt *st)
{
  if (PQstatus(db->conn) != CONNECTION_OK)
    return map_error(db, NULL, st->base.sql);
  /* After an error, PostgreSQL refuses all but the end of the transaction;
   * nothing is prepared or evicted for a statement that cannot run. */
  if (PQtransactionStatus(db->conn) == PQTRANS_INERROR && !st->commit &&
      strcmp(st->base.sql, "ROLLBACK") != 0) {
    log_error("postgres: statement after an error in the transaction: %.*s", SQL_LOG_MAX,
              st->base.sql);
    return EVENTAPI_EDB;
  }
  int rc = EVENTAPI_ENOMEM;
  PGresult *res = run(db, st, &rc);
  if (res == NULL)
    return PQstatus(db->conn) != CONNECTION_OK ? map_error(db, NULL, st->base.sql) : rc;
  switch (PQresultStatus(res)) {
  case PGRES_TUPLES_OK:
    st->nrows = PQntuples(res);
    break;
  case PGRES_COMMAND_OK:
    st->nrows = 0;
    /* COMMIT of a transaction that failed earlier ends it as a ROLLBACK,
     * without an error: the caller must not believe it committed. */
    if (st->commit && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
      log_error("postgres: COMMIT rolled back a failed transaction");
      PQclear(res);
      return EVENTAPI_EDB;
    }
    break;
  default:
    rc = map_error(db, res, st->base.sql);
    PQclear(res);
    return rc;
  }
  st->result = res;
  st->row = -1;
  return 0;
}

/*
 * Opens the connection again with the same parameters. The new session has
 * none of the old one's prepared statements: every variant is forgotten.
 */
static int
reconnect(struct pg_db *db)
{
  PQreset(db->conn);
  if (PQstatus(db->conn) != CONNECTION_OK || session_setup(db) < 0)
    return EVENTAPI_EUNAVAILABLE;
  for (size_t i = 0; i < db->base.cache_size; i++) {
    struct pg_stmt *st = (struct pg_stmt *)db->base.cache[i];
    for (int j = 0; st && j < st->nvariants; j++) {
      free(st->variants[j].types);
      st->variants[j] = (struct variant){0};
    }
    if (st)
      st->nvariants = 0;
  }
  db->base.broken = false;
  log_info("postgres: reconnected to %s", db->where);
  return 0;
}

static int
execute(struct pg_db *db, struct pg_stmt *st)
{
  int rc = execute_once(db, st);
  if (rc == EVENTAPI_EUNAVAILABLE && db->base.broken && db->base.txn_depth == 0 &&
      st->rerunnable && reconnect(db) == 0)
    rc = execute_once(db, st);
  return rc;
}

static int
pg_step(db_stmt_t *base)
{
  struct pg_stmt *st = (struct pg_stmt *)base;
  if (!st->executed) {
    int rc = execute(PGDB(base), st);
    if (rc < 0)
      return rc;
    st->executed = true;
  }
  if (st->row + 1 < st->nrows) {
    st->row++;
    return DB_ROW;
  }
  st->row = st->nrows;
  return DB_DONE;
}

/* The current row's value at col, or NULL when there is none. */
static const char *
value_at(const struct pg_stmt *st, int col)
{
  if (st->result == NULL || st->row < 0 || st->row >= st->nrows || col < 0 ||
      col >= PQnfields(st->result) || PQgetisnull(st->result, st->row, col))
    return NULL;
  return PQgetvalue(st->result, st->row, col);
}

static int64_t
pg_column_int(db_stmt_t *base, int col)
{
  const char *value = value_at((struct pg_stmt *)base, col);
  if (value == NULL)
    return 0;
  if (strcmp(value, "t") == 0) /* a boolean expression */
    return 1;
  if (strcmp(value, "f") == 0)
    return 0;
  return strtoll(value, NULL, 10);
}

static const char *
pg_column_text(db_stmt_t *base, int col)
{
  const char *value = value_at((struct pg_stmt *)base, col);
  return value ? value : "";
}

static bool
pg_column_is_null(db_stmt_t *base, int col)
{
  return value_at((struct pg_stmt *)base, col) == NULL;
}

static int
pg_changes(db_stmt_t *base)
{
  struct pg_stmt *st = (struct pg_stmt *)base;
  return st->result ? atoi(PQcmdTuples(st->result)) : 0;
}

static void
pg_reset(db_stmt_t *base)
{
  struct pg_stmt *st = (struct pg_stmt *)base;
  PQclear(st->result);
  st->result = NULL;
  st->executed = false;
  st->row = -1;
  st->nrows = 0;
  for (int i = 1; i <= st->nparams; i++)
    unbind(st, i);
}

static int
pg_exec_script(db_t *base, const char *sql)
{
  struct pg_db *db = (struct pg_db *)base;
  if (PQstatus(db->conn) != CONNECTION_OK)
    return map_error(db, NULL, NULL);
  PGresult *res = PQexec(db->conn, sql);
  ExecStatusType status = PQresultStatus(res);
  int rc = 0;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    rc = map_error(db, res, NULL);
  PQclear(res);
  return rc;
}

static bool
pg_in_transaction(db_t *base)
{
  PGTransactionStatusType status = PQtransactionStatus(((struct pg_db *)base)->conn);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

/* Not needed: PostgreSQL's units run one to a transaction. */
static int64_t
pg_total_changes(db_t *base)
{
  (void)base;
  return 0;
}

const struct db_ops db_postgres_ops = {
  .name = "postgres",
  .open = pg_open,
  .close = pg_close,
  .prepare = pg_prepare,
  .finalize = pg_finalize,
  .bind_int = pg_bind_int,
  .bind_text = pg_bind_text,
  .bind_null = pg_bind_null,
  .step = pg_step,
  .column_int = pg_column_int,
  .column_text = pg_column_text,
  .column_is_null = pg_column_is_null,
  .changes = pg_changes,
  .reset = pg_reset,
  .exec_script = pg_exec_script,
  /* A read sees one snapshot (a list and its count agree); writes run at
   * READ COMMITTED, where the conditional UPDATEs re-check their WHERE
   * after waiting for a row lock, so a limit is never exceeded. */
  .begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
  .begin_write = "BEGIN",
  .in_transaction = pg_in_transaction,
  .total_changes = pg_total_changes,
  .group_commit = false,
  .round_trips = true,
  .notify = db_pg_notify,
  .listen = db_pg_listen,
  .listen_stop = db_pg_listen_stop,
};
