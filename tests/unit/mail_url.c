/*
 * mail_url.c - EMAIL_URL read by libcurl's URL parser (delivery/mail_url):
 * every accepted form and what it becomes (folder, server, credentials,
 * STARTTLS, the URL libcurl connects to and the description logs show),
 * and the refusals: malformed and hostile URLs are refused with one line
 * that never holds the password.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "delivery/mail_url.h"

#define PASSWORD "hunter2"

static char err[512];

static struct delivery_mail_url
parse_ok(const char *url)
{
  struct delivery_mail_url u;
  err[0] = '\0';
  int rc = delivery_mail_url_parse(url, &u, err, sizeof err);
  cr_assert_eq(rc, 0, "%s: %d %s", url ? url : "NULL", rc, err);
  return u;
}

Test(mail_url, console_is_the_default)
{
  const char *urls[] = {NULL, "", "console://", "CONSOLE://", "Console://"};
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
    struct delivery_mail_url u = parse_ok(urls[i]);
    cr_assert_eq(u.scheme, DELIVERY_MAIL_CONSOLE);
    cr_assert_str_eq(u.description, "console://");
    delivery_mail_url_free(&u);
  }
  delivery_mail_url_free(NULL);
}

Test(mail_url, file_folders)
{
  static const struct {
    const char *url, *dir, *description;
  } cases[] = {
    {"file:///var/spool/eventapi/", "/var/spool/eventapi", "file:///var/spool/eventapi/"},
    {"file:///var/spool//", "/var/spool", "file:///var/spool//"},
    {"file:///", "/", "file:///"},
    {"FILE:///tmp/x", "/tmp/x", "file:///tmp/x"},
    {"file://relative/path", "relative/path", "file://relative/path"},
    {"file://out%20dir/", "out dir", "file://out%20dir/"},
    {"file:///a/../b/./c", "/a/../b/./c", "file:///a/../b/./c"}, /* as written */
    {"file:///q%3Fx%23y", "/q?x#y", "file:///q%3Fx%23y"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct delivery_mail_url u = parse_ok(cases[i].url);
    cr_assert_eq(u.scheme, DELIVERY_MAIL_FILE, "%s", cases[i].url);
    cr_assert_str_eq(u.dir, cases[i].dir, "%s", cases[i].url);
    cr_assert_str_eq(u.description, cases[i].description, "%s", cases[i].url);
    delivery_mail_url_free(&u);
  }
}

Test(mail_url, smtp_forms_and_their_descriptions)
{
  static const struct {
    const char *url, *description, *curl_url, *server, *user, *password;
    unsigned port;
    enum delivery_mail_starttls starttls;
  } cases[] = {
    {"smtp://mail.example.com", "smtp://mail.example.com:25", "smtp://mail.example.com:25/",
     "mail.example.com:25", NULL, NULL, 25, DELIVERY_STARTTLS_TRY},
    {"smtp://mail.example.com/", "smtp://mail.example.com:25", "smtp://mail.example.com:25/",
     "mail.example.com:25", NULL, NULL, 25, DELIVERY_STARTTLS_TRY},
    {"smtp://mail.example.com:587", "smtp://mail.example.com:587",
     "smtp://mail.example.com:587/", "mail.example.com:587", NULL, NULL, 587,
     DELIVERY_STARTTLS_TRY},
    {"SMTP://127.0.0.1", "smtp://127.0.0.1:25", "smtp://127.0.0.1:25/", "127.0.0.1:25", NULL,
     NULL, 25, DELIVERY_STARTTLS_TRY},
    {"smtp://[::1]:2525", "smtp://[::1]:2525", "smtp://[::1]:2525/", "[::1]:2525", NULL, NULL,
     2525, DELIVERY_STARTTLS_TRY},
    {"smtp://@mail.example.com", "smtp://mail.example.com:25", "smtp://mail.example.com:25/",
     "mail.example.com:25", NULL, NULL, 25, DELIVERY_STARTTLS_TRY},
    {"smtp://user@mail.example.com", "smtp://user@mail.example.com:25",
     "smtp://mail.example.com:25/", "mail.example.com:25", "user", NULL, 25,
     DELIVERY_STARTTLS_TRY},
    {"smtp://user:" PASSWORD "@mail.example.com:587?starttls=required",
     "smtp://user:***@mail.example.com:587?starttls=required", "smtp://mail.example.com:587/",
     "mail.example.com:587", "user", PASSWORD, 587, DELIVERY_STARTTLS_REQUIRED},
    {"smtp://user%40example.com:p%40ss%3A" PASSWORD "@mx-1.example.com/?starttls=never",
     "smtp://user%40example.com:***@mx-1.example.com:25?starttls=never",
     "smtp://mx-1.example.com:25/", "mx-1.example.com:25", "user@example.com",
     "p@ss:" PASSWORD, 25, DELIVERY_STARTTLS_NEVER},
    {"smtp://user:@mail.example.com", "smtp://user:***@mail.example.com:25",
     "smtp://mail.example.com:25/", "mail.example.com:25", "user", "", 25,
     DELIVERY_STARTTLS_TRY},
    {"smtps://user:" PASSWORD "@mail.example.com", "smtps://user:***@mail.example.com:465",
     "smtps://mail.example.com:465/", "mail.example.com:465", "user", PASSWORD, 465,
     DELIVERY_STARTTLS_IMPLICIT},
    {"smtps://mail.example.com:2465", "smtps://mail.example.com:2465",
     "smtps://mail.example.com:2465/", "mail.example.com:2465", NULL, NULL, 2465,
     DELIVERY_STARTTLS_IMPLICIT},
    {"smtp://mail.example.com:65535", "smtp://mail.example.com:65535",
     "smtp://mail.example.com:65535/", "mail.example.com:65535", NULL, NULL, 65535,
     DELIVERY_STARTTLS_TRY},
    /* An empty port is the default, as libcurl reads it. */
    {"smtp://mail.example.com:", "smtp://mail.example.com:25", "smtp://mail.example.com:25/",
     "mail.example.com:25", NULL, NULL, 25, DELIVERY_STARTTLS_TRY},
    {"smtp://[fe80::1%25eth0]:25", "smtp://[fe80::1%25eth0]:25",
     "smtp://[fe80::1%25eth0]:25/", "[fe80::1%25eth0]:25", NULL, NULL, 25,
     DELIVERY_STARTTLS_TRY},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct delivery_mail_url u = parse_ok(cases[i].url);
    cr_assert_eq(u.scheme, DELIVERY_MAIL_SMTP, "%s", cases[i].url);
    cr_assert_str_eq(u.description, cases[i].description, "%s", cases[i].url);
    cr_assert_null(strstr(u.description, PASSWORD), "%s", cases[i].url);
    cr_assert_str_eq(u.curl_url, cases[i].curl_url, "%s", cases[i].url);
    cr_assert_null(strstr(u.curl_url, PASSWORD), "%s", cases[i].url);
    cr_assert_str_eq(u.server, cases[i].server, "%s", cases[i].url);
    cr_assert_eq(u.port, cases[i].port, "%s", cases[i].url);
    cr_assert_eq(u.starttls, cases[i].starttls, "%s", cases[i].url);
    if (cases[i].user)
      cr_assert_str_eq(u.user, cases[i].user, "%s", cases[i].url);
    else
      cr_assert_null(u.user, "%s", cases[i].url);
    if (cases[i].password)
      cr_assert_str_eq(u.password, cases[i].password, "%s", cases[i].url);
    else
      cr_assert_null(u.password, "%s", cases[i].url);
    delivery_mail_url_free(&u);
  }
}

/* Refused, one line, without the password, and nothing left to free. */
static void
expect_refused(const char *url)
{
  struct delivery_mail_url u;
  memset(&u, 0x5a, sizeof u); /* not zero, to see it cleared */
  err[0] = '\0';
  int rc = delivery_mail_url_parse(url, &u, err, sizeof err);
  cr_assert_eq(rc, EVENTAPI_EINVAL, "%s: %d", url, rc);
  cr_assert_null(u.description, "%s", url);
  cr_assert_null(u.password, "%s", url);
  cr_assert_gt(strlen(err), 0, "%s: a reason", url);
  cr_assert_null(strchr(err, '\n'), "%s: one line", url);
  cr_assert_null(strstr(err, PASSWORD), "%s: %s", url, err);
  cr_assert_not_null(strstr(err, "EMAIL_URL"), "%s: names the setting: %s", url, err);
}

Test(mail_url, bad_urls_are_refused_without_the_password)
{
  static const char *const urls[] = {
    "http://mail.example.com",
    "https://user:" PASSWORD "@mail.example.com",
    "mailto:bob@example.com",
    "smtp:/mail.example.com",
    "smtp:mail.example.com",
    "smtp:///mail.example.com",
    "smtp://",
    "smtp://:25",
    "smtp://user:" PASSWORD "@",
    "smtp://user:" PASSWORD "@:587",
    "smtp://user:" PASSWORD "@mail.example.com:0",
    "smtp://user:" PASSWORD "@mail.example.com:65536",
    "smtp://user:" PASSWORD "@mail.example.com:25x",
    "smtp://user:" PASSWORD "@mail.example.com:-1",
    "smtp://user:" PASSWORD "@mail.example.com:100000",
    "smtp://user:pass/" PASSWORD "@mail.example.com",
    "smtp://user:" PASSWORD "@mail.example.com?starttls=maybe",
    "smtp://user:" PASSWORD "@mail.example.com?starttls=",
    "smtp://user:" PASSWORD "@mail.example.com?starttls=REQUIRED",
    "smtp://user:" PASSWORD "@mail.example.com?tls=1",
    "smtp://user:" PASSWORD "@mail.example.com?starttls=required&x=1",
    "smtps://user:" PASSWORD "@mail.example.com?starttls=required",
    "smtp://user:" PASSWORD "@mail.example.com/path",
    "smtp://user:" PASSWORD "@mail.example.com//",
    "smtp://user:" PASSWORD "@mail.example.com#frag",
    "smtp://user:" PASSWORD "%4@mail.example.com",
    "smtp://user:" PASSWORD "%zz@mail.example.com",
    "smtp://user:" PASSWORD "%00@mail.example.com",
    "smtp://us%zzer:" PASSWORD "@mail.example.com",
    "smtp://:" PASSWORD "@mail.example.com",
    "smtp://user;AUTH=PLAIN:" PASSWORD "@mail.example.com",
    "smtp://user:" PASSWORD "@mail example.com",
    "smtp://user:" PASSWORD "@mail.example.com\r\n",
    "smtp://user:" PASSWORD "@mail.example.com\r\nRCPT TO:<evil@example.com>",
    "smtp://user:" PASSWORD "@mail.example.com\x7f",
    /* Found by fuzz/email_url.c: escapes libcurl decodes into the host. */
    "smtps://%7F%ee\x90%eee%eex%ef",
    "smtp://user:" PASSWORD "@mail%0D%0A.example.com",
    "smtp://mail%01.example.com",
    "smtp://user:" PASSWORD "@[::1",
    "smtp://user:" PASSWORD "@[::1]x",
    "smtp://user:" PASSWORD "@mail\\example.com",
    "smtp://user:" PASSWORD "@mail.example.com:25:26",
    "file://",
    "file:///bad%zzescape",
    "file:///bad%00nul",
    "file:///var/mail?x=1",
    "file:///var/mail#x",
    "file:///var/\x01mail",
    "console://anything",
    "console:",
    "console",
    "://",
    "smtp",
    " smtp://mail.example.com",
  };
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
    expect_refused(urls[i]);
}

Test(mail_url, a_long_folder_is_refused)
{
  char url[5000];
  strcpy(url, "file:///");
  memset(url + 8, 'a', 4500);
  url[4508] = '\0';
  expect_refused(url);
}

Test(mail_url, a_long_password_is_kept_whole_and_never_shown)
{
  char password[2001], url[2100];
  memset(password, 'p', 2000);
  password[2000] = '\0';
  snprintf(url, sizeof url, "smtp://user:%s@mail.example.com", password);
  struct delivery_mail_url u = parse_ok(url);
  cr_assert_str_eq(u.password, password);
  cr_assert_str_eq(u.description, "smtp://user:***@mail.example.com:25");
  delivery_mail_url_free(&u);
}
