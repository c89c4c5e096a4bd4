/*
 * password.c - the reader of the original Django system's password hashes
 * (password_django_parse), which password_verify runs on every stored hash
 * that is not eventapi's own before any hashing: the fields, the base64,
 * and the bounds on the cost a stored hash may ask for.
 *
 * Input: a hash as stored in users.password (any bytes; cut at a NUL).
 * Only the reading is fuzzed: the hashing behind it is OpenSSL's,
 * libxcrypt's and libsodium's, and slow by design.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *hash = malloc(size + 1);
  if (hash == NULL)
    return 0;
  memcpy(hash, data, size);
  hash[size] = '\0';
  struct password_django h;
  if (password_django_parse(hash, &h) == 0) {
    assert(h.kind >= PASSWORD_DJANGO_PBKDF2_SHA256 && h.kind <= PASSWORD_DJANGO_ARGON2);
    assert(h.cost >= 1);
    assert(h.digest_len <= sizeof h.digest);
    assert(strlen(h.salt) < sizeof h.salt && strlen(h.setting) < sizeof h.setting);
    if (h.kind == PASSWORD_DJANGO_PBKDF2_SHA256 || h.kind == PASSWORD_DJANGO_PBKDF2_SHA1)
      assert(h.digest_len > 0 && h.cost <= 10000000);
    else if (h.kind == PASSWORD_DJANGO_ARGON2)
      assert(h.cost <= 1024 * 1024);
    else
      assert(h.cost <= 16 && strncmp(h.setting, "$2", 2) == 0);
  }
  free(hash);
  return 0;
}
