/*
 * server.c - one real eventapi server per test process, and the memory the
 * harness hands out.
 */
#include "support/api.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "core/config.h"
#include "db/migrate.h"
#include "delivery/worker.h"
#include "support/pgpool.h"
#include "support/tmpdir.h"
#include "users/models.h"

/*
 * What the test server keeps of the developer's shell: what the tools need
 * to run. Everything else is removed before the harness sets its own
 * settings, so no setting of the shell (present or added to the server
 * later), no proxy and no time zone changes what is tested.
 */
static const char *const kept_env[] = {
  "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "LANG", "LANGUAGE",
  "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "CI",
  "EVENTAPI_BIN", "EVENTAPI_SOURCE_ROOT", "EVENTAPI_TEST_POSTGRES",
  "EVENTAPI_TEST_POSTGRES_RESTART", "EVENTAPI_TEST_POSTGRES_STOP", "EVENTAPI_TEST_POSTGRES_START",
  "EVENTAPI_TEST_POSTGRES_TEMPLATE", "EVENTAPI_TEST_SQLITE_TEMPLATE",
  "EVENTAPI_DOCS_ASSETS", "EVENTAPI_ARTIFACTS", NULL,
};
/* ... and every variable with one of these prefixes (the locale, the
 * dynamic linker, Criterion and meson's own). */
static const char *const kept_prefixes[] = { "LC_", "LD_", "CRITERION_", "MESON_", NULL };

static bool env_kept(const char *entry)
{
  size_t len = strcspn(entry, "=");
  for (const char *const *name = kept_env; *name; name++)
    if (strlen(*name) == len && strncmp(entry, *name, len) == 0)
      return true;
  for (const char *const *prefix = kept_prefixes; *prefix; prefix++)
    if (strncmp(entry, *prefix, strlen(*prefix)) == 0)
      return true;
  return false;
}

extern char **environ;

static void env_clear_but_kept(void)
{
  size_t count = 0;
  for (char **e = environ; *e; e++)
    count++;
  char **names = calloc(count + 1, sizeof *names);
  cr_assert(names != NULL);
  size_t n = 0;
  for (char **e = environ; *e; e++)
    if (!env_kept(*e))
      names[n++] = strndup(*e, strcspn(*e, "="));
  for (size_t i = 0; i < n; i++) {
    cr_assert(names[i] != NULL);
    unsetenv(names[i]);
    free(names[i]);
  }
  free(names);
}

struct kept {
  void *p;
  void (*release)(void *);
};

static struct {
  struct config cfg;
  bool cfg_loaded;
  struct app *app;
  char dir[64];
  char secret[97];
  char base_url[64];
  char pg_database[64];  /* the test's own PostgreSQL database, if any */
  bool pg_pooled;        /* a copy of the template: reset and pooled at the end */
  unsigned pg_databases; /* created by this process so far */
  pthread_mutex_t lock;
  struct kept *kept;
  size_t nkept, capkept;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

void api_keep(void *p, void (*release)(void *))
{
  if (!p)
    return;
  pthread_mutex_lock(&srv.lock);
  if (srv.nkept == srv.capkept) {
    size_t cap = srv.capkept ? srv.capkept * 2 : 256;
    struct kept *grown = realloc(srv.kept, cap * sizeof *grown);
    if (!grown)
      abort();
    srv.kept = grown;
    srv.capkept = cap;
  }
  srv.kept[srv.nkept++] = (struct kept){ p, release };
  pthread_mutex_unlock(&srv.lock);
}

char *api_strdup(const char *s)
{
  char *copy = strdup(s);
  if (!copy)
    abort();
  api_keep(copy, free);
  return copy;
}

char *api_printf(const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  api_keep(s, free);
  return s;
}

char *api_repeat(char c, size_t n)
{
  char *s = malloc(n + 1);
  if (!s)
    abort();
  memset(s, c, n);
  s[n] = '\0';
  api_keep(s, free);
  return s;
}

static void release_json(void *p)
{
  json_decref(p);
}

json_t *api_keep_json(json_t *json)
{
  api_keep(json, release_json);
  return json;
}

static void set_env(const char *name, const char *value)
{
  cr_assert(setenv(name, value, 1) == 0, "setenv %s", name);
}

/* ---- PostgreSQL: a fresh database per test -------------------------------- */

/*
 * Runs one statement on the cluster of EVENTAPI_TEST_POSTGRES (its admin
 * database). Returns NULL on success, else the SQLSTATE (or "?") with the
 * message in err.
 */
static const char *pg_admin(const char *sql, char *err, size_t errlen)
{
  static char state[8];
  PGconn *conn = PQconnectdb(getenv("EVENTAPI_TEST_POSTGRES"));
  if (PQstatus(conn) != CONNECTION_OK) {
    snprintf(err, errlen, "%s", PQerrorMessage(conn));
    PQfinish(conn);
    return "?";
  }
  PGresult *res = PQexec(conn, sql);
  const char *failed = NULL;
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof state, "%s", code ? code : "?");
    snprintf(err, errlen, "%s", PQresultErrorMessage(res));
    failed = state;
  }
  PQclear(res);
  PQfinish(conn);
  return failed;
}

/* Appends key='value' (libpq's quoting) to the harness-owned string *out. */
static char *pg_conninfo_add(char *out, const char *key, const char *value)
{
  size_t len = strlen(out);
  char *grown = malloc(len + strlen(key) + 2 * strlen(value) + 5);
  cr_assert(grown != NULL);
  char *p = grown + sprintf(grown, "%s%s%s='", out, len ? " " : "", key);
  for (const char *v = value; *v; v++) {
    if (*v == '\\' || *v == '\'')
      *p++ = '\\';
    *p++ = *v;
  }
  strcpy(p, "'");
  api_keep(grown, free);
  return grown;
}

/* The admin URL's connection settings with another database name. */
static const char *pg_database_url(const char *dbname)
{
  char *err = NULL;
  PQconninfoOption *options = PQconninfoParse(getenv("EVENTAPI_TEST_POSTGRES"), &err);
  cr_assert(options != NULL, "EVENTAPI_TEST_POSTGRES: %s", err ? err : "out of memory");
  char *url = api_strdup("");
  for (PQconninfoOption *o = options; o->keyword; o++) {
    if (strcmp(o->keyword, "dbname") != 0 && o->val && o->val[0])
      url = pg_conninfo_add(url, o->keyword, o->val);
  }
  PQconninfoFree(options);
  return pg_conninfo_add(url, "dbname", dbname);
}

/*
 * The database a test's own is copied from: EVENTAPI_TEST_POSTGRES_TEMPLATE
 * when set (scripts/run-tests sets it to a database it migrated to the
 * latest version, so that a test does not migrate its own: about 0.3 s a
 * test), unless the test starts at an older migration (migrated, then
 * filled); else an empty one.
 */
static const char *pg_template(bool at_latest)
{
  const char *name = getenv("EVENTAPI_TEST_POSTGRES_TEMPLATE");
  if (!at_latest || name == NULL || name[0] == '\0')
    return "template0";
  cr_assert(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name),
            "EVENTAPI_TEST_POSTGRES_TEMPLATE is not a plain database name: %s", name);
  return name;
}

/*
 * Creates this test's database, a copy of pg_template(at_latest), and
 * points DATABASE_URL at it. Returns NULL, or what went wrong
 * (harness-owned).
 */
static const char *pg_database_create(bool at_latest)
{
  char err[512] = "";
  snprintf(srv.pg_database, sizeof srv.pg_database, "eventapi_t_%ld_%u", (long)getpid(),
           ++srv.pg_databases);
  const char *admin = getenv("EVENTAPI_TEST_POSTGRES"), *template = pg_template(at_latest);
  bool copy = strcmp(template, "template0") != 0;
  if (copy && pgpool_take(admin, template, srv.pg_database)) {
    srv.pg_pooled = true;
    set_env("DATABASE_URL", pg_database_url(srv.pg_database));
    return NULL;
  }
  char *create = api_printf("CREATE DATABASE %s TEMPLATE %s", srv.pg_database,
                            pg_template(at_latest));
  const char *state = pg_admin(create, err, sizeof err);
  if (state && strcmp(state, "42P04") == 0) { /* left over by a process that died */
    pg_admin(api_printf("DROP DATABASE IF EXISTS %s WITH (FORCE)", srv.pg_database),
             err, sizeof err);
    state = pg_admin(create, err, sizeof err);
  }
  if (state) {
    srv.pg_database[0] = '\0';
    return api_printf("%s %s", state, err);
  }
  set_env("DATABASE_URL", pg_database_url(srv.pg_database));
  srv.pg_pooled = copy && pgpool_record(admin, getenv("DATABASE_URL"), srv.pg_database);
  return NULL;
}

/* Gives this test's database back to the pool (pgpool.h), or drops it,
 * with whatever is still connected to it. */
static void pg_database_drop(void)
{
  if (srv.pg_database[0] == '\0')
    return;
  bool pooled = srv.pg_pooled &&
                pgpool_give(getenv("EVENTAPI_TEST_POSTGRES"), pg_database_url(srv.pg_database),
                            pg_template(true), srv.pg_database);
  srv.pg_pooled = false;
  if (pooled) {
    srv.pg_database[0] = '\0';
    return;
  }
  char err[512] = "";
  char sql[128];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", srv.pg_database);
  const char *state = pg_admin(sql, err, sizeof err);
  if (state)
    fprintf(stderr, "cannot drop the test database %s: %s %s\n", srv.pg_database, state, err);
  srv.pg_database[0] = '\0';
}

/*
 * Migrates the database of srv.cfg up to version and lets fill write its
 * rows; NULL when done, else why not.
 */
static const char *database_at(int version, void (*fill)(void))
{
  db_t *db;
  char err[APP_ERROR_MAX] = "";
  if (app_database(&srv.cfg, &db, err, sizeof err) < 0)
    return api_printf("%s", err);
  int rc = db_migrate_to(db, version, 0, err, sizeof err);
  db_close(db);
  if (rc < 0)
    return api_printf("%s", err);
  fill();
  return NULL;
}

/*
 * SQLite: a copy of EVENTAPI_TEST_SQLITE_TEMPLATE (a database file that
 * scripts/run-tests migrated to the latest version) at path, so that the
 * server does not migrate its own: about 0.1 s a test, 0.3 s under the
 * sanitizers. Does nothing when it is not set.
 */
static void sqlite_database_copy(const char *path)
{
  const char *template = getenv("EVENTAPI_TEST_SQLITE_TEMPLATE");
  if (template == NULL || template[0] == '\0')
    return;
  FILE *in = fopen(template, "rb");
  cr_assert(in != NULL, "EVENTAPI_TEST_SQLITE_TEMPLATE %s: %s", template, strerror(errno));
  FILE *out = fopen(path, "wb");
  cr_assert(out != NULL, "%s: %s", path, strerror(errno));
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    cr_assert(fwrite(buf, 1, n, out) == n, "%s: %s", path, strerror(errno));
  cr_assert(!ferror(in), "%s: %s", template, strerror(errno));
  fclose(in);
  cr_assert(fclose(out) == 0, "%s: %s", path, strerror(errno));
}

static void start(const char *const *env, int version, void (*fill)(void))
{
  char err[256] = "";

  /* Criterion runs a suite's .init before a test's own: a test with its own
   * start belongs to a suite without one. */
  cr_assert(srv.app == NULL, "a server is already running in this test process");
  signal(SIGPIPE, SIG_IGN);
  cr_assert(sodium_init() >= 0, "sodium_init");
  cr_assert(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init");

  snprintf(srv.dir, sizeof srv.dir, "/tmp/eventapi-test-XXXXXX");
  cr_assert(mkdtemp(srv.dir) != NULL, "mkdtemp failed");

  unsigned char random[48];
  randombytes_buf(random, sizeof random);
  sodium_bin2hex(srv.secret, sizeof srv.secret, random, sizeof random);

  env_clear_but_kept();
  set_env("SECRET_KEY", srv.secret);
  /* An absolute path: "sqlite:///" + "/tmp/...", four slashes. */
  set_env("DATABASE_URL", api_printf("sqlite:///%s/db.sqlite3", srv.dir));
  /* scripts/with-postgres: the same tests on PostgreSQL. */
  const char *failed = getenv("EVENTAPI_TEST_POSTGRES") ? pg_database_create(fill == NULL) : NULL;
  if (!getenv("EVENTAPI_TEST_POSTGRES") && fill == NULL)
    sqlite_database_copy(api_printf("%s/db.sqlite3", srv.dir));
  if (failed) {
    char reason[512];
    snprintf(reason, sizeof reason, "%s", failed);
    api_server_stop();
    cr_assert_fail("cannot create the test database: %s", reason);
  }
  set_env("BIND", "127.0.0.1");
  set_env("PORT", "0");
  set_env("THREADS", "4");
  /* Each client thread of a test keeps its connection open until the test
   * ends, all from 127.0.0.1: more than the default cap in the races. */
  set_env("PER_IP_CONNECTION_LIMIT", "1024");
  /* The cheapest argon2id libsodium computes (8 KiB, one pass): a test
   * hashes a password for every user it makes and every login, and 8 MiB
   * a hash, mapped, faulted in and unmapped each time, was about a fifth
   * of the suite's CPU. The parameters themselves are tested in
   * tests/unit/password.c. */
  set_env("ARGON2_OPSLIMIT", "1");
  set_env("ARGON2_MEMLIMIT_KIB", "8");
  set_env("LOG_LEVEL", "warn");
  set_env("MEDIA_ROOT", api_printf("%s/media", srv.dir));
  /* Mail goes to files (api_server_dir()/mail), found quickly. */
  set_env("EMAIL_URL", api_printf("file://%s/mail/", srv.dir));
  set_env("WORKER_INTERVAL", "100ms");
  for (const char *const *pair = env; pair && pair[0]; pair += 2) {
    cr_assert(pair[1] != NULL, "env pair %s has no value", pair[0]);
    set_env(pair[0], pair[1]);
  }

  /* Criterion skips .fini when .init fails, so a failed start cleans up
   * after itself before failing. */
  int rc = config_load(&srv.cfg, api_printf("%s/.env", srv.dir), err, sizeof err);
  if (rc != 0) {
    api_server_stop();
    cr_assert_fail("config_load: %d %s", rc, err);
  }
  srv.cfg_loaded = true;

  const char *older = fill ? database_at(version, fill) : NULL;
  if (older) {
    char reason[APP_ERROR_MAX];
    snprintf(reason, sizeof reason, "%s", older);
    api_server_stop();
    cr_assert_fail("cannot prepare the database at migration %d: %s", version, reason);
  }

  char why[APP_ERROR_MAX] = "";
  rc = app_start(&srv.cfg, &srv.app, why, sizeof why);
  if (rc != 0 || !srv.app) {
    srv.app = NULL;
    api_server_stop();
    cr_assert_fail("app_start failed: %d %s", rc, why);
  }
  snprintf(srv.base_url, sizeof srv.base_url, "http://127.0.0.1:%u",
           app_port(srv.app));
}

void api_server_start_with(const char *const *env)
{
  start(env, 0, NULL);
}

void api_server_start_upgrading(const char *const *env, int version, void (*fill)(void))
{
  start(env, version, fill);
}

void api_server_attach(unsigned port)
{
  snprintf(srv.base_url, sizeof srv.base_url, "http://127.0.0.1:%u", port);
}

void api_server_start(void)
{
  api_server_start_with(NULL);
}

void api_server_stop(void)
{
  /* Released first, so the client's connections are closed before the
   * server waits for them. */
  pthread_mutex_lock(&srv.lock);
  for (size_t i = srv.nkept; i-- > 0;)
    srv.kept[i].release(srv.kept[i].p);
  free(srv.kept);
  srv.kept = NULL;
  srv.nkept = srv.capkept = 0;
  pthread_mutex_unlock(&srv.lock);

  if (srv.app)
    app_stop(srv.app);
  srv.app = NULL;
  api_clock_reset();
  if (srv.cfg_loaded)
    config_free(&srv.cfg);
  srv.cfg_loaded = false;
  pg_database_drop();
  if (srv.dir[0])
    tmpdir_remove_tree(srv.dir);
  srv.dir[0] = '\0';
  curl_global_cleanup();
}

unsigned api_server_port(void)
{
  cr_assert(srv.app != NULL, "the server is not running");
  return app_port(srv.app);
}

const char *api_server_secret(void)
{
  return srv.secret;
}

bool api_on_postgres(void)
{
  return getenv("EVENTAPI_TEST_POSTGRES") != NULL;
}

const char *api_server_dir(void)
{
  return srv.dir;
}

const char *api_url(const char *path)
{
  if (strncmp(path, "http://", 7) == 0)
    return path; /* another server's (a child node's) absolute URL */
  cr_assert(srv.app != NULL, "the server is not running");
  return api_printf("%s%s", srv.base_url, path);
}

void api_deliver_mail(void)
{
  cr_assert(srv.app != NULL, "the server is not running");
  cr_assert(!srv.cfg.worker, "api_deliver_mail() needs a server started with WORKER=off");
  volatile sig_atomic_t stop = 0;
  int rc = delivery_worker_run(&srv.cfg, &stop, true);
  cr_assert_eq(rc, 0, "the outbox could not be read: %d", rc);
}

void api_server_set_email_url(const char *url)
{
  cr_assert(srv.app != NULL && !srv.cfg.worker,
            "api_server_set_email_url() needs a server started with WORKER=off");
  char *copy = strdup(url);
  cr_assert(copy != NULL);
  free(srv.cfg.email_url);
  srv.cfg.email_url = copy;
}

void api_create_superuser(const char *username, const char *email,
                          const char *password)
{
  char err[256] = "";
  int rc = users_create_superuser(username, email, password, err, sizeof err);
  cr_assert(rc == 0, "users_create_superuser(%s): %d %s", username, rc, err);
}
