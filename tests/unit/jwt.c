/*
 * Unit tests for auth/jwt: SimpleJWT-compatible HS256 tokens.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "core/error.h"

#define KEY "test-secret-key-0123456789"
#define OTHER_KEY "another-secret-key-987654321"
#define NOW 1700000000LL

static const char hs256_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void
setup(void)
{
  cr_assert(sodium_init() >= 0);
}

TestSuite(jwt, .init = setup);

/* Appends the unpadded base64url form of data[0..len) to out. */
static void
b64url_append(char *out, size_t outmax, const void *data, size_t len)
{
  size_t used = strlen(out);

  cr_assert(used + sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= outmax);
  sodium_bin2base64(out + used, outmax - used, data, len,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * Builds header.payload.signature by hand. The signature is HMAC-SHA256
 * with key when key is not NULL, and empty otherwise. Caller frees.
 */
static char *
token_by_hand(const char *header, const char *payload, const char *key)
{
  size_t outmax = 2 * (strlen(header) + strlen(payload)) + 128;
  char *out = calloc(1, outmax);

  cr_assert_not_null(out);
  b64url_append(out, outmax, header, strlen(header));
  strcat(out, ".");
  b64url_append(out, outmax, payload, strlen(payload));
  strcat(out, ".");
  if (key != NULL) {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    size_t signed_len = strlen(out) - 1;

    crypto_auth_hmacsha256_init(&state, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)out, signed_len);
    crypto_auth_hmacsha256_final(&state, mac);
    b64url_append(out, outmax, mac, sizeof mac);
  }
  return out;
}

/* A valid access payload for user 7, expiring an hour after NOW. */
static char *
payload_text(const char *token_type, long long exp, long long user_id)
{
  char *out = NULL;

  cr_assert(asprintf(&out,
                     "{\"token_type\":\"%s\",\"exp\":%lld,\"iat\":%lld,"
                     "\"jti\":\"0123456789abcdef0123456789abcdef\","
                     "\"user_id\":%lld}",
                     token_type, exp, (long long)NOW, user_id) > 0);
  return out;
}

static int
verify_access(const char *token)
{
  struct token_claims claims;

  return auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS, NOW, &claims);
}

/* Signs payload with libjwt using alg and the right key. */
static char *
token_by_libjwt(jwt_alg_t alg, const char *payload)
{
  jwt_t *jwt = NULL;
  char *token;

  cr_assert_eq(jwt_new(&jwt), 0);
  cr_assert_eq(jwt_set_alg(jwt, alg, (const unsigned char *)KEY, (int)strlen(KEY)), 0);
  cr_assert_eq(jwt_add_grants_json(jwt, payload), 0);
  token = jwt_encode_str(jwt);
  cr_assert_not_null(token);
  jwt_free(jwt);
  return token;
}

Test(jwt, access_roundtrip)
{
  struct token_claims issued, verified;
  char *token = NULL;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 42, 0, NOW, 1800,
                                &token, &issued), 0);
  cr_assert_not_null(token);
  cr_assert_eq(issued.type, TOKEN_ACCESS);
  cr_assert_eq(issued.user_id, 42);
  cr_assert_eq(issued.iat, NOW);
  cr_assert_eq(issued.exp, NOW + 1800);

  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS,
                                 NOW + 10, &verified), 0);
  cr_assert_eq(verified.type, TOKEN_ACCESS);
  cr_assert_eq(verified.user_id, 42);
  cr_assert_eq(verified.iat, NOW);
  cr_assert_eq(verified.exp, NOW + 1800);
  cr_assert_str_eq(verified.jti, issued.jti);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS,
                                 NOW, NULL), 0);
  free(token);
}

Test(jwt, refresh_roundtrip)
{
  struct token_claims verified;
  char *token = NULL;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_REFRESH, 9, 0, NOW,
                                7 * 86400, &token, NULL), 0);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_REFRESH,
                                 NOW + 86400, &verified), 0);
  cr_assert_eq(verified.type, TOKEN_REFRESH);
  cr_assert_eq(verified.user_id, 9);
  free(token);
}

Test(jwt, claims_are_simplejwt_claims)
{
  struct token_claims issued;
  char *token = NULL;
  jwt_t *decoded = NULL;
  char *grants;
  json_t *payload;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 5, 0, NOW, 60,
                                &token, &issued), 0);
  cr_assert_eq(jwt_decode(&decoded, token, (const unsigned char *)KEY,
                          (int)strlen(KEY)), 0);
  cr_assert_eq(jwt_get_alg(decoded), JWT_ALG_HS256);
  grants = jwt_get_grants_json(decoded, NULL);
  cr_assert_not_null(grants);
  payload = json_loads(grants, 0, NULL);
  cr_assert_not_null(payload);
  cr_assert_eq(json_object_size(payload), 6);
  cr_assert_str_eq(json_string_value(json_object_get(payload, "token_type")), "access");
  cr_assert(json_is_integer(json_object_get(payload, "exp")));
  cr_assert(json_is_integer(json_object_get(payload, "iat")));
  cr_assert(json_is_integer(json_object_get(payload, "user_id")));
  cr_assert_eq(json_integer_value(json_object_get(payload, "user_id")), 5);
  cr_assert_str_eq(json_string_value(json_object_get(payload, "jti")), issued.jti);
  cr_assert(json_is_integer(json_object_get(payload, "token_generation")));
  cr_assert_eq(json_integer_value(json_object_get(payload, "token_generation")), 0);
  json_decref(payload);
  free(grants);
  jwt_free(decoded);
  free(token);
}

Test(jwt, jti_is_uuid4_hex)
{
  struct token_claims first, second;
  char *token = NULL;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 1, 0, NOW, 60,
                                &token, &first), 0);
  free(token);
  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 1, 0, NOW, 60,
                                &token, &second), 0);
  free(token);
  cr_assert_eq(strlen(first.jti), 32);
  for (size_t i = 0; i < 32; i++)
    cr_assert(strchr("0123456789abcdef", first.jti[i]) != NULL,
              "jti %s", first.jti);
  cr_assert_eq(first.jti[12], '4');
  cr_assert(strchr("89ab", first.jti[16]) != NULL);
  cr_assert_str_neq(first.jti, second.jti);
}

Test(jwt, wrong_token_type_refused)
{
  char *access = NULL, *refresh = NULL;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 3, 0, NOW, 60,
                                &access, NULL), 0);
  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_REFRESH, 3, 0, NOW, 60,
                                &refresh, NULL), 0);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), access, TOKEN_REFRESH, NOW,
                                 NULL), EVENTAPI_EINVAL);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), refresh, TOKEN_ACCESS, NOW,
                                 NULL), EVENTAPI_EINVAL);
  free(access);
  free(refresh);
}

Test(jwt, expired)
{
  char *token = NULL;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 3, 0, NOW, 60,
                                &token, NULL), 0);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS,
                                 NOW + 59, NULL), 0);
  /* PyJWT: exp <= now is expired. */
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS,
                                 NOW + 60, NULL), EVENTAPI_EEXPIRED);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS,
                                 NOW + 86400, NULL), EVENTAPI_EEXPIRED);
  /* An expired token under the wrong key is just invalid. */
  cr_assert_eq(auth_token_verify(OTHER_KEY, strlen(OTHER_KEY), token,
                                 TOKEN_ACCESS, NOW + 86400, NULL),
               EVENTAPI_EINVAL);
  free(token);
}

Test(jwt, forged_signature_refused)
{
  char *token = NULL;
  char *other = NULL;
  size_t sig_at, len;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 3, 0, NOW, 60,
                                &token, NULL), 0);
  len = strlen(token);
  sig_at = (size_t)(strrchr(token, '.') + 1 - token);
  /* Flip each character of the signature in turn. */
  for (size_t i = sig_at; i < len; i++) {
    char *forged = strdup(token);
    cr_assert_not_null(forged);
    forged[i] = forged[i] == 'A' ? 'Q' : 'A';
    cr_assert_eq(verify_access(forged), EVENTAPI_EINVAL, "flipped %zu", i);
    free(forged);
  }
  cr_assert_eq(verify_access(token), 0);
  free(token);

  /* Signed with another key. */
  cr_assert_eq(auth_token_issue(OTHER_KEY, strlen(OTHER_KEY), TOKEN_ACCESS, 3, 0,
                                NOW, 60, &other, NULL), 0);
  cr_assert_eq(verify_access(other), EVENTAPI_EINVAL);
  free(other);
}

Test(jwt, tampered_payload_refused)
{
  char *payload = payload_text("access", NOW + 60, 7);
  char *good = token_by_hand(hs256_header, payload, KEY);
  char *evil_payload = payload_text("access", NOW + 60, 1);
  char *evil = token_by_hand(hs256_header, evil_payload, KEY);
  char *spliced = NULL;

  cr_assert_eq(verify_access(good), 0);
  /* evil's header and payload with good's signature. */
  cr_assert(asprintf(&spliced, "%.*s%s", (int)(strrchr(evil, '.') - evil), evil,
                     strrchr(good, '.')) > 0);
  cr_assert_eq(verify_access(spliced), EVENTAPI_EINVAL);
  free(spliced);
  free(evil);
  free(evil_payload);
  free(good);
  free(payload);
}

Test(jwt, alg_none_refused)
{
  char *payload = payload_text("access", NOW + 60, 7);
  char *unsigned_token = token_by_hand("{\"alg\":\"none\",\"typ\":\"JWT\"}",
                                       payload, NULL);
  char *signed_token = token_by_hand("{\"alg\":\"none\",\"typ\":\"JWT\"}",
                                     payload, KEY);
  char *upper = token_by_hand("{\"alg\":\"None\"}", payload, KEY);
  char *no_alg = token_by_hand("{\"typ\":\"JWT\"}", payload, KEY);

  cr_assert_eq(verify_access(unsigned_token), EVENTAPI_EINVAL);
  cr_assert_eq(verify_access(signed_token), EVENTAPI_EINVAL);
  cr_assert_eq(verify_access(upper), EVENTAPI_EINVAL);
  cr_assert_eq(verify_access(no_alg), EVENTAPI_EINVAL);
  free(no_alg);
  free(upper);
  free(signed_token);
  free(unsigned_token);
  free(payload);
}

Test(jwt, other_hmac_algs_refused)
{
  char *payload = payload_text("access", NOW + 60, 7);
  char *hs384 = token_by_libjwt(JWT_ALG_HS384, payload);
  char *hs512 = token_by_libjwt(JWT_ALG_HS512, payload);
  char *hs256 = token_by_libjwt(JWT_ALG_HS256, payload);

  cr_assert_eq(verify_access(hs256), 0); /* the control */
  cr_assert_eq(verify_access(hs384), EVENTAPI_EINVAL);
  cr_assert_eq(verify_access(hs512), EVENTAPI_EINVAL);
  free(hs256);
  free(hs512);
  free(hs384);
  free(payload);
}

Test(jwt, rs256_and_odd_headers_refused)
{
  char *payload = payload_text("access", NOW + 60, 7);
  const char *headers[] = {
    "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
    "{\"alg\":\"ES256\"}",
    "{\"alg\":\"hs256\"}",
    "{\"alg\":\"HS256 \"}",
    "{\"alg\":[\"HS256\"]}",
    "{\"alg\":\"none\",\"alg\":\"HS256\"}",
    "{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
    "[\"HS256\"]",
    "\"HS256\"",
    "{\"alg\":\"HS256\"",
    "",
  };

  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
    char *token = token_by_hand(headers[i], payload, KEY);
    cr_assert_eq(verify_access(token), EVENTAPI_EINVAL, "header %s", headers[i]);
    free(token);
  }
  free(payload);
}

Test(jwt, garbage_refused)
{
  const char *tokens[] = {
    "", ".", "..", "...", "a.b.c", "a.b.c.d", "abc", "Bearer x",
    "eyJhbGciOiJIUzI1NiJ9..", "\xff\xfe.\x01.\x02",
  };
  struct token_claims claims;
  char *huge;
  char *payload;
  char *big = NULL;
  char *dotted = NULL;
  char *issued = NULL;

  for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
    cr_assert_eq(verify_access(tokens[i]), EVENTAPI_EINVAL, "token %s", tokens[i]);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), NULL, TOKEN_ACCESS, NOW,
                                 &claims), EVENTAPI_EINVAL);

  huge = malloc(100000);
  cr_assert_not_null(huge);
  memset(huge, 'a', 99999);
  huge[99999] = '\0';
  huge[10] = '.';
  huge[20] = '.';
  cr_assert_eq(verify_access(huge), EVENTAPI_EINVAL);
  free(huge);

  /* Well signed, but over 4096 bytes. */
  cr_assert(asprintf(&payload,
                     "{\"token_type\":\"access\",\"exp\":%lld,\"iat\":%lld,"
                     "\"jti\":\"x\",\"user_id\":7,\"pad\":\"%03000d\"}",
                     (long long)NOW + 60, (long long)NOW, 0) > 0);
  big = token_by_hand(hs256_header, payload, KEY);
  cr_assert_gt(strlen(big), 4096);
  cr_assert_eq(verify_access(big), EVENTAPI_EINVAL);
  free(big);
  free(payload);

  /* A fourth segment after a valid token. */
  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 3, 0, NOW, 60,
                                &issued, NULL), 0);
  cr_assert(asprintf(&dotted, "%s.", issued) > 0);
  cr_assert_eq(verify_access(dotted), EVENTAPI_EINVAL);
  free(dotted);
  free(issued);
}

Test(jwt, bad_claims_refused)
{
  const char *payloads[] = {
    /* user_id mistyped, missing, not positive */
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":\"7\"}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\"}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":0}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":-3}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7.0}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":true}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":null}",
    /* exp missing or mistyped */
    "{\"token_type\":\"access\",\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7}",
    "{\"token_type\":\"access\",\"exp\":\"1700000060\",\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7}",
    "{\"token_type\":\"access\",\"exp\":1700000060.5,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7}",
    /* iat missing or mistyped */
    "{\"token_type\":\"access\",\"exp\":1700000060,\"jti\":\"abc\",\"user_id\":7}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":\"now\",\"jti\":\"abc\",\"user_id\":7}",
    /* jti missing, mistyped, empty, too long */
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"user_id\":7}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":12,\"user_id\":7}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"\",\"user_id\":7}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"0123456789abcdef0123456789abcdef0\",\"user_id\":7}",
    /* token_type missing, mistyped, unknown */
    "{\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7}",
    "{\"token_type\":1,\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7}",
    "{\"token_type\":\"Access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7}",
    /* token_generation mistyped or negative */
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7,\"token_generation\":\"1\"}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7,\"token_generation\":1.0}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7,\"token_generation\":null}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7,\"token_generation\":-1}",
    /* duplicate claims, nbf in the future, not an object */
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7,\"user_id\":1}",
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,\"jti\":\"abc\",\"user_id\":7,\"nbf\":1700000030}",
    "[1,2,3]",
    "{}",
    "not json",
  };

  for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
    char *token = token_by_hand(hs256_header, payloads[i], KEY);
    cr_assert_eq(verify_access(token), EVENTAPI_EINVAL, "payload %s", payloads[i]);
    free(token);
  }
}

Test(jwt, hand_built_token_accepted)
{
  /* The hand-built path is a faithful control: this one is valid. */
  const char *payload =
    "{\"token_type\":\"access\",\"exp\":1700000060,\"iat\":1700000000,"
    "\"jti\":\"0123456789abcdef0123456789abcdef\",\"user_id\":7,\"nbf\":1699999999}";
  char *token = token_by_hand(hs256_header, payload, KEY);
  struct token_claims claims;

  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS, NOW,
                                 &claims), 0);
  cr_assert_eq(claims.user_id, 7);
  cr_assert_eq(claims.exp, 1700000060);
  cr_assert_str_eq(claims.jti, "0123456789abcdef0123456789abcdef");
  free(token);
}

Test(jwt, the_generation_goes_round_trip)
{
  struct token_claims issued, verified;
  char *token = NULL;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_REFRESH, 42, 7, NOW, 60,
                                &token, &issued), 0);
  cr_assert_eq(issued.generation, 7);
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_REFRESH, NOW,
                                 &verified), 0);
  cr_assert_eq(verified.generation, 7);
  free(token);
}

Test(jwt, a_token_without_a_generation_is_of_the_initial_one)
{
  /* Issued before the claim existed. */
  char *payload = payload_text("access", NOW + 60, 7);
  char *token = token_by_hand(hs256_header, payload, KEY);
  struct token_claims claims;

  claims.generation = 99;
  cr_assert_eq(auth_token_verify(KEY, strlen(KEY), token, TOKEN_ACCESS, NOW, &claims), 0);
  cr_assert_eq(claims.generation, 0);
  free(token);
  free(payload);
}

Test(jwt, padded_base64_refused)
{
  char *token = NULL;
  char *padded = NULL;

  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 3, 0, NOW, 60,
                                &token, NULL), 0);
  cr_assert_eq(verify_access(token), 0);
  cr_assert(asprintf(&padded, "%s=", token) > 0);
  cr_assert_eq(verify_access(padded), EVENTAPI_EINVAL);
  free(padded);
  free(token);
}

Test(jwt, bad_arguments)
{
  char *token = (char *)"untouched";

  cr_assert_eq(auth_token_issue(KEY, 0, TOKEN_ACCESS, 3, 0, NOW, 60, &token, NULL),
               EVENTAPI_EINVAL);
  cr_assert_null(token);
  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 0, 0, NOW, 60,
                                &token, NULL), EVENTAPI_EINVAL);
  cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 3, -1, NOW, 60,
                                &token, NULL), EVENTAPI_EINVAL);
  cr_assert_eq(auth_token_verify(KEY, 0, "a.b.c", TOKEN_ACCESS, NOW, NULL),
               EVENTAPI_EINVAL);
}

/* The thread's memo (auth_token_verify_remembered): far more tokens than it
 * holds, each verified three times over, always answer their own claims;
 * what it remembers still expires, and only for the type it was verified
 * as; another key never finds it. */
Test(jwt, the_memo_answers_each_token_its_own_claims)
{
  enum { TOKENS = 3000 };
  char **tokens = calloc(TOKENS, sizeof *tokens);
  cr_assert_not_null(tokens);
  for (int i = 0; i < TOKENS; i++)
    cr_assert_eq(auth_token_issue(KEY, strlen(KEY), TOKEN_ACCESS, 1000 + i, i % 3, NOW, 1800,
                                  &tokens[i], NULL), 0);
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < TOKENS; i++) {
      int at = round == 1 ? TOKENS - 1 - i : i;
      struct token_claims c;
      cr_assert_eq(auth_token_verify_remembered(KEY, strlen(KEY), tokens[at], TOKEN_ACCESS,
                                                NOW + 10, &c), 0);
      cr_assert_eq(c.user_id, 1000 + at, "round %d: token %d answered user %lld", round, at,
                   (long long)c.user_id);
      cr_assert_eq(c.generation, at % 3);
    }
  cr_assert_eq(auth_token_verify_remembered(KEY, strlen(KEY), tokens[7], TOKEN_ACCESS,
                                            NOW + 1800, NULL), EVENTAPI_EEXPIRED);
  cr_assert_eq(auth_token_verify_remembered(KEY, strlen(KEY), tokens[7], TOKEN_REFRESH,
                                            NOW + 10, NULL), EVENTAPI_EINVAL);
  cr_assert_eq(auth_token_verify_remembered(OTHER_KEY, strlen(OTHER_KEY), tokens[7],
                                            TOKEN_ACCESS, NOW + 10, NULL), EVENTAPI_EINVAL);
  for (int i = 0; i < TOKENS; i++)
    free(tokens[i]);
  free(tokens);
}
