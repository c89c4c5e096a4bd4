/*
 * notifications_models.c - the notifications app's writes (notifications/
 * models) on a real (SQLite) database, with the emails they put in the
 * delivery layer's outbox: reminders written when they fall due, for those
 * registered before, once; an event that moves takes along the reminders
 * whose email is unsent (waiting for a retry included) and leaves those
 * sent or being sent; one that moves past a reminder has it written anew;
 * a cancelled registration, a deleted event and a deleted user drop what
 * is unsent and keep what was sent.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/db.h"
#include "delivery/outbox.h"
#include "events/models.h"
#include "notifications/mail.h"
#include "notifications/models.h"
#include "support/db.h"

#define SECOND INT64_C(1000000)
#define HOUR (3600 * SECOND)
#define T0 (INT64_C(1900000000) * SECOND)
#define LEASE (10 * SECOND)

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

TestSuite(notifications_models, .init = setup, .fini = teardown);

/* Event 7 at when, with registrations 70 (ann's, made two days before T0)
 * and 71 (bo's, made at late). */
static void
event_with_two_registrations(int64_t when, int64_t late)
{
  cr_assert_eq(db_exec(db, "INSERT INTO events (id, title, date_time, location, capacity,"
                           " created_at, organizer_id, search_text, location_key)"
                           " VALUES (7, 'Jazz Night', ?, 'Berlin', 0, ?, 1, '', '')",
                       NULL, "ii", when, T0), 0);
  cr_assert_eq(db_exec(db, "INSERT INTO registrations (id, user_id, event_id, registered_at,"
                           " is_waitlisted) VALUES (70, 1, 7, ?, 0), (71, 2, 7, ?, 0)",
                       NULL, "ii", T0 - 48 * HOUR, late), 0);
}

static long long
reminders(void)
{
  return unit_db_int("SELECT count(*) FROM notifications WHERE kind = 'event_reminder'"
                     " AND reminder_offset > ?", 0);
}

/* Pending reminder mails in the outbox. */
static long long
reminder_mails(void)
{
  return unit_db_int("SELECT count(*) FROM outbox WHERE kind = 'event_reminder'"
                     " AND state = 'pending' AND id > ?", 0);
}

static bool
write_due(int64_t now)
{
  static const int64_t offsets[] = {24 * 3600, 3 * 3600};
  bool more;
  cr_assert_eq(notifications_write_due_reminders(db, offsets, 2, now, &more), 0);
  return more;
}

/* The id of registration's reminder of offset. */
static int64_t
reminder_of(int64_t registration, int64_t offset)
{
  db_stmt_t *st = db_prepare(db, "SELECT id FROM notifications WHERE registration_id = ?"
                                 " AND reminder_offset = ? AND kind = 'event_reminder'");
  db_bind_int(st, 1, registration);
  db_bind_int(st, 2, offset);
  cr_assert_eq(db_step(st), DB_ROW);
  int64_t id = db_column_int(st, 0);
  db_reset(st);
  return id;
}

/* Claims the outbox message of notification id at now; its id. */
static int64_t
claim_mail_of(int64_t notification, int64_t now)
{
  struct delivery_message m;
  bool found;
  cr_assert_eq(delivery_claim(db, "mail", now, LEASE, &arena, &m, &found), 0);
  cr_assert(found);
  char source[48];
  snprintf(source, sizeof source, "notification:%lld", (long long)notification);
  cr_assert_str_eq(m.source, source, "claimed another message");
  return m.id;
}

static void
settle(int64_t message, bool sent, int64_t now)
{
  struct delivery_outcome o = {.sent = sent, .retry_at = sent ? 0 : now + 60 * SECOND,
                               .error = sent ? NULL : "421 try later"};
  cr_assert_eq(delivery_record(db, message, 1, now, &o), 0);
}

static void
change(const struct event *old, const struct event *now, int64_t at)
{
  cr_assert_eq(db_exec(db, "UPDATE events SET date_time = ?, location = ? WHERE id = 7", NULL,
                       "is", now->date_time, now->location), 0);
  cr_assert_eq(notifications_event_changed(db, old, now, at), 0);
}

Test(notifications_models, reminders_are_written_when_they_fall_due_for_those_registered_before)
{
  int64_t when = T0 + 48 * HOUR;
  /* 71 registers 30 hours in: after the 24-hour reminder fell due. */
  event_with_two_registrations(when, T0 + 30 * HOUR);
  write_due(T0 + 23 * HOUR); /* neither reminder due yet */
  cr_assert_eq(reminders(), 0);
  cr_assert_eq(reminder_mails(), 0);
  write_due(when - 24 * HOUR); /* the 24-hour one falls due: 70 only */
  cr_assert_eq(reminders(), 1);
  int64_t id = reminder_of(70, 24 * 3600);
  cr_assert_eq(unit_db_int("SELECT due_at FROM notifications WHERE id = ?", id), when - 24 * HOUR);
  /* Its email, due at once, and not to be sent once less than 12 hours are left. */
  cr_assert_eq(reminder_mails(), 1);
  cr_assert_eq(unit_db_int("SELECT next_attempt_at FROM outbox WHERE source = 'notification:' || ?",
                           id), when - 24 * HOUR);
  cr_assert_eq(unit_db_int("SELECT expires_at FROM outbox WHERE source = 'notification:' || ?", id),
               when - 12 * HOUR);
  cr_assert_str_eq(unit_db_text("SELECT target FROM outbox WHERE source = 'notification:' || ?",
                                id), "ann@example.com");
  write_due(when - 24 * HOUR + SECOND); /* done once */
  cr_assert_eq(reminders(), 1);
  cr_assert_eq(reminder_mails(), 1);
  write_due(when - 3 * HOUR); /* the 3-hour one: both */
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE reminder_offset = ?",
                           3 * 3600), 2);
  write_due(when + SECOND); /* nothing for an event that has begun */
  cr_assert_eq(reminders(), 3);
  cr_assert_eq(reminder_mails(), 3);
}

Test(notifications_models, a_moved_event_has_its_reminders_written_again_without_doubles)
{
  int64_t when = T0 + 48 * HOUR;
  event_with_two_registrations(when, T0 + HOUR);
  write_due(when - 24 * HOUR);
  cr_assert_eq(reminders(), 2);
  /* The event moves a day later: its runs are done again when they fall due,
   * and the unique index keeps each registration's reminder single. */
  struct event old = {.id = 7, .title = "Jazz Night", .date_time = when, .location = "Berlin"};
  struct event moved = old;
  moved.date_time = when + 24 * HOUR;
  change(&old, &moved, when - 23 * HOUR);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM reminder_runs WHERE event_id = ?", 7), 0);
  /* The unsent reminders wait for the new time: not listed, not sent before. */
  cr_assert_eq(reminder_mails(), 2, "the old emails cancelled, new ones written");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE kind = 'event_reminder'"
                           " AND next_attempt_at = ?", when), 2);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE kind = 'event_reminder'"
                           " AND due_at = ?", when), 2);
  write_due(moved.date_time - 24 * HOUR);
  cr_assert_eq(reminders(), 2);
  cr_assert_eq(reminder_mails(), 2);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM reminder_runs WHERE event_id = ?", 7), 1);
}

Test(notifications_models, a_moved_event_takes_along_reminders_waiting_for_a_retry)
{
  int64_t when = T0 + 24 * HOUR;
  event_with_two_registrations(when, T0 - HOUR);
  write_due(T0); /* the 24-hour reminders fall due now */
  int64_t retried = reminder_of(70, 24 * 3600), other = reminder_of(71, 24 * 3600);
  /* 70's fails once and waits for its retry; 71's was sent. */
  settle(claim_mail_of(retried, T0), false, T0);
  settle(claim_mail_of(other, T0), true, T0);

  /* The event moves a week later, to Paris, while the mail server is still down. */
  struct event old = {.id = 7, .title = "Jazz Night", .date_time = when, .location = "Berlin"};
  struct event now = old;
  now.date_time = when + 7 * 24 * HOUR;
  now.location = "Paris";
  change(&old, &now, T0 + SECOND);
  cr_assert_eq(unit_db_int("SELECT event_date_time FROM notifications WHERE id = ?", retried),
               now.date_time);
  cr_assert_str_eq(unit_db_text("SELECT event_location FROM notifications WHERE id = ?", retried),
                   "Paris");
  cr_assert_eq(unit_db_int("SELECT due_at FROM notifications WHERE id = ?", retried),
               now.date_time - 24 * HOUR);
  /* Its email starts over: written anew, due at the new time, no try yet. */
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE source = 'notification:' || ?",
                           retried), 1);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE source = 'notification:' || ?"
                           " AND state = 'pending' AND attempts = 0 AND last_error IS NULL",
                           retried), 1);
  cr_assert_eq(unit_db_int("SELECT next_attempt_at FROM outbox WHERE source = 'notification:' || ?",
                           retried), now.date_time - 24 * HOUR);
  cr_assert_eq(unit_db_int("SELECT expires_at FROM outbox WHERE source = 'notification:' || ?",
                           retried), now.date_time - 12 * HOUR, "expires halfway, at the new time");
  cr_assert_str_eq(unit_db_text("SELECT target FROM outbox WHERE source = 'notification:' || ?",
                                retried), "ann@example.com");
  /* Rendered when sent, from the notification as it is now. */
  const char *payload = unit_db_text("SELECT payload FROM outbox WHERE state = 'pending'"
                                     " AND source = 'notification:' || ?", retried);
  char reference[96];
  snprintf(reference, sizeof reference, "{\"render\":\"notification\",\"ref\":%lld}",
           (long long)retried);
  cr_assert_str_eq(payload, reference);
  struct delivery_mail mail = {.to = "ann@example.com"};
  char err[128] = "";
  cr_assert_eq(notifications_mail_render(db, retried, &arena, &mail, err, sizeof err), 0, "%s",
               err);
  cr_assert_not_null(strstr(mail.text, "Paris"), "the new place: %s", mail.text);
  cr_assert_null(strstr(mail.text, "Berlin"), "not the old one: %s", mail.text);
  cr_assert_null(strstr(mail.html, "Berlin"), "not the old one: %s", mail.html);
  /* Not due now: its retry would have sent the old time and place. */
  struct delivery_message m;
  bool found;
  cr_assert_eq(delivery_claim(db, "mail", T0 + 61 * SECOND, LEASE, &arena, &m, &found), 0);
  cr_assert(!found || strcmp(m.kind, "event_reminder") != 0, "a reminder came out early");
  /* The one sent stays as it was, in the app as in the outbox. */
  cr_assert_str_eq(unit_db_text("SELECT event_location FROM notifications WHERE id = ?", other),
                   "Berlin");
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE source = 'notification:' || ?",
                                other), "sent");
}

Test(notifications_models, a_reminder_being_sent_is_left_to_its_outcome)
{
  int64_t when = T0 + 24 * HOUR;
  event_with_two_registrations(when, T0 - HOUR);
  write_due(T0);
  int64_t held = reminder_of(70, 24 * 3600);
  int64_t message = claim_mail_of(held, T0);
  struct event old = {.id = 7, .title = "Jazz Night", .date_time = when, .location = "Berlin"};
  struct event now = old;
  now.location = "Paris";
  change(&old, &now, T0 + SECOND); /* within the claim's lease */
  cr_assert_str_eq(unit_db_text("SELECT event_location FROM notifications WHERE id = ?", held),
                   "Berlin");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'pending'",
                           message), 1, "still the worker's");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE source = 'notification:' || ?", held),
               1);
}

Test(notifications_models, a_move_past_a_reminder_has_it_written_anew)
{
  int64_t when = T0 + 20 * HOUR;
  event_with_two_registrations(when, T0 - 30 * HOUR);
  write_due(T0); /* the 24-hour reminders, due 4 hours ago */
  cr_assert_eq(reminders(), 2);
  /* Moved two hours earlier: its 3-hour reminders are due at once, and the
   * 24-hour ones, unsent, describe a time that no longer is. */
  struct event old = {.id = 7, .title = "Jazz Night", .date_time = when, .location = "Berlin"};
  struct event moved = old;
  moved.date_time = T0 + 2 * HOUR;
  change(&old, &moved, T0 + SECOND);
  cr_assert_eq(reminders(), 0, "dropped, to be written again at the new time");
  cr_assert_eq(reminder_mails(), 0, "their emails with them");
  write_due(T0 + 2 * SECOND);
  cr_assert_eq(reminders(), 4, "both offsets now within reach, for both registrations");
  cr_assert_eq(reminder_mails(), 4);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE kind = 'event_reminder'"
                           " AND event_date_time = ?", moved.date_time), 4);
}

Test(notifications_models, a_cancelled_registration_drops_its_unsent_reminders_only)
{
  int64_t when = T0 + 24 * HOUR;
  event_with_two_registrations(when, T0 - 30 * HOUR);
  write_due(T0);
  int64_t sent = reminder_of(70, 24 * 3600);
  settle(claim_mail_of(sent, T0), true, T0);
  write_due(when - 3 * HOUR);
  int64_t unsent = reminder_of(70, 3 * 3600);
  cr_assert_eq(notifications_drop_reminders(db, 70, when - 3 * HOUR), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE id = ?", sent), 1,
               "a reminder sent stays in the app");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE id = ?", unsent), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE source = 'notification:' || ?",
                           unsent), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE registration_id = ?", 71), 2,
               "the other registration's are untouched");
}

Test(notifications_models, a_deleted_event_tells_its_registrants_and_drops_unsent_reminders)
{
  int64_t when = T0 + 24 * HOUR;
  event_with_two_registrations(when, T0 - HOUR);
  write_due(T0);
  cr_assert_eq(reminder_mails(), 2);
  struct event e = {.id = 7, .title = "Jazz Night", .date_time = when, .location = "Berlin"};
  cr_assert_eq(notifications_event_deleted(db, &e, T0 + SECOND), 0);
  cr_assert_eq(reminders(), 0);
  cr_assert_eq(reminder_mails(), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE kind = 'event_cancelled'"
                           " AND event_id = ?", 7), 2);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE kind = 'event_cancelled'"
                           " AND state = 'pending' AND id > ?", 0), 2);
}

Test(notifications_models, a_deleted_user_takes_their_unsent_mail_along)
{
  int64_t when = T0 + 24 * HOUR;
  event_with_two_registrations(when, T0 - HOUR);
  write_due(T0);
  int64_t sent = reminder_of(71, 24 * 3600);
  settle(claim_mail_of(reminder_of(70, 24 * 3600), T0), false, T0);
  settle(claim_mail_of(sent, T0), true, T0);
  cr_assert_eq(db_exec(db, "DELETE FROM registrations", NULL, NULL), 0);
  cr_assert_eq(db_exec(db, "DELETE FROM users WHERE id = ?", NULL, "i", (int64_t)1), 0);
  cr_assert_eq(db_exec(db, "DELETE FROM users WHERE id = ?", NULL, "i", (int64_t)2), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM notifications WHERE id > ?", 0), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE state = 'pending' AND id > ?", 0), 0,
               "no mail goes to a deleted user");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE state = 'sent' AND id > ?", 0), 1,
               "what was sent stays as history");
}

Test(notifications_models, many_events_due_at_once_are_written_a_few_at_a_time)
{
  int64_t when = T0 + 2 * HOUR;
  for (int i = 100; i < 140; i++)
    cr_assert_eq(db_exec(db, "INSERT INTO events (id, title, date_time, location, capacity,"
                             " created_at, organizer_id, search_text, location_key)"
                             " VALUES (?, 'Gig', ?, 'Berlin', 0, ?, 1, '', '')",
                         NULL, "iii", (int64_t)i, when, T0), 0);
  int rounds = 1;
  while (write_due(T0))
    rounds++;
  cr_assert_gt(rounds, 1, "forty events in one go");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM reminder_runs WHERE reminder_offset = ?",
                           3 * 3600), 40);
}
