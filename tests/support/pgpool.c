/*
 * pgpool.c - PostgreSQL test databases used again (see pgpool.h).
 */
#include "support/pgpool.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_PREFIX "eventapi_t_pool_"

/*
 * A stamp of the schema to compare: for each catalogue that DDL writes
 * (relations, columns, defaults, constraints, indexes, triggers, rules,
 * functions, types, schemas, extensions, sequences, policies, event
 * triggers, enums, dependencies, and the database's settings), its number
 * of rows and the newest transaction that wrote one. DDL inserts or
 * updates rows there (a new row version has a new xmin) or deletes them
 * (the count falls); what a test does to its data does not touch them, nor
 * does ANALYZE (pg_statistic is left out, and the relation's statistics
 * are updated in place). In the PostgreSQL pass it took about 16 ms a
 * test (most of it parsing and planning on a fresh connection), where
 * printing every definition took about 47.
 */
static const char FINGERPRINT[] =
    "SELECT string_agg(c || ' ' || n || ' ' || coalesce(x::text, '-'), ',' ORDER BY c) FROM ("
    " SELECT 'pg_class', count(*), max(xmin::text::bigint) FROM pg_class"
    " UNION ALL SELECT 'pg_attribute', count(*), max(xmin::text::bigint) FROM pg_attribute"
    " UNION ALL SELECT 'pg_attrdef', count(*), max(xmin::text::bigint) FROM pg_attrdef"
    " UNION ALL SELECT 'pg_constraint', count(*), max(xmin::text::bigint) FROM pg_constraint"
    " UNION ALL SELECT 'pg_index', count(*), max(xmin::text::bigint) FROM pg_index"
    " UNION ALL SELECT 'pg_trigger', count(*), max(xmin::text::bigint) FROM pg_trigger"
    " UNION ALL SELECT 'pg_rewrite', count(*), max(xmin::text::bigint) FROM pg_rewrite"
    " UNION ALL SELECT 'pg_proc', count(*), max(xmin::text::bigint) FROM pg_proc"
    " UNION ALL SELECT 'pg_type', count(*), max(xmin::text::bigint) FROM pg_type"
    " UNION ALL SELECT 'pg_namespace', count(*), max(xmin::text::bigint) FROM pg_namespace"
    " UNION ALL SELECT 'pg_extension', count(*), max(xmin::text::bigint) FROM pg_extension"
    " UNION ALL SELECT 'pg_sequence', count(*), max(xmin::text::bigint) FROM pg_sequence"
    " UNION ALL SELECT 'pg_policy', count(*), max(xmin::text::bigint) FROM pg_policy"
    " UNION ALL SELECT 'pg_event_trigger', count(*), max(xmin::text::bigint) FROM pg_event_trigger"
    " UNION ALL SELECT 'pg_enum', count(*), max(xmin::text::bigint) FROM pg_enum"
    " UNION ALL SELECT 'pg_depend', count(*), max(xmin::text::bigint) FROM pg_depend"
    " UNION ALL SELECT 'pg_db_role_setting', count(*), max(xmin::text::bigint)"
    "  FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database"
    "   WHERE datname = current_database())"
    ") stamp(c, n, x)";

/* The tables of the database's public schema. */
static const char TABLES[] =
    "SELECT quote_ident(relname) FROM pg_class"
    " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname";

/* Every sequence of the public schema: its name, and where it stands. */
static const char SEQUENCES[] =
    "SELECT coalesce(json_object_agg(quote_ident(sequencename), last_value), '{}')"
    " FROM pg_sequences WHERE schemaname = 'public'";

/* A connection, or NULL (the reason on stderr: a pooled database is an
 * optimisation, and the caller falls back to dropping). */
static PGconn *connect_to(const char *url)
{
  PGconn *conn = PQconnectdb(url);
  if (PQstatus(conn) != CONNECTION_OK) {
    fprintf(stderr, "pgpool: %s", PQerrorMessage(conn));
    PQfinish(conn);
    return NULL;
  }
  return conn;
}

/* Runs sql with the text parameters (nparams of them); the result when it
 * is status, else NULL (cleared, the reason on stderr). */
static PGresult *run(PGconn *conn, const char *sql, int nparams, const char *const *params,
                     ExecStatusType status)
{
  PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) == status)
    return res;
  fprintf(stderr, "pgpool: %.80s: %s", sql, PQresultErrorMessage(res));
  PQclear(res);
  return NULL;
}

static bool command(PGconn *conn, const char *sql)
{
  PGresult *res = run(conn, sql, 0, NULL, PGRES_COMMAND_OK);
  PQclear(res);
  return res != NULL;
}

/* The first column of the first row of sql, malloc'd; NULL when none. */
static char *value(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
  PGresult *res = run(conn, sql, nparams, params, PGRES_TUPLES_OK);
  char *v = NULL;
  if (res && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
    v = strdup(PQgetvalue(res, 0, 0));
  PQclear(res);
  return v;
}

/* The prefix of the pool of template: "eventapi_t_pool_<its oid>_", or NULL. */
static char *pool_prefix(PGconn *admin, const char *template)
{
  const char *params[] = {template};
  char *oid = value(admin, "SELECT oid::text FROM pg_database WHERE datname = $1", 1, params);
  if (oid == NULL)
    return NULL;
  char *prefix = malloc(strlen(POOL_PREFIX) + strlen(oid) + 2);
  if (prefix)
    sprintf(prefix, "%s%s_", POOL_PREFIX, oid);
  free(oid);
  return prefix;
}

bool pgpool_take(const char *admin_url, const char *template, const char *name)
{
  PGconn *admin = connect_to(admin_url);
  if (admin == NULL)
    return false;
  bool taken = false;
  char *prefix = pool_prefix(admin, template);
  /* Another test may rename the one found first: try a few. */
  for (int tries = 0; prefix && !taken && tries < 4; tries++) {
    const char *params[] = {prefix};
    char *found = value(admin,
                        "SELECT quote_ident(datname) FROM pg_database"
                        " WHERE starts_with(datname, $1) ORDER BY random() LIMIT 1",
                        1, params);
    if (found == NULL)
      break;
    char sql[256];
    snprintf(sql, sizeof sql, "ALTER DATABASE %s RENAME TO %s", found, name);
    PGresult *res = PQexec(admin, sql);
    taken = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    free(found);
  }
  free(prefix);
  PQfinish(admin);
  return taken;
}

bool pgpool_record(const char *admin_url, const char *url, const char *name)
{
  PGconn *conn = connect_to(url);
  if (conn == NULL)
    return false;
  json_t *made = json_object(), *rows = json_object();
  bool ok = made && rows;
  char *fingerprint = ok ? value(conn, FINGERPRINT, 0, NULL) : NULL;
  char *sequences = fingerprint ? value(conn, SEQUENCES, 0, NULL) : NULL;
  ok = sequences != NULL;
  PGresult *tables = ok ? run(conn, TABLES, 0, NULL, PGRES_TUPLES_OK) : NULL;
  ok = tables != NULL;
  for (int i = 0; ok && i < PQntuples(tables); i++) {
    const char *table = PQgetvalue(tables, i, 0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT json_agg(t) FROM %s t", table);
    PGresult *res = run(conn, sql, 0, NULL, PGRES_TUPLES_OK);
    ok = res != NULL;
    if (ok && !PQgetisnull(res, 0, 0))
      ok = json_object_set_new(rows, table, json_string(PQgetvalue(res, 0, 0))) == 0;
    PQclear(res);
  }
  PQclear(tables);
  PQfinish(conn);
  char *text = NULL;
  if (ok) {
    json_object_set_new(made, "fingerprint", json_string(fingerprint));
    json_object_set_new(made, "sequences", json_string(sequences));
    json_object_set(made, "rows", rows);
    text = json_dumps(made, JSON_COMPACT);
  }
  free(fingerprint);
  free(sequences);
  json_decref(rows);
  json_decref(made);
  if (text == NULL)
    return false;
  /* The comment is set from the cluster's admin database, so that no
   * session of the test's database is left to hinder a rename. */
  PGconn *admin = connect_to(admin_url);
  ok = admin != NULL;
  if (ok) {
    char *quoted = PQescapeLiteral(admin, text, strlen(text));
    char *sql = quoted ? malloc(strlen(quoted) + strlen(name) + 32) : NULL;
    if (sql) {
      sprintf(sql, "COMMENT ON DATABASE %s IS %s", name, quoted);
      ok = command(admin, sql);
    } else {
      ok = false;
    }
    free(sql);
    PQfreemem(quoted);
    PQfinish(admin);
  }
  free(text);
  return ok;
}

/* Empties every table of conn's database, puts back the rows of made and
 * sets its sequences, in one transaction. */
static bool reset(PGconn *conn, json_t *made)
{
  if (!command(conn, "BEGIN") ||
      !command(conn, "SET LOCAL session_replication_role = replica")) /* no triggers */
    return false;
  PGresult *tables = run(conn, TABLES, 0, NULL, PGRES_TUPLES_OK);
  bool ok = tables != NULL;
  if (ok && PQntuples(tables) > 0) {
    /* DELETE, not TRUNCATE: the tables hold a test's few rows, and a
     * TRUNCATE gives every table and index a new file (about 220 ms a
     * test, most of the database server's work in a PostgreSQL suite).
     * Foreign keys are triggers, off in this transaction, so the order
     * does not matter. */
    size_t len = 1;
    for (int i = 0; i < PQntuples(tables); i++)
      len += strlen(PQgetvalue(tables, i, 0)) + sizeof "DELETE FROM ; ";
    char *sql = malloc(len);
    ok = sql != NULL;
    if (ok) {
      size_t at = 0;
      for (int i = 0; i < PQntuples(tables); i++)
        at += (size_t)snprintf(sql + at, len - at, "DELETE FROM %s; ", PQgetvalue(tables, i, 0));
      /* Several statements: the simple protocol's PQexec, not PQexecParams. */
      PGresult *res = PQexec(conn, sql);
      ok = PQresultStatus(res) == PGRES_COMMAND_OK;
      if (!ok)
        fprintf(stderr, "pgpool: DELETE: %s", PQresultErrorMessage(res));
      PQclear(res);
    }
    free(sql);
  }
  PQclear(tables);
  const char *table;
  json_t *rows;
  json_object_foreach(json_object_get(made, "rows"), table, rows) {
    if (!ok)
      break;
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s OVERRIDING SYSTEM VALUE"
             " SELECT * FROM json_populate_recordset(NULL::%s, $1)", table, table);
    const char *params[] = {json_string_value(rows)};
    PGresult *res = run(conn, sql, 1, params, PGRES_COMMAND_OK);
    ok = res != NULL;
    PQclear(res);
  }
  /* Every sequence where the template had it: set to its last value, or
   * started again when the template never used it. */
  const char *params[] = {json_string_value(json_object_get(made, "sequences"))};
  PGresult *res = ok ? run(conn,
      "SELECT count(CASE WHEN v IS NULL THEN pg_catalog.setval(s::regclass, 1, false)"
      "                  ELSE pg_catalog.setval(s::regclass, v::bigint) END)"
      " FROM json_each_text($1::json) AS seq(s, v)", 1, params, PGRES_TUPLES_OK) : NULL;
  ok = res != NULL;
  PQclear(res);
  return ok && command(conn, "COMMIT");
}

bool pgpool_give(const char *admin_url, const char *url, const char *template,
                 const char *name)
{
  PGconn *conn = connect_to(url);
  if (conn == NULL)
    return false;
  char *others = value(conn,
                       "SELECT count(*) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()",
                       0, NULL);
  char *comment = value(conn,
                        "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                        " WHERE datname = current_database()",
                        0, NULL);
  char *fingerprint = value(conn, FINGERPRINT, 0, NULL);
  json_t *made = comment ? json_loads(comment, 0, NULL) : NULL;
  const char *then = json_string_value(json_object_get(made, "fingerprint"));
  bool ok = others && strcmp(others, "0") == 0 && fingerprint && then &&
            strcmp(fingerprint, then) == 0 && reset(conn, made);
  json_decref(made);
  free(others);
  free(comment);
  free(fingerprint);
  PQfinish(conn);
  if (!ok)
    return false;

  PGconn *admin = connect_to(admin_url);
  if (admin == NULL)
    return false;
  char *prefix = pool_prefix(admin, template);
  static unsigned given;
  char sql[256];
  if (prefix)
    snprintf(sql, sizeof sql, "ALTER DATABASE %s RENAME TO %s%ld_%u", name, prefix,
             (long)getpid(), ++given);
  ok = prefix && command(admin, sql);
  free(prefix);
  PQfinish(admin);
  return ok;
}
