/*
 * mail.h - the mail channel of the outbox: an email (subject, plain text,
 * HTML) sent by the worker through the transport of EMAIL_URL (mailer.h),
 * from EMAIL_FROM, as a MIME message built at send time (mail_message.h).
 *
 * A message's payload is either the email itself, rendered by whoever
 * wrote it, a JSON object {"to", "to_name", "subject", "text", "html"}; or
 * a reference, {"render": name, "ref": id}, which the worker renders when
 * it sends the message, by the renderer the app registered under name
 * (delivery_mail_renderer_register), from what the app keeps of id. An app
 * writes a reference in its unit of work (delivery_mail_enqueue_ref) so
 * that rendering stays off the write path (on SQLite, one writer thread
 * runs every unit); src/delivery/ still includes no app header, as the
 * renderer is a function the app hands it at start-up.
 *
 * The Message-ID is the outbox's message_id at the domain of EMAIL_FROM
 * ("<message_id@domain>"), the same for every try (a message_id that holds
 * an '@' already, carried over from before migration 0009, is used as it
 * is).
 */
#ifndef EVENTAPI_DELIVERY_MAIL_H
#define EVENTAPI_DELIVERY_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
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

/* The longest name of a renderer: letters, digits and '_'. */
#define DELIVERY_MAIL_RENDERER_MAX 32

/*
 * Renders the email that ref (the app's own key: a row id) stands for, at
 * send time, on a worker thread, inside a read transaction of db (the
 * worker's own connection: never the writer's); what it allocates goes in
 * arena. mail->to holds the message's target already, and is where the
 * email goes; the renderer fills to_name, subject, text and html (NULL
 * counts as "").
 *
 * Returns 0; EVENTAPI_ENOTFOUND when what ref stands for is gone and
 * EVENTAPI_EINVAL when it can never be rendered (the message is dead at
 * once); any other negative code for a failure worth retrying. On failure
 * it may write a one-line reason into err ("notification 42 is gone").
 */
typedef int (*delivery_mail_render_fn)(db_t *db, int64_t ref, arena_t *arena,
                                       struct delivery_mail *mail, char *err, size_t errlen);

/*
 * Has the mail channel render references to name with fn (a later
 * registration of the same name replaces it; at most 8 names). Once per
 * process, before any worker starts (app.c). Returns 0, or EVENTAPI_EINVAL
 * for a name that is not 1 to DELIVERY_MAIL_RENDERER_MAX letters, digits
 * or '_', or too many names (logged).
 */
int delivery_mail_renderer_register(const char *name, delivery_mail_render_fn fn);

/*
 * Writes to the outbox (delivery_enqueue) a mail to the address to that
 * the worker renders when it sends it, with the renderer registered as
 * renderer, from ref: a small row, whatever the email will say. m says its
 * kind, source, not_before, expires_at (and, for a message carried over,
 * message_id, attempts, last_error, dead); m's channel, target and payload
 * are ignored. A message whose renderer is missing when it is sent, or
 * whose renderer finds ref gone, is dead at its try, with the reason.
 * Sets *id when id is not NULL. Returns 0 or a negative code
 * (EVENTAPI_EINVAL for a missing address or a malformed renderer name).
 */
int delivery_mail_enqueue_ref(db_t *db, const char *renderer, int64_t ref, const char *to,
                              const struct delivery_new *m, int64_t now, int64_t *id);

#endif
