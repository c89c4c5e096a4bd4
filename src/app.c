/*
 * app.c - start-up and shut-down of the whole server.
 */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "auth/throttle.h"
#include "core/error.h"
#include "core/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "http/http.h"
#include "http/router.h"
#include "http/server.h"
#include "users/models.h"
#include "events/cache.h"
#include "events/urls.h"
#include "notifications/mailer.h"
#include "notifications/urls.h"
#include "notifications/worker.h"
#include "ops/schema.h"
#include "ops/urls.h"
#include "registrations/urls.h"
#include "tickets/urls.h"
#include "users/urls.h"
#include "users/validators.h"

#define SECRET_KEY_MIN 32
#define SHUTDOWN_GRACE_MS 10000


struct app {
  struct http_server *http;
  struct worker *worker; /* NULL: WORKER=off or `serve --no-worker` */
};

int
app_migrate(const struct config *cfg, int verbose)
{
  int rc = db_configure(cfg->database_url, cfg->sqlite_synchronous_normal);
  if (rc < 0) {
    log_error("DATABASE_URL: unsupported database URL (expected sqlite:///path, "
              "postgres://user:password@host:port/database or libpq's key=value form)");
    return rc;
  }
  db_t *db;
  if ((rc = db_open(&db)) < 0) {
    log_error("database: cannot open: %s", eventapi_strerror(rc));
    return rc;
  }
  rc = db_migrate(db, verbose);
  db_close(db);
  return rc;
}

/* The application's routes, app by app. */
static int
register_routes(void)
{
  router_reset();
  int rc = users_urls_register();
  if (rc == 0)
    rc = events_urls_register();
  if (rc == 0)
    rc = registrations_urls_register();
  if (rc == 0)
    rc = tickets_urls_register();
  if (rc == 0)
    rc = notifications_urls_register();
  if (rc == 0)
    rc = ops_schema_urls_register();
  if (rc == 0)
    rc = ops_urls_register();
  return rc;
}

int
app_start(const struct config *cfg, struct app **out)
{
  config = cfg;
  log_set_level(cfg->log_level);
  log_set_format(cfg->log_format);
  if (cfg->secret_key == NULL || strlen(cfg->secret_key) < SECRET_KEY_MIN) {
    log_error("SECRET_KEY must be set to at least %d bytes (it signs every token); "
              "`make run` writes a random one to .env", SECRET_KEY_MIN);
    return EVENTAPI_EINVAL;
  }
  password_set_limits(cfg->argon2_opslimit, cfg->argon2_memlimit);
  throttle_configure(cfg->login_max_failures, cfg->login_max_client_failures,
                     cfg->login_window);
  events_cache_configure((size_t)cfg->event_cache_mb * 1024 * 1024);
  if (users_common_passwords_load(cfg->common_passwords_file) < 0)
    log_warn("COMMON_PASSWORDS_FILE: cannot read %s; using the built-in list",
             cfg->common_passwords_file);
  int rc = mailer_global_init(); /* before any mailer, the check's included */
  if (rc < 0)
    return rc;
  if ((rc = worker_check_config(cfg)) < 0)
    return rc;
  if ((rc = app_migrate(cfg, 0)) < 0)
    return rc;
  http_set_user_loader(users_load_principal);
  if ((rc = register_routes()) < 0)
    return rc;
  struct app *app = calloc(1, sizeof *app);
  if (app == NULL)
    return EVENTAPI_ENOMEM;
  struct http_server_options opts = {
    .bind = cfg->bind,
    .port = cfg->port,
    .threads = cfg->threads,
    .connection_timeout = cfg->connection_timeout,
    .connection_limit = cfg->connection_limit,
    .per_ip_limit = cfg->per_ip_limit,
    .header_timeout_ms = cfg->header_timeout_ms,
    .body_timeout_ms = cfg->body_timeout_ms,
    .trusted_proxies = cfg->trusted_proxies,
    .allowed_hosts = cfg->allowed_hosts,
    .cors_allowed_origins = cfg->cors_allowed_origins,
  };
  if ((rc = http_server_start(&opts, &app->http)) < 0) {
    free(app);
    return rc;
  }
  if (cfg->worker && (rc = worker_start(cfg, &app->worker)) < 0) {
    http_server_stop(app->http, 0);
    free(app);
    return rc;
  }
  *out = app;
  return 0;
}

unsigned
app_port(const struct app *app)
{
  return http_server_port(app->http);
}

void
app_stop(struct app *app)
{
  if (app == NULL)
    return;
  http_server_stop(app->http, SHUTDOWN_GRACE_MS);
  worker_stop(app->worker);
  db_close_all();
  mailer_global_cleanup();
  users_common_passwords_free();
  free(app);
}
