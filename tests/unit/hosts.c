/*
 * hosts.c - ALLOWED_HOSTS (src/http/hosts.c), as Django's validate_host.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "http/hosts.h"

static bool
allowed(const char *host)
{
  char why[512];
  return http_hosts_allow(host, why, sizeof why);
}

TestSuite(hosts, .fini = http_hosts_free);

Test(hosts, the_development_default)
{
  cr_assert_eq(http_hosts_configure("localhost,.localhost,127.0.0.1,[::1]"), 0);
  cr_expect(allowed("localhost"));
  cr_expect(allowed("LOCALHOST:8000"));
  cr_expect(allowed("app.localhost:8000"));
  cr_expect(allowed("127.0.0.1:8000"));
  cr_expect(allowed("[::1]:8000"));
  cr_expect_not(allowed("127.0.0.2"));
  cr_expect_not(allowed("evil.com"));
  cr_expect_not(allowed("localhost.evil.com"));
}

Test(hosts, patterns_as_django_reads_them)
{
  cr_assert_eq(http_hosts_configure(" .Example.com , api.test "), 0);
  cr_expect(allowed("example.com"));
  cr_expect(allowed("example.com."));
  cr_expect(allowed("www.example.com:443"));
  cr_expect(allowed("API.test"));
  cr_expect_not(allowed("badexample.com"));
  cr_expect_not(allowed("other.test"));
  cr_assert_eq(http_hosts_configure("*"), 0);
  cr_expect(allowed("anything.example"));
  cr_expect_not(allowed("bad host"), "not a valid domain, even for *");
}

Test(hosts, the_explanation_is_djangos)
{
  cr_assert_eq(http_hosts_configure("localhost"), 0);
  char why[512];
  cr_assert_not(http_hosts_allow("Evil.com:80", why, sizeof why));
  cr_assert_str_eq(why, "Invalid HTTP_HOST header: 'Evil.com:80'. You may need to add "
                        "'evil.com' to ALLOWED_HOSTS.");
  cr_assert_not(http_hosts_allow("bad host'", why, sizeof why));
  cr_assert_str_eq(why, "Invalid HTTP_HOST header: \"bad host'\". The domain name provided "
                        "is not valid according to RFC 1034/1035.");
  cr_assert_not(http_hosts_allow("", why, sizeof why));
  cr_assert_str_eq(why, "Invalid HTTP_HOST header: ''. The domain name provided "
                        "is not valid according to RFC 1034/1035.");
}

/*
 * A Host header is bytes, which Django reads as ISO-8859-1: the message
 * shows a byte above 0x7f as that character (Python's repr escapes those it
 * does not print), always as UTF-8, since it goes out in a JSON answer.
 * Found by fuzz/hosts.c: the raw byte made the answer a 500.
 */
Test(hosts, bytes_above_ascii_are_shown_as_latin1)
{
  cr_assert_eq(http_hosts_configure("localhost"), 0);
  char why[512];
  cr_assert_not(http_hosts_allow("\xe9vil.com", why, sizeof why));
  cr_assert_str_eq(why, "Invalid HTTP_HOST header: '\xc3\xa9vil.com'. The domain name provided "
                        "is not valid according to RFC 1034/1035.");
  cr_assert_not(http_hosts_allow("a\xa0\x85\xad\xff\tb", why, sizeof why));
  cr_assert_str_eq(why, "Invalid HTTP_HOST header: 'a\\xa0\\x85\\xad\xc3\xbf\\tb'. The domain "
                        "name provided is not valid according to RFC 1034/1035.");
}
