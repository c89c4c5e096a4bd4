/*
 * notifications_mail.c - a notification's email in the delivery layer's
 * outbox (notifications/mail): written as a small reference to its
 * notification, keyed by it so it can be cancelled while unsent, and
 * rendered when sent (notifications_mail_render) exactly as the templates
 * word it, from the copy of the event the notification keeps; a
 * notification gone is a clear failure; and the mail that migration 0009
 * found unsent in the notifications table carried over, a batch at a time,
 * with its tries, its last error and its Message-ID.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/db.h"
#include "delivery/mail.h"
#include "delivery/outbox.h"
#include "notifications/mail.h"
#include "notifications/models.h"
#include "notifications/templates.h"
#include "support/db.h"

#define SECOND INT64_C(1000000)
#define HOUR (3600 * SECOND)
#define T0 (INT64_C(1900000000) * SECOND)

static db_t *db;
static arena_t arena;

static void
setup(void)
{
  db = unit_db_open();
  unit_db_users();
}

static void
teardown(void)
{
  arena_free(&arena);
  unit_db_close();
}

TestSuite(notifications_mail, .init = setup, .fini = teardown);

/* A notification of kind for ann about event 7 at when, due at due; its id. */
static int64_t
add(const char *kind, int64_t offset, int64_t when, int64_t due)
{
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, reminder_offset,"
      " event_title, event_date_time, event_location, ticket_code, due_at)"
      " VALUES (1, ?, 7, 70, ?, 'Jazz Night', ?, 'Berlin', 'T-123', ?) RETURNING id");
  cr_assert_not_null(st);
  db_bind_text(st, 1, kind);
  db_bind_int(st, 2, offset);
  db_bind_int(st, 3, when);
  db_bind_int(st, 4, due);
  int64_t id;
  cr_assert_eq(db_step_id(st, &id), 0);
  return id;
}

/* The outbox message of notification id. */
static struct delivery_message
mail_of(int64_t notification)
{
  int64_t id = unit_db_int("SELECT id FROM outbox WHERE source = 'notification:' || ?",
                           notification);
  struct delivery_message m;
  cr_assert_eq(delivery_get(db, id, &arena, &m), 0);
  return m;
}

/* What the outbox holds of notification id's email: a reference, no body. */
static void
expect_reference(const struct delivery_message *m, int64_t id)
{
  char reference[96];
  snprintf(reference, sizeof reference, "{\"render\":\"notification\",\"ref\":%lld}",
           (long long)id);
  cr_assert_str_eq(m->payload, reference);
}

/* Notification id's email, rendered as the worker renders it. */
static struct delivery_mail
rendered(int64_t id)
{
  struct delivery_mail mail = {.to = "ann@example.com"};
  char err[128] = "";
  cr_assert_eq(notifications_mail_render(db, id, &arena, &mail, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(mail.to, "ann@example.com", "the renderer leaves the address alone");
  return mail;
}

Test(notifications_mail, the_outbox_row_refers_to_its_notification)
{
  int64_t id = add("registration_confirmed", 0, T0 + 48 * HOUR, T0);
  cr_assert_eq(notifications_mail(db, &id, 1, T0), 0);
  struct delivery_message m = mail_of(id);
  cr_assert_str_eq(m.channel, "mail");
  cr_assert_str_eq(m.kind, "registration_confirmed");
  cr_assert_str_eq(m.target, "ann@example.com");
  cr_assert_eq(m.next_attempt_at, T0);
  cr_assert_eq(m.expires_at, 0, "a confirmation never expires");
  expect_reference(&m, id);
}

Test(notifications_mail, the_email_is_rendered_when_sent_as_the_templates_word_it)
{
  int64_t id = add("registration_confirmed", 0, T0 + 48 * HOUR, T0);
  cr_assert_eq(notifications_mail(db, &id, 1, T0), 0);

  /* Word for word what the templates say of the notification. */
  struct notification n;
  struct notification_text words;
  cr_assert_eq(notifications_get(db, id, &arena, &n), 0);
  cr_assert_eq(notification_render(&n, &arena, &words), 0);
  struct delivery_mail mail = rendered(id);
  cr_assert_str_eq(mail.to_name, "Ann Lee");
  cr_assert_str_eq(mail.subject, "Registration confirmed: Jazz Night");
  cr_assert_str_eq(mail.text, words.text);
  cr_assert_str_eq(mail.html, words.html);
  cr_assert_not_null(strstr(mail.text, "T-123"));

  /* The notification keeps the event as it was: rendered later, it says
   * what it said when it was written, whatever became of the event. */
  cr_assert_eq(db_exec(db, "INSERT INTO events (id, title, date_time, location, capacity,"
                           " created_at, organizer_id, search_text, location_key)"
                           " VALUES (7, 'Renamed', ?, 'Paris', 0, ?, 1, '', '')",
                       NULL, "ii", T0 + 72 * HOUR, T0), 0);
  cr_assert_eq(db_exec(db, "DELETE FROM events WHERE id = 7", NULL, NULL), 0);
  struct delivery_mail later = rendered(id);
  cr_assert_str_eq(later.subject, mail.subject);
  cr_assert_str_eq(later.text, mail.text);
  cr_assert_str_eq(later.html, mail.html);
}

Test(notifications_mail, a_notification_gone_is_not_rendered_and_says_so)
{
  int64_t id = add("registration_confirmed", 0, T0 + 48 * HOUR, T0);
  cr_assert_eq(db_exec(db, "DELETE FROM notifications WHERE id = ?", NULL, "i", id), 0);
  struct delivery_mail mail = {.to = "ann@example.com"};
  char err[128] = "", expected[64];
  cr_assert_eq(notifications_mail_render(db, id, &arena, &mail, err, sizeof err),
               EVENTAPI_ENOTFOUND);
  snprintf(expected, sizeof expected, "notification %lld is gone", (long long)id);
  cr_assert_str_eq(err, expected);
}

Test(notifications_mail, a_reminder_is_due_with_its_notification_and_expires_halfway)
{
  int64_t when = T0 + 30 * HOUR;
  int64_t id = add("event_reminder", 24 * 3600, when, when - 24 * HOUR);
  cr_assert_eq(notifications_mail(db, &id, 1, T0), 0);
  struct delivery_message m = mail_of(id);
  cr_assert_str_eq(m.kind, "event_reminder");
  cr_assert_eq(m.next_attempt_at, when - 24 * HOUR, "not before the notification is due");
  cr_assert_eq(m.expires_at, when - 12 * HOUR);
}

Test(notifications_mail, unsent_mail_is_cancelled_once)
{
  int64_t id = add("registration_confirmed", 0, T0 + 48 * HOUR, T0);
  cr_assert_eq(notifications_mail(db, &id, 1, T0), 0);
  bool cancelled = false;
  cr_assert_eq(notifications_mail_cancel(db, id, T0, &cancelled), 0);
  cr_assert(cancelled);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id > ?", 0), 0);
  cr_assert_eq(notifications_mail_cancel(db, id, T0, &cancelled), 0);
  cr_assert(!cancelled);
}

/* A row as migration 0009 leaves the mail it found unsent. */
static void
unsent(int64_t notification, const char *state, int64_t attempts, int64_t next,
       const char *error, const char *message_id)
{
  cr_assert_eq(db_exec(db, "INSERT INTO notifications_unsent (notification_id, state, attempts,"
                           " next_attempt_at, last_error, message_id) VALUES (?, ?, ?, ?, ?, ?)",
                       NULL, "isiiss", notification, state, attempts, next, error, message_id),
               0);
}

Test(notifications_mail, mail_unsent_before_the_outbox_is_carried_over_as_it_was)
{
  int64_t retrying = add("registration_confirmed", 0, T0 + 48 * HOUR, T0 - HOUR);
  int64_t fresh = add("registration_waitlisted", 0, T0 + 48 * HOUR, T0);
  int64_t dead = add("event_updated", 0, T0 + 48 * HOUR, T0 - 2 * HOUR);
  int64_t reminder = add("event_reminder", 24 * 3600, T0 + 20 * HOUR, T0 - 4 * HOUR);
  unsent(retrying, "pending", 2, T0 + 600 * SECOND, "421 try later", "<abc@example.com>");
  unsent(fresh, "pending", 0, T0, NULL, NULL);
  unsent(dead, "dead", 8, T0 - HOUR, "550 no such user", "<def@example.com>");
  unsent(reminder, "pending", 1, T0 + 60 * SECOND, "421", "<ghi@example.com>");
  bool more = true;
  cr_assert_eq(notifications_mail_carry_over(db, T0, &more), 0);
  cr_assert(!more);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications_unsent"
                           " WHERE notification_id > ?", 0),
               0, "each carried once");

  struct delivery_message m = mail_of(retrying);
  cr_assert_str_eq(m.state, "pending");
  cr_assert_eq(m.attempts, 2);
  cr_assert_eq(m.next_attempt_at, T0 + 600 * SECOND, "its retry as it was");
  cr_assert_str_eq(m.last_error, "421 try later");
  cr_assert_str_eq(m.message_id, "abc@example.com", "the same Message-ID");
  expect_reference(&m, retrying);
  cr_assert_str_eq(rendered(retrying).subject, "Registration confirmed: Jazz Night");
  m = mail_of(fresh);
  cr_assert_str_eq(m.state, "pending");
  cr_assert_eq(m.attempts, 0);
  cr_assert_eq(strlen(m.message_id), 32, "never tried: a new one");
  m = mail_of(dead);
  cr_assert_str_eq(m.state, "dead", "dead stays dead, for requeue");
  cr_assert_eq(m.attempts, 8);
  cr_assert_str_eq(m.last_error, "550 no such user");
  m = mail_of(reminder);
  cr_assert_eq(m.expires_at, T0 + 8 * HOUR, "a reminder still expires halfway");
  cr_assert_str_eq(rendered(reminder).subject, "Reminder: Jazz Night starts in 24 hours");
}

Test(notifications_mail, a_large_backlog_is_carried_a_batch_at_a_time)
{
  for (int i = 0; i < 70; i++)
    unsent(add("registration_confirmed", 0, T0 + 48 * HOUR, T0), "pending", 0, T0, NULL, NULL);
  int rounds = 0;
  bool more = true;
  while (more) {
    cr_assert_eq(notifications_mail_carry_over(db, T0, &more), 0);
    rounds++;
  }
  cr_assert_eq(rounds, 3);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE state = 'pending' AND id > ?", 0),
               70);
  cr_assert_eq(notifications_mail_carry_over(db, T0, &more), 0);
  cr_assert(!more);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id > ?", 0), 70);
}
