/*
 * Unit tests for users/validators: Django's username and password
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

#include "core/error.h"
#include "users/common_passwords.h"
#include "users/email.h"
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
