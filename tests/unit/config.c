/*
 * Unit tests for core/config: defaults, the environment over `.env`, and
 * a clear error for every bad value. Criterion runs each test in its own
 * process, so setenv() here never leaks into another test.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "delivery/worker.h"
#include "support/tmpdir.h"

static const char *const variables[] = {
  "SECRET_KEY", "DATABASE_URL", "BIND", "PORT", "THREADS",
  "ACCESS_TOKEN_LIFETIME", "REFRESH_TOKEN_LIFETIME", "LOG_LEVEL",
  "CORS_ALLOWED_ORIGINS", "MEDIA_ROOT", "PUBLIC_URL", "CONNECTION_TIMEOUT",
  "CONNECTION_LIMIT", "PER_IP_CONNECTION_LIMIT", "ARGON2_OPSLIMIT",
  "ARGON2_MEMLIMIT_KIB", "LOGIN_MAX_FAILURES", "LOGIN_WINDOW",
  "COMMON_PASSWORDS_FILE", "SQLITE_SYNCHRONOUS", "SQLITE_CHECKPOINT_PAGES",
  "LOGIN_MAX_CLIENT_FAILURES",
  "HEADER_TIMEOUT", "BODY_TIMEOUT", "TRUSTED_PROXIES", "ALLOWED_HOSTS", "LOG_FORMAT",
  "IMAGE_MAX_PIXELS", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_ALLOW_HTTP",
  "WEBHOOK_ALLOWED_NETWORKS",
};

static char dotenv_path[128];    /* .env in the test's folder */
static struct config cfg;
static char err[256];

static void
setup(void)
{
  for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++)
    unsetenv(variables[i]);
  tmpdir_create();
  snprintf(dotenv_path, sizeof dotenv_path, "%s/.env", tmpdir_path());
}

static void
teardown(void)
{
  config_free(&cfg);
  tmpdir_remove();
}

TestSuite(config, .init = setup, .fini = teardown);

static void
write_dotenv(const char *text)
{
  tmpdir_write(".env", text);
}

static void
load_ok(void)
{
  int rc = config_load(&cfg, dotenv_path, err, sizeof err);
  cr_assert_eq(rc, 0, "config_load: %d %s", rc, err);
}

/* Sets name=value in the environment and expects an error naming name. */
static void
expect_bad(const char *name, const char *value)
{
  setenv(name, value, 1);
  int rc = config_load(&cfg, dotenv_path, err, sizeof err);
  cr_assert_eq(rc, EVENTAPI_EINVAL, "%s=\"%s\" accepted", name, value);
  char prefix[64];
  snprintf(prefix, sizeof prefix, "%s: ", name);
  cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0,
               "error does not name %s: %s", name, err);
  cr_assert_not_null(strstr(err, value), "error does not quote the value: %s",
                     err);
  cr_assert_null(cfg.database_url, "a failed load leaves cfg empty");
  unsetenv(name);
}

Test(config, defaults)
{
  load_ok();
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  cr_assert_null(cfg.secret_key);
  cr_assert_str_eq(cfg.database_url, "sqlite:///data/eventapi.sqlite3");
  cr_assert_str_eq(cfg.bind, "127.0.0.1");
  cr_assert_eq(cfg.port, 8000);
  cr_assert_eq(cfg.threads, 2 * (unsigned)cores);
  cr_assert_eq(cfg.access_lifetime, 30 * 60);
  cr_assert_eq(cfg.refresh_lifetime, 7 * 86400);
  cr_assert_eq(cfg.log_level, LOG_INFO);
  cr_assert_str_eq(cfg.cors_allowed_origins, "");
  cr_assert_str_eq(cfg.media_root, "media");
  cr_assert_str_eq(cfg.public_url, "");
  cr_assert_eq(cfg.connection_timeout, 30);
  cr_assert_eq(cfg.connection_limit, 1024);
  cr_assert_eq(cfg.per_ip_limit, 64);
  cr_assert_eq(cfg.argon2_opslimit, 2);
  cr_assert_eq(cfg.argon2_memlimit, 64 * 1024 * 1024);
  cr_assert_eq(cfg.login_max_failures, 10);
  cr_assert_eq(cfg.login_max_client_failures, 100);
  cr_assert_eq(cfg.login_window, 300);
  cr_assert_eq(cfg.header_timeout_ms, 10000);
  cr_assert_eq(cfg.body_timeout_ms, 10000);
  cr_assert_str_eq(cfg.trusted_proxies, "");
  cr_assert_str_eq(cfg.allowed_hosts, "localhost,.localhost,127.0.0.1,[::1]");
  cr_assert_eq(cfg.log_format, LOG_FORMAT_TEXT);
  cr_assert_eq(cfg.image_max_pixels, 50000000ULL);
  cr_assert_str_eq(cfg.common_passwords_file,
                   "/usr/lib/python3/dist-packages/django/contrib/auth/"
                   "common-passwords.txt.gz");
  cr_assert_eq(cfg.sqlite_synchronous_normal, false);
  cr_assert_eq(cfg.sqlite_checkpoint_pages, 16384);
}

Test(config, everything_from_the_dotenv_file)
{
  write_dotenv("SECRET_KEY='0123456789abcdef0123456789abcdef'\n"
               "DATABASE_URL=postgres://db/eventapi\n"
               "BIND=0.0.0.0\nPORT=0\nTHREADS=3\n"
               "ACCESS_TOKEN_LIFETIME=5m\nREFRESH_TOKEN_LIFETIME=1d\n"
               "LOG_LEVEL=Warning\n"
               "CORS_ALLOWED_ORIGINS=https://a.example,https://b.example\n"
               "MEDIA_ROOT=/srv/media\nPUBLIC_URL=https://events.example\n"
               "CONNECTION_TIMEOUT=0\nCONNECTION_LIMIT=10\n"
               "PER_IP_CONNECTION_LIMIT=5\nARGON2_OPSLIMIT=3\n"
               "ARGON2_MEMLIMIT_KIB=8\nLOGIN_MAX_FAILURES=4\nLOGIN_WINDOW=60\n"
               "COMMON_PASSWORDS_FILE=\nSQLITE_SYNCHRONOUS=NORMAL\n");
  load_ok();
  cr_assert_str_eq(cfg.secret_key, "0123456789abcdef0123456789abcdef");
  cr_assert_str_eq(cfg.database_url, "postgres://db/eventapi");
  cr_assert_str_eq(cfg.bind, "0.0.0.0");
  cr_assert_eq(cfg.port, 0);
  cr_assert_eq(cfg.threads, 3);
  cr_assert_eq(cfg.access_lifetime, 300);
  cr_assert_eq(cfg.refresh_lifetime, 86400);
  cr_assert_eq(cfg.log_level, LOG_WARN);
  cr_assert_str_eq(cfg.cors_allowed_origins,
                   "https://a.example,https://b.example");
  cr_assert_str_eq(cfg.media_root, "/srv/media");
  cr_assert_str_eq(cfg.public_url, "https://events.example");
  cr_assert_eq(cfg.connection_timeout, 0);
  cr_assert_eq(cfg.connection_limit, 10);
  cr_assert_eq(cfg.per_ip_limit, 5);
  cr_assert_eq(cfg.argon2_opslimit, 3);
  cr_assert_eq(cfg.argon2_memlimit, 8 * 1024);
  cr_assert_eq(cfg.login_max_failures, 4);
  cr_assert_eq(cfg.login_window, 60);
  cr_assert_str_eq(cfg.common_passwords_file, "");
  cr_assert_eq(cfg.sqlite_synchronous_normal, true);
}

Test(config, environment_wins_over_the_file)
{
  write_dotenv("PORT=9000\nBIND=10.0.0.1\nLOG_LEVEL=debug\nMEDIA_ROOT=files\n");
  setenv("PORT", "9001", 1);
  setenv("LOG_LEVEL", "ERROR", 1);
  setenv("MEDIA_ROOT", "", 1);
  load_ok();
  cr_assert_eq(cfg.port, 9001);
  cr_assert_eq(cfg.log_level, LOG_ERROR);
  cr_assert_str_eq(cfg.media_root, "", "a set but empty variable still wins");
  cr_assert_str_eq(cfg.bind, "10.0.0.1", "the file fills what the env lacks");
}

Test(config, default_path_is_dotenv_in_the_working_directory)
{
  write_dotenv("PORT=1234\n");
  cr_assert_eq(chdir(tmpdir_path()), 0);
  int rc = config_load(&cfg, NULL, err, sizeof err);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_eq(cfg.port, 1234);
}

Test(config, bad_dotenv_line_is_reported)
{
  write_dotenv("PORT=1\nnot a setting\n");
  int rc = config_load(&cfg, dotenv_path, err, sizeof err);
  cr_assert_eq(rc, EVENTAPI_EINVAL);
  char expected[200];
  snprintf(expected, sizeof expected, "%s:2: expected KEY=VALUE", dotenv_path);
  cr_assert_str_eq(err, expected);
}

Test(config, bad_value_in_the_file_is_reported_too)
{
  write_dotenv("THREADS=many\n");
  cr_assert_eq(config_load(&cfg, dotenv_path, err, sizeof err),
               EVENTAPI_EINVAL);
  cr_assert_str_eq(err,
                   "THREADS: expected an integer from 1 to 1024, got \"many\"");
}

Test(config, error_text_format)
{
  expect_bad("PORT", "abc");
  cr_assert_str_eq(err,
                   "PORT: expected an integer from 0 to 65535, got \"abc\"");
  expect_bad("ACCESS_TOKEN_LIFETIME", "5x");
  cr_assert_str_eq(err, "ACCESS_TOKEN_LIFETIME: expected a duration such as "
                        "90, 30m, 1h or 7d, got \"5x\"");
}

Test(config, bad_integers)
{
  static const struct {
    const char *name, *value;
  } cases[] = {
    {"PORT", "65536"}, {"PORT", "-1"}, {"PORT", ""}, {"PORT", " 80"},
    {"PORT", "80 "}, {"PORT", "+80"}, {"PORT", "0x50"}, {"PORT", "8e3"},
    {"PORT", "99999999999999999999999"},
    {"THREADS", "0"}, {"THREADS", "1025"}, {"THREADS", "two"},
    {"CONNECTION_TIMEOUT", "-1"}, {"CONNECTION_TIMEOUT", "86401"},
    {"CONNECTION_TIMEOUT", "30s"},
    {"CONNECTION_LIMIT", "0"}, {"CONNECTION_LIMIT", "1048577"},
    {"PER_IP_CONNECTION_LIMIT", "0"}, {"PER_IP_CONNECTION_LIMIT", "x"},
    {"ARGON2_OPSLIMIT", "0"}, {"ARGON2_OPSLIMIT", "1.5"},
    {"ARGON2_MEMLIMIT_KIB", "7"}, {"ARGON2_MEMLIMIT_KIB", "4294967296"},
    {"LOGIN_MAX_FAILURES", "0"}, {"LOGIN_MAX_FAILURES", "-3"},
    {"LOGIN_WINDOW", "0"}, {"LOGIN_WINDOW", "5m"},
    {"SQLITE_CHECKPOINT_PAGES", "63"}, {"SQLITE_CHECKPOINT_PAGES", "1000001"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_bad(cases[i].name, cases[i].value);
}

Test(config, integer_bounds_are_inclusive)
{
  setenv("PORT", "65535", 1);
  setenv("THREADS", "1024", 1);
  setenv("CONNECTION_LIMIT", "1048576", 1);
  setenv("ARGON2_MEMLIMIT_KIB", "8", 1);
  setenv("SQLITE_CHECKPOINT_PAGES", "64", 1);
  load_ok();
  cr_assert_eq(cfg.port, 65535);
  cr_assert_eq(cfg.threads, 1024);
  cr_assert_eq(cfg.connection_limit, 1048576u);
  cr_assert_eq(cfg.argon2_memlimit, 8192);
  cr_assert_eq(cfg.sqlite_checkpoint_pages, 64);
}

Test(config, bad_durations_log_level_and_synchronous)
{
  expect_bad("ACCESS_TOKEN_LIFETIME", "0");
  expect_bad("ACCESS_TOKEN_LIFETIME", "");
  expect_bad("REFRESH_TOKEN_LIFETIME", "-5");
  expect_bad("REFRESH_TOKEN_LIFETIME", "1w");
  expect_bad("LOG_LEVEL", "verbose");
  expect_bad("LOG_LEVEL", "");
  expect_bad("SQLITE_SYNCHRONOUS", "off");
}

Test(config, durations_in_the_environment)
{
  setenv("ACCESS_TOKEN_LIFETIME", "90", 1);
  setenv("REFRESH_TOKEN_LIFETIME", "1h", 1);
  load_ok();
  cr_assert_eq(cfg.access_lifetime, 90);
  cr_assert_eq(cfg.refresh_lifetime, 3600);
}

Test(config, free_zeroes)
{
  setenv("SECRET_KEY", "k", 1);
  load_ok();
  config_free(&cfg);
  cr_assert_null(cfg.secret_key);
  cr_assert_null(cfg.database_url);
  cr_assert_eq(cfg.port, 0);
  config_free(&cfg); /* a second free is harmless */
}

Test(config, parse_duration)
{
  static const struct {
    const char *text;
    int64_t seconds;
  } good[] = {
    {"90", 90}, {"1s", 1}, {"30m", 1800}, {"1h", 3600}, {"7d", 604800},
    {"36500d", 36500 * INT64_C(86400)},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    int64_t seconds = -1;
    cr_assert_eq(config_parse_duration(good[i].text, &seconds), 0, "%s",
                 good[i].text);
    cr_assert_eq(seconds, good[i].seconds, "%s", good[i].text);
  }

  static const char *const bad[] = {
    "0", "0s", "-5", "5x", "", "m", " 5", "5 ", "5mm", "5ms", "1.5h", "+5",
    "0x10", "5M", "99999999999999999999", "999999999999d",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t seconds = 42;
    cr_assert_eq(config_parse_duration(bad[i], &seconds), EVENTAPI_EINVAL,
                 "\"%s\" accepted", bad[i]);
    cr_assert_eq(seconds, 42, "\"%s\" changed the output", bad[i]);
  }
}

Test(config, global_starts_unset)
{
  cr_assert_null(config);
}

Test(config, mail_defaults)
{
  load_ok();
  cr_assert_str_eq(cfg.email_url, "console://");
  cr_assert_str_eq(cfg.email_from, "eventapi <noreply@localhost>");
  cr_assert_eq(cfg.email_max_attempts, 8);
  cr_assert_eq(cfg.email_retry_ms, 30000);
  cr_assert_eq(cfg.email_timeout_ms, 30000);
  cr_assert_eq(cfg.nreminder_offsets, 2);
  cr_assert_eq(cfg.reminder_offsets[0], 24 * 3600);
  cr_assert_eq(cfg.reminder_offsets[1], 3 * 3600);
  cr_assert(cfg.worker);
  cr_assert_eq(cfg.worker_interval_ms, 1000);
  cr_assert_eq(cfg.outbox_retention, 7 * 86400);
  cr_assert_eq(cfg.outbox_dead_retention, 30 * 86400);
}

Test(config, outbox_retentions)
{
  setenv("OUTBOX_RETENTION", "36h", 1);
  setenv("OUTBOX_DEAD_RETENTION", "0", 1);
  load_ok();
  cr_assert_eq(cfg.outbox_retention, 36 * 3600);
  cr_assert_eq(cfg.outbox_dead_retention, 0, "0: kept for ever");
  config_free(&cfg);
  unsetenv("OUTBOX_RETENTION");
  unsetenv("OUTBOX_DEAD_RETENTION");
  expect_bad("OUTBOX_RETENTION", "a week");
  expect_bad("OUTBOX_RETENTION", "-7d");
  expect_bad("OUTBOX_DEAD_RETENTION", "0d");
}

Test(config, mail_settings)
{
  setenv("EMAIL_RETRY_DELAY", "250ms", 1);
  setenv("WORKER", "off", 1);
  setenv("REMINDER_OFFSETS", "30m,2d,1h", 1);
  load_ok();
  cr_assert_eq(cfg.email_retry_ms, 250);
  cr_assert(!cfg.worker);
  cr_assert_eq(cfg.nreminder_offsets, 3);
  cr_assert_eq(cfg.reminder_offsets[0], 2 * 86400, "largest first");
  cr_assert_eq(cfg.reminder_offsets[1], 3600);
  cr_assert_eq(cfg.reminder_offsets[2], 1800);
  config_free(&cfg);
  setenv("REMINDER_OFFSETS", "", 1);
  load_ok();
  cr_assert_eq(cfg.nreminder_offsets, 0, "empty: no reminders");
  unsetenv("EMAIL_RETRY_DELAY");
  unsetenv("WORKER");
  unsetenv("REMINDER_OFFSETS");
}

Test(config, bad_mail_settings)
{
  expect_bad("EMAIL_RETRY_DELAY", "soon");
  expect_bad("EMAIL_TIMEOUT", "0ms");
  expect_bad("EMAIL_MAX_ATTEMPTS", "0");
  expect_bad("WORKER", "maybe");
  expect_bad("REMINDER_OFFSETS", "24h,24h");
  expect_bad("REMINDER_OFFSETS", "24h,");
  expect_bad("REMINDER_OFFSETS", "1h,2h,3h,4h,5h,6h,7h,8h,9h");
  expect_bad("REMINDER_OFFSETS", "-1h");
}

Test(config, parse_millis)
{
  int64_t ms = 0;
  cr_assert_eq(config_parse_millis("250ms", &ms), 0);
  cr_assert_eq(ms, 250);
  cr_assert_eq(config_parse_millis("2s", &ms), 0);
  cr_assert_eq(ms, 2000);
  cr_assert_eq(config_parse_millis("1h", &ms), 0);
  cr_assert_eq(ms, 3600000);
  static const char *const bad[] = {"0ms", "ms", "-5ms", "1.5s", "5 ms", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(config_parse_millis(bad[i], &ms), EVENTAPI_EINVAL, "\"%s\"", bad[i]);
}

Test(config, allowed_hosts_default_adds_the_public_url_host)
{
  cr_assert_eq(setenv("PUBLIC_URL", "https://user@events.example.com:8443/base/", 1), 0);
  int rc = config_load(&cfg, dotenv_path, err, sizeof err);
  unsetenv("PUBLIC_URL");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_str_eq(cfg.allowed_hosts, "localhost,.localhost,127.0.0.1,[::1],events.example.com");
  config_free(&cfg);

  cr_assert_eq(setenv("ALLOWED_HOSTS", "api.example.com", 1), 0);
  cr_assert_eq(setenv("LOG_FORMAT", "JSON", 1), 0);
  rc = config_load(&cfg, dotenv_path, err, sizeof err);
  unsetenv("ALLOWED_HOSTS");
  unsetenv("LOG_FORMAT");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_str_eq(cfg.allowed_hosts, "api.example.com");
  cr_assert_eq(cfg.log_format, LOG_FORMAT_JSON);
  config_free(&cfg);

  cr_assert_eq(setenv("LOG_FORMAT", "yaml", 1), 0);
  rc = config_load(&cfg, dotenv_path, err, sizeof err);
  unsetenv("LOG_FORMAT");
  cr_assert_eq(rc, EVENTAPI_EINVAL);
  cr_assert_str_eq(err, "LOG_FORMAT: expected text or json, got \"yaml\"");
}

Test(config, webhook_defaults)
{
  load_ok();
  cr_assert_eq(cfg.webhook_timeout_ms, 10000);
  cr_assert_not(cfg.webhook_allow_http, "https:// only");
  cr_assert_str_eq(cfg.webhook_allowed_networks, "");
}

Test(config, webhook_settings)
{
  write_dotenv("WEBHOOK_TIMEOUT_SECONDS=300\nWEBHOOK_ALLOW_HTTP=true\n"
               "WEBHOOK_ALLOWED_NETWORKS=10.0.0.0/8, fd00::/8\n");
  load_ok();
  cr_assert_eq(cfg.webhook_timeout_ms, 300000);
  cr_assert(cfg.webhook_allow_http);
  cr_assert_str_eq(cfg.webhook_allowed_networks, "10.0.0.0/8, fd00::/8");
  config_free(&cfg);
  setenv("WEBHOOK_TIMEOUT_SECONDS", "1", 1);
  setenv("WEBHOOK_ALLOW_HTTP", "off", 1);
  load_ok();
  cr_assert_eq(cfg.webhook_timeout_ms, 1000);
  cr_assert_not(cfg.webhook_allow_http);
}

Test(config, bad_webhook_settings)
{
  static const struct {
    const char *name, *value;
  } cases[] = {
    {"WEBHOOK_TIMEOUT_SECONDS", "0"}, {"WEBHOOK_TIMEOUT_SECONDS", "301"},
    {"WEBHOOK_TIMEOUT_SECONDS", "10s"}, {"WEBHOOK_TIMEOUT_SECONDS", ""},
    {"WEBHOOK_TIMEOUT_SECONDS", "-1"}, {"WEBHOOK_TIMEOUT_SECONDS", "1.5"},
    {"WEBHOOK_ALLOW_HTTP", "yes"}, {"WEBHOOK_ALLOW_HTTP", ""}, {"WEBHOOK_ALLOW_HTTP", "TRUE "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_bad(cases[i].name, cases[i].value);
  expect_bad("WEBHOOK_TIMEOUT_SECONDS", "soon");
  cr_assert_str_eq(err, "WEBHOOK_TIMEOUT_SECONDS: expected an integer from 1 to 300, got \"soon\"");
}

/* WEBHOOK_ALLOWED_NETWORKS is read with TRUSTED_PROXIES's parser, which
 * lives above core: loaded as written, it is refused when serve or worker
 * starts (delivery_check_config), naming the setting and the bad item. */
Test(config, bad_webhook_networks_are_refused_at_start)
{
  static const char *const bad[] = {
    "10.0.0.1/8", "example.com", "10.0.0.0/33", "::1/129", "10.0.0.0/8,nope", "1.2.3.4:80",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("WEBHOOK_ALLOWED_NETWORKS", bad[i], 1);
    load_ok();
    cr_assert_str_eq(cfg.webhook_allowed_networks, bad[i]);
    char why[256] = "";
    cr_assert_eq(delivery_check_config(&cfg, why, sizeof why), EVENTAPI_EINVAL, "%s accepted",
                 bad[i]);
    cr_assert_eq(strncmp(why, "WEBHOOK_ALLOWED_NETWORKS: \"", 27), 0, "%s", why);
    config_free(&cfg);
  }
  setenv("WEBHOOK_ALLOWED_NETWORKS", " 10.0.0.0/8 , 127.0.0.1, fd00::/8 ", 1);
  load_ok();
  char why[256] = "";
  cr_assert_eq(delivery_check_config(&cfg, why, sizeof why), 0, "%s", why);
  unsetenv("WEBHOOK_ALLOWED_NETWORKS");
}
