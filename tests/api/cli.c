/*
 * cli.c - the `eventapi` command line, run as a child process on the test
 * server's database: every command's help, usage errors, start-up errors
 * in one format and in order, showmigrations, createsuperuser and
 * changepassword with the sign-up's password validators (on a terminal of
 * their own when they ask), and demo data beside existing data.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/db.h"
#include "db/migrate.h"
#include "support/api.h"
#include "support/command.h"
#include "support/db.h"
#include "support/process.h"

TestSuite(cli, .init = api_server_start, .fini = api_server_stop);

static const char *const command_names[] = {
  "serve", "worker", "outbox", "migrate", "showmigrations", "createsuperuser",
  "changepassword", "demo", "import-django", "schema", "help", NULL,
};

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_command(struct api_command c, int status, const char *out, const char *err)
{
  cr_expect_eq(c.status, status, "status %d, expected %d; stdout:\n%s\nstderr:\n%s", c.status,
               status, c.out, c.err);
  if (out)
    cr_expect_str_eq(c.out, out);
  if (err)
    cr_expect_str_eq(c.err, err);
}

static bool starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static long login_status(const char *username, const char *password)
{
  return api_post("/auth/token/", NULL,
                  api_jsonf("{\"username\":\"%s\",\"password\":\"%s\"}", username, password))
      ->status;
}

/* ---- help ------------------------------------------------------------------------ */

Test(cli, help_lists_every_command)
{
  struct api_command c = api_command(ARGS("help"), NULL);
  expect_command(c, 0, NULL, "");
  cr_assert(starts_with(c.out, "usage: eventapi COMMAND [OPTIONS]\n"), "%s", c.out);
  for (const char *const *name = command_names; *name; name++)
    cr_expect(strstr(c.out, api_printf("\n  %s ", *name)) != NULL, "%s is not listed:\n%s",
              *name, c.out);
  expect_command(api_command(ARGS("--help"), NULL), 0, c.out, "");
  expect_command(api_command(ARGS("-h"), NULL), 0, c.out, "");
  /* No command at all is a usage error that shows the list. */
  expect_command(api_command(NULL, NULL), 2, "", c.out);
}

Test(cli, every_command_has_its_own_help)
{
  for (const char *const *name = command_names; *name; name++) {
    struct api_command c = api_command(ARGS("help", *name), NULL);
    expect_command(c, 0, NULL, "");
    cr_expect(starts_with(c.out, api_printf("usage: eventapi %s", *name)), "%s:\n%s", *name,
              c.out);
    cr_expect(strstr(c.out, "  -h, --help ") != NULL, "%s:\n%s", *name, c.out);
    expect_command(api_command(ARGS(*name, "--help"), NULL), 0, c.out, "");
    expect_command(api_command(ARGS(*name, "-h"), NULL), 0, c.out, "");
  }
}

Test(cli, help_needs_no_settings)
{
  struct api_command c = api_command(ARGS("serve", "--help"), ARGS("PORT", "eighty", "SECRET_KEY", NULL));
  expect_command(c, 0, NULL, "");
  cr_expect(starts_with(c.out, "usage: eventapi serve [--bind ADDR]"), "%s", c.out);
  /* ... and starts nothing: the options come first, even after others. */
  expect_command(api_command(ARGS("serve", "--port", "0", "--help"), NULL), 0, c.out, "");
}

Test(cli, a_wrong_option_or_command_says_how_to_get_help)
{
  expect_command(api_command(ARGS("serve", "--prot", "8000"), NULL), 2, "",
                 "eventapi: serve: unknown option \"--prot\"\nTry 'eventapi help serve'.\n");
  expect_command(api_command(ARGS("migrate", "-x"), NULL), 2, "",
                 "eventapi: migrate: unknown option \"-x\"\nTry 'eventapi help migrate'.\n");
  expect_command(api_command(ARGS("serve", "--port"), NULL), 2, "",
                 "eventapi: serve: option \"--port\" needs a value\n"
                 "Try 'eventapi help serve'.\n");
  expect_command(api_command(ARGS("serve", "--port", "http"), NULL), 2, "",
                 "eventapi: serve: --port: expected a number from 0 to 65535, got \"http\"\n"
                 "Try 'eventapi help serve'.\n");
  expect_command(api_command(ARGS("demo", "now"), NULL), 2, "",
                 "eventapi: demo: unexpected argument \"now\"\nTry 'eventapi help demo'.\n");
  expect_command(api_command(ARGS("schema", "--format", "xml"), NULL), 2, "",
                 "eventapi: schema: --format: expected json or yaml, got \"xml\"\n"
                 "Try 'eventapi help schema'.\n");
  expect_command(api_command(ARGS("createsuperuser", "--username", "boss"), NULL), 2, "",
                 "eventapi: createsuperuser: --username and --email are required\n"
                 "Try 'eventapi help createsuperuser'.\n");
  expect_command(api_command(ARGS("changepassword"), NULL), 2, "",
                 "eventapi: changepassword: the USERNAME is missing\n"
                 "Try 'eventapi help changepassword'.\n");
  expect_command(api_command(ARGS("runserver"), NULL), 2, "",
                 "eventapi: unknown command \"runserver\"\nTry 'eventapi help'.\n");
  expect_command(api_command(ARGS("--verbose"), NULL), 2, "",
                 "eventapi: unknown option \"--verbose\"\nTry 'eventapi help'.\n");
  expect_command(api_command(ARGS("help", "runserver"), NULL), 2, "",
                 "eventapi: unknown command \"runserver\"\nTry 'eventapi help'.\n");
}

/* ---- start-up errors ----------------------------------------------------------------- */

/* A path whose folder is a plain file: no database can be made there. */
static const char *path_under_a_file(void)
{
  const char *file = api_printf("%s/not-a-folder", api_server_dir());
  FILE *f = fopen(file, "w");
  cr_assert(f != NULL && fclose(f) == 0);
  return api_printf("%s/db.sqlite3", file);
}

Test(cli, a_bad_database_path_is_one_line_after_what_came_before)
{
  const char *path = path_under_a_file();
  const char *env[] = {"DATABASE_URL", api_printf("sqlite:///%s", path), NULL};
  /* stdout and stderr into one file, as a person's terminal or a log shows them. */
  const char *both;
  cr_assert_eq(api_process_run(ARGS("migrate"), env, &both), 1, "%s", both);
  cr_expect_str_eq(both, api_printf("Applying migrations\n"
                                    "eventapi: database: cannot open %s: Not a directory\n",
                                    path));

  const char *missing = api_printf("%s/no/such/db.sqlite3", api_server_dir());
  const char *env2[] = {"DATABASE_URL", api_printf("sqlite:///%s", missing), NULL};
  expect_command(api_command(ARGS("migrate"), env2), 1, "Applying migrations\n",
                 api_printf("eventapi: database: cannot create the folder %s/no/such: "
                            "No such file or directory\n", api_server_dir()));
  expect_command(api_command(ARGS("demo"), env2), 1, "",
                 api_printf("eventapi: database: cannot create the folder %s/no/such: "
                            "No such file or directory\n", api_server_dir()));
}

Test(cli, serve_says_each_start_up_error_once_in_one_format)
{
  expect_command(api_command(ARGS("serve"), ARGS("EMAIL_URL", "smtp://")), 1, "",
                 "eventapi: EMAIL_URL: the SMTP server's host is missing\n");
  expect_command(api_command(ARGS("worker", "--once"), ARGS("EMAIL_URL", "gopher://mail")), 1, "",
                 "eventapi: EMAIL_URL: the scheme must be console://, file://, smtp:// or "
                 "smtps://\n");
  expect_command(api_command(ARGS("serve"), ARGS("SECRET_KEY", NULL)), 1, "",
                 "eventapi: SECRET_KEY: must be set to at least 32 bytes (it signs every "
                 "token); `make run` writes a random one to .env\n");
  expect_command(api_command(ARGS("serve"), ARGS("PORT", "eighty")), 1, "",
                 "eventapi: PORT: expected an integer from 0 to 65535, got \"eighty\"\n");
  expect_command(api_command(ARGS("serve"), ARGS("DATABASE_URL", "mysql://db/events")), 1, "",
                 "eventapi: DATABASE_URL: unsupported database URL (expected sqlite:///path, "
                 "postgres://user:password@host:port/database or libpq's key=value form)\n");
  expect_command(api_command(ARGS("serve", "--bind", "localhost"), NULL), 1, "",
                 "eventapi: BIND: expected an IPv4 or IPv6 address, got \"localhost\"\n");

  /* A port another program listens on. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  cr_assert(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 1) == 0 &&
            getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
  unsigned port = ntohs(addr.sin_port);
  expect_command(api_command(ARGS("serve"), ARGS("PORT", api_printf("%u", port))), 1, "",
                 api_printf("eventapi: PORT: cannot listen on 127.0.0.1 port %u: Address "
                            "already in use\n", port));
  close(fd);
}

/* ---- showmigrations ---------------------------------------------------------------- */

static const struct migration *migrations(void)
{
  return api_on_postgres() ? db_migrations_postgres : db_migrations_sqlite;
}

/* What showmigrations prints when the first `applied` migrations are applied. */
static const char *expected_list(const struct migration *list, size_t applied)
{
  char *text = api_strdup("eventapi\n");
  for (size_t i = 0; list[i].version; i++)
    text = api_printf("%s [%c] %04d_%s\n", text, i < applied ? 'X' : ' ', list[i].version,
                      list[i].name);
  return text;
}

/*
 * libmicrohttpd warns while it reads its options (a thread pool of one is
 * no pool): its logger is set first, so that the warning is a log record
 * like every other line, not bare text on stderr.
 */
Test(cli, serve_with_one_thread_writes_nothing_but_log_records)
{
  struct api_process node;
  api_process_start(&node, ARGS("serve"), ARGS("THREADS", "1", "LOG_LEVEL", "debug"));
  expect_status(api_get(api_printf("http://127.0.0.1:%u/healthz", node.port), NULL), 200);
  cr_assert_eq(api_process_kill(&node, SIGTERM), 0);
  const char *output = api_process_output(&node);
  for (const char *line = output; *line;) {
    size_t len = strcspn(line, "\n");
    /* "2031-05-01T18:00:00.000000Z info ..." */
    cr_expect(len > 28 && line[4] == '-' && line[10] == 'T' && line[26] == 'Z',
              "not a log record: %.*s", (int)len, line);
    line += len + (line[len] == '\n');
  }
}

Test(cli, showmigrations_marks_what_the_database_has)
{
  const struct migration *list = migrations();
  size_t count = 0;
  while (list[count].version)
    count++;
  cr_assert_geq(count, 5);
  /* The test server has migrated its database. */
  expect_command(api_command(ARGS("showmigrations"), NULL), 0, expected_list(list, count), "");

  /* The last one unrecorded: shown as not applied. */
  db_t *db;
  cr_assert_eq(db_open(&db), 0);
  cr_assert_eq(db_exec(db, "DELETE FROM schema_migrations WHERE version = ?", NULL, "i",
                       (int64_t)list[count - 1].version), 0);
  db_close(db);
  expect_command(api_command(ARGS("showmigrations"), NULL), 0,
                 expected_list(list, count - 1), "");
}

Test(cli, showmigrations_of_a_new_database_applies_nothing)
{
  const char *env[] = {"DATABASE_URL",
                       api_printf("sqlite:///%s/fresh/db.sqlite3", api_server_dir()), NULL};
  const struct migration *list = db_migrations_sqlite;
  size_t count = 0;
  while (list[count].version)
    count++;
  expect_command(api_command(ARGS("showmigrations"), env), 0, expected_list(list, 0), "");
  expect_command(api_command(ARGS("showmigrations"), env), 0, expected_list(list, 0), "");
  struct api_command c = api_command(ARGS("migrate"), env);
  expect_command(c, 0, NULL, "");
  expect_command(api_command(ARGS("showmigrations"), env), 0, expected_list(list, count), "");
}

/* ---- createsuperuser ---------------------------------------------------------------- */

Test(cli, createsuperuser_makes_an_admin_who_can_log_in)
{
  expect_command(api_command(ARGS("createsuperuser", "--username", "boss", "--email",
                                  "boss@example.com"),
                             ARGS("EVENTAPI_PASSWORD", API_PASSWORD)),
                 0, "Superuser \"boss\" created.\n", "");
  struct api_user boss = api_login("boss", API_PASSWORD);
  expect_str(api_get("/api/users/me/", boss.access), "role", "admin");
  /* A second one of the same name, or email, is refused before any password. */
  expect_command(api_command(ARGS("createsuperuser", "--username", "BOSS", "--email",
                                  "other@example.com"), NULL),
                 1, "", "eventapi: username: A user with that username already exists.\n");
  expect_command(api_command(ARGS("createsuperuser", "--username", "chief", "--email",
                                  "Boss@Example.com"), NULL),
                 1, "", "eventapi: email: A user with that email already exists.\n");
}

Test(cli, createsuperuser_refuses_a_common_password)
{
  expect_command(api_command(ARGS("createsuperuser", "--username", "boss", "--email",
                                  "boss@example.com", "--password", "password123"), NULL),
                 1, "", "eventapi: password: This password is too common.\n");
  expect_command(api_command(ARGS("createsuperuser", "--username", "boss", "--email",
                                  "boss@example.com"),
                             ARGS("EVENTAPI_PASSWORD", "password123")),
                 1, "", "eventapi: password: This password is too common.\n");
  cr_assert_eq(api_db_int("SELECT count(*) FROM users WHERE id > ?", 0), 0);
}

/* The same passwords, refused for the same reasons, in the same order, as sign-up. */
Test(cli, every_password_a_command_sets_passes_the_sign_up_validators)
{
  const char *passwords[] = {"password123", "12345", "boss-example", "qwertyuiop", "1234567890"};
  for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++) {
    struct api_resp *r = api_post("/api/users/register/", NULL,
        api_jsonf("{\"username\":\"boss\",\"email\":\"boss@example.com\",\"password\":\"%s\"}",
                  passwords[i]));
    expect_status(r, 400);
    json_t *messages = json_object_get(r->json, "password");
    cr_assert(json_array_size(messages) > 0, "%s", r->body);
    char *joined = api_strdup("");
    size_t j;
    json_t *message;
    json_array_foreach(messages, j, message)
      joined = api_printf("%s%s%s", joined, j ? " " : "", json_string_value(message));
    expect_command(api_command(ARGS("createsuperuser", "--username", "boss", "--email",
                                    "boss@example.com", "--password", passwords[i]), NULL),
                   1, "", api_printf("eventapi: password: %s\n", joined));
  }
}

/* ---- changepassword ------------------------------------------------------------------- */

#define NEW_PASSWORD "Quiet-Harbor-7731"

Test(cli, an_admin_who_lost_the_password_gets_back_in)
{
  api_admin("root");
  cr_assert_eq(login_status("root", "what-was-it-again"), 401);
  /* The name as sign-up compares it: case does not matter. */
  expect_command(api_command(ARGS("changepassword", "ROOT"),
                             ARGS("EVENTAPI_PASSWORD", NEW_PASSWORD)),
                 0, "Password changed successfully for user \"root\"\n", "");
  cr_assert_eq(login_status("root", API_PASSWORD), 401);
  struct api_user root = api_login("root", NEW_PASSWORD);
  expect_str(api_get("/api/users/me/", root.access), "role", "admin");
  /* --password wins over the environment. */
  expect_command(api_command(ARGS("changepassword", "root", "--password", "Amber-Lantern-5150"),
                             ARGS("EVENTAPI_PASSWORD", NEW_PASSWORD)),
                 0, "Password changed successfully for user \"root\"\n", "");
  cr_assert_eq(login_status("root", "Amber-Lantern-5150"), 200);
  /* The sessions opened with the password before are over. */
  expect_status(api_get("/api/users/me/", root.access), 401);
  expect_status(api_post("/auth/token/refresh/", NULL,
                         api_jsonf("{'refresh':'%s'}", root.refresh)), 401);
}

Test(cli, changepassword_uses_the_sign_up_validators_with_the_users_own_names)
{
  api_signup("carol", NULL);
  struct api_user carol = api_login("carol", API_PASSWORD);
  expect_status(api_patch("/api/users/me/", carol.access,
                          api_json("{'first_name':'Marguerite'}")), 200);
  expect_command(api_command(ARGS("changepassword", "carol", "--password", "password123"), NULL),
                 1, "", "eventapi: password: This password is too common.\n");
  expect_command(api_command(ARGS("changepassword", "carol", "--password", "Marguerite1"), NULL),
                 1, "", "eventapi: password: The password is too similar to the first name.\n");
  expect_command(api_command(ARGS("changepassword", "carol", "--password", "7206151"), NULL),
                 1, "",
                 "eventapi: password: This password is too short. It must contain at least 8 "
                 "characters. This password is entirely numeric.\n");
  cr_assert_eq(login_status("carol", API_PASSWORD), 200);
}

Test(cli, changepassword_of_nobody_or_without_a_terminal_changes_nothing)
{
  expect_command(api_command(ARGS("changepassword", "nobody", "--password", NEW_PASSWORD), NULL),
                 1, "", "eventapi: changepassword: user \"nobody\" does not exist\n");
  api_signup("carol", NULL);
  expect_command(api_command(ARGS("changepassword", "carol"), ARGS("EVENTAPI_PASSWORD", NULL)), 2,
                 "Changing password for user \"carol\"\n",
                 "eventapi: changepassword: no terminal to ask for the password on: use "
                 "--password or EVENTAPI_PASSWORD\n");
  cr_assert_eq(login_status("carol", API_PASSWORD), 200);
}

Test(cli, changepassword_asks_twice_on_the_terminal_without_echo)
{
  api_signup("carol", NULL);
  struct api_command c = api_command_tty(ARGS("changepassword", "carol"),
      ARGS("EVENTAPI_PASSWORD", NULL),
      (const char *const[]){"Password: ", "Sunlit-Meadow-31", "Password (again): ", "Sunlit-Meadow-32",
                            "Passwords do not match. Please try again.", NULL,
                            "Password: ", "password123", "Password (again): ", "password123",
                            "This password is too common.", NULL,
                            "Password: ", NEW_PASSWORD, "Password (again): ", NEW_PASSWORD,
                            NULL, NULL});
  cr_assert_eq(c.status, 0, "%s", c.out);
  cr_expect(starts_with(c.out, "Changing password for user \"carol\""), "%s", c.out);
  cr_expect(strstr(c.out, "Password changed successfully for user \"carol\"") != NULL, "%s",
            c.out);
  cr_expect(strstr(c.out, "Sunlit-Meadow") == NULL, "echoed:\n%s", c.out);
  cr_expect(strstr(c.out, NEW_PASSWORD) == NULL, "echoed:\n%s", c.out);
  cr_assert_eq(login_status("carol", NEW_PASSWORD), 200);
}

Test(cli, changepassword_gives_up_after_three_attempts)
{
  api_signup("carol", NULL);
  struct api_command c = api_command_tty(ARGS("changepassword", "carol"),
      ARGS("EVENTAPI_PASSWORD", NULL),
      (const char *const[]){"Password: ", "one-Password-1", "Password (again): ", "two-Password-2",
                            "Password: ", "one-Password-1", "Password (again): ", "two-Password-2",
                            "Password: ", "12345678", "Password (again): ", "12345678", NULL,
                            NULL});
  cr_assert_eq(c.status, 1, "%s", c.out);
  cr_expect(strstr(c.out, "This password is too common.") != NULL, "%s", c.out);
  cr_expect(strstr(c.out, "eventapi: changepassword: no password set after 3 attempts") != NULL,
            "%s", c.out);
  cr_assert_eq(login_status("carol", API_PASSWORD), 200);
}

/* ---- demo ------------------------------------------------------------------------------ */

/* The README's walkthrough: an organizer, a category, an event. */
static void walk_through_the_readme(void)
{
  struct api_user ada = api_signup("ada", "organizer");
  expect_status(api_post("/api/events/categories/", ada.access, api_json("{'name':'Conferences'}")),
                201);
  expect_status(api_post("/api/events/create/", ada.access, api_json(
      "{'title':'Systems Programming Day','date_time':'{Y}-03-14T09:00:00+01:00',"
      "'location':'Congress Center, Berlin','capacity':300,'category':1}")), 200);
}

/* The demo organizer's password, as the first run prints it. */
static const char *printed_password(const char *out)
{
  const char *at = strstr(out, "  password: ");
  cr_assert(at != NULL, "%s", out);
  at += strlen("  password: ");
  return api_printf("%.*s", (int)strcspn(at, "\n"), at);
}

Test(cli, demo_adds_its_data_beside_the_readmes_and_again_adds_nothing)
{
  walk_through_the_readme();
  struct api_command c = api_command(ARGS("demo"), NULL);
  expect_command(c, 0, NULL, "");
  cr_expect(starts_with(c.out, "Demo data added beside what the database holds: 12 events "
                               "(3 private) over the next three months, 4 new categories.\n"),
            "%s", c.out);
  const char *demo_password = printed_password(c.out);
  struct api_user demo = api_login("demo", demo_password);
  expect_str(api_get("/api/users/me/", demo.access), "role", "organizer");
  /* ada's event and the demo's nine public ones; the category was reused. */
  struct api_resp *r = api_get("/api/events/", NULL);
  expect_status(r, 200);
  expect_header(r, "X-Total-Count", "10");
  cr_assert_eq(json_array_size(api_get("/api/events/categories/", NULL)->json), 5);
  expect_header(api_get("/api/events/?category=conferences", NULL), "X-Total-Count", "3");

  c = api_command(ARGS("demo"), NULL);
  expect_command(c, 0,
                 api_printf("The demo data is already in the database: nothing was added.\n"
                            "\n"
                            "The organizer \"demo\" (user id %lld) is the one made before, with "
                            "its password;\n`eventapi changepassword demo` sets a new one.\n",
                            demo.id),
                 "");
  expect_header(api_get("/api/events/", NULL), "X-Total-Count", "10");
  cr_assert_eq(json_array_size(api_get("/api/events/categories/", NULL)->json), 5);
  /* The password printed the first time still holds. */
  cr_assert_eq(login_status("demo", demo_password), 200);
}

Test(cli, demo_uses_a_category_of_the_same_name_and_restores_a_deleted_event)
{
  struct api_user ada = api_signup("ada", "organizer");
  expect_status(api_post("/api/events/categories/", ada.access,
                         api_json("{'name':'concerts','slug':'live-music'}")), 201);
  struct api_command c = api_command(ARGS("demo"), NULL);
  expect_command(c, 0, NULL, "");
  cr_expect(starts_with(c.out, "Demo data added beside what the database holds: 12 events "
                               "(3 private) over the next three months, 4 new categories.\n"),
            "%s", c.out);
  expect_header(api_get("/api/events/?category=live-music", NULL), "X-Total-Count", "2");

  /* One demo event deleted: the next run makes it again, and only it. */
  struct api_user demo = api_login("demo", printed_password(c.out));
  struct api_resp *r = api_get("/api/events/?search=Jazz", NULL);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  long long jazz = json_integer_value(json_object_get(json_array_get(r->json, 0), "id"));
  expect_status(api_delete(api_printf("/api/events/%lld/delete/", jazz), demo.access), 204);
  c = api_command(ARGS("demo"), NULL);
  expect_command(c, 0, NULL, "");
  cr_expect(starts_with(c.out, "Demo data added beside what the database holds: 1 event "
                               "(0 private) over the next three months, 0 new categories.\n"),
            "%s", c.out);
  expect_header(api_get("/api/events/?search=Jazz", NULL), "X-Total-Count", "1");
}

Test(cli, demo_refuses_when_someone_else_is_named_demo)
{
  expect_status(api_post("/api/users/register/", NULL, api_json(
      "{'username':'Demo','email':'me@example.com','password':'" API_PASSWORD "'}")), 201);
  expect_command(api_command(ARGS("demo"), NULL), 1, "",
                 "eventapi: demo: a user named \"demo\" (me@example.com) already exists and is "
                 "not the demo organizer (demo@example.com); nothing was changed\n");
  expect_header(api_get("/api/events/", NULL), "X-Total-Count", "0");
  cr_assert_eq(json_array_size(api_get("/api/events/categories/", NULL)->json), 0);
}
