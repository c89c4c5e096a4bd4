/*
 * password.c - argon2id password hashes (libsodium).
 *
 * New hashes use argon2id13 with the limits set by password_set_limits();
 * verification reads the algorithm and limits from the stored hash, so old
 * hashes keep verifying after the limits change.
 */
#include "auth/password.h"

#include <crypt.h>
#include <openssl/evp.h>
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

/* ---- Django's hashes ---- */

/* Bounds on what a stored hash may ask for: Django's defaults are far
 * below them (260,000 to 1,000,000 iterations, bcrypt's cost 12, argon2's
 * 100 MiB), and a forged row cannot stall a login, or exhaust memory. */
#define DJANGO_PBKDF2_MAX_ITERATIONS 10000000
#define DJANGO_BCRYPT_MAX_COST 16
#define DJANGO_ARGON2_MAX_KIB (1024 * 1024)
#define DJANGO_ARGON2_MAX_PASSES 64

/* The n-th "$"-separated field of text (from 0), copied into out; false if
 * there are fewer fields or it does not fit. */
static bool
field(const char *text, int n, char *out, size_t len)
{
  const char *p = text;
  for (int i = 0; i < n; i++) {
    p = strchr(p, '$');
    if (p == NULL)
      return false;
    p++;
  }
  size_t flen = strcspn(p, "$");
  if (flen >= len)
    return false;
  memcpy(out, p, flen);
  out[flen] = '\0';
  return true;
}

static size_t
dollars(const char *text)
{
  size_t n = 0;
  for (; *text; text++)
    n += *text == '$';
  return n;
}

/* A decimal of at most 9 digits, no sign, into *out. */
static bool
small_number(const char *text, long *out)
{
  size_t n = strspn(text, "0123456789");
  if (n == 0 || n > 9 || text[n] != '\0')
    return false;
  *out = strtol(text, NULL, 10);
  return true;
}

int
password_django_parse(const char *hash, struct password_django *out)
{
  memset(out, 0, sizeof *out);
  if (hash == NULL || strnlen(hash, PASSWORD_DJANGO_MAX) >= PASSWORD_DJANGO_MAX)
    return EVENTAPI_EINVAL;
  char algorithm[16], number[16];
  if (!field(hash, 0, algorithm, sizeof algorithm) || hash[strlen(algorithm)] != '$')
    return EVENTAPI_EINVAL; /* "ALGORITHM$...", nothing less */
  if (strcmp(algorithm, "pbkdf2_sha256") == 0 || strcmp(algorithm, "pbkdf2_sha1") == 0) {
    /* pbkdf2_sha256$ITERATIONS$SALT$BASE64, exactly four fields */
    char encoded[PASSWORD_DJANGO_MAX];
    long n;
    if (!field(hash, 1, number, sizeof number) || !small_number(number, &n) || n < 1 ||
        n > DJANGO_PBKDF2_MAX_ITERATIONS || !field(hash, 2, out->salt, sizeof out->salt) ||
        !field(hash, 3, encoded, sizeof encoded) || dollars(hash) != 3)
      return EVENTAPI_EINVAL;
    if (sodium_base642bin(out->digest, sizeof out->digest, encoded, strlen(encoded), NULL,
                          &out->digest_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        out->digest_len == 0)
      return EVENTAPI_EINVAL;
    out->kind = strcmp(algorithm, "pbkdf2_sha1") == 0 ? PASSWORD_DJANGO_PBKDF2_SHA1
                                                      : PASSWORD_DJANGO_PBKDF2_SHA256;
    out->cost = n;
    return 0;
  }
  if (strcmp(algorithm, "bcrypt_sha256") == 0 || strcmp(algorithm, "bcrypt") == 0) {
    /* bcrypt$$2b$12$<53 characters>: the rest is crypt(3)'s own string */
    const char *setting = hash + strlen(algorithm) + 1;
    long cost;
    if (strncmp(setting, "$2", 2) != 0 || !field(setting, 2, number, sizeof number) ||
        !small_number(number, &cost) || cost < 4 || cost > DJANGO_BCRYPT_MAX_COST ||
        strlen(setting) >= sizeof out->setting)
      return EVENTAPI_EINVAL;
    out->kind = strcmp(algorithm, "bcrypt") == 0 ? PASSWORD_DJANGO_BCRYPT
                                                 : PASSWORD_DJANGO_BCRYPT_SHA256;
    out->cost = cost;
    strcpy(out->setting, setting);
    return 0;
  }
  if (strcmp(algorithm, "argon2") == 0) {
    /* argon2$argon2id$v=19$m=102400,t=2,p=8$SALT$HASH: the rest is a PHC string */
    const char *setting = hash + 6;
    char params[64];
    long m, t, p;
    if ((strncmp(setting, "$argon2id$", 10) != 0 && strncmp(setting, "$argon2i$", 9) != 0) ||
        !field(setting, 3, params, sizeof params) ||
        sscanf(params, "m=%9ld,t=%9ld,p=%9ld", &m, &t, &p) != 3 || m < 8 ||
        m > DJANGO_ARGON2_MAX_KIB || t < 1 || t > DJANGO_ARGON2_MAX_PASSES || p < 1 || p > 255 ||
        strlen(setting) >= sizeof out->setting)
      return EVENTAPI_EINVAL;
    out->kind = PASSWORD_DJANGO_ARGON2;
    out->cost = m;
    strcpy(out->setting, setting);
    return 0;
  }
  return EVENTAPI_EINVAL;
}

static bool
verify_pbkdf2(const struct password_django *h, const char *password)
{
  unsigned char got[sizeof h->digest];
  const EVP_MD *md = h->kind == PASSWORD_DJANGO_PBKDF2_SHA1 ? EVP_sha1() : EVP_sha256();
  if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), (const unsigned char *)h->salt,
                        (int)strlen(h->salt), (int)h->cost, md, (int)h->digest_len, got) != 1)
    return false;
  return sodium_memcmp(h->digest, got, h->digest_len) == 0;
}

/* Django's BCryptSHA256PasswordHasher hashes the password's SHA-256, in
 * hex, so that bcrypt's 72-byte limit cuts nothing. */
static bool
verify_bcrypt(const struct password_django *h, const char *password)
{
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  if (h->kind == PASSWORD_DJANGO_BCRYPT_SHA256) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)password, strlen(password));
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    password = hex;
  }
  struct crypt_data *data = calloc(1, sizeof *data);
  if (data == NULL)
    return false;
  const char *made = crypt_rn(password, h->setting, data, (int)sizeof *data);
  size_t len = strlen(h->setting);
  bool ok = made != NULL && made[0] != '*' && strlen(made) == len &&
            sodium_memcmp(made, h->setting, len) == 0;
  sodium_memzero(data, sizeof *data);
  free(data);
  return ok;
}

static bool
verify_django(const char *hash, const char *password)
{
  struct password_django h;
  if (password_django_parse(hash, &h) < 0)
    return false;
  switch (h.kind) {
  case PASSWORD_DJANGO_PBKDF2_SHA256:
  case PASSWORD_DJANGO_PBKDF2_SHA1:
    return verify_pbkdf2(&h, password);
  case PASSWORD_DJANGO_BCRYPT_SHA256:
  case PASSWORD_DJANGO_BCRYPT:
    return verify_bcrypt(&h, password);
  case PASSWORD_DJANGO_ARGON2:
    return strlen(h.setting) < crypto_pwhash_STRBYTES &&
           crypto_pwhash_str_verify(h.setting, password, strlen(password)) == 0;
  }
  return false;
}

bool
password_needs_rehash(const char *hash)
{
  return hash == NULL || strncmp(hash, "$argon2id$", 10) != 0;
}

bool
password_verify(const char *hash, const char *password)
{
  pthread_once(&sodium_once, sodium_setup);
  if (hash == NULL || password == NULL)
    return false;
  if (hash[0] != '$')
    return verify_django(hash, password);
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
