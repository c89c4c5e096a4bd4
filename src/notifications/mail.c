/*
 * mail.c - notifications' emails into the delivery layer's outbox (see
 * mail.h).
 */
#include "notifications/mail.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "delivery/outbox.h"
#include "notifications/models.h"
#include "notifications/templates.h"

#define US_PER_SECOND INT64_C(1000000)
#define SOURCE_MAX 48
#define CARRY_BATCH 32 /* carried-over mails a unit of work */

/* The outbox's key of notification id's email. */
static void
source_of(int64_t id, char out[SOURCE_MAX])
{
  snprintf(out, SOURCE_MAX, "notification:%lld", (long long)id);
}

/* What a mail carried over from before migration 0009 keeps. */
struct carried {
  int64_t id;
  bool dead;
  int64_t attempts, next_attempt_at;
  const char *last_error; /* NULL: none */
  const char *message_id; /* "<hex@domain>"; NULL: never tried */
};

/*
 * A reminder saying "starts in 24 hours" is worth sending until less than
 * half of that is left; later it would mislead (after an outage of the
 * mail server, say), and the outbox lets it die, too late.
 */
static int64_t
expires_at(const struct notification_mailing *n)
{
  if (n->kind == NOTIFY_OFFERED)
    return n->offer_expires_at; /* an offer that ran out is no offer */
  if (n->kind != NOTIFY_REMINDER)
    return 0;
  return n->event_date_time - n->reminder_offset * US_PER_SECOND / 2;
}

/* "<id@domain>" as the outbox keeps it: "id@domain". */
static const char *
unbracketed(const char *message_id, arena_t *arena)
{
  size_t len = message_id ? strlen(message_id) : 0;
  if (len < 3 || message_id[0] != '<' || message_id[len - 1] != '>')
    return message_id;
  return arena_printf(arena, "%.*s", (int)(len - 2), message_id + 1);
}

/*
 * Writes the email of notification n to the outbox: a reference that the
 * worker renders when it sends it (notifications_mail_render), so the unit
 * of work writes a small row and renders nothing.
 */
static int
mail_one(db_t *db, const struct notification_mailing *n, int64_t now,
         const struct carried *carried)
{
  arena_t arena = {0};
  char source[SOURCE_MAX];
  source_of(n->id, source);
  struct delivery_new m = {
    .kind = notification_kind_name(n->kind),
    .source = source,
    .not_before = n->due_at,
    .expires_at = expires_at(n),
  };
  int rc = 0;
  if (carried) {
    m.message_id = unbracketed(carried->message_id, &arena);
    m.not_before = carried->next_attempt_at;
    m.attempts = carried->attempts;
    m.last_error = carried->last_error;
    m.dead = carried->dead;
    if (carried->message_id && m.message_id == NULL)
      rc = EVENTAPI_ENOMEM;
  }
  if (rc == 0)
    rc = delivery_mail_enqueue_ref(db, NOTIFICATIONS_MAIL_RENDERER, n->id, n->email, &m, now,
                                   NULL);
  arena_free(&arena);
  return rc;
}

/* As mail_one, for notification id, read first. */
static int
mail_by_id(db_t *db, int64_t id, int64_t now, const struct carried *carried)
{
  arena_t arena = {0};
  struct notification n;
  int rc = notifications_get(db, id, &arena, &n);
  if (rc == 0) {
    struct notification_mailing facts = {
      .id = n.id,
      .kind = n.kind,
      .due_at = n.due_at,
      .event_date_time = n.event_date_time,
      .reminder_offset = n.reminder_offset,
      .offer_expires_at = n.offer_expires_at,
      .email = n.email,
    };
    rc = mail_one(db, &facts, now, carried);
  }
  arena_free(&arena);
  return rc;
}

int
notifications_mail_render(db_t *db, int64_t id, arena_t *arena, struct delivery_mail *mail,
                          char *err, size_t errlen)
{
  struct notification n;
  struct notification_text words;
  int rc = notifications_get(db, id, arena, &n);
  if (rc == EVENTAPI_ENOTFOUND) {
    snprintf(err, errlen, "notification %lld is gone", (long long)id);
    return rc;
  }
  if (rc == 0)
    rc = notification_render(&n, arena, &words);
  if (rc < 0)
    return rc;
  mail->to_name = arena_printf(arena, "%s%s%s", n.first_name,
                               n.first_name[0] && n.last_name[0] ? " " : "", n.last_name);
  mail->subject = words.subject;
  mail->text = words.text;
  mail->html = words.html;
  return mail->to_name ? 0 : EVENTAPI_ENOMEM;
}

int
notifications_mail(db_t *db, const int64_t *ids, size_t count, int64_t now)
{
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < count; i++)
    rc = mail_by_id(db, ids[i], now, NULL);
  return rc;
}

int
notifications_mail_written(db_t *db, const struct notification_mailing *list, size_t count,
                           int64_t now)
{
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < count; i++)
    rc = mail_one(db, &list[i], now, NULL);
  return rc;
}

int
notifications_mail_cancel(db_t *db, int64_t id, int64_t now, bool *cancelled)
{
  char source[SOURCE_MAX];
  source_of(id, source);
  int count = 0;
  int rc = delivery_cancel(db, source, now, &count);
  *cancelled = rc == 0 && count > 0;
  return rc;
}

/* The next batch of carried-over mail, in arena memory. */
static int
carried_batch(db_t *db, arena_t *arena, struct carried *batch, size_t *count)
{
  *count = 0;
  db_stmt_t *st = db_prepare(db,
      "SELECT notification_id, state, attempts, next_attempt_at, last_error, message_id"
      " FROM notifications_unsent ORDER BY notification_id LIMIT ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, CARRY_BATCH);
  int rc;
  bool failed = false;
  while ((rc = db_step(st)) == DB_ROW && *count < CARRY_BATCH) {
    struct carried *c = &batch[(*count)++];
    c->id = db_column_int(st, 0);
    c->dead = strcmp(db_column_text(st, 1), "dead") == 0;
    c->attempts = db_column_int(st, 2);
    c->next_attempt_at = db_column_int(st, 3);
    c->last_error = db_column_text_dup(st, 4, arena, &failed);
    c->message_id = db_column_text_dup(st, 5, arena, &failed);
    if (failed) {
      rc = EVENTAPI_ENOMEM;
      break;
    }
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
notifications_mail_carry_over(db_t *db, int64_t now, bool *more)
{
  *more = false;
  arena_t arena = {0};
  struct carried batch[CARRY_BATCH];
  size_t count;
  int rc = carried_batch(db, &arena, batch, &count);
  for (size_t i = 0; rc == 0 && i < count; i++) {
    rc = mail_by_id(db, batch[i].id, now, &batch[i]);
    if (rc == EVENTAPI_ENOTFOUND) /* the notification is gone: so is its mail */
      rc = 0;
    if (rc == 0)
      rc = db_exec(db, "DELETE FROM notifications_unsent WHERE notification_id = ?", NULL, "i",
                   batch[i].id);
  }
  arena_free(&arena);
  *more = rc == 0 && count == CARRY_BATCH;
  return rc;
}
