/*
 * import_django.c - `eventapi import-django` (docs/migrating.md): a
 * database of the original Django system, built by Django itself
 * (tests/fixtures/django/make_original.py: Debian's python3-django), is
 * imported into the test server's database, SQLite or PostgreSQL; then
 * everything is looked for over HTTP, as the original's clients would:
 * the users log in with their original passwords, every event,
 * registration and ticket code is where the original had it, and what
 * eventapi would refuse today (an oversold event, blank and repeated
 * emails) is there as it was, and was reported.
 *
 * Built twice (tests/meson.build): api_import_django reads the original
 * from a SQLite file, api_import_django_pg (ORIGINAL_ON_POSTGRES, in the
 * PostgreSQL pass) from a PostgreSQL database of its own.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef ORIGINAL_ON_POSTGRES
#include <libpq-fe.h>
#include <unistd.h>
#endif

#include "support/api.h"
#include "support/command.h"
#include "support/db.h"
#include "support/script.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

TestSuite(import_django, .init = api_server_start, .fini = api_server_stop, .timeout = 300);

/* The original's database (a SQLite file) and media folder, made by Django;
 * what was put in it, as the fixture describes it (harness-owned). */
struct original {
  const char *database, *media;
  json_t *made;
};

#ifdef ORIGINAL_ON_POSTGRES
/* A new database on the test cluster for the original; its URL. */
static const char *original_database(void)
{
  static int made;
  const char *cluster = getenv("EVENTAPI_TEST_POSTGRES");
  cr_assert_not_null(cluster, "run by scripts/with-postgres");
  const char *name = api_printf("original_%d_%d", (int)getpid(), ++made);
  PGconn *conn = PQconnectdb(cluster);
  cr_assert_eq(PQstatus(conn), CONNECTION_OK, "%s", PQerrorMessage(conn));
  PGresult *res = PQexec(conn, api_printf("CREATE DATABASE %s", name));
  cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
  PQclear(res);
  PQfinish(conn);
  /* postgres://user@host:port/postgres?...: the same, another database. */
  const char *slash = strrchr(cluster, '/');
  const char *query = strchr(slash, '?');
  return api_printf("%.*s/%s%s", (int)(slash - cluster), cluster, name, query ? query : "");
}
#else
static const char *original_database(void)
{
  return api_printf("%s/original.sqlite3", api_server_dir());
}
#endif

static struct original make_original(void)
{
  struct original o = {
    .database = original_database(),
    .media = api_printf("%s/original-media", api_server_dir()),
  };
  char script[PATH_MAX];
  static struct script s = {.name = "make_original.py"};
  script_path(&s, "tests/fixtures/django/make_original.py", script);
  const char *json = api_printf("%s/original.json", api_server_dir());
  cr_assert_eq(mkdir(o.media, 0700), 0);
  const char *command = api_printf("PYTHONDONTWRITEBYTECODE=1 ORIGINAL_DATABASE='%s'"
                                   " MEDIA_DIR='%s' %s '%s' '%s'"
                                   " > '%s/original.log' 2>&1", o.database, o.media,
                                   SCRIPT_PYTHON, script, json, api_server_dir());
  int status = system(command);
  cr_assert_eq(status, 0, "make_original.py failed (%d): see %s/original.log", status,
               api_server_dir());
  json_error_t error;
  o.made = api_keep_json(json_load_file(json, 0, &error));
  cr_assert_not_null(o.made, "%s: %s", json, error.text);
  return o;
}

static json_t *made(const struct original *o, const char *what)
{
  json_t *rows = json_object_get(o->made, what);
  cr_assert(json_is_array(rows), "no %s in the fixture's description", what);
  return rows;
}

static const char *str(const json_t *row, const char *key)
{
  const char *value = json_string_value(json_object_get(row, key));
  cr_assert_not_null(value, "no %s in %s", key, api_dump(row));
  return value;
}

/* The access token of a user of the original, by the original's password. */
static const char *log_in(const json_t *user)
{
  struct api_resp *r = api_post("/auth/token/", NULL,
                                api_printf("{\"username\":\"%s\",\"password\":\"%s\"}",
                                           str(user, "username"), str(user, "password")));
  expect_status(r, 200);
  return json_string_value(json_object_get(r->json, "access"));
}

/* The row of rows (a JSON array of objects) whose "id" is id; fails the
 * test when there is none. */
static json_t *with_id(const json_t *rows, long long id)
{
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row)
    if (api_int(row, "id") == id)
      return row;
  cr_assert_fail("no row %lld in %s", id, api_dump(rows));
  return NULL;
}

static const json_t *user_by_id(const struct original *o, long long id)
{
  return with_id(made(o, "users"), id);
}

static struct api_command import(const struct original *o, const char *extra)
{
  return api_command(extra ? ARGS("import-django", o->database, "--media", o->media, extra)
                           : ARGS("import-django", o->database, "--media", o->media),
                     NULL);
}

Test(import_django, users_events_registrations_and_tickets_arrive_as_the_original_had_them)
{
  struct original o = make_original();
  struct api_command c = import(&o, NULL);
  cr_assert_eq(c.status, 0, "out:\n%s\nerr:\n%s", c.out, c.err);
  cr_expect(strstr(c.out, "Read from the original: 8 users, 2 categories, 4 events") != NULL,
            "%s", c.out);

  /* What eventapi would refuse today is there, and was said. */
  long long oversold = api_int(o.made, "oversold_event_id");
  cr_expect(strstr(c.out, api_printf("event %lld \"", oversold)) != NULL, "%s", c.out);
  cr_expect(strstr(c.out, "oversold") != NULL, "%s", c.out);
  size_t i;
  json_t *id;
  json_array_foreach(json_object_get(o.made, "blank_email_user_ids"), i, id)
    cr_expect(strstr(c.out, api_printf("user %lld \"%s\" has no email", json_integer_value(id),
                                       str(user_by_id(&o, json_integer_value(id)), "username")))
              != NULL, "%s", c.out);
  cr_expect(strstr(c.out, str(o.made, "shared_email")) != NULL, "%s", c.out);

  /* Every user logs in with the original's password, but the inactive. */
  json_t *u;
  const char *tokens[64] = {0};
  json_array_foreach(made(&o, "users"), i, u) {
    cr_assert_lt(api_int(u, "id"), 64);
    if (!json_is_true(json_object_get(u, "is_active"))) {
      expect_status(api_post("/auth/token/", NULL,
                             api_printf("{\"username\":\"%s\",\"password\":\"%s\"}",
                                        str(u, "username"), str(u, "password"))), 401);
      continue;
    }
    const char *token = tokens[api_int(u, "id")] = log_in(u);
    struct api_resp *me = api_get("/api/users/me/", token);
    expect_status(me, 200);
    cr_expect_eq(api_int(me->json, "id"), api_int(u, "id"));
    expect_str(me, "username", str(u, "username"));
    expect_str(me, "email", str(u, "email"));
    expect_str(me, "role", json_is_true(json_object_get(u, "is_superuser")) ? "admin"
                                                                            : str(u, "role"));
    /* The hash is eventapi's own from now on. */
    const char *hash = api_db_text(api_printf("SELECT password FROM users WHERE id = %lld",
                                              api_int(u, "id")));
    cr_expect_eq(strncmp(hash, "$argon2id$", 10), 0, "%s", hash);
  }

  /* Every event, as its organizer sees it (private ones too). */
  json_t *e;
  json_array_foreach(made(&o, "events"), i, e) {
    const char *token = tokens[api_int(e, "organizer_id")];
    struct api_resp *r = api_get(api_printf("/api/events/%lld/", api_int(e, "id")), token);
    expect_status(r, 200);
    expect_str(r, "title", str(e, "title"));
    expect_str(r, "description", str(e, "description"));
    expect_str(r, "date_time", str(e, "date_time"));
    expect_str(r, "location", str(e, "location"));
    expect_str(r, "created_at", str(e, "created_at"));
    expect_str(r, "visibility", str(e, "visibility"));
    cr_expect_eq(api_int(r->json, "capacity"), api_int(e, "capacity"));
    cr_expect_eq(api_int(r->json, "organizer"), api_int(e, "organizer_id"));
    json_t *category = json_object_get(e, "category_id");
    cr_expect(json_equal(json_object_get(r->json, "category"), category), "%s",
              api_dump(r->json));
    json_t *image = json_object_get(r->json, "image");
    if (str(e, "image")[0]) {
      cr_expect(json_is_string(image), "the image was copied: %s", api_dump(r->json));
      if (json_is_string(image))
        expect_status(api_get(strstr(json_string_value(image), "/media/"), NULL), 200);
    } else {
      cr_expect(json_is_null(image));
    }
  }
  /* Sessions with their speakers' names; ticket types with their prices. */
  json_t *s;
  json_array_foreach(made(&o, "sessions"), i, s) {
    struct api_resp *r = api_get(api_printf("/api/events/%lld/", api_int(s, "event_id")), NULL);
    json_t *got = with_id(json_object_get(r->json, "sessions"), api_int(s, "id"));
    cr_expect_str_eq(str(got, "title"), str(s, "title"));
    const char *speaker = json_string_value(json_object_get(s, "speaker_name"));
    cr_expect_str_eq(str(got, "speaker"), speaker ? speaker : "");
    cr_expect_str_eq(str(got, "start_time"), str(s, "start_time"));
    cr_expect_str_eq(str(got, "end_time"), str(s, "end_time"));
  }
  json_t *t;
  json_array_foreach(made(&o, "ticket_types"), i, t) {
    struct api_resp *r = api_get(api_printf("/api/events/%lld/", api_int(t, "event_id")), NULL);
    json_t *got = with_id(json_object_get(r->json, "ticket_types"), api_int(t, "id"));
    cr_expect_str_eq(str(got, "name"), str(t, "name"));
    cr_expect_str_eq(str(got, "price"), str(t, "price"));
    cr_expect_eq(api_int(got, "quantity"), api_int(t, "quantity"));
  }

  /* Each registration, as its user sees it, and its ticket by its code. */
  json_t *reg;
  json_array_foreach(made(&o, "registrations"), i, reg) {
    const char *token = tokens[api_int(reg, "user_id")];
    if (token == NULL)
      continue; /* the inactive user's */
    struct api_resp *r = api_get(api_printf("/api/registrations/%lld/", api_int(reg, "id")),
                                 token);
    expect_status(r, 200);
    cr_expect_eq(api_int(r->json, "event"), api_int(reg, "event_id"));
    cr_expect_eq(json_is_true(json_object_get(r->json, "is_waitlisted")),
                 json_is_true(json_object_get(reg, "is_waitlisted")));
    expect_str(r, "registered_at", str(reg, "registered_at"));
    json_t *ticket = json_object_get(r->json, "ticket");
    cr_expect_eq(json_is_null(ticket), json_is_true(json_object_get(reg, "is_waitlisted")),
                 "%s", api_dump(r->json));
  }
  json_array_foreach(made(&o, "tickets"), i, t) {
    json_t *owner = with_id(made(&o, "registrations"), api_int(t, "registration_id"));
    const char *token = tokens[api_int(owner, "user_id")];
    if (token == NULL)
      continue;
    struct api_resp *r = api_get(api_printf("/api/tickets/%s/", str(t, "code")), token);
    expect_status(r, 200);
    expect_str(r, "code", str(t, "code"));
    expect_str(r, "issued_at", str(t, "issued_at"));
    cr_expect_eq(json_is_true(json_object_get(r->json, "is_checked_in")),
                 json_is_true(json_object_get(t, "is_checked_in")), "%s", api_dump(r->json));
  }

  /* The oversold event stays as it was: its confirmed count is its rows. */
  cr_expect_gt(api_db_int("SELECT confirmed_count FROM events WHERE id = ?", oversold),
               api_db_int("SELECT capacity FROM events WHERE id = ?", oversold));

  /* New rows take ids after the imported ones, and the API writes on. */
  struct api_user newcomer = api_signup("newcomer", NULL);
  cr_expect_gt(newcomer.id, (long long)json_array_size(made(&o, "users")));
  json_t *first_event = json_array_get(made(&o, "events"), 0);
  struct api_resp *r = api_post(
      api_printf("/api/registrations/%lld/register/", api_int(first_event, "id")),
      newcomer.access, "{}");
  expect_status(r, 200);
  cr_expect_gt(api_int(r->json, "id"), (long long)json_array_size(made(&o, "registrations")));
}

Test(import_django, a_second_import_and_a_dry_run_write_nothing)
{
  struct original o = make_original();
  struct api_command dry = import(&o, "--dry-run");
  cr_assert_eq(dry.status, 0, "out:\n%s\nerr:\n%s", dry.out, dry.err);
  cr_expect(strstr(dry.out, "Dry run: all of it would be imported; nothing was written.") !=
                NULL, "%s", dry.out);
  cr_expect(strstr(dry.out, "oversold") != NULL, "the report all the same: %s", dry.out);
  cr_expect_eq(api_db_int("SELECT count(*) FROM users", 0), 0);
  cr_expect_eq(api_db_int("SELECT count(*) FROM events", 0), 0);

  struct api_command c = import(&o, NULL);
  cr_assert_eq(c.status, 0, "%s", c.err);
  long long registrations = api_db_int("SELECT count(*) FROM registrations", 0);
  struct api_command again = import(&o, NULL);
  cr_expect_eq(again.status, 1);
  cr_expect(strstr(again.err, "the database holds users, events or categories already") != NULL,
            "%s", again.err);
  struct api_command merged = import(&o, "--merge");
  cr_expect_eq(merged.status, 1);
  cr_expect(strstr(merged.err, "user id 1 is taken in this database") != NULL, "%s", merged.err);
  cr_expect_eq(api_db_int("SELECT count(*) FROM registrations", 0), registrations);
}

Test(import_django, a_source_that_is_not_the_original_is_refused)
{
  struct api_command missing = api_command(
      ARGS("import-django", api_printf("%s/nothing.sqlite3", api_server_dir())), NULL);
  cr_expect_eq(missing.status, 1);
  cr_expect(strstr(missing.err, "No such file or directory") != NULL, "%s", missing.err);
  /* A database without the original's tables (an empty SQLite file). */
  const char *empty = api_printf("%s/empty.sqlite3", api_server_dir());
  FILE *f = fopen(empty, "w");
  cr_assert_not_null(f);
  fclose(f);
  struct api_command other = api_command(ARGS("import-django", empty), NULL);
  cr_expect_eq(other.status, 1);
  cr_expect(strstr(other.err, "cannot read users_user") != NULL, "%s", other.err);
  cr_expect_eq(api_db_int("SELECT count(*) FROM users", 0), 0);
}
