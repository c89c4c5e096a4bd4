/*
 * address.c - TRUSTED_PROXIES (http_proxies_configure) and the client
 * address read from X-Forwarded-For behind them (http_address_client),
 * with the addresses as text both ways (http_address_parse,
 * http_address_format).
 *
 * Input: three lines: TRUSTED_PROXIES, the peer's address, then the
 * X-Forwarded-For values (absent when there is no third line).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/address.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

/* Written as text, an address reads back as itself. */
static void
check_text_form(const struct http_address *addr)
{
  char text[HTTP_ADDRESS_MAX];
  http_address_format(addr, text);
  struct http_address again;
  FUZZ_CHECK(http_address_parse(text, strlen(text), &again));
  FUZZ_CHECK(again.family == addr->family &&
             memcmp(again.bytes, addr->bytes, addr->family == AF_INET ? 4 : 16) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  char *fields[3];
  size_t found = fuzz_fields(text, fields, 3);
  char err[256] = "";
  int rc = http_proxies_configure(fields[0], err, sizeof err);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  FUZZ_CHECK(rc == 0 || err[0] != '\0');

  struct http_address peer;
  if (!http_address_parse(fields[1], strlen(fields[1]), &peer))
    http_address_parse("10.0.0.1", 8, &peer);
  FUZZ_CHECK(peer.family == AF_INET || peer.family == AF_INET6);
  check_text_form(&peer);

  struct http_address client;
  http_address_client(&peer, found == 3 ? fields[2] : NULL, &client);
  FUZZ_CHECK(client.family == AF_INET || client.family == AF_INET6);
  check_text_form(&client);
  if (!http_proxies_trust(&peer))
    FUZZ_CHECK(memcmp(&client, &peer, sizeof peer) == 0);

  http_proxies_free();
  free(text);
  return 0;
}
