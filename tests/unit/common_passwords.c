/*
 * Unit tests for users/common_passwords: the list of Django's
 * CommonPasswordValidator, built in, plain or gzip-compressed.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "users/common_passwords.h"

static const char *const django_list =
  "/usr/lib/python3/dist-packages/django/contrib/auth/common-passwords.txt.gz";

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
  cr_assert(users_password_is_common("password"));
  cr_assert(users_password_is_common("qwertyuiop"));
  cr_assert_not(users_password_is_common("correct-horse-battery-staple"));
}

Test(common_list, builtin_when_null_or_missing)
{
  cr_assert_eq(users_common_passwords_load(NULL), 0);
  cr_assert(users_password_is_common("password"));
  cr_assert_eq(users_common_passwords_load("/nonexistent/common.txt.gz"), 0);
  cr_assert(users_password_is_common("12345678"));
}

Test(common_list, plain_file)
{
  write_list("Zebra-Crossing\n  spaced out  \r\nlast-line-no-newline", false);
  cr_assert_eq(users_common_passwords_load(list_path), 0);
  /* Entries are read as line.lower().strip(). */
  cr_assert(users_password_is_common("zebra-crossing"));
  cr_assert(users_password_is_common("spaced out"));
  cr_assert(users_password_is_common("last-line-no-newline"));
  /* Only the loaded list counts now. */
  cr_assert_not(users_password_is_common("password"));
}

/* Python's strip() takes its whitespace (\x1c-\x1f too) from both ends;
 * lower() folds letters beyond ASCII. */
Test(common_list, unicode_lines_and_python_whitespace)
{
  write_list("\x1c\tSeparated\x1f\v\n\xC3\x84PFELkuchen \n\xE2\x80\x83" "Em-Space\xE2\x80\x83\n"
             "separated\n", true);
  cr_assert_eq(users_common_passwords_load(list_path), 0);
  cr_assert(users_password_is_common("separated"));
  cr_assert(users_password_is_common("\xC3\xA4pfelkuchen"));
  cr_assert(users_password_is_common("em-space"));
  cr_assert_not(users_password_is_common("\xC3\x84pfelkuchen"));
  cr_assert_not(users_password_is_common("Separated"));
}

Test(common_list, gzip_file)
{
  write_list("hunter2hunter2\ntrombone-sandwich\n", true);
  cr_assert_eq(users_common_passwords_load(list_path), 0);
  cr_assert(users_password_is_common("trombone-sandwich"));
  cr_assert(users_password_is_common("hunter2hunter2"));
  cr_assert_not(users_password_is_common("password"));
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
  cr_assert(users_password_is_common(password));
  cr_assert(users_password_is_common("short-one"));
  free(password);
  free(text);
}

Test(common_list, django_list)
{
  cr_assert_eq(access(django_list, R_OK), 0,
               "Django's list is missing: install python3-django");
  cr_assert_eq(users_common_passwords_load(django_list), 0);
  cr_assert(users_password_is_common("bigpimpin1"));
  cr_assert(users_password_is_common("taekwondo"));
  cr_assert_not(users_password_is_common("correct-horse-battery-staple"));
}

Test(common_list, unreadable_is_eio)
{
  /* A directory opens but cannot be read; a corrupt gzip fails to inflate. */
  cr_assert_eq(users_common_passwords_load("/tmp"), EVENTAPI_EIO);
  write_list("\x1f\x8b\x08\x00garbage-not-deflate", false);
  cr_assert_eq(users_common_passwords_load(list_path), EVENTAPI_EIO);
  /* The built-in list is still in force. */
  cr_assert(users_password_is_common("password"));
}

Test(common_list, empty_file_is_eio)
{
  write_list("", false);
  cr_assert_eq(users_common_passwords_load(list_path), EVENTAPI_EIO);
  cr_assert(users_password_is_common("password"));
}
