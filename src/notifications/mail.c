/*
 * mail.c - notifications' emails into the delivery layer's outbox (see
 * mail.h).
 */
#include "notifications/mail.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "delivery/mail.h"
#include "delivery/outbox.h"
#include "notifications/models.h"
#include "notifications/templates.h"

#define US_PER_SECOND INT64_C(1000000)
#define SOURCE_MAX 48
#define CARRY_BATCH 32 /* carried-over mails rendered a unit of work */

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
expires_at(const struct notification *n)
{
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

/* Renders notification id's email and writes it to the outbox. */
static int
mail_one(db_t *db, int64_t id, int64_t now, const struct carried *carried)
{
  arena_t arena = {0};
  struct notification n;
  struct notification_text words;
  int rc = notifications_get(db, id, &arena, &n);
  if (rc == 0)
    rc = notification_render(&n, &arena, &words);
  if (rc == 0) {
    char source[SOURCE_MAX];
    source_of(id, source);
    struct delivery_mail mail = {
      .to = n.email,
      .to_name = arena_printf(&arena, "%s%s%s", n.first_name,
                              n.first_name[0] && n.last_name[0] ? " " : "", n.last_name),
      .subject = words.subject,
      .text = words.text,
      .html = words.html,
    };
    struct delivery_new m = {
      .kind = notification_kind_name(n.kind),
      .source = source,
      .not_before = n.due_at,
      .expires_at = expires_at(&n),
    };
    if (carried) {
      m.message_id = unbracketed(carried->message_id, &arena);
      m.not_before = carried->next_attempt_at;
      m.attempts = carried->attempts;
      m.last_error = carried->last_error;
      m.dead = carried->dead;
    }
    rc = mail.to_name == NULL || (carried && carried->message_id && m.message_id == NULL)
             ? EVENTAPI_ENOMEM
             : delivery_mail_enqueue(db, &mail, &m, now, NULL);
  }
  arena_free(&arena);
  return rc;
}

int
notifications_mail(db_t *db, const int64_t *ids, size_t count, int64_t now)
{
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < count; i++)
    rc = mail_one(db, ids[i], now, NULL);
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
  while ((rc = db_step(st)) == DB_ROW && *count < CARRY_BATCH) {
    struct carried *c = &batch[(*count)++];
    c->id = db_column_int(st, 0);
    c->dead = strcmp(db_column_text(st, 1), "dead") == 0;
    c->attempts = db_column_int(st, 2);
    c->next_attempt_at = db_column_int(st, 3);
    c->last_error = db_column_is_null(st, 4) ? NULL : arena_strdup(arena, db_column_text(st, 4));
    c->message_id = db_column_is_null(st, 5) ? NULL : arena_strdup(arena, db_column_text(st, 5));
    if ((!db_column_is_null(st, 4) && c->last_error == NULL) ||
        (!db_column_is_null(st, 5) && c->message_id == NULL)) {
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
    rc = mail_one(db, batch[i].id, now, &batch[i]);
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
