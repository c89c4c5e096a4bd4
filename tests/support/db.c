/*
 * db.c - the test server's database, read through the project's db.h, and
 * a unit test's own.
 */
#include "support/db.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/migrate.h"
#include "support/api.h"
#include "support/tmpdir.h"

/*
 * The first column of the first row of sql on db, each `?` bound to arg:
 * its integer in *value unless value is NULL, and a copy of its text (NULL
 * for NULL) in *text unless text is NULL, which the caller frees. Returns
 * DB_ROW, or what db_step() returned instead (and *value and *text are
 * left alone). Fails the test when sql cannot be prepared.
 */
static int first_value(db_t *db, const char *sql, long long arg, long long *value, char **text)
{
  db_stmt_t *st = db_prepare(db, sql);
  cr_assert(st != NULL, "cannot prepare: %s", sql);
  int params = 0;
  for (const char *p = sql; (p = strchr(p, '?')); p++)
    params++;
  for (int i = 1; i <= params; i++)
    db_bind_int(st, i, arg);
  int rc = db_step(st);
  if (rc == DB_ROW && value)
    *value = (long long)db_column_int(st, 0);
  if (rc == DB_ROW && text) {
    const char *column = db_column_text(st, 0);
    *text = column ? strdup(column) : NULL;
    cr_assert(column == NULL || *text != NULL);
  }
  db_reset(st);
  return rc;
}

long long api_db_int(const char *sql, long long arg)
{
  db_t *db;
  int rc = db_open(&db);
  cr_assert_eq(rc, 0, "db_open: %d (is a server running?)", rc);
  long long value = 0;
  rc = first_value(db, sql, arg, &value, NULL);
  db_close(db);
  cr_assert_eq(rc, DB_ROW, "no row (%d) for %s", rc, sql);
  return value;
}

long long api_db_wait(const char *sql, long long arg, long long want, int timeout_ms)
{
  long long value = api_db_int(sql, arg);
  for (int waited = 0; value < want && waited < timeout_ms; waited += 50) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    value = api_db_int(sql, arg);
  }
  return value;
}

const char *api_db_text(const char *sql)
{
  db_t *db;
  int rc = db_open(&db);
  cr_assert_eq(rc, 0, "db_open: %d (is a server running?)", rc);
  char *text = NULL;
  rc = first_value(db, sql, 0, NULL, &text);
  db_close(db);
  cr_assert_eq(rc, DB_ROW, "no row (%d) for %s", rc, sql);
  if (text)
    api_keep(text, free);
  return text;
}

json_t *api_db_rows(const char *sql, int columns)
{
  db_t *db;
  int rc = db_open(&db);
  cr_assert_eq(rc, 0, "db_open: %d (is a server running?)", rc);
  db_stmt_t *st = db_prepare(db, sql);
  cr_assert(st != NULL, "cannot prepare: %s", sql);
  json_t *rows = api_keep_json(json_array());
  while ((rc = db_step(st)) == DB_ROW) {
    json_t *row = json_array();
    for (int i = 0; i < columns; i++)
      json_array_append_new(row, db_column_is_null(st, i) ? json_null()
                                                           : json_string(db_column_text(st, i)));
    json_array_append_new(rows, row);
  }
  db_reset(st);
  db_close(db);
  cr_assert_eq(rc, DB_DONE, "reading the rows of %s failed: %d", sql, rc);
  return rows;
}

/* Each query counts the rows that break one rule: all must be 0. */
static const struct {
  const char *rule;
  const char *sql;
} consistency_rules[] = {
  {"events.confirmed_count equals its confirmed registrations and held offers",
   "SELECT COUNT(*) FROM events e WHERE e.confirmed_count <> (SELECT COUNT(*) FROM"
   " registrations r WHERE r.event_id = e.id AND r.cancelled_at IS NULL"
   " AND (r.is_waitlisted = 0 OR r.offer_expires_at IS NOT NULL))"},
  {"ticket_types.confirmed_count equals its confirmed registrations and held offers",
   "SELECT COUNT(*) FROM ticket_types t WHERE t.confirmed_count <> (SELECT COUNT(*) FROM"
   " registrations r WHERE r.ticket_type_id = t.id AND r.cancelled_at IS NULL"
   " AND (r.is_waitlisted = 0 OR r.offer_expires_at IS NOT NULL))"},
  {"only a waitlisted registration holds an offer",
   "SELECT COUNT(*) FROM registrations WHERE cancelled_at IS NULL AND is_waitlisted = 0"
   " AND offer_expires_at IS NOT NULL"},
  {"a registration holding an offer was told of it",
   "SELECT COUNT(*) FROM registrations r WHERE r.cancelled_at IS NULL"
   " AND r.offer_expires_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM notifications n"
   " WHERE n.registration_id = r.id AND n.kind = 'registration_offered')"},
  {"no event holds more than its capacity",
   "SELECT COUNT(*) FROM events WHERE capacity > 0 AND confirmed_count > capacity"},
  {"no ticket type holds more than its quantity",
   "SELECT COUNT(*) FROM ticket_types WHERE quantity > 0 AND confirmed_count > quantity"},
  {"a ticket belongs to an active confirmed registration",
   "SELECT COUNT(*) FROM tickets t JOIN registrations r ON r.id = t.registration_id"
   " WHERE r.cancelled_at IS NOT NULL OR r.is_waitlisted = 1"},
  {"an active confirmed registration has its ticket",
   "SELECT COUNT(*) FROM registrations r WHERE r.cancelled_at IS NULL AND r.is_waitlisted = 0"
   " AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.registration_id = r.id)"},
  {"a registration has the notice of how it began",
   "SELECT COUNT(*) FROM registrations r WHERE NOT EXISTS (SELECT 1 FROM notifications n"
   " WHERE n.registration_id = r.id AND n.kind IN ('registration_confirmed',"
   " 'registration_waitlisted'))"},
  {"a registration off the waitlist has its promotion notice",
   "SELECT COUNT(*) FROM registrations r WHERE r.is_waitlisted = 0 AND EXISTS (SELECT 1"
   " FROM notifications n WHERE n.registration_id = r.id AND n.kind = 'registration_waitlisted')"
   " AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.registration_id = r.id"
   " AND n.kind = 'registration_promoted')"},
};

void api_expect_database_consistent(void)
{
  for (size_t i = 0; i < sizeof consistency_rules / sizeof consistency_rules[0]; i++) {
    long long broken = api_db_int(consistency_rules[i].sql, 0);
    cr_expect_eq(broken, 0, "%lld rows break the rule: %s", broken, consistency_rules[i].rule);
  }
  if (api_on_postgres())
    return;
  const char *integrity = api_db_text("PRAGMA integrity_check");
  cr_expect_str_eq(integrity, "ok", "PRAGMA integrity_check: %s", integrity);
  long long foreign = api_db_int("SELECT COUNT(*) FROM pragma_foreign_key_check", 0);
  cr_expect_eq(foreign, 0, "%lld rows break a foreign key", foreign);
}

static db_t *unit_db;    /* unit_db_open()'s connection */

db_t *unit_db_open(void)
{
  cr_assert(unit_db == NULL, "the test's database is open already");
  tmpdir_create();
  char url[160];
  /* An absolute path: "sqlite:///" + "/tmp/...", four slashes. */
  snprintf(url, sizeof url, "sqlite:///%s/db.sqlite3", tmpdir_path());
  cr_assert_eq(db_configure(url, NULL), 0, "db_configure(%s)", url);
  int rc = db_open(&unit_db);
  cr_assert_eq(rc, 0, "db_open(%s): %d", url, rc);
  char err[256] = "";
  rc = db_migrate(unit_db, 0, err, sizeof err);
  cr_assert_eq(rc, 0, "db_migrate: %d %s", rc, err);
  return unit_db;
}

void unit_db_close(void)
{
  db_close(unit_db);
  unit_db = NULL;
  db_close_all();
  tmpdir_remove();
}

void unit_db_users(void)
{
  cr_assert(unit_db != NULL, "unit_db_open() first");
  cr_assert_eq(db_exec(unit_db, "INSERT INTO users (id, username, username_key, email,"
                                " email_key, password, date_joined, first_name, last_name)"
                                " VALUES (1, 'ann', 'ann', 'ann@example.com', 'ann@example.com',"
                                " 'x', 0, 'Ann', 'Lee'), (2, 'bo', 'bo', 'bo@example.com',"
                                " 'bo@example.com', 'x', 0, 'Bo', 'Kim')",
                       NULL, NULL), 0);
}

long long unit_db_int(const char *sql, long long arg)
{
  cr_assert(unit_db != NULL, "unit_db_open() first");
  long long value = 0;
  int rc = first_value(unit_db, sql, arg, &value, NULL);
  cr_assert_eq(rc, DB_ROW, "no row (%d) for %s", rc, sql);
  return value;
}

const char *unit_db_text(const char *sql, long long arg)
{
  static char value[4096];
  cr_assert(unit_db != NULL, "unit_db_open() first");
  char *text = NULL;
  int rc = first_value(unit_db, sql, arg, NULL, &text);
  cr_assert_eq(rc, DB_ROW, "no row (%d) for %s", rc, sql);
  snprintf(value, sizeof value, "%s", text ? text : "(null)");
  free(text);
  return value;
}
