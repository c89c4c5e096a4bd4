/*
 * webhook_url.c - a webhook's URL (delivery_webhook_url_check, and
 * delivery_webhook_url_parse as the channel calls it when it sends), read
 * by libcurl's URL API and held to the scheme, host and credentials rules
 * and, for a literal host in any form libcurl reads, to the network rule
 * (delivery_webhook_address_check) under WEBHOOK_ALLOWED_NETWORKS
 * (http_networks_parse); each URL is checked with WEBHOOK_ALLOW_HTTP off
 * and on.
 *
 * Input: two lines: WEBHOOK_ALLOWED_NETWORKS, then the URL (which keeps
 * any further newline).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/error.h"
#include "core/text.h"
#include "delivery/webhook.h"
#include "delivery/webhook_url.h"
#include "http/address.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup_delivery();
  return 0;
}

/* A reason is one line of text, and never the whole URL. */
static void
check_reason(const char *err, const char *url)
{
  FUZZ_CHECK(err[0] != '\0');
  FUZZ_CHECK(text_valid_utf8(err, strlen(err)));
  fuzz_check_printable(err);
  if (strlen(url) >= 16)
    FUZZ_CHECK(strstr(err, url) == NULL);
}

/* What an allowed URL is, as libcurl will read it when it sends. */
static void
check_allowed(CURLU *h, bool allow_http, const struct http_networks *allowed)
{
  char *scheme = NULL, *host = NULL, *user = NULL;
  FUZZ_CHECK(curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK);
  FUZZ_CHECK(strcasecmp(scheme, "https") == 0 || (allow_http && strcasecmp(scheme, "http") == 0));
  FUZZ_CHECK(curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0');
  for (const char *c = host; *c; c++)
    FUZZ_CHECK((unsigned char)*c > 0x20 && *c != 0x7f);
  FUZZ_CHECK(curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_NO_USER);
  struct http_address addr;
  char why[DELIVERY_WEBHOOK_REFUSAL_MAX];
  if (http_address_parse(host, strlen(host), &addr))
    FUZZ_CHECK(delivery_webhook_address_check(allowed, &addr, why) == 0);
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  char *fields[2];
  fuzz_fields(text, fields, 2);
  const char *url = fields[1];

  struct config cfg = {.webhook_allowed_networks = fields[0]};
  struct http_networks allowed, none = {0};
  char err[256] = "";
  int parsed = http_networks_parse(fields[0], "WEBHOOK_ALLOWED_NETWORKS", &allowed, err,
                                   sizeof err);
  FUZZ_CHECK(parsed == 0 || parsed == EVENTAPI_EINVAL);

  int checked[2];
  for (int allow_http = 0; allow_http <= 1; allow_http++) {
    cfg.webhook_allow_http = allow_http;
    err[0] = '\0';
    int rc = checked[allow_http] = delivery_webhook_url_check(&cfg, url, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
    if (parsed < 0) {
      FUZZ_CHECK(rc == EVENTAPI_EINVAL);
      FUZZ_CHECK(strncmp(err, "WEBHOOK_ALLOWED_NETWORKS: ", 26) == 0);
      continue;
    }
    if (rc < 0)
      check_reason(err, url);

    /* As the channel reads it: the same answer, and libcurl's parse. */
    CURLU *h = NULL;
    int sent = delivery_webhook_url_parse(url, allow_http, &allowed, &h, err, sizeof err);
    FUZZ_CHECK(sent == rc);
    FUZZ_CHECK((sent == 0) == (h != NULL));
    if (h != NULL) {
      check_allowed(h, allow_http, &allowed);
      curl_url_cleanup(h);
    }
    /* More allowed networks never refuse what none allowed. */
    if (delivery_webhook_url_parse(url, allow_http, &none, NULL, err, sizeof err) == 0)
      FUZZ_CHECK(rc == 0);
  }
  /* Allowing http:// never refuses what https:// alone allowed. */
  if (checked[0] == 0)
    FUZZ_CHECK(checked[1] == 0);

  if (parsed == 0)
    http_networks_free(&allowed);
  free(text);
  return 0;
}
