/*
 * mail.h - the mail channel of the outbox: an email, rendered by whoever
 * writes it (subject, plain text, HTML), kept as the message's payload and
 * sent by the worker through the transport of EMAIL_URL (mailer.h), from
 * EMAIL_FROM, as a MIME message built at send time (mail_message.h).
 *
 * The payload is a JSON object {"to", "to_name", "subject", "text",
 * "html"}; the Message-ID is the outbox's message_id at the domain of
 * EMAIL_FROM ("<message_id@domain>"), the same for every try (a message_id
 * that holds an '@' already, carried over from before migration 0009, is
 * used as it is).
 */
#ifndef EVENTAPI_DELIVERY_MAIL_H
#define EVENTAPI_DELIVERY_MAIL_H

#include <stdint.h>

#include "db/db.h"
#include "delivery/outbox.h"

/* The outbox's channel name for mail. */
#define DELIVERY_MAIL "mail"

/* An email, rendered. Every pointer is borrowed; NULL texts count as "". */
struct delivery_mail {
  const char *to;      /* the recipient's addr-spec */
  const char *to_name; /* the recipient's display name; NULL or "": none */
  const char *subject;
  const char *text;    /* the text/plain body, "\n" line ends */
  const char *html;    /* the text/html body, already escaped */
};

/*
 * Writes mail to the outbox (delivery_enqueue) as a message of the mail
 * channel: m says its kind, source, not_before, expires_at (and, for a
 * message carried over, message_id, attempts, last_error, dead); m's
 * channel, target and payload are ignored, made from mail. A recipient
 * that cannot be used is written all the same and dies at its first try,
 * with the reason, for operators to see. Sets *id when id is not NULL.
 * Returns 0 or a negative code.
 */
int delivery_mail_enqueue(db_t *db, const struct delivery_mail *mail,
                          const struct delivery_new *m, int64_t now, int64_t *id);

#endif
