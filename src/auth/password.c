/*
 * password.c - argon2id password hashes (libsodium).
 *
 * New hashes use argon2id13 with the limits set by password_set_limits();
 * verification reads the algorithm and limits from the stored hash, so old
 * hashes keep verifying after the limits change.
 */
#include "auth/password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES,
               "PASSWORD_HASH_MAX must match crypto_pwhash_STRBYTES");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static _Atomic unsigned long long hash_opslimit =
    crypto_pwhash_OPSLIMIT_INTERACTIVE;
static _Atomic size_t hash_memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

/*
 * The dummy hash that password_burn() verifies against. It is made with the
 * limits in force when first needed and remade if the limits change since,
 * so a burn costs what a real verification of a fresh hash costs.
 */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[crypto_pwhash_STRBYTES];
static unsigned long long dummy_opslimit;
static size_t dummy_memlimit;

static void
sodium_setup(void)
{
  /* sodium_init() returns 1 when already initialised, -1 only when the
   * system's randomness source is unusable: nothing can be hashed safely. */
  if (sodium_init() < 0)
    abort();
}

void
password_set_limits(unsigned long long opslimit, size_t memlimit)
{
  atomic_store(&hash_opslimit, opslimit);
  atomic_store(&hash_memlimit, memlimit);
}

int
password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
  pthread_once(&sodium_once, sodium_setup);
  if (password == NULL)
    return EVENTAPI_EINVAL;
  if (crypto_pwhash_str_alg(out, password, strlen(password),
                            atomic_load(&hash_opslimit),
                            atomic_load(&hash_memlimit),
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return EVENTAPI_ENOMEM;
  return 0;
}

bool
password_verify(const char *hash, const char *password)
{
  pthread_once(&sodium_once, sodium_setup);
  if (hash == NULL || password == NULL)
    return false;
  /* libsodium reads the hash as a C string of at most STRBYTES - 1. */
  if (strnlen(hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
    return false;
  return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/*
 * Copies the dummy hash for the current limits into out, making it first if
 * needed. Returns false if it cannot be made (out of memory).
 */
static bool
dummy_get(char out[crypto_pwhash_STRBYTES])
{
  unsigned long long opslimit = atomic_load(&hash_opslimit);
  size_t memlimit = atomic_load(&hash_memlimit);
  bool ok = true;

  pthread_mutex_lock(&dummy_lock);
  if (dummy_hash[0] == '\0' || dummy_opslimit != opslimit ||
      dummy_memlimit != memlimit) {
    static const char dummy_password[] = "eventapi-dummy-password";
    char made[crypto_pwhash_STRBYTES];

    if (crypto_pwhash_str_alg(made, dummy_password, sizeof dummy_password - 1,
                              opslimit, memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) == 0) {
      memcpy(dummy_hash, made, sizeof made);
      dummy_opslimit = opslimit;
      dummy_memlimit = memlimit;
    } else {
      ok = false;
    }
  }
  if (ok)
    memcpy(out, dummy_hash, crypto_pwhash_STRBYTES);
  pthread_mutex_unlock(&dummy_lock);
  return ok;
}

void
password_burn(const char *password)
{
  char hash[crypto_pwhash_STRBYTES];

  pthread_once(&sodium_once, sodium_setup);
  if (!dummy_get(hash))
    return;
  if (password == NULL)
    password = "";
  /* The result is meaningless; only the time spent matters. */
  if (crypto_pwhash_str_verify(hash, password, strlen(password)) == 0)
    return;
}
