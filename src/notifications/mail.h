/*
 * mail.h - a notification's email: rendered from its words (templates.h)
 * when it is written, and handed to the delivery layer's outbox in the
 * same unit of work, keyed "notification:<id>" so that it can be cancelled
 * while unsent (a dropped or rescheduled reminder).
 */
#ifndef EVENTAPI_NOTIFICATIONS_MAIL_H
#define EVENTAPI_NOTIFICATIONS_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/*
 * Writes the emails of notifications ids[0..count) to the outbox, each due
 * at its notification's due time (a reminder expiring once less than half
 * its offset is left before the event). Returns 0 or a negative code.
 */
int notifications_mail(db_t *db, const int64_t *ids, size_t count, int64_t now);

/*
 * Cancels the email of notification id if it is still unsent and held by
 * no worker at now: *cancelled says whether it was.
 */
int notifications_mail_cancel(db_t *db, int64_t id, int64_t now, bool *cancelled);

/*
 * Moves a batch of the mail that migration 0009 found unsent (or dead) in
 * the notifications table into the outbox, rendered now, with its tries,
 * last error and Message-ID kept. *more is set when there may be more.
 */
int notifications_mail_carry_over(db_t *db, int64_t now, bool *more);

#endif
