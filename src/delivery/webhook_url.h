/*
 * webhook_url.h - where a webhook may go: the URL's form, and the network
 * rule for the addresses it is sent to (see webhook.h for both).
 *
 * The rule refuses an address that is loopback (127.0.0.0/8, ::1),
 * private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
 * (169.254/16, cloud metadata services included; fe80::/10), site-local
 * (fec0::/10), shared (CGNAT, 100.64/10), unspecified (0.0.0.0/8, ::),
 * multicast (224/4, ff00::/8), broadcast (255.255.255.255) or reserved
 * (240/4), and an IPv6 address that embeds an IPv4 address (IPv4-mapped
 * ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, IPv4-compatible ::/96,
 * NAT64 64:ff9b::/96) that it refuses, unless the address (or the IPv4
 * address it embeds) lies in WEBHOOK_ALLOWED_NETWORKS.
 *
 * Internal to src/delivery/: the channel checks each URL when it sends,
 * and each address when libcurl opens a socket to it; apps call
 * delivery_webhook_url_check() (webhook.h).
 */
#ifndef EVENTAPI_DELIVERY_WEBHOOK_URL_H
#define EVENTAPI_DELIVERY_WEBHOOK_URL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "http/address.h"

/* Room for the reason an address is refused, NUL included. */
#define DELIVERY_WEBHOOK_REFUSAL_MAX 160

/*
 * Reads cfg's WEBHOOK_ALLOWED_NETWORKS into *out (freed with
 * http_networks_free). 0; EVENTAPI_EINVAL with a reason naming the setting
 * and the bad item in err; EVENTAPI_ENOMEM.
 */
int delivery_webhook_networks_parse(const struct config *cfg, struct http_networks *out,
                                    char *err, size_t errlen);

/*
 * Whether a webhook may be sent to addr, allowed being
 * WEBHOOK_ALLOWED_NETWORKS: 0, or EVENTAPI_EINVAL with what addr is in why
 * ("127.0.0.1 is a loopback address"; DELIVERY_WEBHOOK_REFUSAL_MAX bytes).
 * Thread-safe.
 */
int delivery_webhook_address_check(const struct http_networks *allowed,
                                   const struct http_address *addr,
                                   char why[DELIVERY_WEBHOOK_REFUSAL_MAX]);

/*
 * As delivery_webhook_url_check(), with WEBHOOK_ALLOW_HTTP as allow_http
 * and WEBHOOK_ALLOWED_NETWORKS read already; when out is not NULL and the
 * URL is allowed, *out is libcurl's parse of it, for CURLOPT_CURLU, which
 * the caller frees with curl_url_cleanup() (NULL otherwise).
 */
int delivery_webhook_url_parse(const char *url, bool allow_http,
                               const struct http_networks *allowed, CURLU **out, char *err,
                               size_t errlen);

#endif
