/*
 * webhook.h - the webhook channel of the outbox: an event POSTed as JSON
 * to an endpoint's URL by the worker, signed as the Standard Webhooks
 * specification says (webhook_sign.h), over HTTPS with libcurl.
 *
 * A message's target is the endpoint's URL, its kind the event type
 * ("registration.created", "ping"), its payload the exact body to POST (the
 * app builds the JSON; it is sent byte for byte), and its source
 * "webhook:<ref>", where ref is the app's own key of the endpoint
 * (delivery_webhook_cancel drops what is unsent of one endpoint). The
 * outbox's message_id is the webhook-id header, the same on every try and
 * on a redelivery that gives it again.
 *
 * The signing secrets are not in the row: the worker asks for them when it
 * sends, through the function the app registered at start-up
 * (delivery_webhook_keys_register), so that a rotated or revoked secret
 * counts from the next try on, and no secret sits in the outbox.
 *
 * Each try is a POST with Content-Type: application/json, a User-Agent
 * naming eventapi and its version, and the headers webhook-id,
 * webhook-timestamp (Unix seconds when sent) and webhook-signature. A 2xx
 * is sent; any other answer, a timeout (WEBHOOK_TIMEOUT_SECONDS) or a
 * broken connection is tried again after about 5 s, 5 min, 30 min, 2 h,
 * 5 h and 10 h (give or take a tenth), then the message is dead.
 * Redirects are not followed (a 3xx is a failure).
 *
 * Where a webhook may go (webhook_url.c): https:// only, http:// too with
 * WEBHOOK_ALLOW_HTTP; no user name or password in the URL; and never to
 * an address that is loopback, private, link-local, shared (CGNAT),
 * unspecified, multicast, broadcast or reserved, nor to an IPv6 address
 * that embeds one (IPv4-mapped, IPv4-compatible, NAT64), unless it lies
 * in WEBHOOK_ALLOWED_NETWORKS. The rule holds for the address each
 * connection is actually made to, whatever name or numeric form the URL
 * gave; a message refused by it, or whose endpoint is gone, is dead at
 * once with the reason.
 */
#ifndef EVENTAPI_DELIVERY_WEBHOOK_H
#define EVENTAPI_DELIVERY_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/config.h"
#include "db/db.h"
#include "delivery/outbox.h"

/* The outbox's channel name for webhooks. */
#define DELIVERY_WEBHOOK "webhook"

/* The longest URL a webhook may go to. */
#define DELIVERY_WEBHOOK_URL_MAX 2048

/* Secrets an endpoint signs with at once: its own, and its last during a rotation. */
#define DELIVERY_WEBHOOK_SECRETS_MAX 2

/* A webhook to write. Every pointer is borrowed. */
struct delivery_webhook {
  const char *url;        /* the endpoint's URL: the message's target */
  const char *type;       /* the event type: the message's kind ("ping") */
  const char *body;       /* the JSON body, POSTed byte for byte */
  int64_t ref;            /* the app's key of the endpoint, handed to the key resolver */
  const char *message_id; /* the webhook-id: NULL, a new random one; given (a
                             redelivery), kept: 1 to DELIVERY_MESSAGE_ID_MAX
                             printable ASCII characters, no blank */
};

/*
 * Writes w to the outbox (delivery_enqueue) as a message of the webhook
 * channel, due now, with source "webhook:<ref>", in the caller's unit of
 * work. The URL is not checked here (delivery_webhook_url_check is, when
 * the app takes it): one that cannot be used is written all the same and
 * is dead at its first try, with the reason. Sets *id when id is not NULL.
 * Returns 0 or a negative code (EVENTAPI_EINVAL for a missing url, type or
 * body, or a malformed message_id).
 */
int delivery_webhook_enqueue(db_t *db, const struct delivery_webhook *w, int64_t now,
                             int64_t *id);

/*
 * Drops what is unsent of the endpoint ref (delivery_cancel of its source):
 * its pending webhooks that no worker holds at now. *cancelled counts them
 * when not NULL.
 */
int delivery_webhook_cancel(db_t *db, int64_t ref, int64_t now, int *cancelled);

/*
 * The webhooks written for endpoint ref, newest first, a page of them
 * (delivery_list_source of its source): what was sent to it, how each
 * try ended, what is still to send.
 */
int delivery_webhook_list(db_t *db, int64_t ref, int64_t limit, int64_t offset, arena_t *arena,
                          struct delivery_message **out, size_t *count, int64_t *total);

/*
 * Message id, if it is a webhook written for endpoint ref (delivery_get):
 * 0, or EVENTAPI_ENOTFOUND when there is none, or it is another's.
 */
int delivery_webhook_get(db_t *db, int64_t ref, int64_t id, arena_t *arena,
                         struct delivery_message *out);

/*
 * Whether endpoint ref keeps failing (delivery_source_failing of its
 * source, over the webhooks written since since): *failing_since, when
 * the oldest webhook that failed since the last one delivered was
 * written (0: none); *dead, whether one of them is dead.
 */
int delivery_webhook_failing(db_t *db, int64_t ref, int64_t since, int64_t *failing_since,
                             bool *dead);

/* An endpoint's signing secrets: "whsec_" and the base64 of the key. */
struct delivery_webhook_keys {
  const char *secrets[DELIVERY_WEBHOOK_SECRETS_MAX]; /* borrowed, or in the arena */
  size_t count;                                      /* 1, or 2 during a rotation */
};

/*
 * Fills keys with the current signing secrets of the endpoint ref, at send
 * time, on a worker thread, inside a read transaction of db (the worker's
 * own connection: never the writer's); what it allocates goes in arena.
 * keys is empty when it is called.
 *
 * Returns 0; EVENTAPI_ENOTFOUND when the endpoint is gone or no longer
 * active (the message is dead at once); any other negative code for a
 * failure worth retrying. On failure it may write a one-line reason into
 * err ("endpoint 42 is gone"), never a secret.
 */
typedef int (*delivery_webhook_keys_fn)(db_t *db, int64_t ref, arena_t *arena,
                                        struct delivery_webhook_keys *keys, char *err,
                                        size_t errlen);

/*
 * Has the webhook channel ask fn for secrets (a later call replaces it;
 * NULL: none). Once per process, before any worker starts (app.c). Until
 * one is registered, a webhook is dead at its try, with the reason.
 */
void delivery_webhook_keys_register(delivery_webhook_keys_fn fn);

/*
 * Whether a webhook may go to url under cfg's settings, for an app to
 * check an endpoint's URL when it is given (webhook_url.c): read by
 * libcurl's URL API; the scheme https (or http with WEBHOOK_ALLOW_HTTP);
 * a host; no user name or password; no IPv6 zone; at most
 * DELIVERY_WEBHOOK_URL_MAX bytes, no control character or blank; and, when
 * the host is an address (in any form libcurl reads as one, such as
 * 2130706433 for 127.0.0.1), one that the network rule above allows. A
 * host name is allowed here: the addresses it resolves to are checked
 * when each webhook is sent. Returns 0; EVENTAPI_EINVAL with a one-line
 * reason in err that never quotes the URL (it may hold a token);
 * EVENTAPI_ENOMEM.
 */
int delivery_webhook_url_check(const struct config *cfg, const char *url, char *err,
                               size_t errlen);

#endif
