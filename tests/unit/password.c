/*
 * Unit tests for auth/password: argon2id hashes through libsodium.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "core/error.h"

#define FAST_OPSLIMIT crypto_pwhash_OPSLIMIT_MIN
#define FAST_MEMLIMIT (8u * 1024 * 1024)

/* Small limits keep the suite fast; verification reads them from the hash. */
static void
fast_limits(void)
{
  password_set_limits(FAST_OPSLIMIT, FAST_MEMLIMIT);
}

TestSuite(password, .init = fast_limits);

Test(password, roundtrip)
{
  char hash[PASSWORD_HASH_MAX];

  cr_assert_eq(password_hash("correct horse battery staple", hash), 0);
  cr_assert(password_verify(hash, "correct horse battery staple"));
}

Test(password, wrong_password)
{
  char hash[PASSWORD_HASH_MAX];

  cr_assert_eq(password_hash("s3cret-Passw0rd", hash), 0);
  cr_assert_not(password_verify(hash, "s3cret-passw0rd"));
  cr_assert_not(password_verify(hash, ""));
  cr_assert_not(password_verify(hash, "s3cret-Passw0rd "));
}

Test(password, empty_and_unicode_passwords)
{
  char hash[PASSWORD_HASH_MAX];

  cr_assert_eq(password_hash("", hash), 0);
  cr_assert(password_verify(hash, ""));
  cr_assert_not(password_verify(hash, "x"));
  cr_assert_eq(password_hash("p\xc3\xa4ssw\xc3\xb6rd", hash), 0);
  cr_assert(password_verify(hash, "p\xc3\xa4ssw\xc3\xb6rd"));
  cr_assert_not(password_verify(hash, "passwortd"));
}

Test(password, hash_is_argon2id)
{
  char hash[PASSWORD_HASH_MAX];

  cr_assert_eq(password_hash("secret", hash), 0);
  cr_assert_eq(strncmp(hash, "$argon2id$", 10), 0, "hash %s", hash);
  cr_assert_lt(strlen(hash), PASSWORD_HASH_MAX);
}

Test(password, hashes_are_salted)
{
  char first[PASSWORD_HASH_MAX], second[PASSWORD_HASH_MAX];

  cr_assert_eq(password_hash("same password", first), 0);
  cr_assert_eq(password_hash("same password", second), 0);
  cr_assert_str_neq(first, second);
  cr_assert(password_verify(first, "same password"));
  cr_assert(password_verify(second, "same password"));
}

Test(password, malformed_hash)
{
  char hash[PASSWORD_HASH_MAX];
  char long_hash[512];

  cr_assert_not(password_verify("", "secret"));
  cr_assert_not(password_verify("$argon2id$", "secret"));
  cr_assert_not(password_verify("not a hash", "secret"));
  cr_assert_not(password_verify(
      "pbkdf2_sha256$600000$salt$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA==",
      "secret"));
  cr_assert_not(password_verify(NULL, "secret"));

  cr_assert_eq(password_hash("secret", hash), 0);
  cr_assert_not(password_verify(hash, NULL));
  /* Truncated hash. */
  hash[strlen(hash) - 5] = '\0';
  cr_assert_not(password_verify(hash, "secret"));

  /* Longer than any hash, without a NUL within PASSWORD_HASH_MAX. */
  memset(long_hash, 'a', sizeof long_hash - 1);
  long_hash[sizeof long_hash - 1] = '\0';
  memcpy(long_hash, "$argon2id$", 10);
  cr_assert_not(password_verify(long_hash, "secret"));
}

Test(password, limits_honoured)
{
  char hash[PASSWORD_HASH_MAX];
  char expected[64];

  cr_assert_eq(password_hash("secret", hash), 0);
  snprintf(expected, sizeof expected, "$m=%u,t=%u,", FAST_MEMLIMIT / 1024,
           (unsigned)FAST_OPSLIMIT);
  cr_assert(strstr(hash, expected) != NULL, "hash %s lacks %s", hash, expected);
  cr_assert_eq(crypto_pwhash_str_needs_rehash(hash, FAST_OPSLIMIT,
                                              FAST_MEMLIMIT), 0);

  password_set_limits(FAST_OPSLIMIT + 1, 2 * FAST_MEMLIMIT);
  cr_assert_eq(crypto_pwhash_str_needs_rehash(hash, FAST_OPSLIMIT + 1,
                                              2 * FAST_MEMLIMIT), 1);
  /* Old hashes keep verifying after the limits change. */
  cr_assert(password_verify(hash, "secret"));
  cr_assert_eq(password_hash("secret", hash), 0);
  snprintf(expected, sizeof expected, "$m=%u,t=%u,", 2 * FAST_MEMLIMIT / 1024,
           (unsigned)FAST_OPSLIMIT + 1);
  cr_assert(strstr(hash, expected) != NULL, "hash %s lacks %s", hash, expected);
  cr_assert(password_verify(hash, "secret"));
}

Test(password, impossible_limits_are_enomem)
{
  char hash[PASSWORD_HASH_MAX];

  /* Below argon2's minimum memory: libsodium refuses. */
  password_set_limits(FAST_OPSLIMIT, 1);
  cr_assert_eq(password_hash("secret", hash), EVENTAPI_ENOMEM);
}

Test(password, burn_takes_any_password_and_leaves_hashing_as_set)
{
  password_burn("whatever");
  password_burn("");
  password_burn(NULL);
  /* The dummy hash follows a change of limits, and hashing follows them too. */
  password_set_limits(FAST_OPSLIMIT + 1, FAST_MEMLIMIT);
  password_burn("again");
  char hash[PASSWORD_HASH_MAX];
  cr_assert_eq(password_hash("again", hash), 0);
  char cost[64];
  snprintf(cost, sizeof cost, "$m=%zu,t=%d,p=1$", (size_t)FAST_MEMLIMIT / 1024,
           (int)FAST_OPSLIMIT + 1);
  cr_assert(strstr(hash, cost) != NULL, "%s lacks %s", hash, cost);
  cr_assert(password_verify(hash, "again"));
  cr_assert(!password_verify(hash, "whatever"));
  /* Limits libsodium refuses: no dummy can be made, and the burn returns. */
  password_set_limits(FAST_OPSLIMIT, 1);
  password_burn("refused");
  cr_assert_eq(password_hash("refused", hash), EVENTAPI_ENOMEM);
}


static void *
burn_and_hash(void *arg)
{
  char hash[PASSWORD_HASH_MAX];

  (void)arg;
  for (int i = 0; i < 3; i++) {
    password_burn("nobody");
    if (password_hash("threaded", hash) != 0 ||
        !password_verify(hash, "threaded"))
      return (void *)1;
  }
  return NULL;
}

Test(password, concurrent_use)
{
  pthread_t threads[6];
  void *failed;

  for (size_t i = 0; i < 6; i++)
    cr_assert_eq(pthread_create(&threads[i], NULL, burn_and_hash, NULL), 0);
  /* Changing the limits meanwhile remakes the dummy hash safely. */
  password_set_limits(FAST_OPSLIMIT + 1, FAST_MEMLIMIT);
  for (size_t i = 0; i < 6; i++) {
    cr_assert_eq(pthread_join(threads[i], &failed), 0);
    cr_assert_null(failed);
  }
}

/* ---- the original Django system's hashes ---------------------------------------- */

/*
 * Made by Django 3.2 (Debian's python3-django, with python3-argon2 and
 * python3-bcrypt) from the password below: make_password(PASSWORD,
 * hasher=...) for each of its default hashers, and its Argon2 hasher with
 * parallelism 1 as well as its default 8.
 */
#define DJANGO_PASSWORD "correct horse ünïcode"
static const char *const django_hashes[] = {
  "pbkdf2_sha256$260000$VEfNTDVBF3OfNK4rBwwYSL$Sg16OCO6arl5vHVRdyMWkzjoz/G8mHIO1tkTw5+HFfs=",
  "pbkdf2_sha1$260000$UZ9o5dUo5rJiKsK6hbjWSo$3ClMUedT8biTSchWtT+iY9iBzbw=",
  "bcrypt_sha256$$2b$12$f/f37izVCICu/oEWqddbZeYW4XlmdIlX11LWC96mPJdyXkOufGURi",
  "bcrypt$$2b$12$oew1FODSSUDo1wn/N9Mv6.Ezz86Ay0Eib1dxvARhBEnQIp565D2u.",
  "argon2$argon2id$v=19$m=102400,t=2,p=1$WlVpTEl4YmdLZ0phUjY1NTVVTHNGaA$N5Fgo6uN/JjSD114lmxkoA",
  "argon2$argon2id$v=19$m=102400,t=2,p=8$OE5TeGRWVjI1cHowcHZGZ01Qc1ZHMQ$IX/JvgN7gqUGi8w7F8mczw",
};

Test(password, djangos_hashes_are_verified_as_they_are)
{
  for (size_t i = 0; i < sizeof django_hashes / sizeof *django_hashes; i++) {
    const char *hash = django_hashes[i];
    cr_expect(password_verify(hash, DJANGO_PASSWORD), "%s", hash);
    cr_expect_not(password_verify(hash, "correct horse unicode"), "%s", hash);
    cr_expect_not(password_verify(hash, ""), "%s", hash);
    cr_expect(password_needs_rehash(hash), "%s", hash);
  }
}

Test(password, only_argon2id_of_our_own_needs_no_rehash)
{
  char hash[PASSWORD_HASH_MAX];
  cr_assert_eq(password_hash("s3cret-Passw0rd", hash), 0);
  cr_expect_not(password_needs_rehash(hash));
  cr_expect(password_needs_rehash(""));
  cr_expect(password_needs_rehash("!unusable"));
}

Test(password, malformed_django_hashes_are_refused)
{
  static const char *const bad[] = {
    "pbkdf2_sha256$", "pbkdf2_sha256$260000$salt", "pbkdf2_sha256$x$salt$AAAA",
    "pbkdf2_sha256$0$salt$AAAA", "pbkdf2_sha256$-5$salt$AAAA",
    "pbkdf2_sha256$999999999999$salt$AAAA", "pbkdf2_sha256$1$salt$!!!!",
    "pbkdf2_sha256$1$salt$AAAA$extra", "pbkdf2_sha256$1$salt$",
    "bcrypt_sha256$$2b$12$short", "bcrypt$$1$abc", "bcrypt$", "argon2$argon2id$garbage",
    "md5$salt$hash", "unsalted_md5$$abc", "sha1$a$b", "!", "", "bcrypt", "bcrypt_sha256",
    "argon2", "pbkdf2_sha256",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_expect_not(password_verify(bad[i], DJANGO_PASSWORD), "%s", bad[i]);
}
