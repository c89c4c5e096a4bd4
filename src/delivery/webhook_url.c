/*
 * webhook_url.c - a webhook's URL, read by libcurl's URL API, and the
 * network rule for the addresses webhooks are sent to (see webhook_url.h).
 *
 * The ranges of the rule are read once, with the parser of
 * TRUSTED_PROXIES (http/address.h), from the table below.
 */
#include "delivery/webhook_url.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "delivery/webhook.h"

/* What the rule refuses, by range; the first that holds an address names it. */
static const struct {
  const char *cidr;
  const char *what;
} refused_text[] = {
  {"0.0.0.0/8", "an unspecified address"},
  {"10.0.0.0/8", "a private address"},
  {"100.64.0.0/10", "a shared (CGNAT) address"},
  {"127.0.0.0/8", "a loopback address"},
  {"169.254.0.0/16", "a link-local address"},
  {"172.16.0.0/12", "a private address"},
  {"192.168.0.0/16", "a private address"},
  {"224.0.0.0/4", "a multicast address"},
  {"255.255.255.255/32", "the broadcast address"},
  {"240.0.0.0/4", "a reserved address"},
  {"::/128", "an unspecified address"},
  {"::1/128", "a loopback address"},
  {"fc00::/7", "a private (unique local) address"},
  {"fe80::/10", "a link-local address"},
  {"fec0::/10", "a site-local address"},
  {"ff00::/8", "a multicast address"},
};
#define NREFUSED (sizeof refused_text / sizeof refused_text[0])

/* IPv6 ranges whose last 32 bits are an IPv4 address. (IPv4-mapped
 * addresses are read as IPv4 by http/address.c already.) */
static const char *const embedding_text[] = {
  "::/96",             /* IPv4-compatible (deprecated) */
  "::ffff:0:0:0/96",   /* IPv4-translated */
  "64:ff9b::/96",      /* NAT64, well-known prefix */
};
#define NEMBEDDING (sizeof embedding_text / sizeof embedding_text[0])

static struct http_network refused[NREFUSED];
static struct http_network embedding[NEMBEDDING];
static pthread_once_t ranges_once = PTHREAD_ONCE_INIT;

static void
ranges_read(void)
{
  for (size_t i = 0; i < NREFUSED; i++) {
    bool ok = http_network_parse(refused_text[i].cidr, strlen(refused_text[i].cidr),
                                 &refused[i]);
    assert(ok);
    (void)ok;
  }
  for (size_t i = 0; i < NEMBEDDING; i++) {
    bool ok = http_network_parse(embedding_text[i], strlen(embedding_text[i]), &embedding[i]);
    assert(ok);
    (void)ok;
  }
}

/* What the rule refuses addr as, or NULL. */
static const char *
refused_as(const struct http_address *addr)
{
  for (size_t i = 0; i < NREFUSED; i++)
    if (http_network_contains(&refused[i], addr))
      return refused_text[i].what;
  return NULL;
}

int
delivery_webhook_address_check(const struct http_networks *allowed,
                               const struct http_address *addr,
                               char why[DELIVERY_WEBHOOK_REFUSAL_MAX])
{
  pthread_once(&ranges_once, ranges_read);
  why[0] = '\0';
  if (allowed != NULL && http_networks_contain(allowed, addr))
    return 0;
  char text[HTTP_ADDRESS_MAX];
  http_address_format(addr, text);
  const char *what = refused_as(addr);
  if (what != NULL) {
    snprintf(why, DELIVERY_WEBHOOK_REFUSAL_MAX, "%s is %s", text, what);
    return EVENTAPI_EINVAL;
  }
  if (addr->family != AF_INET6)
    return 0;
  for (size_t i = 0; i < NEMBEDDING; i++) {
    if (!http_network_contains(&embedding[i], addr))
      continue;
    struct http_address v4 = {.family = AF_INET};
    memcpy(v4.bytes, addr->bytes + 12, 4);
    if (allowed != NULL && http_networks_contain(allowed, &v4))
      return 0;
    if ((what = refused_as(&v4)) == NULL)
      return 0;
    char inner[HTTP_ADDRESS_MAX];
    http_address_format(&v4, inner);
    snprintf(why, DELIVERY_WEBHOOK_REFUSAL_MAX, "%s embeds %s, %s", text, inner, what);
    return EVENTAPI_EINVAL;
  }
  return 0;
}

int
delivery_webhook_networks_parse(const struct config *cfg, struct http_networks *out,
                                char *err, size_t errlen)
{
  return http_networks_parse(cfg->webhook_allowed_networks, "WEBHOOK_ALLOWED_NETWORKS", out,
                             err, errlen);
}

/* ---- the URL --------------------------------------------------------------- */

static const char *
scheme_rule(bool allow_http)
{
  return allow_http ? "the URL must begin with https:// or http://"
                    : "the URL must begin with https:// (WEBHOOK_ALLOW_HTTP allows http://)";
}

/* Whether the URL has the part which (libcurl answers "no such part" otherwise). */
static CURLUcode
has_part(CURLU *h, CURLUPart which, bool *present)
{
  char *value = NULL;
  CURLUcode rc = curl_url_get(h, which, &value, 0);
  *present = rc == CURLUE_OK;
  if (value != NULL) {
    explicit_bzero(value, strlen(value)); /* it may be a password */
    curl_free(value);
  }
  switch (rc) {
  case CURLUE_OK:
  case CURLUE_NO_USER:
  case CURLUE_NO_PASSWORD:
  case CURLUE_NO_OPTIONS:
  case CURLUE_NO_ZONEID:
    return CURLUE_OK;
  default:
    return rc;
  }
}

/* Checks the parts of the parsed URL h against what a webhook may use. */
static int
check_parts(CURLU *h, bool allow_http, const struct http_networks *allowed, char *err,
            size_t errlen)
{
  char *scheme = NULL, *host = NULL;
  bool user = false, password = false, options = false, zone = false;
  CURLUcode cu = curl_url_get(h, CURLUPART_SCHEME, &scheme, 0);
  if (cu == CURLUE_OK)
    cu = has_part(h, CURLUPART_USER, &user);
  if (cu == CURLUE_OK)
    cu = has_part(h, CURLUPART_PASSWORD, &password);
  if (cu == CURLUE_OK)
    cu = has_part(h, CURLUPART_OPTIONS, &options);
  if (cu == CURLUE_OK)
    cu = has_part(h, CURLUPART_ZONEID, &zone);
  if (cu == CURLUE_OK) {
    cu = curl_url_get(h, CURLUPART_HOST, &host, 0);
    if (cu == CURLUE_NO_HOST)
      cu = CURLUE_OK;
  }
  int rc = 0;
  if (cu == CURLUE_OUT_OF_MEMORY)
    rc = eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  else if (cu != CURLUE_OK)
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL, "not a URL: %s", curl_url_strerror(cu));
  else if (strcasecmp(scheme, "https") != 0 && !(allow_http && strcasecmp(scheme, "http") == 0))
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL, "%s", scheme_rule(allow_http));
  else if (user || password || options)
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                       "the URL must not hold a user name or password");
  else if (host == NULL || host[0] == '\0')
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL, "the URL has no host");
  else if (zone)
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL, "the URL's host must not name an IPv6 zone");
  if (rc == 0) {
    /* libcurl decodes %-escapes in a host: "%7F" is a control character. */
    for (const unsigned char *c = (const unsigned char *)host; *c && rc == 0; c++)
      if (*c <= 0x20 || *c == 0x7f)
        rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                           "the URL's host holds a control character or a blank");
  }
  struct http_address literal;
  char why[DELIVERY_WEBHOOK_REFUSAL_MAX];
  /* libcurl writes an IPv4 address in any form it reads ("2130706433",
   * "0x7f.1") as a dotted quad, and an IPv6 one in brackets. */
  if (rc == 0 && http_address_parse(host, strlen(host), &literal) &&
      delivery_webhook_address_check(allowed, &literal, why) < 0)
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                       "the URL's host %s; WEBHOOK_ALLOWED_NETWORKS can allow it", why);
  curl_free(scheme);
  curl_free(host);
  return rc;
}

int
delivery_webhook_url_parse(const char *url, bool allow_http,
                           const struct http_networks *allowed, CURLU **out, char *err,
                           size_t errlen)
{
  if (out != NULL)
    *out = NULL;
  if (url == NULL || url[0] == '\0')
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "the URL is missing");
  size_t len = strlen(url);
  if (len > DELIVERY_WEBHOOK_URL_MAX)
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "the URL is longer than %d bytes",
                         DELIVERY_WEBHOOK_URL_MAX);
  for (const unsigned char *c = (const unsigned char *)url; *c; c++)
    if (*c <= 0x20 || *c == 0x7f)
      return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                           "the URL holds a control character or a blank");
  /* libcurl reads "https:/host" and "https:///host" as "https://host": the
   * host comes right after "://", or there is none. */
  const char *colon = strchr(url, ':');
  if (colon == NULL || strncmp(colon, "://", 3) != 0)
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "%s", scheme_rule(allow_http));
  if (colon[3] == '/')
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "the URL has no host");
  CURLU *h = curl_url();
  if (h == NULL)
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  /* Any scheme is read, so that a wrong one is named as such below. */
  CURLUcode cu = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
  int rc;
  if (cu == CURLUE_OUT_OF_MEMORY)
    rc = eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  else if (cu != CURLUE_OK)
    /* libcurl's messages name what is wrong, never the URL itself. */
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL, "not a URL: %s", curl_url_strerror(cu));
  else
    rc = check_parts(h, allow_http, allowed, err, errlen);
  if (rc == 0 && out != NULL)
    *out = h;
  else
    curl_url_cleanup(h);
  return rc;
}

int
delivery_webhook_url_check(const struct config *cfg, const char *url, char *err,
                           size_t errlen)
{
  struct http_networks allowed;
  int rc = delivery_webhook_networks_parse(cfg, &allowed, err, errlen);
  if (rc < 0)
    return rc;
  rc = delivery_webhook_url_parse(url, cfg->webhook_allow_http, &allowed, NULL, err, errlen);
  http_networks_free(&allowed);
  return rc;
}
