/*
 * pgpool.h - PostgreSQL test databases used again instead of dropped.
 *
 * A test on PostgreSQL gets a database of its own, a copy of the template
 * that scripts/run-tests migrated (CREATE DATABASE ... TEMPLATE), and used
 * to drop it at the end: the two cost the database server about half of
 * what a short test costs it. Instead, a database made from the template
 * is reset and put in a pool, and the next test takes it. The reset
 * empties every table, puts back the rows the migrations wrote (the
 * catalogue's version, the migrations' own table) and sets every sequence
 * where the template had it, so a database taken from the pool holds what
 * a fresh copy would.
 *
 * What a test may leave that a reset cannot undo (a trigger, a column, a
 * function, a setting of the database) is caught by comparing a
 * stamp of the schema's catalogues with the one taken when the database
 * was made: a database whose schema changed, or which someone is still
 * connected to, is not given back, and the caller drops it. Databases of
 * the pool are named after the template's oid, so a template made again
 * (a new build's) never hands out a copy of the old one.
 */
#ifndef EVENTAPI_TESTS_PGPOOL_H
#define EVENTAPI_TESTS_PGPOOL_H

#include <stdbool.h>

/*
 * Renames a database of the pool of template to name: true when one was
 * taken, false when the pool is empty (or every one was taken by others
 * first). admin_url is the cluster's (EVENTAPI_TEST_POSTGRES).
 */
bool pgpool_take(const char *admin_url, const char *template, const char *name);

/*
 * Remembers what database name (at url), just made from the template,
 * holds: its schema's fingerprint, the rows of its tables that have any,
 * its sequences. Kept in the database's comment. False when that fails
 * (the database is then dropped, not pooled).
 */
bool pgpool_record(const char *admin_url, const char *url, const char *name);

/*
 * Resets database name (at url) to what pgpool_record() saw and puts it
 * in the pool of template: true when given back, false when it cannot be
 * (someone is connected, the schema changed, a statement failed), which
 * leaves it to the caller to drop.
 */
bool pgpool_give(const char *admin_url, const char *url, const char *template,
                 const char *name);

#endif
