/*
 * webhook_sign.h - a webhook's signature, as the Standard Webhooks
 * specification makes it (https://www.standardwebhooks.com/).
 *
 * A secret is "whsec_" and the standard base64 of its key, 24 to 64 bytes
 * (the specification's bounds; padding optional). The signed content is
 * "<webhook-id>.<webhook-timestamp>.<body>", the body byte for byte; its
 * signature is "v1," and the base64 of HMAC-SHA256(key, content), and the
 * webhook-signature header holds one per secret, separated by a space, so
 * that a receiver holding either secret of a rotation can check it.
 *
 * Internal to src/delivery/ (the webhook channel, its tests). A secret is
 * never written to a log, a reason or a header; the decoded key is wiped
 * once used.
 */
#ifndef EVENTAPI_DELIVERY_WEBHOOK_SIGN_H
#define EVENTAPI_DELIVERY_WEBHOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "delivery/webhook.h"

/* Room for the webhook-signature header's value, NUL included. */
#define DELIVERY_WEBHOOK_SIGNATURE_MAX (DELIVERY_WEBHOOK_SECRETS_MAX * 48)

/*
 * Writes the value of the webhook-signature header for the message id
 * sent at timestamp (Unix seconds) with body[0..len), one signature for
 * each of keys' secrets, into out (DELIVERY_WEBHOOK_SIGNATURE_MAX bytes).
 * Returns 0, or EVENTAPI_EINVAL when keys holds no secret, more than
 * DELIVERY_WEBHOOK_SECRETS_MAX, or one that is not "whsec_" and the base64
 * of 24 to 64 bytes (out is then "").
 */
int delivery_webhook_sign(const struct delivery_webhook_keys *keys, const char *id,
                          int64_t timestamp, const char *body, size_t len,
                          char out[DELIVERY_WEBHOOK_SIGNATURE_MAX]);

#endif
