/*
 * Unit tests for users/email: Django's EmailValidator.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "users/email.h"

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

