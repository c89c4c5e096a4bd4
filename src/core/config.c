#include "core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/dotenv.h"
#include "core/error.h"

const struct config *config = NULL;

/*
 * The longest duration accepted: 100 years. Far beyond any sensible token
 * lifetime, and small enough that now + duration in microseconds never
 * overflows an int64_t.
 */
#define DURATION_MAX ((int64_t)100 * 365 * 86400)

_Static_assert(SIZE_MAX / 1024 >= UINT32_MAX,
               "ARGON2_MEMLIMIT_KIB up to 4 TiB needs a 64-bit size_t");

/* Where settings come from, and where the first error is explained. */
struct source {
  const struct dotenv *file;
  char *err;
  size_t errlen;
};

static int
fail(const struct source *src, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(const struct source *src, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = eventapi_vfail(src->err, src->errlen, EVENTAPI_EINVAL, fmt, ap);
  va_end(ap);
  return rc;
}

/* The value of name: the environment's, else the .env file's, else NULL. */
static const char *
lookup(const struct source *src, const char *name)
{
  const char *value = getenv(name);
  return value ? value : dotenv_get(src->file, name);
}

/* Copies the value of name, or def (which may be NULL), into *out. */
static int
get_string(const struct source *src, const char *name, const char *def,
           char **out)
{
  const char *value = lookup(src, name);
  if (value == NULL)
    value = def;
  if (value == NULL)
    return 0;
  *out = strdup(value);
  return *out ? 0 : EVENTAPI_ENOMEM;
}

/* Parses all of s as a decimal number: digits only, no sign or blanks. */
static int
parse_integer(const char *s, unsigned long long *out)
{
  if (*s < '0' || *s > '9')
    return EVENTAPI_EINVAL;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return EVENTAPI_EINVAL;
  *out = n;
  return 0;
}

static int
get_integer(const struct source *src, const char *name, unsigned long long def,
            unsigned long long min, unsigned long long max,
            unsigned long long *out)
{
  const char *value = lookup(src, name);
  if (value == NULL) {
    *out = def;
    return 0;
  }
  if (parse_integer(value, out) != 0 || *out < min || *out > max)
    return fail(src, "%s: expected an integer from %llu to %llu, got \"%s\"",
                name, min, max, value);
  return 0;
}

static int
get_unsigned(const struct source *src, const char *name, unsigned def,
             unsigned min, unsigned max, unsigned *out)
{
  unsigned long long n;
  int rc = get_integer(src, name, def, min, max, &n);
  if (rc == 0)
    *out = (unsigned)n;
  return rc;
}

static int
get_duration(const struct source *src, const char *name, int64_t def,
             int64_t *out)
{
  const char *value = lookup(src, name);
  if (value == NULL) {
    *out = def;
    return 0;
  }
  if (config_parse_duration(value, out) != 0)
    return fail(src, "%s: expected a duration such as 90, 30m, 1h or 7d, "
                "got \"%s\"", name, value);
  return 0;
}

/* As get_duration, also taking 0 (none). */
static int
get_duration_or_zero(const struct source *src, const char *name, int64_t def, int64_t *out)
{
  const char *value = lookup(src, name);
  if (value != NULL && strcmp(value, "0") == 0) {
    *out = 0;
    return 0;
  }
  return get_duration(src, name, def, out);
}

static int
get_millis(const struct source *src, const char *name, int64_t def, int64_t *out)
{
  const char *value = lookup(src, name);
  if (value == NULL) {
    *out = def;
    return 0;
  }
  if (config_parse_millis(value, out) != 0)
    return fail(src, "%s: expected a duration such as 250ms, 30s or 5m, got \"%s\"",
                name, value);
  return 0;
}

/* As get_millis, also taking 0 (none). */
static int
get_millis_or_zero(const struct source *src, const char *name, int64_t def, int64_t *out)
{
  const char *value = lookup(src, name);
  if (value != NULL && strcmp(value, "0") == 0) {
    *out = 0;
    return 0;
  }
  return get_millis(src, name, def, out);
}

static int
get_bool(const struct source *src, const char *name, bool def, bool *out)
{
  const char *value = lookup(src, name);
  *out = def;
  if (value == NULL)
    return 0;
  if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
    *out = true;
  else if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
    *out = false;
  else
    return fail(src, "%s: expected on or off, got \"%s\"", name, value);
  return 0;
}

static int
get_offsets(const struct source *src, struct config *cfg)
{
  const char *value = lookup(src, "REMINDER_OFFSETS");
  if (value == NULL)
    value = "24h,3h";
  if (config_parse_offsets(value, cfg->reminder_offsets, &cfg->nreminder_offsets) != 0)
    return fail(src, "REMINDER_OFFSETS: expected up to %d durations such as 24h,3h, got \"%s\"",
                CONFIG_REMINDERS_MAX, value);
  return 0;
}

static int
get_log_level(const struct source *src, enum log_level *out)
{
  static const struct {
    const char *name;
    enum log_level level;
  } levels[] = {
    {"debug", LOG_DEBUG}, {"info", LOG_INFO},   {"warn", LOG_WARN},
    {"warning", LOG_WARN}, {"error", LOG_ERROR},
  };
  const char *value = lookup(src, "LOG_LEVEL");
  if (value == NULL) {
    *out = LOG_INFO;
    return 0;
  }
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
    if (strcasecmp(value, levels[i].name) == 0) {
      *out = levels[i].level;
      return 0;
    }
  }
  return fail(src, "LOG_LEVEL: expected debug, info, warn or error, got \"%s\"",
              value);
}

static int
get_log_format(const struct source *src, enum log_format *out)
{
  const char *value = lookup(src, "LOG_FORMAT");
  *out = LOG_FORMAT_TEXT;
  if (value == NULL || strcasecmp(value, "text") == 0)
    return 0;
  if (strcasecmp(value, "json") == 0) {
    *out = LOG_FORMAT_JSON;
    return 0;
  }
  return fail(src, "LOG_FORMAT: expected text or json, got \"%s\"", value);
}

/*
 * ALLOWED_HOSTS' default: the names of this machine as a developer reaches
 * it (Django's with DEBUG on), and the host of PUBLIC_URL when one is set.
 */
static int
get_allowed_hosts(const struct source *src, const char *public_url, char **out)
{
  static const char local[] = "localhost,.localhost,127.0.0.1,[::1]";
  const char *value = lookup(src, "ALLOWED_HOSTS");
  if (value != NULL)
    return get_string(src, "ALLOWED_HOSTS", NULL, out);
  const char *host = strstr(public_url, "://");
  if (host == NULL) {
    *out = strdup(local);
    return *out ? 0 : EVENTAPI_ENOMEM;
  }
  host += 3;
  size_t len = strcspn(host, "/?#");
  const char *at = memchr(host, '@', len);
  if (at) {
    len -= (size_t)(at + 1 - host);
    host = at + 1;
  }
  /* Without its port: ALLOWED_HOSTS names hosts. */
  if (host[0] == '[') {
    const char *close = memchr(host, ']', len);
    if (close)
      len = (size_t)(close + 1 - host);
  } else {
    const char *colon = memchr(host, ':', len);
    if (colon)
      len = (size_t)(colon - host);
  }
  if (asprintf(out, "%s,%.*s", local, (int)len, host) < 0) {
    *out = NULL;
    return EVENTAPI_ENOMEM;
  }
  return 0;
}

static int
get_synchronous(const struct source *src, bool *normal)
{
  const char *value = lookup(src, "SQLITE_SYNCHRONOUS");
  *normal = false;
  if (value == NULL || strcasecmp(value, "full") == 0)
    return 0;
  if (strcasecmp(value, "normal") == 0) {
    *normal = true;
    return 0;
  }
  return fail(src, "SQLITE_SYNCHRONOUS: expected full or normal, got \"%s\"",
              value);
}

/* API.md: create and register answer 200; CREATE_STATUS=201 as the original. */
static int
get_create_status(const struct source *src, unsigned *status)
{
  const char *value = lookup(src, "CREATE_STATUS");
  *status = 200;
  if (value == NULL || strcmp(value, "200") == 0)
    return 0;
  if (strcmp(value, "201") == 0) {
    *status = 201;
    return 0;
  }
  return fail(src, "CREATE_STATUS: expected 200 or 201, got \"%s\"", value);
}

/* DESIGN.md: twice the cores by default, since handlers block on the database. */
static unsigned
default_threads(void)
{
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1)
    cores = 1;
  if (cores > 512)
    cores = 512;
  return (unsigned)(2 * cores);
}

int
config_load(struct config *cfg, const char *dotenv_path, char *err,
            size_t errlen)
{
  *cfg = (struct config){0};
  if (errlen > 0)
    err[0] = '\0';
  if (dotenv_path == NULL)
    dotenv_path = ".env";

  struct dotenv file;
  int bad_line = 0;
  int rc = dotenv_load(dotenv_path, &file, &bad_line);
  if (rc != 0) {
    if (rc == EVENTAPI_EINVAL)
      snprintf(err, errlen, "%s:%d: expected KEY=VALUE", dotenv_path, bad_line);
    else
      snprintf(err, errlen, "%s: %s", dotenv_path, eventapi_strerror(rc));
    return rc;
  }
  const struct source src = {&file, err, errlen};

  unsigned long long memlimit_kib = 0;
  unsigned webhook_timeout = 0;
  rc = get_string(&src, "SECRET_KEY", NULL, &cfg->secret_key);
  if (rc == 0)
    rc = get_string(&src, "DATABASE_URL", "sqlite:///data/eventapi.sqlite3",
                    &cfg->database_url);
  if (rc == 0)
    rc = get_string(&src, "BIND", "127.0.0.1", &cfg->bind);
  if (rc == 0)
    rc = get_unsigned(&src, "PORT", 8000, 0, 65535, &cfg->port);
  if (rc == 0)
    rc = get_unsigned(&src, "THREADS", default_threads(), 1, 1024,
                      &cfg->threads);
  if (rc == 0)
    rc = get_duration(&src, "ACCESS_TOKEN_LIFETIME", 30 * 60,
                      &cfg->access_lifetime);
  if (rc == 0)
    rc = get_duration(&src, "REFRESH_TOKEN_LIFETIME", 7 * 86400,
                      &cfg->refresh_lifetime);
  if (rc == 0)
    rc = get_log_level(&src, &cfg->log_level);
  if (rc == 0)
    rc = get_log_format(&src, &cfg->log_format);
  if (rc == 0)
    rc = get_string(&src, "CORS_ALLOWED_ORIGINS", "",
                    &cfg->cors_allowed_origins);
  if (rc == 0)
    rc = get_string(&src, "MEDIA_ROOT", "media", &cfg->media_root);
  if (rc == 0)
    rc = get_string(&src, "PUBLIC_URL", "", &cfg->public_url);
  /* libmicrohttpd: a connection timeout of 0 means none. */
  if (rc == 0)
    rc = get_unsigned(&src, "CONNECTION_TIMEOUT", 30, 0, 86400,
                      &cfg->connection_timeout);
  if (rc == 0)
    rc = get_unsigned(&src, "CONNECTION_LIMIT", 1024, 1, 1u << 20,
                      &cfg->connection_limit);
  if (rc == 0)
    rc = get_unsigned(&src, "PER_IP_CONNECTION_LIMIT", 64, 1, UINT32_MAX,
                      &cfg->per_ip_limit);
  if (rc == 0)
    rc = get_unsigned(&src, "CONNECTION_MEMORY_KB", 32, 8, 1024, &cfg->connection_memory_kb);
  if (rc == 0)
    rc = get_unsigned(&src, "STREAMS_MAX", 512, 0, 1u << 20, &cfg->streams_max);
  if (rc == 0)
    rc = get_unsigned(&src, "STREAMS_PER_CLIENT", 8, 1, 1u << 20, &cfg->streams_per_client);
  if (rc == 0)
    rc = get_millis(&src, "HEADER_TIMEOUT", 10 * 1000, &cfg->header_timeout_ms);
  if (rc == 0)
    rc = get_millis(&src, "BODY_TIMEOUT", 10 * 1000, &cfg->body_timeout_ms);
  if (rc == 0)
    rc = get_string(&src, "TRUSTED_PROXIES", "", &cfg->trusted_proxies);
  if (rc == 0)
    rc = get_allowed_hosts(&src, cfg->public_url, &cfg->allowed_hosts);
  /* libsodium's argon2id bounds: 1 to 2^32-1 passes, 8 KiB to 4 TiB. */
  if (rc == 0)
    rc = get_integer(&src, "ARGON2_OPSLIMIT", 2, 1, UINT32_MAX,
                     &cfg->argon2_opslimit);
  if (rc == 0)
    rc = get_integer(&src, "ARGON2_MEMLIMIT_KIB", 65536, 8, UINT32_MAX,
                     &memlimit_kib);
  if (rc == 0)
    cfg->argon2_memlimit = (size_t)memlimit_kib * 1024; /* bytes, as libsodium */
  if (rc == 0)
    rc = get_unsigned(&src, "LOGIN_MAX_FAILURES", 10, 1, UINT32_MAX,
                      &cfg->login_max_failures);
  if (rc == 0)
    rc = get_unsigned(&src, "LOGIN_MAX_CLIENT_FAILURES", 100, 1, UINT32_MAX,
                      &cfg->login_max_client_failures);
  if (rc == 0)
    rc = get_unsigned(&src, "LOGIN_WINDOW", 300, 1, 86400 * 365,
                      &cfg->login_window);
  if (rc == 0)
    rc = get_string(&src, "COMMON_PASSWORDS_FILE",
                    "/usr/lib/python3/dist-packages/django/contrib/auth/"
                    "common-passwords.txt.gz",
                    &cfg->common_passwords_file);
  if (rc == 0)
    rc = get_synchronous(&src, &cfg->sqlite_synchronous_normal);
  if (rc == 0)
    rc = get_unsigned(&src, "SQLITE_CHECKPOINT_PAGES", 16384, 64, 1000000,
                      &cfg->sqlite_checkpoint_pages);
  if (rc == 0)
    rc = get_unsigned(&src, "WRITE_BATCH_MAX", 256, 1, 100000, &cfg->write_batch_max);
  if (rc == 0)
    rc = get_millis_or_zero(&src, "WRITE_BATCH_WAIT", 0, &cfg->write_batch_wait_ms);
  if (rc == 0)
    rc = get_create_status(&src, &cfg->create_status);
  if (rc == 0)
    rc = get_unsigned(&src, "EVENT_CACHE_MB", 32, 0, 65536, &cfg->event_cache_mb);
  if (rc == 0)
    rc = get_integer(&src, "IMAGE_MAX_PIXELS", 50000000, 1, (unsigned long long)1 << 40,
                     &cfg->image_max_pixels);
  if (rc == 0)
    rc = get_string(&src, "EMAIL_URL", "console://", &cfg->email_url);
  if (rc == 0)
    rc = get_string(&src, "EMAIL_FROM", "eventapi <noreply@localhost>", &cfg->email_from);
  if (rc == 0 && strpbrk(cfg->email_from, "\r\n"))
    rc = fail(&src, "EMAIL_FROM: must be one line");
  if (rc == 0)
    rc = get_unsigned(&src, "EMAIL_MAX_ATTEMPTS", 8, 1, 100, &cfg->email_max_attempts);
  if (rc == 0)
    rc = get_millis(&src, "EMAIL_RETRY_DELAY", 30 * 1000, &cfg->email_retry_ms);
  if (rc == 0)
    rc = get_millis(&src, "EMAIL_TIMEOUT", 30 * 1000, &cfg->email_timeout_ms);
  if (rc == 0)
    rc = get_offsets(&src, cfg);
  if (rc == 0)
    rc = get_bool(&src, "WORKER", true, &cfg->worker);
  if (rc == 0)
    rc = get_millis(&src, "WORKER_INTERVAL", 1000, &cfg->worker_interval_ms);
  if (rc == 0)
    rc = get_unsigned(&src, "WEBHOOK_TIMEOUT_SECONDS", 10, 1, 300, &webhook_timeout);
  if (rc == 0)
    cfg->webhook_timeout_ms = (int64_t)webhook_timeout * 1000;
  if (rc == 0)
    rc = get_bool(&src, "WEBHOOK_ALLOW_HTTP", false, &cfg->webhook_allow_http);
  /* A list of ranges, read by the delivery layer with TRUSTED_PROXIES's
   * parser (http/address.h) when a worker starts (delivery_check_config). */
  if (rc == 0)
    rc = get_string(&src, "WEBHOOK_ALLOWED_NETWORKS", "", &cfg->webhook_allowed_networks);
  if (rc == 0)
    rc = get_duration_or_zero(&src, "OUTBOX_RETENTION", 7 * 86400, &cfg->outbox_retention);
  if (rc == 0)
    rc = get_duration(&src, "IDEMPOTENCY_KEY_TTL", 86400, &cfg->idempotency_key_ttl);
  if (rc == 0)
    rc = get_string(&src, "TIME_ZONE", "UTC", &cfg->time_zone);
  if (rc == 0)
    rc = get_duration_or_zero(&src, "OUTBOX_DEAD_RETENTION", 30 * 86400,
                              &cfg->outbox_dead_retention);
  if (rc == 0)
    rc = get_string(&src, "DOCS_ASSETS_DIR", NULL, &cfg->docs_assets_dir);
  if (rc == 0)
    rc = get_string(&src, "DOCS_ASSETS_URL", "", &cfg->docs_assets_url);
  /* It goes into the page's HTML as it is: no quotes, brackets or spaces. */
  if (rc == 0 && strpbrk(cfg->docs_assets_url, "\"'<>&\\ \t\r\n"))
    rc = fail(&src, "DOCS_ASSETS_URL: expected a URL or a path such as /static/docs/, got \"%s\"",
              cfg->docs_assets_url);

  dotenv_free(&file);
  if (rc == EVENTAPI_ENOMEM)
    snprintf(err, errlen, "%s", eventapi_strerror(rc));
  if (rc != 0)
    config_free(cfg);
  return rc;
}

void
config_free(struct config *cfg)
{
  free(cfg->secret_key);
  free(cfg->database_url);
  free(cfg->bind);
  free(cfg->cors_allowed_origins);
  free(cfg->media_root);
  free(cfg->public_url);
  free(cfg->trusted_proxies);
  free(cfg->allowed_hosts);
  free(cfg->common_passwords_file);
  free(cfg->email_url);
  free(cfg->email_from);
  free(cfg->webhook_allowed_networks);
  free(cfg->docs_assets_dir);
  free(cfg->time_zone);
  free(cfg->docs_assets_url);
  *cfg = (struct config){0};
}

int
config_parse_duration(const char *s, int64_t *seconds)
{
  static const struct {
    char unit;
    int64_t seconds;
  } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};

  size_t len = strlen(s);
  int64_t scale = 1;
  for (size_t i = 0; len > 0 && i < sizeof units / sizeof units[0]; i++) {
    if (s[len - 1] == units[i].unit) {
      scale = units[i].seconds;
      len--;
      break;
    }
  }
  if (len == 0 || len > 20)
    return EVENTAPI_EINVAL;
  char digits[21];
  memcpy(digits, s, len);
  digits[len] = '\0';

  unsigned long long n;
  if (parse_integer(digits, &n) != 0 || n == 0 ||
      n > (unsigned long long)(DURATION_MAX / scale))
    return EVENTAPI_EINVAL;
  *seconds = (int64_t)n * scale;
  return 0;
}

int
config_parse_millis(const char *s, int64_t *millis)
{
  size_t len = strlen(s);
  if (len > 2 && strcmp(s + len - 2, "ms") == 0) {
    char digits[21];
    unsigned long long n;
    if (len - 2 > 20)
      return EVENTAPI_EINVAL;
    memcpy(digits, s, len - 2);
    digits[len - 2] = '\0';
    if (parse_integer(digits, &n) != 0 || n == 0 || n > (unsigned long long)DURATION_MAX)
      return EVENTAPI_EINVAL;
    *millis = (int64_t)n;
    return 0;
  }
  int64_t seconds;
  if (config_parse_duration(s, &seconds) != 0 || seconds > DURATION_MAX / 1000)
    return EVENTAPI_EINVAL;
  *millis = seconds * 1000;
  return 0;
}

int
config_parse_offsets(const char *s, int64_t *seconds, size_t *count)
{
  *count = 0;
  while (*s) {
    size_t len = strcspn(s, ",");
    char item[32];
    int64_t value;
    if (len == 0 || len >= sizeof item || *count == CONFIG_REMINDERS_MAX)
      return EVENTAPI_EINVAL;
    memcpy(item, s, len);
    item[len] = '\0';
    if (config_parse_duration(item, &value) != 0)
      return EVENTAPI_EINVAL;
    size_t at = 0; /* keep them distinct, largest first */
    while (at < *count && seconds[at] > value)
      at++;
    if (at < *count && seconds[at] == value)
      return EVENTAPI_EINVAL;
    memmove(seconds + at + 1, seconds + at, (*count - at) * sizeof *seconds);
    seconds[at] = value;
    (*count)++;
    s += len;
    if (*s == ',' && *++s == '\0')
      return EVENTAPI_EINVAL;
  }
  return 0;
}
