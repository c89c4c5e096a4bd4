/*
 * pgsql.h - the PostgreSQL backend's SQL rewrite, a pure function so that
 * it can be tested alone. Private to src/db/ (and its unit test).
 */
#ifndef EVENTAPI_DB_PGSQL_H
#define EVENTAPI_DB_PGSQL_H

#include <stdbool.h>

/*
 * Rewrites the portable SQL of db.h into PostgreSQL's: each `?` placeholder
 * becomes $1, $2, ... in order (a `?` inside a '...' string literal, a
 * "..." identifier or a comment is left alone), DB_ID_LIST becomes a
 * json_array_elements_text() of its parameter, and DB_SKIP_LOCKED becomes
 * FOR UPDATE SKIP LOCKED, DB_FOR_WRITE nothing. Stores the number of
 * placeholders in *nparams. Returns a new string that the caller frees, or
 * NULL when out of memory.
 *
 * The portable SQL has plain `?` only: numbered `?N`, dollar quoting and
 * E'...' strings are not understood (SQLite has no dollar quoting or E'',
 * and the project writes neither).
 */
char *pg_rewrite_sql(const char *sql, int *nparams);

/* As pg_rewrite_sql, for a write transaction: DB_FOR_WRITE becomes FOR UPDATE. */
char *pg_rewrite_sql_for_write(const char *sql, int *nparams);

#endif
