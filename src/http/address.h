/*
 * address.h - who the client is: peer addresses, TRUSTED_PROXIES and
 * X-Forwarded-For.
 *
 * Behind a reverse proxy every connection comes from the proxy. Only when
 * the peer is a trusted proxy is X-Forwarded-For believed, read from the
 * right: each hop appended by a trusted proxy is skipped, and the first
 * address that is not a trusted proxy is the client (nginx's
 * real_ip_recursive). A client cannot forge its address by sending the
 * header itself: what it writes lies left of what the proxies appended.
 *
 * The proxy list is set once before the server starts and read-only after,
 * so lookups take no lock. Lists of ranges (http_networks) are read the
 * same way for other settings too: the delivery layer's
 * WEBHOOK_ALLOWED_NETWORKS.
 */
#ifndef EVENTAPI_HTTP_ADDRESS_H
#define EVENTAPI_HTTP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Room for any address as text, NUL included. */
#define HTTP_ADDRESS_MAX 46

/* An IPv4 or IPv6 address; IPv4-mapped IPv6 addresses are stored as IPv4. */
struct http_address {
  int family;                /* AF_INET or AF_INET6 */
  unsigned char bytes[16];   /* 4 or 16 used */
};

/* A range of addresses: base with its first prefix bits fixed. */
struct http_network {
  struct http_address base;  /* its host bits are zero */
  unsigned prefix;           /* bits: 0 to 32 (IPv4) or 128 (IPv6) */
};

/* A list of ranges, as TRUSTED_PROXIES and WEBHOOK_ALLOWED_NETWORKS hold them. */
struct http_networks {
  struct http_network *items; /* malloc'd, owned by the list */
  size_t count;
};

/*
 * Parses one range of text[0..len): an address ("10.0.0.1", "::1", a
 * range of one) or a CIDR ("10.0.0.0/8", "fd00::/8"; an IPv4-mapped IPv6
 * CIDR, "::ffff:10.0.0.0/104", is the IPv4 range it names) whose host bits
 * are zero. False when it is neither.
 */
bool http_network_parse(const char *text, size_t len, struct http_network *out);

/* True when addr lies in network. */
bool http_network_contains(const struct http_network *network, const struct http_address *addr);

/*
 * Parses list, the value of the setting named setting: comma-separated
 * ranges (http_network_parse), blanks around items allowed, "" or NULL for
 * none, into *out (freed with http_networks_free). Returns 0,
 * EVENTAPI_EINVAL with a reason naming setting and quoting the bad item in
 * err ("TRUSTED_PROXIES: \"x\" is not an address or a CIDR ..."), or
 * EVENTAPI_ENOMEM; on failure *out holds nothing.
 */
int http_networks_parse(const char *list, const char *setting, struct http_networks *out,
                        char *err, size_t errlen);

/* True when addr lies in one of the ranges of networks. */
bool http_networks_contain(const struct http_networks *networks, const struct http_address *addr);

/* Frees the ranges of networks and empties it. */
void http_networks_free(struct http_networks *networks);

/*
 * Parses TRUSTED_PROXIES (http_networks_parse). Replaces any earlier list.
 * Returns 0, EVENTAPI_EINVAL (with the bad item in err) or EVENTAPI_ENOMEM.
 */
int http_proxies_configure(const char *list, char *err, size_t errlen);
void http_proxies_free(void);

/* True when addr lies in one of the trusted proxies' ranges. */
bool http_proxies_trust(const struct http_address *addr);

/* Reads a socket address; false for a family other than IPv4 or IPv6. */
bool http_address_from_sockaddr(const struct sockaddr *sa, struct http_address *out);

/*
 * Parses an address as text: IPv4, IPv6, or either with a port as proxies
 * sometimes append one ("1.2.3.4:5678", "[::1]:80"). False when it is none.
 */
bool http_address_parse(const char *text, size_t len, struct http_address *out);

/* Writes addr as text (inet_ntop's form) into out[HTTP_ADDRESS_MAX]. */
void http_address_format(const struct http_address *addr, char *out);

/*
 * The client of a connection from peer, given the request's X-Forwarded-For
 * values joined with commas (NULL when absent): peer itself unless it is a
 * trusted proxy, else the rightmost hop of forwarded that is not one (the
 * leftmost when all are; the hop right of an unreadable entry when one is
 * met).
 */
void http_address_client(const struct http_address *peer, const char *forwarded,
                         struct http_address *client);

#endif
