/*
 * channel.h - what the worker knows of a channel (mail.c, webhook.c): how
 * to send one message of it, and its retry policy. Internal to
 * src/delivery/: apps write messages through outbox.h, mail.h and
 * webhook.h.
 *
 * A channel's sender is made once per worker thread (open) and used by
 * that thread alone; send hands one claimed message to the transport and
 * says how it went, never writing to the database (mail rendered at send
 * time, and a webhook's signing secrets, are read in a read transaction
 * of the worker thread's own connection: mail.h, webhook.h).
 */
#ifndef EVENTAPI_DELIVERY_CHANNEL_H
#define EVENTAPI_DELIVERY_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "delivery/outbox.h"

/* How long the start of a reply kept in last_response may be. */
#define DELIVERY_RESPONSE_MAX 1024

/* What a send says of itself beyond its result code. */
struct delivery_result {
  int64_t status;                             /* the reply's code; 0: none */
  char error[512];                            /* one line: why it failed */
  char response[DELIVERY_RESPONSE_MAX + 1];   /* the start of the reply; "": none */
};

struct delivery_channel {
  const char *name;             /* the outbox's channel column: "mail" */
  const char *attempts_setting; /* what bounds its tries, for messages: a setting
                                   ("EMAIL_MAX_ATTEMPTS") or a fixed schedule's */
  /* Checks cfg's settings of the channel: 0, or EVENTAPI_EINVAL with a
   * reason naming the setting in err. */
  int (*check)(const struct config *cfg, char *err, size_t errlen);
  /* A sender for one worker thread (cfg outlives it), logged as describe
   * says. 0, or a negative code with a reason in err. */
  int (*open)(const struct config *cfg, void **sender, char *err, size_t errlen);
  const char *(*describe)(const void *sender);
  /* Sends m: 0 sent; EVENTAPI_EUNAVAILABLE worth retrying;
   * EVENTAPI_EINVAL never (dead at once). Fills out either way. */
  int (*send)(void *sender, const struct delivery_message *m, int64_t now,
              struct delivery_result *out);
  void (*close)(void *sender);
  /* Tries before a message is dead, the wait before try attempts + 1, and
   * the most one send may take (the transport's timeout, which bounds a
   * claim's lease: worker.c). */
  unsigned (*max_attempts)(const struct config *cfg);
  int64_t (*retry_us)(const struct config *cfg, int64_t attempts);
  int64_t (*timeout_us)(const struct config *cfg);
};

extern const struct delivery_channel delivery_mail_channel;
extern const struct delivery_channel delivery_webhook_channel;

#endif
