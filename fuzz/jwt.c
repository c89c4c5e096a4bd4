/*
 * jwt.c - token verification (auth_token_verify and its memo,
 * auth_token_verify_remembered), as the authentication middleware and the
 * refresh and blacklist views run it.
 *
 * Input: either a token as a client sends it, or (first byte '{') a header
 * and a payload, newline-separated, which are base64url-encoded and signed
 * with the server's key here, so that the claims checks behind the
 * signature are reached too. The last byte picks the expected token type.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "core/error.h"
#include "support.h"

static const char KEY[] = "fuzzing-secret-key-of-at-least-32-bytes";
#define NOW INT64_C(1900000000) /* 2030-03-17 */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  if (sodium_init() < 0)
    abort();
  return 0;
}

/* "header.payload.signature" for two JSON texts, signed with KEY (HS256). */
static char *
signed_token(const char *header, size_t header_len, const char *payload, size_t payload_len)
{
  size_t h64 = sodium_base64_ENCODED_LEN(header_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  size_t p64 = sodium_base64_ENCODED_LEN(payload_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  size_t s64 = sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *token = malloc(h64 + p64 + s64 + 2);
  if (token == NULL)
    abort();
  sodium_bin2base64(token, h64, (const unsigned char *)header, header_len,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  size_t used = strlen(token);
  token[used++] = '.';
  sodium_bin2base64(token + used, p64, (const unsigned char *)payload, payload_len,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  used += strlen(token + used);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, (const unsigned char *)KEY, sizeof KEY - 1);
  crypto_auth_hmacsha256_update(&state, (const unsigned char *)token, used);
  crypto_auth_hmacsha256_final(&state, mac);
  token[used++] = '.';
  sodium_bin2base64(token + used, s64, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return token;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  enum token_type expected = data[size - 1] & 1 ? TOKEN_REFRESH : TOKEN_ACCESS;
  size--;
  char *token;
  if (size > 0 && data[0] == '{') {
    const uint8_t *newline = memchr(data, '\n', size);
    size_t header_len = newline ? (size_t)(newline - data) : size;
    size_t payload_len = newline ? size - header_len - 1 : 0;
    token = signed_token((const char *)data, header_len,
                         newline ? (const char *)newline + 1 : "", payload_len);
  } else {
    token = fuzz_text(data, size);
  }

  struct token_claims claims;
  int rc = auth_token_verify(KEY, sizeof KEY - 1, token, expected, NOW, &claims);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL || rc == EVENTAPI_EEXPIRED);
  if (rc == 0) {
    FUZZ_CHECK(claims.type == expected);
    FUZZ_CHECK(claims.user_id > 0 && claims.generation >= 0 && claims.exp > NOW);
    FUZZ_CHECK(strlen(claims.jti) > 0 && strlen(claims.jti) < sizeof claims.jti);
  }
  /* The memo answers as a fresh verification does, the first time and the second. */
  for (int twice = 0; twice < 2; twice++) {
    struct token_claims remembered;
    int again = auth_token_verify_remembered(KEY, sizeof KEY - 1, token, expected, NOW,
                                             &remembered);
    FUZZ_CHECK(again == rc);
    if (rc == 0)
      FUZZ_CHECK(remembered.user_id == claims.user_id && remembered.exp == claims.exp &&
                 remembered.generation == claims.generation);
  }
  /* Another key never accepts it. */
  static const char other[] = "another-secret-key-of-at-least-32-bytes";
  FUZZ_CHECK(auth_token_verify(other, sizeof other - 1, token, expected, NOW, &claims) ==
             EVENTAPI_EINVAL);
  free(token);
  return 0;
}
