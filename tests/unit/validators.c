/*
 * Unit tests for users/validators: Django's username, email and password
 * validators, with Django's messages in Django's order.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "users/validators.h"

#define MSG_SIMILAR_USERNAME "The password is too similar to the username."
#define MSG_SIMILAR_FIRST "The password is too similar to the first name."
#define MSG_SIMILAR_LAST "The password is too similar to the last name."
#define MSG_SIMILAR_EMAIL "The password is too similar to the email address."
#define MSG_SHORT \
  "This password is too short. It must contain at least 8 characters."
#define MSG_COMMON "This password is too common."
#define MSG_NUMERIC "This password is entirely numeric."

/* ------------------------------------------------------------------ */
/* usernames                                                           */

Test(username, valid)
{
  const char *names[] = {
    "alice", "Alice_99", "@.+-_", "a", "j\xc3\xbcrgen" /* jürgen */,
    "\xd0\xb8\xd0\xbc\xd1\x8f" /* имя */, "\xe5\x90\x8d\xe5\x89\x8d" /* 名前 */,
    "user@example.com", "first.last+tag", "x\xc2\xb2" /* x² */,
    "\xd9\xa0\xd9\xa1" /* Arabic-Indic digits */,
  };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    cr_assert(users_username_valid(names[i]), "%s", names[i]);
}

Test(username, invalid)
{
  const char *names[] = {
    "", "a b", "x\xff", "tab\there", "new\n", "slash/", "semi;colon",
    "quote'", "a\302\240b" /* no-break space */, "\xc3" /* truncated */,
    "\xc0\xaf" /* overlong '/' */, "\xed\xa0\x80" /* surrogate */,
    "\xe2\x80\x8b" /* zero-width space */, "hash#", "percent%",
  };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    cr_assert_not(users_username_valid(names[i]), "%s", names[i]);
  cr_assert_not(users_username_valid(NULL));
}

Test(username, ignores_process_locale)
{
  /* Whatever the process locale, the answer is the same. */
  setlocale(LC_ALL, "C");
  cr_assert(users_username_valid("j\xc3\xbcrgen"));
  cr_assert_not(users_username_valid("a b"));
  setlocale(LC_ALL, "C.UTF-8");
  cr_assert(users_username_valid("j\xc3\xbcrgen"));
  cr_assert_not(users_username_valid("x\xff"));
}

/* ------------------------------------------------------------------ */
/* emails                                                              */

Test(email, valid)
{
  const char *emails[] = {
    "a@b.co", "a.b+c@sub.example.org", "user@localhost", "a@[127.0.0.1]",
    "a@[::1]", "a@[::]", "a@[1:2:3:4:5:6:7:8]", "a@[::ffff:1.2.3.4]",
    "a@[1:2:3:4:5:6:7::]", "a@[1:2:3:4:5:6:1.2.3.4]", "USER@EXAMPLE.COM",
    "o'hara@example.ie", "!#$%&'*+/=?^_`{}|~-@example.com",
    "\"a\\ b\"@x.com", "\"a\\\"b\"@x.com", "\"a@b\"@x.com", "\"\"@x.com",
    "a@xn--bcher-kva.de", "a@x.c0m" /* Django: the TLD may hold digits */,
    "a@1.23", "a@a-b.example.com",
  };

  for (size_t i = 0; i < sizeof emails / sizeof emails[0]; i++)
    cr_assert(users_email_valid(emails[i]), "%s", emails[i]);
}

Test(email, invalid)
{
  const char *emails[] = {
    "", "plain", "@x.com", "a@", "a..b@x.com", ".a@x.com", "a.@x.com",
    "a@-x.com", "a@x-.com", "a@x", "a@x.", "a@.com", "a@x..com", "a@x_y.com",
    "a@x.c", "a@x.com-", "a\r\n@x.com", "a@x.com\n", "a\n@x.com",
    "a b@x.com", "a@x .com", "a@b@c.com", "user@LOCALHOST",
    "\"a\"b@x.com", "\"a\\\"@x.com", "\"a\rb\"@x.com",
    "\"a b\"@x.com" /* Django wants the space escaped */,
    "a@[IPv6:::1]" /* Django takes no "IPv6:" tag */, "a@[1.2.3]",
    "a@[1.2.3.4.5]", "a@[256.1.1.1]", "a@[1.2.3.04]", "a@[]", "a@[1::2::3]",
    "a@[1::2:3:4:5:6:7:8]", "a@[:1::2]", "a@[1::2:]", "a@[12345::]",
    "a@[g::1]", "a@[1:2:3:4:5:6:7:1.2.3.4]",
    "a@[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]" /* over 39 */,
    "\xc3\xa9@x.com" /* non-ASCII */, "a@b\303\274cher.de",
  };

  for (size_t i = 0; i < sizeof emails / sizeof emails[0]; i++)
    cr_assert_not(users_email_valid(emails[i]), "%s", emails[i]);
  cr_assert_not(users_email_valid(NULL));
}

Test(email, label_and_total_lengths)
{
  char email[400];

  /* A 63-character label is fine, 64 is not. */
  snprintf(email, sizeof email, "a@%.*s.com", 63,
           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  cr_assert(users_email_valid(email));
  snprintf(email, sizeof email, "a@%.*s.com", 64,
           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  cr_assert_not(users_email_valid(email));

  /* 320 characters in all is the most. */
  memset(email, 'x', 312);
  strcpy(email + 312, "@abc.com");
  cr_assert_eq(strlen(email), 320);
  cr_assert(users_email_valid(email));
  memset(email, 'x', 313);
  strcpy(email + 313, "@abc.com");
  cr_assert_not(users_email_valid(email));
}

/* ------------------------------------------------------------------ */
/* passwords                                                           */

static const char *const django_list =
  "/usr/lib/python3/dist-packages/django/contrib/auth/common-passwords.txt.gz";

/* Runs the validators and checks the exact messages, in order. */
static void
expect_messages(const char *password, const char *username, const char *email,
                const char *first_name, const char *last_name, size_t count,
                ...)
{
  json_t *messages = json_array();
  va_list expected;
  char *dump;
  int added;

  cr_assert_not_null(messages);
  added = users_password_validate(password, username, email, first_name,
                                  last_name, messages);
  dump = json_dumps(messages, JSON_COMPACT);
  cr_assert_eq(added, (int)count, "password \"%s\": %s", password, dump);
  cr_assert_eq(json_array_size(messages), count, "password \"%s\": %s",
               password, dump);
  va_start(expected, count);
  for (size_t i = 0; i < count; i++) {
    const char *text = va_arg(expected, const char *);
    cr_assert_str_eq(json_string_value(json_array_get(messages, i)), text,
                     "password \"%s\": %s", password, dump);
  }
  va_end(expected);
  free(dump);
  json_decref(messages);
}

static void
load_django_list(void)
{
  cr_assert_eq(access(django_list, R_OK), 0,
               "Django's list is missing: install python3-django");
  cr_assert_eq(users_common_passwords_load(django_list), 0);
}

static void
free_list(void)
{
  users_common_passwords_free();
}

TestSuite(password, .init = load_django_list, .fini = free_list);

Test(password, similar_to_username)
{
  expect_messages("johnsmith1", "johnsmith", NULL, NULL, NULL, 1,
                  MSG_SIMILAR_USERNAME);
  expect_messages("JohnSmith1", "johnsmith", "", "", "", 1,
                  MSG_SIMILAR_USERNAME);
}

Test(password, similar_to_each_attribute)
{
  expect_messages("Bartholomew9", "x", "", "bartholomew", "", 1,
                  MSG_SIMILAR_FIRST);
  expect_messages("Featherstonehaugh", "x", NULL, NULL,
                  "featherstonehaugh", 1, MSG_SIMILAR_LAST);
  /* The email's parts count: "averylongname" from the address. */
  expect_messages("averylongname7", "x", "averylongname@example.com", NULL,
                  NULL, 1, MSG_SIMILAR_EMAIL);
}

Test(password, only_first_similarity_reported)
{
  /* Similar to both the username and the first name: username wins. */
  expect_messages("zephyrinus", "zephyrinus", NULL, "zephyrinus", NULL, 1,
                  MSG_SIMILAR_USERNAME);
  expect_messages("zephyrinus", "zz", NULL, "zephyrinus", "zephyrinus", 1,
                  MSG_SIMILAR_FIRST);
}

Test(password, short_parts_skipped)
{
  /* "ab" is far shorter than the password: not compared. */
  expect_messages("abababababababababab", "ab", NULL, NULL, NULL, 0);
  /* A long enough part is. */
  expect_messages("qzxwvutsr", "qzxwvuts", NULL, NULL, NULL, 1,
                  MSG_SIMILAR_USERNAME);
}

Test(password, too_short)
{
  expect_messages("short", NULL, NULL, NULL, NULL, 1, MSG_SHORT);
  expect_messages("s4f3!Q", "alice", NULL, NULL, NULL, 1, MSG_SHORT);
  /* Length is counted in characters, not bytes: 7 letters, 14 bytes. */
  expect_messages("\xd0\xb6\xd0\xb8\xd0\xb2\xd0\xbe\xd0\xba\xd1\x80\xd1\x8b",
                  NULL, NULL, NULL, NULL, 1, MSG_SHORT);
}

Test(password, common)
{
  expect_messages("password", "password", NULL, NULL, NULL, 2,
                  MSG_SIMILAR_USERNAME, MSG_COMMON);
  expect_messages("password", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  /* Compared as password.lower().strip(). */
  expect_messages("  PassWord\t", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("iloveyou", NULL, NULL, NULL, NULL, 1, MSG_COMMON);
}

Test(password, common_and_numeric)
{
  expect_messages("12345678", "alice", NULL, NULL, NULL, 2, MSG_COMMON,
                  MSG_NUMERIC);
}

Test(password, numeric_only)
{
  expect_messages("83749271", "alice", NULL, NULL, NULL, 1, MSG_NUMERIC);
  /* Python's str.isdigit(): Arabic-Indic digits count as digits. */
  expect_messages("\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7\xd9\xa8\xd9\xa9"
                  "\xd9\xa0", NULL, NULL, NULL, NULL, 1, MSG_NUMERIC);
  expect_messages("8374927a", "alice", NULL, NULL, NULL, 0);
}

Test(password, all_four)
{
  expect_messages("123456", "123456", NULL, NULL, NULL, 4,
                  MSG_SIMILAR_USERNAME, MSG_SHORT, MSG_COMMON, MSG_NUMERIC);
}

Test(password, good)
{
  expect_messages("correct-horse-battery-staple", "alice",
                  "alice@example.com", "Alice", "Liddell", 0);
  expect_messages("correct-horse-battery-staple", NULL, NULL, NULL, NULL, 0);
}

Test(password, null_messages_counts)
{
  cr_assert_eq(users_password_validate("123", NULL, NULL, NULL, NULL, NULL),
               3);
}

/* ------------------------------------------------------------------ */
/* the common-password list                                            */

static char list_path[64];

static void
remove_list(void)
{
  if (list_path[0] != '\0')
    unlink(list_path);
  users_common_passwords_free();
}

/* Writes text to a temporary file, gzip-compressed when gzip is set. */
static void
write_list(const char *text, bool gzip)
{
  strcpy(list_path, "/tmp/eventapi-common-XXXXXX");
  int fd = mkstemp(list_path);
  cr_assert_geq(fd, 0);
  if (gzip) {
    gzFile file = gzdopen(fd, "wb");
    cr_assert_not_null(file);
    cr_assert_eq(gzwrite(file, text, (unsigned)strlen(text)), (int)strlen(text));
    cr_assert_eq(gzclose(file), Z_OK);
  } else {
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
  }
}

TestSuite(common_list, .fini = remove_list);

Test(common_list, builtin_when_not_loaded)
{
  expect_messages("password", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("qwertyuiop", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("correct-horse-battery-staple", "alice", NULL, NULL, NULL, 0);
}

Test(common_list, builtin_when_null_or_missing)
{
  cr_assert_eq(users_common_passwords_load(NULL), 0);
  expect_messages("password", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  cr_assert_eq(users_common_passwords_load("/nonexistent/common.txt.gz"), 0);
  expect_messages("12345678", "alice", NULL, NULL, NULL, 2, MSG_COMMON,
                  MSG_NUMERIC);
}

Test(common_list, plain_file)
{
  write_list("Zebra-Crossing\n  spaced out  \r\nlast-line-no-newline", false);
  cr_assert_eq(users_common_passwords_load(list_path), 0);
  expect_messages("zebra-crossing", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("SPACED OUT", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("last-line-no-newline", "alice", NULL, NULL, NULL, 1,
                  MSG_COMMON);
  /* Only the loaded list counts now. */
  expect_messages("password", "alice", NULL, NULL, NULL, 0);
}

Test(common_list, gzip_file)
{
  write_list("hunter2hunter2\ntrombone-sandwich\n", true);
  cr_assert_eq(users_common_passwords_load(list_path), 0);
  expect_messages("Trombone-Sandwich", "alice", NULL, NULL, NULL, 1,
                  MSG_COMMON);
  expect_messages("hunter2hunter2", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("password", "alice", NULL, NULL, NULL, 0);
}

Test(common_list, long_lines)
{
  size_t len = 10000;
  char *text = malloc(len + 32);
  char *password;

  cr_assert_not_null(text);
  memset(text, 'q', len);
  strcpy(text + len, "\nshort-one\n");
  write_list(text, true);
  cr_assert_eq(users_common_passwords_load(list_path), 0);
  password = strndup(text, len);
  cr_assert_not_null(password);
  expect_messages(password, "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("short-one", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  free(password);
  free(text);
}

Test(common_list, django_list)
{
  load_django_list();
  expect_messages("bigpimpin1", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("taekwondo", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
  expect_messages("correct-horse-battery-staple", "alice", NULL, NULL, NULL, 0);
}

Test(common_list, unreadable_is_eio)
{
  /* A directory opens but cannot be read; a corrupt gzip fails to inflate. */
  cr_assert_eq(users_common_passwords_load("/tmp"), EVENTAPI_EIO);
  write_list("\x1f\x8b\x08\x00garbage-not-deflate", false);
  cr_assert_eq(users_common_passwords_load(list_path), EVENTAPI_EIO);
  /* The built-in list is still in force. */
  expect_messages("password", "alice", NULL, NULL, NULL, 1, MSG_COMMON);
}

/* ------------------------------------------------------------------ */
/* readers under concurrency                                           */


static void *
validate_many(void *arg)
{
  (void)arg;
  for (int i = 0; i < 200; i++) {
    json_t *messages = json_array();
    int added = users_password_validate("12345678", "j\xc3\xbcrgen", NULL,
                                        NULL, NULL, messages);
    bool ok = added == 2 && json_array_size(messages) == 2 &&
              users_username_valid("j\xc3\xbcrgen") &&
              !users_username_valid("a b") && users_email_valid("a@b.co");
    json_decref(messages);
    if (!ok)
      return (void *)1;
  }
  return NULL;
}

Test(password, concurrent_readers)
{
  pthread_t threads[8];
  void *failed;

  for (size_t i = 0; i < 8; i++)
    cr_assert_eq(pthread_create(&threads[i], NULL, validate_many, NULL), 0);
  for (size_t i = 0; i < 8; i++) {
    cr_assert_eq(pthread_join(threads[i], &failed), 0);
    cr_assert_null(failed);
  }
}
