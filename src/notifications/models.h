/*
 * models.h - notifications and their outbox: every SQL statement on the
 * notifications table.
 *
 * A notification is written in the transaction of the change that causes it
 * (a registration confirmed, waitlisted or promoted; an event moved or
 * deleted), so it exists if and only if that change committed. It keeps a
 * copy of the event as it was, because a notice must outlive a deleted
 * event. The same row is the user's in-app notification and the outbox
 * entry a worker emails. Reminders are written when a registration is
 * confirmed, one per REMINDER_OFFSETS entry still ahead, and take effect at
 * their due time: before it they are neither listed nor sent.
 *
 * Delivery: a worker claims one due row at a time by setting a lease
 * (claimed_until) and counting the attempt, sends it outside any
 * transaction, then records the outcome. A worker that dies mid-send leaves
 * a lease that runs out, and the row is claimed again: at-least-once, and
 * exactly once whenever the outcome was recorded.
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
  const char *ticket_code;   /* NULL: none */
  bool has_previous;         /* event updates: the time and place before */
  int64_t previous_date_time;
  const char *previous_location;
  int64_t due_at;            /* when it takes effect */
  int64_t read_at;           /* 0: unread */
  /* Delivery. */
  const char *state;         /* "pending", "sent" or "dead" */
  int64_t attempts;
  int64_t next_attempt_at;
  int64_t sent_at;           /* 0: not sent */
  const char *last_error;    /* NULL: none */
  const char *message_id;    /* NULL until first claimed */
  /* The recipient, as the user is now. */
  const char *email, *username, *first_name, *last_name;
};

/* ---- written by the apps' signals, inside their transactions ---------- */

/* One notification of kind about registration_id, to its holder. */
int notifications_add_for_registration(db_t *db, enum notification_kind kind,
                                       int64_t registration_id, int64_t now);

/*
 * Writes the reminders that fell due by now: for each offset (seconds) and
 * each event starting within it whose run for that offset is not done yet,
 * one reminder per registration confirmed before the reminder fell due
 * (those confirmed later did not have it ahead of them), and the run marked
 * done. At most a few events a call; *more is set when there may be more.
 * Runs are marked with ON CONFLICT: workers racing do each run once.
 */
int notifications_write_due_reminders(db_t *db, const int64_t *offsets, size_t noffsets,
                                      int64_t now, bool *more);

/* Drops the reminders of a registration that are still to be sent. */
int notifications_drop_reminders(db_t *db, int64_t registration_id);

/*
 * The event moved or changed: tells every active registrant when its time or
 * place changed (with both before and after), brings unsent reminders up to
 * date, drops those now past, and (when it moved) lets its reminder runs be
 * done again at the new times.
 */
int notifications_event_changed(db_t *db, const struct event *old, const struct event *now,
                                const int64_t *offsets, size_t noffsets, int64_t at);

/* The event is going: tells every active registrant; drops its reminders. */
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

/* ---- the outbox --------------------------------------------------------- */

/*
 * Claims the next due row for lease_us microseconds and counts the attempt,
 * giving it message_id if it has none yet. Sets *id (0: nothing due). One
 * statement: atomic alone, or a part of a unit of work (db_write).
 */
int outbox_claim(db_t *db, int64_t now, int64_t lease_us, const char *message_id, int64_t *id);

/* Row id with its recipient (any state). 0 or EVENTAPI_ENOTFOUND. */
int outbox_get(db_t *db, int64_t id, arena_t *arena, struct notification *out);

/*
 * Records a delivery, for the claim that made try number attempts: a row
 * claimed again since (this worker's lease ran out) or no longer pending is
 * left to its new owner, and EVENTAPI_ENOTFOUND returned.
 */
int outbox_mark_sent(db_t *db, int64_t id, int64_t attempts, int64_t now);

/* Records a failure as above: tried again at retry_at, or dead when retry_at is 0. */
int outbox_mark_failed(db_t *db, int64_t id, int64_t attempts, const char *error,
                       int64_t retry_at);

/* Rows in state ("pending" or "dead"), oldest first, at most limit. */
int outbox_list(db_t *db, const char *state, int64_t limit, arena_t *arena,
                struct notification **out, size_t *count);

/* Counts of rows by state, for operators. */
int outbox_counts(db_t *db, int64_t *pending, int64_t *sent, int64_t *dead);

/*
 * Puts dead row id (0: every dead row) back in the queue, due now, with its
 * attempts reset. *changed counts them.
 */
int outbox_requeue(db_t *db, int64_t id, int64_t now, int *changed);

#endif
