/*
 * address.c - client addresses behind trusted proxies, and the lists of
 * address ranges they are read with (see address.h).
 */
#include "http/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"

static struct http_networks proxies;

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void
from_v6(const unsigned char bytes[16], struct http_address *out)
{
  if (memcmp(bytes, v4_mapped, sizeof v4_mapped) == 0) {
    out->family = AF_INET;
    memset(out->bytes, 0, sizeof out->bytes);
    memcpy(out->bytes, bytes + 12, 4);
  } else {
    out->family = AF_INET6;
    memcpy(out->bytes, bytes, 16);
  }
}

bool
http_address_from_sockaddr(const struct sockaddr *sa, struct http_address *out)
{
  memset(out, 0, sizeof *out);
  if (sa == NULL)
    return false;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
    out->family = AF_INET;
    memcpy(out->bytes, &v4->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
    from_v6(v6->sin6_addr.s6_addr, out);
    return true;
  }
  return false;
}

/* Parses exactly text[0..len) as a bare IPv4 or IPv6 address. */
static bool
parse_bare(const char *text, size_t len, struct http_address *out)
{
  char buf[HTTP_ADDRESS_MAX];
  if (len == 0 || len >= sizeof buf)
    return false;
  memcpy(buf, text, len);
  buf[len] = '\0';
  memset(out, 0, sizeof *out);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, buf, bytes) == 1) {
    out->family = AF_INET;
    memcpy(out->bytes, bytes, 4);
    return true;
  }
  if (inet_pton(AF_INET6, buf, bytes) == 1) {
    from_v6(bytes, out);
    return true;
  }
  return false;
}

static bool
all_digits(const char *s, size_t len)
{
  if (len == 0 || len > 5)
    return false;
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

bool
http_address_parse(const char *text, size_t len, struct http_address *out)
{
  while (len > 0 && (*text == ' ' || *text == '\t'))
    text++, len--;
  while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
    len--;
  if (len > 0 && text[0] == '[') {
    const char *close = memchr(text, ']', len);
    if (close == NULL)
      return false;
    size_t rest = len - (size_t)(close + 1 - text);
    if (rest != 0 && !(close[1] == ':' && all_digits(close + 2, rest - 1)))
      return false;
    return parse_bare(text + 1, (size_t)(close - text - 1), out);
  }
  if (parse_bare(text, len, out))
    return true;
  /* "1.2.3.4:5678": one colon only, so never a bare IPv6 address. */
  const char *colon = memchr(text, ':', len);
  if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - text)) == NULL &&
      all_digits(colon + 1, len - (size_t)(colon + 1 - text))) {
    return parse_bare(text, (size_t)(colon - text), out) && out->family == AF_INET;
  }
  return false;
}

void
http_address_format(const struct http_address *addr, char *out)
{
  if (inet_ntop(addr->family == AF_INET6 ? AF_INET6 : AF_INET, addr->bytes, out,
                HTTP_ADDRESS_MAX) == NULL)
    strcpy(out, "unknown");
}

bool
http_network_contains(const struct http_network *network, const struct http_address *addr)
{
  if (network->base.family != addr->family)
    return false;
  unsigned full = network->prefix / 8, bits = network->prefix % 8;
  if (memcmp(network->base.bytes, addr->bytes, full) != 0)
    return false;
  if (bits == 0)
    return true;
  unsigned char mask = (unsigned char)(0xff << (8 - bits));
  return (network->base.bytes[full] & mask) == (addr->bytes[full] & mask);
}

bool
http_networks_contain(const struct http_networks *networks, const struct http_address *addr)
{
  for (size_t i = 0; i < networks->count; i++)
    if (http_network_contains(&networks->items[i], addr))
      return true;
  return false;
}

void
http_networks_free(struct http_networks *networks)
{
  free(networks->items);
  networks->items = NULL;
  networks->count = 0;
}

bool
http_network_parse(const char *item, size_t len, struct http_network *out)
{
  const char *slash = memchr(item, '/', len);
  size_t addr_len = slash ? (size_t)(slash - item) : len;
  if (!parse_bare(item, addr_len, &out->base))
    return false;
  unsigned max = out->base.family == AF_INET ? 32 : 128;
  /* An IPv4-mapped IPv6 range is kept as the IPv4 range it names. */
  bool mapped = out->base.family == AF_INET && memchr(item, ':', addr_len) != NULL;
  out->prefix = max;
  if (slash == NULL)
    return true;
  const char *bits = slash + 1;
  size_t bits_len = len - addr_len - 1;
  if (!all_digits(bits, bits_len) || bits_len > 3)
    return false;
  unsigned prefix = (unsigned)atoi(bits);
  if (mapped) {
    if (prefix < 96 || prefix > 128)
      return false;
    prefix -= 96;
  }
  if (prefix > max)
    return false;
  out->prefix = prefix;
  /* Host bits must be zero, as Python's ip_network insists. */
  for (unsigned bit = prefix; bit < max; bit++)
    if (out->base.bytes[bit / 8] & (0x80 >> (bit % 8)))
      return false;
  return true;
}

int
http_networks_parse(const char *list, const char *setting, struct http_networks *out,
                    char *err, size_t errlen)
{
  *out = (struct http_networks){0};
  if (list == NULL)
    return 0;
  struct http_network *items = calloc(text_list_capacity(list), sizeof *items);
  if (items == NULL)
    return EVENTAPI_ENOMEM;
  size_t count = 0;
  const char *item;
  size_t item_len;
  for (const char *p = list; text_list_next(&p, &item, &item_len);) {
    if (item_len > 0 && !http_network_parse(item, item_len, &items[count++])) {
      snprintf(err, errlen, "%s: \"%.*s\" is not an address or a CIDR such as 10.0.0.0/8",
               setting, (int)(item_len > 64 ? 64 : item_len), item);
      free(items);
      return EVENTAPI_EINVAL;
    }
  }
  out->items = items;
  out->count = count;
  return 0;
}

bool
http_proxies_trust(const struct http_address *addr)
{
  return http_networks_contain(&proxies, addr);
}

void
http_proxies_free(void)
{
  http_networks_free(&proxies);
}

int
http_proxies_configure(const char *list, char *err, size_t errlen)
{
  http_proxies_free();
  return http_networks_parse(list, "TRUSTED_PROXIES", &proxies, err, errlen);
}

void
http_address_client(const struct http_address *peer, const char *forwarded,
                    struct http_address *client)
{
  *client = *peer;
  if (forwarded == NULL || !http_proxies_trust(peer))
    return;
  /* From the right: each hop a trusted proxy appended. */
  size_t end = strlen(forwarded);
  while (end > 0) {
    size_t start = end;
    while (start > 0 && forwarded[start - 1] != ',')
      start--;
    struct http_address hop;
    if (!http_address_parse(forwarded + start, end - start, &hop))
      return; /* unreadable: believe no further */
    *client = hop;
    if (!http_proxies_trust(&hop))
      return;
    end = start > 0 ? start - 1 : 0;
  }
}
