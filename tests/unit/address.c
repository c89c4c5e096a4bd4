/*
 * address.c - TRUSTED_PROXIES and X-Forwarded-For (src/http/address.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/error.h"
#include "http/address.h"

static struct http_address
addr(const char *text)
{
  struct http_address a;
  cr_assert(http_address_parse(text, strlen(text), &a), "%s does not parse", text);
  return a;
}

static const char *
client_of(const char *peer, const char *forwarded)
{
  static char out[HTTP_ADDRESS_MAX];
  struct http_address p = addr(peer), c;
  http_address_client(&p, forwarded, &c);
  http_address_format(&c, out);
  return out;
}

static void
trust(const char *list)
{
  char err[160] = "";
  cr_assert_eq(http_proxies_configure(list, err, sizeof err), 0, "%s", err);
}

TestSuite(address, .fini = http_proxies_free);

Test(address, addresses_parse_with_or_without_a_port)
{
  const char *good[] = {"1.2.3.4", " 10.0.0.1 ", "::1", "2001:db8::7", "1.2.3.4:5678",
                        "[::1]", "[2001:db8::7]:443", "::ffff:192.0.2.1"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    struct http_address a;
    cr_expect(http_address_parse(good[i], strlen(good[i]), &a), "%s", good[i]);
  }
  const char *bad[] = {"", "999.1.1.1", "1.2.3", "<script>", "[::1", "[::1]x", "1.2.3.4:",
                       "1.2.3.4:port", "::1:80:x", "unknown"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct http_address a;
    cr_expect_not(http_address_parse(bad[i], strlen(bad[i]), &a), "%s", bad[i]);
  }
}

Test(address, mapped_ipv6_is_read_as_ipv4)
{
  struct http_address a = addr("::ffff:192.0.2.1");
  char text[HTTP_ADDRESS_MAX];
  http_address_format(&a, text);
  cr_assert_str_eq(text, "192.0.2.1");
}

Test(address, without_trusted_proxies_the_header_is_ignored)
{
  trust("");
  cr_assert_str_eq(client_of("127.0.0.1", "203.0.113.9"), "127.0.0.1");
}

Test(address, a_trusted_proxy_names_the_client)
{
  trust("127.0.0.1, 10.0.0.0/8");
  cr_assert_str_eq(client_of("127.0.0.1", "203.0.113.9"), "203.0.113.9");
  /* Hops appended by trusted proxies are skipped, from the right. */
  cr_assert_str_eq(client_of("127.0.0.1", "203.0.113.9, 10.1.2.3"), "203.0.113.9");
  /* What the client wrote itself lies left of the real hop. */
  cr_assert_str_eq(client_of("127.0.0.1", "1.1.1.1, 203.0.113.9"), "203.0.113.9");
  /* An untrusted peer's header means nothing. */
  cr_assert_str_eq(client_of("192.0.2.50", "203.0.113.9"), "192.0.2.50");
  /* All trusted: the leftmost. */
  cr_assert_str_eq(client_of("127.0.0.1", "10.0.0.7, 10.0.0.8"), "10.0.0.7");
  /* An unreadable hop stops the walk at the last trusted one. */
  cr_assert_str_eq(client_of("127.0.0.1", "203.0.113.9, <script>, 10.0.0.8"), "10.0.0.8");
  cr_assert_str_eq(client_of("127.0.0.1", ""), "127.0.0.1");
  cr_assert_str_eq(client_of("127.0.0.1", "[2001:db8::1]:1234"), "2001:db8::1");
}

Test(address, cidrs_match_by_prefix)
{
  trust("192.168.0.0/16, fd00::/8, ::ffff:172.16.0.0/108");
  cr_assert_str_eq(client_of("192.168.44.1", "203.0.113.9"), "203.0.113.9");
  cr_assert_str_eq(client_of("192.169.0.1", "203.0.113.9"), "192.169.0.1");
  cr_assert_str_eq(client_of("fd12::1", "203.0.113.9"), "203.0.113.9");
  cr_assert_str_eq(client_of("fe80::1", "203.0.113.9"), "fe80::1");
  cr_assert_str_eq(client_of("172.16.3.4", "203.0.113.9"), "203.0.113.9");
  cr_assert_str_eq(client_of("172.32.0.1", "203.0.113.9"), "172.32.0.1");
}

Test(address, bad_lists_are_refused_with_the_item)
{
  const char *bad[] = {"10.0.0.1/33", "10.0.0.1/8", "example.com", "10.0.0.0/", "::1/129",
                       "1.2.3.4:80"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char err[160] = "";
    cr_expect_eq(http_proxies_configure(bad[i], err, sizeof err), EVENTAPI_EINVAL, "%s", bad[i]);
    cr_expect(strstr(err, bad[i]) != NULL, "%s: %s", bad[i], err);
  }
}

Test(address, a_list_of_ranges_names_its_own_setting)
{
  struct http_networks networks;
  char err[160] = "";
  cr_assert_eq(http_networks_parse(" 10.0.0.0/8 ,, ::1 ", "SOME_NETWORKS", &networks, err,
                                   sizeof err), 0, "%s", err);
  cr_assert_eq(networks.count, 2, "blank items are skipped");
  struct http_address inside = addr("10.9.8.7"), loopback = addr("::1"),
                      outside = addr("11.0.0.1");
  cr_assert(http_networks_contain(&networks, &inside));
  cr_assert(http_networks_contain(&networks, &loopback));
  cr_assert_not(http_networks_contain(&networks, &outside));
  http_networks_free(&networks);
  cr_assert_eq(networks.count, 0);
  cr_assert_null(networks.items);

  cr_assert_eq(http_networks_parse("10.0.0.0/8, 10.1.2.3/8", "SOME_NETWORKS", &networks, err,
                                   sizeof err), EVENTAPI_EINVAL);
  cr_assert_str_eq(err, "SOME_NETWORKS: \"10.1.2.3/8\" is not an address or a CIDR such as "
                        "10.0.0.0/8");
  cr_assert_eq(networks.count, 0, "a refused list holds nothing");
  cr_assert_null(networks.items);
  cr_assert_eq(http_networks_parse(NULL, "SOME_NETWORKS", &networks, err, sizeof err), 0);
  cr_assert_eq(networks.count, 0);
}
