/*
 * django.h - `eventapi import-django`: moves the original Django system's
 * users, categories, events (their sessions, speakers and ticket types),
 * registrations and tickets into eventapi's database, keeping their ids,
 * ticket codes and password hashes (docs/migrating.md).
 *
 * The source is read through a read-only connection (db_connect_url): the
 * original's SQLite file or PostgreSQL database is left as it was. All of
 * it is written by one unit of work: everything or nothing. What
 * eventapi's rules would refuse but its schema can hold (an oversold
 * event, blank and repeated emails, names that differ only in case) is
 * imported as it is and reported; what its schema cannot hold (two active
 * registrations of one user for one event, a session that ends before it
 * starts, two ticket types of one name in one event) stops the import,
 * with every such row named.
 */
#ifndef EVENTAPI_IMPORTER_DJANGO_H
#define EVENTAPI_IMPORTER_DJANGO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct importer_options {
  const char *source;     /* the original's database: a SQLite file, or a PostgreSQL URL */
  const char *media;      /* the original's MEDIA_ROOT, whose event images are copied; NULL: none */
  const char *media_root; /* eventapi's MEDIA_ROOT */
  bool dry_run;           /* read, check and write, then roll back: the report only */
  bool merge;             /* into a database that already holds users or events */
};

/*
 * The readers of the original's values (for the fuzzer too): Django's time
 * text (SQLite's "YYYY-MM-DD HH:MM:SS[.ffffff]", naive UTC, or with a zone)
 * into microseconds since the epoch; a UUID in either of Django's forms
 * (32 hex digits on SQLite, hyphenated on PostgreSQL) into eventapi's,
 * lower-case and hyphenated. False for anything else.
 */
bool importer_django_time(const char *text, int64_t *us);
bool importer_django_uuid(const char *text, char out[37]);

/* Runs the import, printing its report to out and errors to err. Returns 0,
 * or 1 when nothing was imported (said on err). */
int importer_django_run(const struct importer_options *opt, FILE *out, FILE *err);

#endif
