/*
 * models.h - notifications: every SQL statement on the notifications table.
 *
 * A notification is written in the transaction of the change that causes it
 * (a registration confirmed, waitlisted or promoted; an event moved or
 * deleted), so it exists if and only if that change committed, and its
 * email is written to the delivery layer's outbox in the same transaction
 * (mail.h). It keeps a copy of the event as it was, because a notice must
 * outlive a deleted event. Reminders are written when they fall due (by
 * the outbox worker's tick, worker.h), one per REMINDER_OFFSETS entry, for
 * the registrations confirmed before then; a reminder takes effect at its
 * due time: before it, it is neither listed nor sent.
 */
#ifndef EVENTAPI_NOTIFICATIONS_MODELS_H
#define EVENTAPI_NOTIFICATIONS_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "events/models.h"

enum notification_kind {
  NOTIFY_CONFIRMED,
  NOTIFY_WAITLISTED,
  NOTIFY_PROMOTED,
  NOTIFY_EVENT_UPDATED,
  NOTIFY_EVENT_CANCELLED,
  NOTIFY_REMINDER,
  NOTIFY_OFFERED,
  NOTIFY_OFFER_EXPIRED,
};

/* "registration_confirmed", ...: the stored name, and the API's "type". */
const char *notification_kind_name(enum notification_kind kind);

struct notification {
  int64_t id;
  int64_t user_id;
  enum notification_kind kind;
  int64_t event_id;
  int64_t registration_id;   /* 0: none */
  int64_t reminder_offset;   /* seconds before the event, for reminders */
  const char *event_title;
  int64_t event_date_time;
  const char *event_location;
  const char *event_timezone; /* an IANA name: how its times are stated */
  const char *ticket_code;   /* NULL: none */
  bool has_previous;         /* event updates: the time and place before */
  int64_t previous_date_time;
  const char *previous_location;
  int64_t offer_expires_at;  /* waitlist offers: until when the place is held */
  int64_t due_at;            /* when it takes effect */
  int64_t read_at;           /* 0: unread */
  /* The recipient, as the user is now. */
  const char *email, *username, *first_name, *last_name;
};

/* ---- written by the apps' signals, inside their transactions ---------- */

/*
 * One notification of kind about registration_id, to its holder, and its
 * email. Nothing when there is no such registration.
 */
int notifications_add_for_registration(db_t *db, enum notification_kind kind,
                                       int64_t registration_id, int64_t now);

/*
 * Writes the reminders that fell due by now, with their emails: for each
 * offset (seconds) and each event starting within it whose run for that
 * offset is not done yet, one reminder per registration confirmed before
 * the reminder fell due (those confirmed later did not have it ahead of
 * them), and the run marked done. At most a few events a call; *more is
 * set when there may be more. Runs are marked with ON CONFLICT: workers
 * racing do each run once.
 */
int notifications_write_due_reminders(db_t *db, const int64_t *offsets, size_t noffsets,
                                      int64_t now, bool *more);

/*
 * Drops the reminders of a registration whose email is still unsent (and
 * held by no worker at now), their emails with them.
 */
int notifications_drop_reminders(db_t *db, int64_t registration_id, int64_t now);

/*
 * The event changed from old to now, at at: tells every active registrant
 * when its time or place changed (with both before and after); brings the
 * reminders whose email is unsent up to date (their emails rewritten, due
 * at the new time), drops those the move made past, and (when it moved)
 * lets its reminder runs be done again at the new times.
 */
int notifications_event_changed(db_t *db, const struct event *old, const struct event *now,
                                int64_t at);

/* The event is going: tells every active registrant; drops its unsent reminders. */
int notifications_event_deleted(db_t *db, const struct event *e, int64_t now);

/* ---- the in-app list ---------------------------------------------------- */

/* The user's notifications in effect at now, newest first; *total counts all. */
int notifications_list(db_t *db, int64_t user_id, int64_t now, int64_t limit, int64_t offset,
                       arena_t *arena, struct notification **out, size_t *count, int64_t *total);

/* The user's notification id (in effect at now). 0 or EVENTAPI_ENOTFOUND. */
int notifications_get_for_user(db_t *db, int64_t user_id, int64_t id, int64_t now,
                               arena_t *arena, struct notification *out);

/* Marks it read (once: the first time stays). 0 or EVENTAPI_ENOTFOUND. */
int notifications_mark_read(db_t *db, int64_t user_id, int64_t id, int64_t now);

/* Notification id (whenever due) with its recipient. 0 or EVENTAPI_ENOTFOUND. */
int notifications_get(db_t *db, int64_t id, arena_t *arena, struct notification *out);

#endif
