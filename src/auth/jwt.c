/*
 * jwt.c - SimpleJWT-compatible tokens (libjwt), HS256 only.
 *
 * Verification is layered so that no single library quirk lets a token
 * through:
 *   1. the header is decoded and parsed here and must say "alg":"HS256",
 *      whatever libjwt would accept ("none", HS384, RS256 key confusion...);
 *   2. the HMAC-SHA256 signature is checked here with libsodium, in constant
 *      time (libjwt 1.10 compares signatures with strcmp);
 *   3. libjwt decodes and verifies the token again and must report HS256;
 *   4. the payload is parsed here with jansson and every claim is checked for
 *      presence and exact JSON type, as SimpleJWT and PyJWT require.
 */
#include "auth/jwt.h"

#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Longer tokens are refused before any decoding. */
#define TOKEN_MAX 4096

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void
sodium_setup(void)
{
  if (sodium_init() < 0)
    abort(); /* no usable randomness source: tokens cannot be made safely */
}

static const char *
token_type_name(enum token_type type)
{
  return type == TOKEN_REFRESH ? "refresh" : "access";
}

/* A jti like Python's uuid.uuid4().hex: 32 lowercase hex digits. */
static void
jti_make(char out[33])
{
  unsigned char uuid[16];

  randombytes_buf(uuid, sizeof uuid);
  uuid[6] = (unsigned char)((uuid[6] & 0x0f) | 0x40); /* version 4 */
  uuid[8] = (unsigned char)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  sodium_bin2hex(out, 33, uuid, sizeof uuid);
}

int
auth_token_issue(const char *key, size_t keylen, enum token_type type,
                 int64_t user_id, int64_t generation, int64_t now, int64_t lifetime,
                 char **out, struct token_claims *claims)
{
  struct token_claims made;
  json_t *payload = NULL;
  char *payload_text = NULL;
  jwt_t *jwt = NULL;
  char *token = NULL;
  int rc = EVENTAPI_ENOMEM;

  *out = NULL;
  /* libjwt refuses an empty HMAC key and takes its length as an int. */
  if (key == NULL || keylen == 0 || keylen > INT_MAX || user_id <= 0 ||
      generation < 0 || lifetime < 0 || now > INT64_MAX - lifetime)
    return EVENTAPI_EINVAL;
  pthread_once(&sodium_once, sodium_setup);

  made.type = type;
  made.user_id = user_id;
  made.generation = generation;
  made.iat = now;
  made.exp = now + lifetime;
  jti_make(made.jti);

  /* Built with jansson so that 64-bit integers survive on every platform
   * (jwt_add_grant_int takes a long). */
  payload = json_pack("{s:s, s:I, s:I, s:s, s:I, s:I}",
                      "token_type", token_type_name(type),
                      "exp", (json_int_t)made.exp,
                      "iat", (json_int_t)made.iat,
                      "jti", made.jti,
                      "user_id", (json_int_t)made.user_id,
                      "token_generation", (json_int_t)made.generation);
  if (payload == NULL)
    goto done;
  payload_text = json_dumps(payload, JSON_COMPACT);
  if (payload_text == NULL)
    goto done;
  if (jwt_new(&jwt) != 0)
    goto done;
  if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)key,
                  (int)keylen) != 0)
    goto done;
  if (jwt_add_grants_json(jwt, payload_text) != 0)
    goto done;
  token = jwt_encode_str(jwt);
  if (token == NULL)
    goto done;

  *out = token;
  if (claims != NULL)
    *claims = made;
  rc = 0;
done:
  jwt_free(jwt);
  free(payload_text);
  json_decref(payload);
  return rc;
}

/*
 * Decodes the unpadded base64url text b64[0..len) into out (capacity
 * outmax). Returns the decoded length, or -1 for anything that is not
 * canonical base64url or does not fit.
 */
static long
b64url_decode(const char *b64, size_t len, unsigned char *out, size_t outmax)
{
  size_t decoded = 0;

  if (sodium_base642bin(out, outmax, b64, len, NULL, &decoded, NULL,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return -1;
  return (long)decoded;
}

/* Parses the base64url JSON object in b64[0..len); NULL if it is not one.
 * Duplicate keys are refused so that no two parsers can disagree. */
static json_t *
segment_json(const char *b64, size_t len)
{
  unsigned char text[TOKEN_MAX];
  long decoded = b64url_decode(b64, len, text, sizeof text);
  json_t *value;

  if (decoded <= 0)
    return NULL;
  value = json_loadb((const char *)text, (size_t)decoded,
                     JSON_REJECT_DUPLICATES, NULL);
  if (value != NULL && !json_is_object(value)) {
    json_decref(value);
    return NULL;
  }
  return value;
}

/* True when object has key as a string exactly equal to expected. */
static bool
string_is(json_t *object, const char *key, const char *expected)
{
  json_t *value = json_object_get(object, key);

  return json_is_string(value) &&
         json_string_length(value) == strlen(expected) &&
         memcmp(json_string_value(value), expected, strlen(expected)) == 0;
}

/* Gets key as a JSON integer (not a real, bool or string) into *out. */
static bool
integer_get(json_t *object, const char *key, int64_t *out)
{
  json_t *value = json_object_get(object, key);

  if (!json_is_integer(value))
    return false;
  *out = (int64_t)json_integer_value(value);
  return true;
}

/* Step 2: constant-time HMAC-SHA256 check of signed[0..signed_len). */
static bool
signature_good(const char *key, size_t keylen, const char *signed_part,
               size_t signed_len, const char *sig_b64, size_t sig_len)
{
  unsigned char expected[crypto_auth_hmacsha256_BYTES];
  unsigned char given[crypto_auth_hmacsha256_BYTES + 1];
  crypto_auth_hmacsha256_state state;
  long decoded = b64url_decode(sig_b64, sig_len, given, sizeof given);
  bool good;

  if (decoded != crypto_auth_hmacsha256_BYTES)
    return false;
  crypto_auth_hmacsha256_init(&state, (const unsigned char *)key, keylen);
  crypto_auth_hmacsha256_update(&state, (const unsigned char *)signed_part,
                                signed_len);
  crypto_auth_hmacsha256_final(&state, expected);
  good = sodium_memcmp(expected, given, sizeof expected) == 0;
  sodium_memzero(&state, sizeof state);
  return good;
}

/* Step 3: libjwt must accept the token and agree that it is HS256. */
static bool
libjwt_accepts(const char *key, size_t keylen, const char *token)
{
  jwt_t *jwt = NULL;
  bool accepted;

  if (jwt_decode(&jwt, token, (const unsigned char *)key, (int)keylen) != 0)
    return false;
  accepted = jwt != NULL && jwt_get_alg(jwt) == JWT_ALG_HS256;
  jwt_free(jwt);
  return accepted;
}

int
auth_token_verify(const char *key, size_t keylen, const char *token,
                  enum token_type expected, int64_t now,
                  struct token_claims *claims)
{
  const char *first_dot, *second_dot;
  size_t token_len;
  json_t *header = NULL, *payload = NULL;
  struct token_claims found;
  json_t *jti, *nbf, *generation;
  int rc = EVENTAPI_EINVAL;

  if (key == NULL || keylen == 0 || keylen > INT_MAX || token == NULL)
    return EVENTAPI_EINVAL;
  token_len = strnlen(token, TOKEN_MAX + 1);
  if (token_len == 0 || token_len > TOKEN_MAX)
    return EVENTAPI_EINVAL;
  pthread_once(&sodium_once, sodium_setup);

  /* Exactly three segments: header.payload.signature */
  first_dot = memchr(token, '.', token_len);
  if (first_dot == NULL)
    return EVENTAPI_EINVAL;
  second_dot = memchr(first_dot + 1, '.',
                      token_len - (size_t)(first_dot + 1 - token));
  if (second_dot == NULL ||
      memchr(second_dot + 1, '.',
             token_len - (size_t)(second_dot + 1 - token)) != NULL)
    return EVENTAPI_EINVAL;

  /* 1. The header, read before anything trusts it. */
  header = segment_json(token, (size_t)(first_dot - token));
  if (header == NULL || !string_is(header, "alg", "HS256"))
    goto done;

  /* 2. and 3. The signature, twice. */
  if (!signature_good(key, keylen, token, (size_t)(second_dot - token),
                      second_dot + 1,
                      token_len - (size_t)(second_dot + 1 - token)))
    goto done;
  if (!libjwt_accepts(key, keylen, token))
    goto done;

  /* 4. The claims, strictly typed. */
  payload = segment_json(first_dot + 1, (size_t)(second_dot - first_dot - 1));
  if (payload == NULL)
    goto done;
  if (string_is(payload, "token_type", "access"))
    found.type = TOKEN_ACCESS;
  else if (string_is(payload, "token_type", "refresh"))
    found.type = TOKEN_REFRESH;
  else
    goto done;
  if (!integer_get(payload, "exp", &found.exp) ||
      !integer_get(payload, "iat", &found.iat) ||
      !integer_get(payload, "user_id", &found.user_id) || found.user_id <= 0)
    goto done;
  jti = json_object_get(payload, "jti");
  if (!json_is_string(jti) || json_string_length(jti) == 0 ||
      json_string_length(jti) >= sizeof found.jti)
    goto done;
  memcpy(found.jti, json_string_value(jti), json_string_length(jti) + 1);
  /* Absent in tokens issued before the claim existed: the initial generation. */
  generation = json_object_get(payload, "token_generation");
  found.generation = 0;
  if (generation != NULL &&
      (!integer_get(payload, "token_generation", &found.generation) || found.generation < 0))
    goto done;

  /* PyJWT: expired when exp <= now; checked before SimpleJWT's type check. */
  if (found.exp <= now) {
    rc = EVENTAPI_EEXPIRED;
    goto done;
  }
  /* PyJWT honours nbf when present. */
  nbf = json_object_get(payload, "nbf");
  if (nbf != NULL &&
      (!json_is_integer(nbf) || json_integer_value(nbf) > now))
    goto done;
  if (found.type != expected)
    goto done;

  if (claims != NULL)
    *claims = found;
  rc = 0;
done:
  json_decref(payload);
  json_decref(header);
  return rc;
}

/* The thread's memo of verified tokens, by digest: MEMO_SLOTS entries in
 * sets of MEMO_WAYS, a token's set chosen by its digest. Direct-mapped, a
 * few hundred tokens in use shared slots, and each pair pushed each other
 * out on every request. */
#define MEMO_SLOTS 1024
#define MEMO_WAYS 4

struct memo_entry {
  unsigned char digest[crypto_generichash_BYTES];
  bool used;
  struct token_claims claims;
};

static _Thread_local struct memo_entry memo[MEMO_SLOTS];

int
auth_token_verify_remembered(const char *key, size_t keylen, const char *token,
                             enum token_type expected, int64_t now,
                             struct token_claims *claims)
{
  size_t token_len = token ? strnlen(token, TOKEN_MAX + 1) : 0;
  if (token_len == 0 || token_len > TOKEN_MAX)
    return EVENTAPI_EINVAL;
  pthread_once(&sodium_once, sodium_setup);
  if (keylen < crypto_generichash_KEYBYTES_MIN)
    return auth_token_verify(key, keylen, token, expected, now, claims);
  unsigned char digest[crypto_generichash_BYTES];
  /* Keyed with the signing key: a memo of another key's tokens never hits. */
  crypto_generichash(digest, sizeof digest, (const unsigned char *)token, token_len,
                     (const unsigned char *)key,
                     keylen < crypto_generichash_KEYBYTES_MAX ? keylen
                                                               : crypto_generichash_KEYBYTES_MAX);
  struct memo_entry *set =
    &memo[(digest[0] | (unsigned)digest[1] << 8) % (MEMO_SLOTS / MEMO_WAYS) * MEMO_WAYS];
  struct memo_entry *entry = NULL;
  for (int way = 0; way < MEMO_WAYS; way++) {
    struct memo_entry *e = &set[way];
    if (e->used && sodium_memcmp(e->digest, digest, sizeof digest) == 0 &&
        e->claims.type == expected) {
      if (e->claims.exp <= now)
        return EVENTAPI_EEXPIRED;
      if (claims)
        *claims = e->claims;
      return 0;
    }
    if (entry == NULL && !e->used)
      entry = e;
  }
  /* A full set gives up an entry the digest picks: no order to keep. */
  if (entry == NULL)
    entry = &set[digest[2] % MEMO_WAYS];
  struct token_claims found;
  int rc = auth_token_verify(key, keylen, token, expected, now, &found);
  if (rc == 0) {
    memcpy(entry->digest, digest, sizeof digest);
    entry->claims = found;
    entry->used = true;
    if (claims)
      *claims = found;
  }
  return rc;
}
