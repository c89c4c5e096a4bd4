/*
 * db.h - reading the test server's database directly, whatever its
 * backend (SQLite or PostgreSQL), through the project's own db.h: for the
 * tests that check what the API cannot show, such as counters against the
 * rows they count, or the state of the outbox. And a unit test's own
 * database: a fresh SQLite file, migrated, for the tests of the models.
 */
#ifndef EVENTAPI_TESTS_DB_H
#define EVENTAPI_TESTS_DB_H

#include <jansson.h>

#include "db/db.h"

/*
 * The integer in the first column of the first row of sql, with each `?`
 * bound to arg (write portable SQL: counts rather than booleans). Opens a
 * connection of its own; fails the test on an error or when there is no row.
 */
long long api_db_int(const char *sql, long long arg);

/* As api_db_int, retried every 50 ms until the value is at least want or
 * timeout_ms passed; the last value. */
long long api_db_wait(const char *sql, long long arg, long long want, int timeout_ms);

/* The text in the first column of the first row of sql (no parameters), as
 * api_db_int reads it; NULL for NULL. Harness-owned. */
const char *api_db_text(const char *sql);

/*
 * Every row of sql (no parameters), each a JSON array of its first columns
 * columns as text (null for NULL), read on one connection. Harness-owned.
 */
json_t *api_db_rows(const char *sql, int columns);

/*
 * Fails the test unless the database holds together, whatever happened to
 * it (a crash, a failed write): every counter equals the rows it counts
 * (events' and ticket types' confirmed_count: confirmed registrations and
 * places held by waitlist offers), no limit is exceeded, a
 * ticket exists exactly for each active confirmed registration, each
 * registration has the notice of how it began (confirmed or waitlisted)
 * and, when it left the waitlist, of its promotion; and on SQLite,
 * `PRAGMA integrity_check` is "ok" and no foreign key is broken.
 */
void api_expect_database_consistent(void);

/* ---- a unit test's own database ----------------------------------------- */

/*
 * Opens a fresh SQLite database in the test's temporary folder
 * (tmpdir_create()), migrated to the latest schema and made the process's
 * database (db_configure(), so that db_open() and the threads' connections
 * reach it too). Returns the connection to it, which the test uses and
 * unit_db_close() closes. Fails the test on any error. Call from a suite's
 * .init:
 *
 *   static db_t *db;
 *   static void setup(void) { db = unit_db_open(); }
 *   TestSuite(outbox, .init = setup, .fini = unit_db_close);
 */
db_t *unit_db_open(void);

/* Closes the connection of unit_db_open() and every thread's, then removes
 * the test's folder. Use as the suite's .fini, or call from it. */
void unit_db_close(void);

/* Adds two users to the database of unit_db_open(): ann (id 1, Ann Lee,
 * ann@example.com) and bo (id 2, Bo Kim, bo@example.com). */
void unit_db_users(void);

/* As api_db_int(), on the connection of unit_db_open(). */
long long unit_db_int(const char *sql, long long arg);

/* The text in the first column of the first row of sql, as unit_db_int()
 * reads it ("(null)" for NULL): at most 4095 bytes of it, in a buffer of
 * this module's that the next call overwrites. */
const char *unit_db_text(const char *sql, long long arg);

#endif
