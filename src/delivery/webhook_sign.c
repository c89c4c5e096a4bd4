/*
 * webhook_sign.c - Standard Webhooks signatures with libsodium's
 * HMAC-SHA256 and base64 (see webhook_sign.h).
 */
#include "delivery/webhook_sign.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define SECRET_PREFIX "whsec_"
#define KEY_MIN 24
#define KEY_MAX 64
/* base64 of KEY_MAX bytes, padded */
#define SECRET_TEXT_MAX (sizeof SECRET_PREFIX - 1 + 4 * ((KEY_MAX + 2) / 3))

_Static_assert(DELIVERY_WEBHOOK_SIGNATURE_MAX >=
                   DELIVERY_WEBHOOK_SECRETS_MAX *
                       (3 + sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
                                                      sodium_base64_VARIANT_ORIGINAL)),
               "room for every signature, a space (or the NUL) after each");

/* The key of secret into key, its length in *len: 0 or EVENTAPI_EINVAL. */
static int
decode(const char *secret, unsigned char key[KEY_MAX], size_t *len)
{
  size_t prefix = sizeof SECRET_PREFIX - 1;
  if (secret == NULL || strncmp(secret, SECRET_PREFIX, prefix) != 0 ||
      strlen(secret) > SECRET_TEXT_MAX)
    return EVENTAPI_EINVAL;
  const char *text = secret + prefix;
  size_t text_len = strlen(text);
  const char *end = NULL;
  /* Padded or not; no blanks, and nothing after the base64. */
  int variants[] = {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
    if (sodium_base642bin(key, KEY_MAX, text, text_len, NULL, len, &end, variants[i]) == 0 &&
        end == text + text_len && *len >= KEY_MIN)
      return 0;
  sodium_memzero(key, KEY_MAX);
  return EVENTAPI_EINVAL;
}

int
delivery_webhook_sign(const struct delivery_webhook_keys *keys, const char *id,
                      int64_t timestamp, const char *body, size_t len,
                      char out[DELIVERY_WEBHOOK_SIGNATURE_MAX])
{
  out[0] = '\0';
  if (keys->count == 0 || keys->count > DELIVERY_WEBHOOK_SECRETS_MAX)
    return EVENTAPI_EINVAL;
  char stamp[24];
  int stamp_len = snprintf(stamp, sizeof stamp, "%" PRId64, timestamp);
  size_t used = 0;
  for (size_t i = 0; i < keys->count; i++) {
    unsigned char key[KEY_MAX];
    size_t key_len = 0;
    if (decode(keys->secrets[i], key, &key_len) < 0) {
      out[0] = '\0';
      return EVENTAPI_EINVAL;
    }
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&state, key, key_len);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)stamp, (size_t)stamp_len);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_memzero(key, sizeof key);
    sodium_memzero(&state, sizeof state);
    memcpy(out + used, i > 0 ? " v1," : "v1,", i > 0 ? 4 : 3);
    used += i > 0 ? 4 : 3;
    sodium_bin2base64(out + used, DELIVERY_WEBHOOK_SIGNATURE_MAX - used, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
    used += strlen(out + used);
  }
  return 0;
}
