/*
 * mail.h - a notification's email: handed to the delivery layer's outbox
 * in the unit of work that writes the notification, as a small reference
 * keyed "notification:<id>" (so that it can be cancelled while unsent: a
 * dropped or rescheduled reminder), and rendered from its words
 * (templates.h) by the outbox worker when it sends it, through the
 * renderer app.c registers (notifications_mail_render). The notification
 * keeps a copy of the event as it was, so what is rendered then is what
 * would have been rendered when it was written.
 */
#ifndef EVENTAPI_NOTIFICATIONS_MAIL_H
#define EVENTAPI_NOTIFICATIONS_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "delivery/mail.h"
#include "notifications/models.h"

/* The name notifications' emails are rendered under (delivery/mail.h). */
#define NOTIFICATIONS_MAIL_RENDERER "notification"

/*
 * Writes the emails of notifications ids[0..count) to the outbox, each due
 * at its notification's due time (a reminder expiring once less than half
 * its offset is left before the event). Returns 0 or a negative code.
 */
int notifications_mail(db_t *db, const int64_t *ids, size_t count, int64_t now);

/* What a notification's email needs of it when written; email is borrowed. */
struct notification_mailing {
  int64_t id;
  enum notification_kind kind;
  int64_t due_at, event_date_time, reminder_offset;
  int64_t offer_expires_at; /* waitlist offers: the mail is worth nothing after */
  const char *email; /* the recipient's address */
};

/*
 * As notifications_mail, for notifications just written, from what their
 * statement gave back (models.c: nothing read again).
 */
int notifications_mail_written(db_t *db, const struct notification_mailing *list,
                               size_t count, int64_t now);

/*
 * Renders notification id's email (a delivery_mail_render_fn, registered
 * as NOTIFICATIONS_MAIL_RENDERER in app.c): its words, to the recipient's
 * name as the user is now. EVENTAPI_ENOTFOUND, with the reason in err,
 * when the notification is gone.
 */
int notifications_mail_render(db_t *db, int64_t id, arena_t *arena, struct delivery_mail *mail,
                              char *err, size_t errlen);

/*
 * Cancels the email of notification id if it is still unsent and held by
 * no worker at now: *cancelled says whether it was.
 */
int notifications_mail_cancel(db_t *db, int64_t id, int64_t now, bool *cancelled);

/*
 * Moves a batch of the mail that migration 0009 found unsent (or dead) in
 * the notifications table into the outbox (rendered when sent, as any
 * other), with its tries, last error and Message-ID kept. *more is set
 * when there may be more.
 */
int notifications_mail_carry_over(db_t *db, int64_t now, bool *more);

#endif
