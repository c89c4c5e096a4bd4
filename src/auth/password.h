/*
 * password.h - argon2id password hashes (libsodium).
 */
#ifndef EVENTAPI_AUTH_PASSWORD_H
#define EVENTAPI_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

/*
 * Sets the cost of new hashes (defaults: libsodium's interactive limits).
 * Verification always uses the parameters stored in the hash itself.
 */
void password_set_limits(unsigned long long opslimit, size_t memlimit);

/*
 * Hashes password with argon2id into out, a NUL-terminated "$argon2id$..."
 * string. Returns 0, or EVENTAPI_ENOMEM when the memory cost cannot be met.
 */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);

/*
 * True when password matches hash; false for a malformed hash. Besides
 * eventapi's own "$argon2id$..." hashes, reads those of the original Django
 * system (users moved by `eventapi import-django`), as Django's default
 * hashers wrote them:
 *   pbkdf2_sha256$ITERATIONS$SALT$HASH and pbkdf2_sha1$... (OpenSSL),
 *   bcrypt_sha256$$2b$... and bcrypt$$2b$... (libcrypt),
 *   argon2$argon2id$v=19$m=...,t=...,p=...$SALT$HASH (libsodium).
 */
bool password_verify(const char *hash, const char *password);

/*
 * Whether hash is of another kind than password_hash() makes (a Django
 * hash): once the password is known right, it is hashed again and stored
 * (as Django upgrades the hashes of its older hashers at login).
 */
bool password_needs_rehash(const char *hash);

/*
 * A Django hash read (for password_verify, and the fuzzer): which hasher,
 * its cost (PBKDF2's iterations, bcrypt's log2 rounds, argon2's KiB), and
 * what the hasher needs. EVENTAPI_EINVAL for anything else, and for costs
 * beyond what a login may spend.
 */
#define PASSWORD_DJANGO_MAX 512

enum password_django_kind {
  PASSWORD_DJANGO_PBKDF2_SHA256 = 1,
  PASSWORD_DJANGO_PBKDF2_SHA1,
  PASSWORD_DJANGO_BCRYPT_SHA256,
  PASSWORD_DJANGO_BCRYPT,
  PASSWORD_DJANGO_ARGON2,
};

struct password_django {
  enum password_django_kind kind;
  long cost;
  char salt[PASSWORD_DJANGO_MAX];      /* PBKDF2 */
  unsigned char digest[64];            /* PBKDF2: the hash, decoded */
  size_t digest_len;
  char setting[PASSWORD_DJANGO_MAX];   /* bcrypt: crypt(3)'s string; argon2: its PHC string */
};

int password_django_parse(const char *hash, struct password_django *out);

/*
 * Spends the time of one verification without a real hash, so that a login
 * for an unknown user takes as long as one with a wrong password.
 */
void password_burn(const char *password);

#endif
