/*
 * config.h - the server's settings, from the environment and `.env`.
 *
 * Every setting is read from the process environment first and from the
 * `.env` file in the working directory second (the environment wins), then
 * validated. The whole list, with defaults, is documented in README.md.
 */
#ifndef EVENTAPI_CORE_CONFIG_H
#define EVENTAPI_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

#define CONFIG_REMINDERS_MAX 8

struct config {
  char *secret_key;            /* SECRET_KEY: required by serve, >= 32 bytes */
  char *database_url;          /* DATABASE_URL: sqlite:///data/eventapi.sqlite3 */
  char *bind;                  /* BIND: 127.0.0.1 */
  unsigned port;               /* PORT: 8000 (0 = any free port) */
  unsigned threads;            /* THREADS: 2 x cores */
  int64_t access_lifetime;     /* ACCESS_TOKEN_LIFETIME, seconds: 30m */
  int64_t refresh_lifetime;    /* REFRESH_TOKEN_LIFETIME, seconds: 7d */
  enum log_level log_level;    /* LOG_LEVEL: debug|info|warn|error, info */
  enum log_format log_format;  /* LOG_FORMAT: text (one line of words) or json (an object a line) */
  char *cors_allowed_origins;  /* CORS_ALLOWED_ORIGINS: comma list, "" none */
  char *media_root;            /* MEDIA_ROOT: media */
  char *public_url;            /* PUBLIC_URL: "" = from the Host header */
  unsigned connection_timeout; /* CONNECTION_TIMEOUT, seconds: 30 */
  unsigned connection_limit;   /* CONNECTION_LIMIT: 1024 */
  unsigned per_ip_limit;       /* PER_IP_CONNECTION_LIMIT: 64 */
  unsigned connection_memory_kb; /* CONNECTION_MEMORY_KB: 32 KiB a connection holds */
  unsigned streams_max;        /* STREAMS_MAX: 512 open availability streams a node */
  unsigned streams_per_client; /* STREAMS_PER_CLIENT: 8 of them a client address */
  int64_t header_timeout_ms;   /* HEADER_TIMEOUT: 10s for a request's line and headers */
  int64_t body_timeout_ms;     /* BODY_TIMEOUT: 10s, the longest pause inside a body */
  char *trusted_proxies;       /* TRUSTED_PROXIES: addresses/CIDRs whose X-Forwarded-For
                                  is believed, comma-separated; "" none */
  char *allowed_hosts;         /* ALLOWED_HOSTS: Host header values served, as Django's;
                                  default the local names (and PUBLIC_URL's host) */
  unsigned long long argon2_opslimit; /* ARGON2_OPSLIMIT: 2 (libsodium interactive) */
  size_t argon2_memlimit;      /* ARGON2_MEMLIMIT_KIB in the env: 65536 (64 MiB) */
  unsigned login_max_failures; /* LOGIN_MAX_FAILURES: 10 failed logins of one username
                                  from one client ... */
  unsigned login_max_client_failures; /* LOGIN_MAX_CLIENT_FAILURES: 100 failed logins of
                                  any usernames from one client ... */
  unsigned login_window;       /* LOGIN_WINDOW, seconds: 300 ... within this window */
  char *common_passwords_file; /* COMMON_PASSWORDS_FILE: Django's list when installed */
  bool sqlite_synchronous_normal; /* SQLITE_SYNCHRONOUS=normal opts out of FULL */
  unsigned sqlite_checkpoint_pages; /* SQLITE_CHECKPOINT_PAGES: 16384, checkpoints beside */
  unsigned write_batch_max;    /* WRITE_BATCH_MAX: 256 units of work to a transaction */
  int64_t write_batch_wait_ms; /* WRITE_BATCH_WAIT: 0, the writer's wait for company */
  unsigned create_status;       /* CREATE_STATUS: 200 (API.md) or 201 (the original) */
  unsigned event_cache_mb;     /* EVENT_CACHE_MB: 32 MiB of event JSON and answers; 0: off */
  unsigned long long image_max_pixels; /* IMAGE_MAX_PIXELS: 50,000,000 (width x height) at most */

  /* Notifications (src/notifications/). */
  char *email_url;             /* EMAIL_URL: console:// (file://, smtp://, smtps://) */
  char *email_from;            /* EMAIL_FROM: eventapi <noreply@localhost> */
  unsigned email_max_attempts; /* EMAIL_MAX_ATTEMPTS: 8 tries, then the mail is dead */
  int64_t email_retry_ms;      /* EMAIL_RETRY_DELAY: 30s, doubled per try, at most 1h */
  int64_t email_timeout_ms;    /* EMAIL_TIMEOUT: 30s for one message to the mail server */
  int64_t reminder_offsets[CONFIG_REMINDERS_MAX]; /* REMINDER_OFFSETS, seconds: 24h,3h */
  size_t nreminder_offsets;
  bool worker;                 /* WORKER: on; off (or `serve --no-worker`) sends no mail */
  int64_t worker_interval_ms;  /* WORKER_INTERVAL: 1s between looks at an idle outbox */
  char *time_zone;             /* TIME_ZONE: a new event's zone when it names none ("UTC") */
  int64_t idempotency_key_ttl; /* IDEMPOTENCY_KEY_TTL, seconds: 24h an answer is kept */
  int64_t outbox_retention;    /* OUTBOX_RETENTION, seconds: 7d a sent message is kept;
                                  0: for ever */
  int64_t outbox_dead_retention; /* OUTBOX_DEAD_RETENTION, seconds: 30d a dead message is
                                  kept after its last try; 0: for ever */

  /* Webhooks (src/delivery/webhook.c). */
  int64_t webhook_timeout_ms;  /* WEBHOOK_TIMEOUT_SECONDS: 10 s for one POST, from
                                  connecting to the reply's end (1 to 300) */
  bool webhook_allow_http;     /* WEBHOOK_ALLOW_HTTP: off, https:// only; on: http:// too */
  char *webhook_allowed_networks; /* WEBHOOK_ALLOWED_NETWORKS: addresses/CIDRs webhooks may
                                  reach though loopback, private, link-local ...
                                  (comma-separated; "" none; checked by delivery) */

  /* The API reference page (src/ops/docs.c). */
  char *docs_assets_dir;       /* DOCS_ASSETS_DIR: NULL (unset) = the usual places are
                                  searched; "" = none; else served at /static/docs/ */
  char *docs_assets_url;       /* DOCS_ASSETS_URL: "" = the local copy's /static/docs/;
                                  else where the page loads Swagger UI from (a CDN) */
};

/*
 * Fills cfg from the environment and the `.env` file at dotenv_path (NULL:
 * ".env" in the working directory; a missing file is fine). On a bad value
 * returns EVENTAPI_EINVAL with a one-line explanation naming the variable in
 * err. The caller frees cfg's strings with config_free().
 */
int config_load(struct config *cfg, const char *dotenv_path, char *err, size_t errlen);
void config_free(struct config *cfg);

/*
 * Parses a duration: a positive integer with an optional unit s, m, h or d
 * ("90" = 90 seconds, "30m", "7d"). Returns 0 or EVENTAPI_EINVAL.
 */
int config_parse_duration(const char *s, int64_t *seconds);

/* The same in milliseconds, also accepting the unit ms ("250ms", "2s"). */
int config_parse_millis(const char *s, int64_t *millis);

/*
 * Parses a comma-separated list of durations ("24h,3h") into at most
 * CONFIG_REMINDERS_MAX distinct values, largest first; "" is the empty
 * list. Returns 0 or EVENTAPI_EINVAL.
 */
int config_parse_offsets(const char *s, int64_t *seconds, size_t *count);

/* The settings of the running process; set once by main before serving. */
extern const struct config *config;

#endif
