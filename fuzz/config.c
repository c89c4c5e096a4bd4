/*
 * config.c - the settings (config_load) from a .env file with nothing in
 * the environment, then what start-up parses from them: TRUSTED_PROXIES,
 * WEBHOOK_ALLOWED_NETWORKS, ALLOWED_HOSTS and CORS_ALLOWED_ORIGINS; and the durations and offsets
 * of settings on their own (config_parse_duration, config_parse_millis,
 * config_parse_offsets).
 *
 * Input: the .env file; its first line is also read as a duration, a
 * duration in milliseconds and a list of offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "http/address.h"
#include "http/hosts.h"
#include "http/middleware.h"
#include "support.h"

/* DURATION_MAX of config.c: 100 years. */
#define DURATION_MAX ((int64_t)100 * 365 * 86400)

static int env_fd = -1;
static char env_path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  clearenv(); /* every setting comes from the file */
  env_fd = memfd_create("fuzz.env", 0);
  if (env_fd < 0)
    abort();
  snprintf(env_path, sizeof env_path, "/proc/self/fd/%d", env_fd);
  return 0;
}

static void
check_durations(const char *line)
{
  int64_t seconds = 0, millis = 0;
  if (config_parse_duration(line, &seconds) == 0)
    FUZZ_CHECK(seconds > 0 && seconds <= DURATION_MAX);
  if (config_parse_millis(line, &millis) == 0)
    FUZZ_CHECK(millis > 0 && millis <= DURATION_MAX * 1000);
  int64_t offsets[CONFIG_REMINDERS_MAX];
  size_t count = 0;
  if (config_parse_offsets(line, offsets, &count) == 0) {
    FUZZ_CHECK(count <= CONFIG_REMINDERS_MAX);
    for (size_t i = 0; i < count; i++) {
      FUZZ_CHECK(offsets[i] > 0 && offsets[i] <= DURATION_MAX);
      FUZZ_CHECK(i == 0 || offsets[i - 1] > offsets[i]); /* distinct, largest first */
    }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  char *newline = strchr(text, '\n');
  if (newline)
    *newline = '\0';
  check_durations(text);
  free(text);

  if (ftruncate(env_fd, 0) < 0 || (size > 0 && pwrite(env_fd, data, size, 0) != (ssize_t)size))
    abort();
  struct config cfg;
  char err[512] = "";
  int rc = config_load(&cfg, env_path, err, sizeof err);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  if (rc == 0) {
    FUZZ_CHECK(cfg.database_url && cfg.bind && cfg.allowed_hosts && cfg.email_url);
    FUZZ_CHECK(cfg.threads >= 1 && cfg.access_lifetime > 0 && cfg.refresh_lifetime > 0);
    FUZZ_CHECK(cfg.nreminder_offsets <= CONFIG_REMINDERS_MAX);
    rc = http_proxies_configure(cfg.trusted_proxies, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
    struct http_networks webhook_networks;
    rc = http_networks_parse(cfg.webhook_allowed_networks, "WEBHOOK_ALLOWED_NETWORKS",
                             &webhook_networks, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
    http_networks_free(&webhook_networks);
    FUZZ_CHECK(http_hosts_configure(cfg.allowed_hosts) == 0);
    FUZZ_CHECK(middleware_cors_configure(cfg.cors_allowed_origins) == 0);
    http_proxies_free();
    http_hosts_free();
    middleware_cors_free();
    config_free(&cfg);
  } else {
    FUZZ_CHECK(err[0] != '\0');
  }
  return 0;
}
