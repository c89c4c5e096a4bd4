/*
 * app.c - start-up and shut-down of the whole server.
 */
#include "app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/throttle.h"
#include "core/error.h"
#include "core/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "http/http.h"
#include "http/router.h"
#include "http/server.h"
#include "db/signal.h"
#include "events/cache.h"
#include "events/changes.h"
#include "events/live.h"
#include "events/signals.h"
#include "events/timezone.h"
#include "events/urls.h"
#include "delivery/webhook.h"
#include "delivery/worker.h"
#include "notifications/mail.h"
#include "notifications/signals.h"
#include "notifications/urls.h"
#include "notifications/worker.h"
#include "ops/metrics.h"
#include "ops/schema.h"
#include "ops/urls.h"
#include "registrations/models.h"
#include "registrations/signals.h"
#include "registrations/urls.h"
#include "registrations/worker.h"
#include "shortcuts/idempotency.h"
#include "tickets/signals.h"
#include "tickets/urls.h"
#include "users/keys.h"
#include "users/models.h"
#include "users/signals.h"
#include "users/urls.h"
#include "users/common_passwords.h"
#include "webhooks/models.h"
#include "webhooks/signals.h"
#include "webhooks/urls.h"
#include "webhooks/worker.h"

#define SECRET_KEY_MIN 32
#define SHUTDOWN_GRACE_MS 10000


struct app {
  struct http_server *http;
  struct delivery_worker *worker; /* NULL: WORKER=off or `serve --no-worker` */
};

void
app_setup(const struct config *cfg)
{
  config = cfg;
  log_set_level(cfg->log_level);
  log_set_format(cfg->log_format);
  password_set_limits(cfg->argon2_opslimit, cfg->argon2_memlimit);
  if (users_common_passwords_load(cfg->common_passwords_file) < 0)
    log_warn("COMMON_PASSWORDS_FILE: cannot read %s; using the built-in list",
             cfg->common_passwords_file);
  /* Reminders fall due, and old mail is carried over, on the outbox
   * worker's beat, whether the worker is a thread or `eventapi worker`;
   * the worker renders notifications' mail when it sends it. */
  delivery_on_tick(notifications_worker_tick);
  delivery_mail_renderer_register(NOTIFICATIONS_MAIL_RENDERER, notifications_mail_render);
  /* It asks the webhooks app for an endpoint's secrets when it signs, and
   * the app turns off, on its beat, an endpoint failing for days. */
  delivery_webhook_keys_register(webhooks_keys);
  delivery_on_tick(webhooks_worker_tick);
  /* Waitlist offers that ran out pass their places down the line, and
   * idempotency keys past their lifetime go, on the same beat. */
  delivery_on_tick(registrations_worker_tick);
  delivery_on_tick(idempotency_prune);
}

int
app_database(const struct config *cfg, db_t **out, char *err, size_t errlen)
{
  /* A setting that only the events app can check: before anything is made. */
  if (!events_timezone_known(cfg->time_zone)) {
    snprintf(err, errlen, "TIME_ZONE: \"%s\" is not a zone of the system's tz database "
             "(such as UTC, Europe/Berlin or America/New_York)", cfg->time_zone);
    return EVENTAPI_EINVAL;
  }
  struct db_settings settings = {
    .synchronous_normal = cfg->sqlite_synchronous_normal,
    .checkpoint_pages = cfg->sqlite_checkpoint_pages,
  };
  int rc = db_configure(cfg->database_url, &settings);
  db_write_configure(cfg->write_batch_max, cfg->write_batch_wait_ms * 1000);
  if (rc < 0) {
    snprintf(err, errlen, "DATABASE_URL: unsupported database URL (expected sqlite:///path, "
             "postgres://user:password@host:port/database or libpq's key=value form)");
    return rc;
  }
  char why[APP_ERROR_MAX - 32];
  if ((rc = db_connect(out, why, sizeof why)) < 0)
    snprintf(err, errlen, "%s: %s", rc == EVENTAPI_EINVAL ? "DATABASE_URL" : "database", why);
  return rc;
}

int
app_migrate(const struct config *cfg, int verbose, char *err, size_t errlen)
{
  db_t *db;
  int rc = app_database(cfg, &db, err, errlen);
  if (rc < 0)
    return rc;
  char why[APP_ERROR_MAX - 32];
  if ((rc = db_migrate(db, verbose, why, sizeof why)) < 0)
    snprintf(err, errlen, "database: %s", why);
  db_close(db);
  return rc;
}

/*
 * Whether the server could listen on cfg's address and port: tried here,
 * where the system's reason can be told (libmicrohttpd only says that it
 * failed). The socket is closed at once; the server binds its own.
 */
static int
check_listen(const struct config *cfg, char *err, size_t errlen)
{
  struct sockaddr_storage addr = {0};
  struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
  socklen_t len;
  if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)cfg->port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)cfg->port);
    len = sizeof *v6;
  } else {
    snprintf(err, errlen, "BIND: expected an IPv4 or IPv6 address, got \"%s\"", cfg->bind);
    return EVENTAPI_EINVAL;
  }
  if (cfg->port == 0)
    return 0; /* any free port */
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0; /* the server will say */
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); /* as libmicrohttpd */
  if (addr.ss_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  int rc = 0;
  if (bind(fd, (struct sockaddr *)&addr, len) < 0) {
    snprintf(err, errlen, "PORT: cannot listen on %s port %u: %s", cfg->bind, cfg->port,
             strerror(errno));
    rc = EVENTAPI_EIO;
  }
  close(fd);
  return rc;
}

int
app_routes_register(void)
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
    rc = webhooks_urls_register();
  if (rc == 0)
    rc = ops_schema_urls_register();
  if (rc == 0)
    rc = ops_urls_register();
  return rc;
}

/*
 * Who hears what: every receiver of every signal, in the order each
 * signal runs them. Receivers run inside the sender's unit of work.
 */
static const struct {
  struct signal *signal;
  signal_receiver receiver;
} connections[] = {
  /* A user deleted: their events go as if deleted one by one, then their
   * registrations are cancelled (their places go to the waitlist). */
  {&users_deleting, events_on_user_deleting},
  {&users_deleting, registrations_on_user_deleting},
  /* Live availability: capacity, ticket types, deletion. */
  {&events_updated, events_live_on_updated},
  {&events_deleting, events_live_on_deleting},
  /* Places opened: the waitlist moves up. */
  {&events_places_opened, registrations_on_places_opened},
  /* What registrants are told. */
  {&events_changed, notifications_on_event_changed},
  {&events_deleting, notifications_on_event_deleting},
  {&registrations_confirmed, notifications_on_confirmed},
  {&registrations_waitlisted, notifications_on_waitlisted},
  {&registrations_promoted, notifications_on_promoted},
  {&registrations_cancelled, notifications_on_cancelled},
  {&registrations_offered, notifications_on_offered},
  {&registrations_offer_expired, notifications_on_offer_expired},
  /* What webhooks are told. */
  {&registrations_confirmed, webhooks_on_registration_confirmed},
  {&registrations_waitlisted, webhooks_on_registration_waitlisted},
  {&registrations_promoted, webhooks_on_registration_promoted},
  {&registrations_cancelled, webhooks_on_registration_cancelled},
  {&registrations_offered, webhooks_on_registration_offered},
  {&tickets_checked_in, webhooks_on_ticket_checked_in},
  {&tickets_check_in_undone, webhooks_on_ticket_check_in_undone},
  {&events_created, webhooks_on_event_created},
  {&events_updated, webhooks_on_event_updated},
  {&events_deleting, webhooks_on_event_deleting},
  /* What /metrics counts. */
  {&registrations_confirmed, ops_metrics_on_confirmed},
  {&registrations_waitlisted, ops_metrics_on_waitlisted},
  {&registrations_cancelled, ops_metrics_on_cancelled},
  {&registrations_promoted, ops_metrics_on_promoted},
  {&tickets_checked_in, ops_metrics_on_checked_in},
  {&tickets_check_in_undone, ops_metrics_on_check_in_undone},
};

void
app_signals_connect(void)
{
  for (size_t i = 0; i < sizeof connections / sizeof connections[0]; i++)
    signal_connect(connections[i].signal, connections[i].receiver);
}

int
app_start(const struct config *cfg, struct app **out, char *err, size_t errlen)
{
  if (errlen > 0)
    err[0] = '\0';
  app_setup(cfg);
  if (cfg->secret_key == NULL || strlen(cfg->secret_key) < SECRET_KEY_MIN) {
    snprintf(err, errlen, "SECRET_KEY: must be set to at least %d bytes (it signs every "
             "token); `make run` writes a random one to .env", SECRET_KEY_MIN);
    return EVENTAPI_EINVAL;
  }
  password_set_limits(cfg->argon2_opslimit, cfg->argon2_memlimit);
  throttle_configure(cfg->login_max_failures, cfg->login_max_client_failures,
                     cfg->login_window);
  events_cache_configure((size_t)cfg->event_cache_mb * 1024 * 1024);
  int rc = delivery_global_init(); /* before any mailer, the check's included */
  if (rc < 0) {
    snprintf(err, errlen, "mail: cannot initialise libcurl");
    return rc;
  }
  if ((rc = delivery_check_config(cfg, err, errlen)) < 0 ||
      (rc = check_listen(cfg, err, errlen)) < 0 || (rc = app_migrate(cfg, 0, err, errlen)) < 0)
    return rc;
  http_set_user_loader(users_load_principal);
  http_set_key_loader(users_keys_load_principal);
  http_set_replayer(idempotency_replay);
  app_signals_connect();
  if ((rc = app_routes_register()) < 0) {
    snprintf(err, errlen, "routes: %s", eventapi_strerror(rc));
    return rc;
  }
  struct app *app = calloc(1, sizeof *app);
  if (app == NULL) {
    snprintf(err, errlen, "%s", eventapi_strerror(EVENTAPI_ENOMEM));
    return EVENTAPI_ENOMEM;
  }
  struct http_server_options opts = {
    .bind = cfg->bind,
    .port = cfg->port,
    .threads = cfg->threads,
    .connection_timeout = cfg->connection_timeout,
    .connection_limit = cfg->connection_limit,
    .per_ip_limit = cfg->per_ip_limit,
    .connection_memory_kb = cfg->connection_memory_kb,
    .header_timeout_ms = cfg->header_timeout_ms,
    .body_timeout_ms = cfg->body_timeout_ms,
    .trusted_proxies = cfg->trusted_proxies,
    .allowed_hosts = cfg->allowed_hosts,
    .cors_allowed_origins = cfg->cors_allowed_origins,
  };
  if ((rc = http_server_start(&opts, &app->http)) < 0) {
    snprintf(err, errlen, "PORT: cannot listen on %s port %u", cfg->bind, cfg->port);
    free(app);
    return rc;
  }
  if ((rc = events_live_start(cfg)) < 0) {
    snprintf(err, errlen, "cannot start the live availability hub: %s", eventapi_strerror(rc));
    http_server_stop(app->http, 0);
    free(app);
    return rc;
  }
  if (cfg->worker && (rc = delivery_worker_start(cfg, &app->worker)) < 0) {
    snprintf(err, errlen, "WORKER: cannot start the mail worker: %s", eventapi_strerror(rc));
    events_live_stop();
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
  /* Requests in flight finish; parked ones need the writer to answer, so
   * it stops only after them (and after the mail worker, which writes too),
   * and the server once what the writer finished has been answered. */
  events_live_stop(); /* its streams end, and their connections with them */
  http_server_drain(app->http, SHUTDOWN_GRACE_MS);
  delivery_worker_stop(app->worker);
  db_writer_stop();
  http_server_stop(app->http, SHUTDOWN_GRACE_MS);
  db_close_all();
  delivery_global_cleanup();
  users_common_passwords_free();
  free(app);
}
