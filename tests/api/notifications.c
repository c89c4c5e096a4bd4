/*
 * notifications.c - API.md "Notifications": every trigger delivers exactly
 * the expected mail to the expected people through a real SMTP server on
 * loopback (smtpd.py, decoded back by Python's email package); reminders,
 * the default ones included, moved with the test clock; retries while the
 * mail server is down, dead mail and requeueing; a node killed with
 * SIGKILL; two standalone workers on one database; a rush of mail sent
 * in batches, each message with its own outcome, a slow mail server
 * making a batch renew its claims, and a worker stopped in mid-batch
 * giving back what it had not sent; hostile titles and
 * names; mail written as a small reference and rendered by the worker
 * when sent, saying what the notification said, and dead with the reason
 * when its notification or its renderer is missing; sent and dead mail
 * leaving the outbox after their retention; and the in-app list.
 *
 * The server runs without its worker thread: a test delivers the outbox
 * itself (api_deliver_mail(), `eventapi worker --once` in-process), so
 * what was sent, and what was not, is known when it returns. One test
 * checks the server's own worker, and one the mail an older version left
 * unsent in the notifications table, before the outbox had a table of its
 * own (migration 0009).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/password.h"
#include "support/api.h"
#include "support/db.h"
#include "support/process.h"
#include "support/smtp.h"

#define EVENTS "/api/events/"
#define NOTIFICATIONS "/api/notifications/"
#define NOTIFICATION_KEYS "id", "type", "event", "title", "message", "is_read", "created_at", NULL
#define NO_NOTIFICATION "No Notification matches the given query."
#define FROM "Events Team <events@example.com>"
#define WHEN api_date(API_EVENT_WHEN)
/* A bound on waits for what other processes do; never reached when all is well. */
#define WAIT_MS 60000

/* ---- set-up --------------------------------------------------------------- */

/*
 * The SMTP server, then the API server mailing it (without its worker
 * thread unless extra turns it on), with extra settings. A failed mail is
 * tried again after ten minutes or more: only when a test moves the clock.
 */
/* As start_mailing(), on a database that migration version left, filled. */
static void start_mailing_upgraded(const char *const *extra, int version, void (*fill)(void))
{
  smtp_start();
  const char *env[32] = {"EMAIL_URL", api_strdup(smtp_url()), "EMAIL_FROM", FROM,
                         "EMAIL_RETRY_DELAY", "10m", "WORKER", "off"};
  size_t n = 8;
  for (const char *const *pair = extra; pair && pair[0] && n < 30; pair += 2) {
    env[n++] = pair[0];
    env[n++] = pair[1];
  }
  env[n] = NULL;
  if (fill)
    api_server_start_upgrading(env, version, fill);
  else
    api_server_start_with(env);
}

static void start_mailing(const char *const *extra)
{
  start_mailing_upgraded(extra, 0, NULL);
}

static void start(void) { start_mailing(NULL); }

static void stop(void)
{
  api_server_stop();
  smtp_cleanup();
}

TestSuite(notifications, .init = start, .fini = stop);

/* ---- the API -------------------------------------------------------------- */

/* An event of token's called title at when (ISO 8601) for capacity people. */
static long long event_at(const char *token, const char *title, const char *when,
                              int capacity)
{
  json_t *over = json_pack("{s:s, s:s, s:i}", "title", title, "date_time", when,
                           "capacity", capacity);
  char *text = json_dumps(over, JSON_COMPACT);
  json_decref(over);
  api_keep(text, free);
  return api_create_event(token, text).id;
}

/* Registers; returns the answer (asserting 200). */
static struct api_resp *register_for(const char *token, long long event)
{
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", event), token,
                                "{}");
  expect_status(r, 200);
  return r;
}

/* people attendees p0, p1, ... registered for one unlimited event. */
static void crowd_registered(size_t people)
{
  struct api_user org = api_signup("org", "organizer");
  long long event = event_at(org.access, "Jazz Night", WHEN, 0);
  for (size_t i = 0; i < people; i++)
    register_for(api_signup(api_printf("p%zu", i), NULL).access, event);
}

/* The mail server from now on takes one message, then holds the DATA of
 * every later one until mail_server_release(): returns what to give it. */
static const char *mail_server_holding(void)
{
  const char *go = api_printf("%s/go", api_server_dir());
  const char *hold[] = {"--hold-after", "1", "--hold-until", go, NULL};
  smtp_restart(hold);
  return go;
}

static void mail_server_release(const char *go)
{
  FILE *f = fopen(go, "w");
  cr_assert(f != NULL);
  cr_assert_eq(fclose(f), 0);
}

static void cancel(const char *token, long long registration)
{
  expect_status(api_delete(api_printf("/api/registrations/%lld/", registration), token), 204);
}

/* Delivers what is due and returns every message the SMTP server holds. */
static json_t *deliver(void)
{
  api_deliver_mail();
  return smtp_messages();
}

/* ---- the mail ------------------------------------------------------------- */

static const char *str(json_t *message, const char *key)
{
  const char *s = json_string_value(json_object_get(message, key));
  return s ? s : "";
}

/* The messages received for rcpt, in order of arrival (a new array). */
static json_t *mail_to(json_t *messages, const char *rcpt)
{
  json_t *out = api_keep_json(json_array());
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    json_t *to = json_object_get(m, "rcpt_tos");
    if (json_array_size(to) == 1 && strcmp(json_string_value(json_array_get(to, 0)), rcpt) == 0)
      json_array_append(out, m);
  }
  return out;
}

/* Messages whose subject starts with prefix. */
static size_t count_subject(json_t *messages, const char *prefix)
{
  size_t i, n = 0;
  json_t *m;
  json_array_foreach(messages, i, m)
    n += strncmp(str(m, "subject"), prefix, strlen(prefix)) == 0;
  return n;
}

#define expect_contains(m, key, needle) \
  cr_expect(strstr(str((m), (key)), (needle)) != NULL, "%s lacks \"%s\":\n%s", (key), \
            (needle), str((m), (key)))
#define expect_lacks(m, key, needle) \
  cr_expect(strstr(str((m), (key)), (needle)) == NULL, "%s has \"%s\":\n%s", (key), \
            (needle), str((m), (key)))

/* A well-formed message from FROM to rcpt with subject. */
static void expect_mail(json_t *m, const char *rcpt, const char *subject)
{
  cr_assert(m != NULL, "no message to %s \"%s\"", rcpt, subject);
  cr_expect_str_eq(str(m, "subject"), subject);
  cr_expect_str_eq(str(m, "mail_from"), "events@example.com");
  cr_expect_eq(json_array_size(json_object_get(m, "rcpt_tos")), 1);
  cr_expect_str_eq(json_string_value(json_array_get(json_object_get(m, "rcpt_tos"), 0)), rcpt);
  expect_contains(m, "to", rcpt);
  expect_contains(m, "from", "events@example.com");
  cr_expect_str_eq(str(m, "content_type"), "multipart/alternative");
  json_t *parts = json_object_get(m, "parts");
  cr_expect_eq(json_array_size(parts), 2, "parts: %s", str(m, "raw"));
  cr_expect_str_eq(json_string_value(json_array_get(parts, 0)), "text/plain");
  cr_expect_str_eq(json_string_value(json_array_get(parts, 1)), "text/html");
  cr_expect(str(m, "message_id")[0] == '<', "Message-ID: %s", str(m, "message_id"));
  cr_expect(str(m, "date")[0] != '\0', "a Date header");
  cr_expect_str_eq(str(m, "auto_submitted"), "auto-generated");
  cr_expect_eq(json_array_size(json_object_get(m, "defects")), 0, "defects in:\n%s",
               str(m, "raw"));
  cr_expect(json_is_true(json_object_get(m, "raw_ok")), "CRLF lines under 998 octets");
}

/* ---- each trigger ---------------------------------------------------------- */

Test(notifications, confirmed_registration_mails_its_ticket)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = event_at(org.access, "Jazz Night", WHEN, 10);
  const char *code = api_ticket_code(register_for(alice.access, event));

  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 1);
  json_t *m = json_array_get(all, 0);
  expect_mail(m, "alice@example.com", "Registration confirmed: Jazz Night");
  expect_contains(m, "text", code);
  expect_contains(m, "text", WHEN);
  expect_contains(m, "text", api_date("Thursday 1 May {Y}, 18:00 UTC"));
  expect_contains(m, "text", "Berlin");
  expect_contains(m, "text", "Jazz Night");
  expect_contains(m, "html", code);
  expect_contains(m, "html", "Berlin");

  /* The same notification in the app, for alice alone. */
  struct api_resp *r = api_get(NOTIFICATIONS, alice.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 1, "%s", r->body);
  json_t *n = json_array_get(r->json, 0);
  expect_keys(n, NOTIFICATION_KEYS);
  expect_str(n, "type", "registration_confirmed");
  expect_int(n, "event", event);
  expect_str(n, "title", "Registration confirmed: Jazz Night");
  expect_bool(n, "is_read", false);
  cr_expect(strstr(json_string_value(json_object_get(n, "message")), code) != NULL);
  r = api_get(NOTIFICATIONS, org.access);
  expect_status(r, 200);
  expect_body(r, "[]");
  /* Nothing more: the registration's reminders are a long way off. */
  cr_expect_eq(json_array_size(deliver()), 1);
}

Test(notifications, waitlist_and_promotion_mail_the_right_people)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  long long event = event_at(org.access, "Jazz Night", WHEN, 1);
  long long alices = api_id(register_for(alice.access, event));
  struct api_resp *r = register_for(bob.access, event);
  expect_bool(r, "is_waitlisted", true);
  long long bobs = api_id(r);

  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 2);
  json_t *waiting = json_array_get(mail_to(all, "bob@example.com"), 0);
  expect_mail(waiting, "bob@example.com", "You are on the waitlist: Jazz Night");
  expect_contains(waiting, "text", "waitlist");
  expect_lacks(waiting, "text", "Ticket:");

  cancel(alice.access, alices);
  all = deliver();
  cr_assert_eq(json_array_size(all), 3);
  r = api_get(api_printf("/api/registrations/%lld/", bobs), bob.access);
  expect_status(r, 200);
  expect_bool(r, "is_waitlisted", false);
  json_t *promoted = json_array_get(all, 2);
  expect_mail(promoted, "bob@example.com", "A place opened up: Jazz Night");
  expect_contains(promoted, "text", api_ticket_code(r));
  /* Alice, who cancelled, got her confirmation and nothing else. */
  cr_expect_eq(json_array_size(mail_to(all, "alice@example.com")), 1);

  r = api_get(NOTIFICATIONS, bob.access);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  expect_str(json_array_get(r->json, 0), "type", "registration_promoted");
  expect_str(json_array_get(r->json, 1), "type", "registration_waitlisted");
}

Test(notifications, a_moved_event_mails_every_registrant)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL);
  long long event = event_at(org.access, "Jazz Night", WHEN, 1);
  register_for(alice.access, event);
  register_for(bob.access, event); /* waitlisted: a registrant too */
  cancel(carol.access, api_id(register_for(carol.access, event)));
  cr_assert_eq(json_array_size(deliver()), 3);

  /* Only the description: nobody is told. */
  expect_status(api_patch(api_printf(EVENTS "%lld/update/", event), org.access,
                          api_json("{'description':'Bring friends'}")), 200);
  expect_status(api_patch(api_printf(EVENTS "%lld/update/", event), org.access,
                          api_json("{'date_time':'{Y}-06-02T20:30:00Z','location':'Paris'}")),
                200);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 5, "two updates, one per active registrant");
  const char *const people[] = {"alice@example.com", "bob@example.com"};
  for (size_t i = 0; i < 2; i++) {
    json_t *mine = mail_to(all, people[i]);
    json_t *m = json_array_get(mine, json_array_size(mine) - 1);
    expect_mail(m, people[i], "Event updated: Jazz Night");
    expect_contains(m, "text", api_date("{Y}-06-02T20:30:00Z"));
    expect_contains(m, "text", "Paris");
    expect_contains(m, "text", WHEN); /* and what it was */
    expect_contains(m, "text", "Berlin");
  }
  cr_expect_eq(count_subject(mail_to(all, "carol@example.com"), "Event updated"), 0);
}

/* docs/api.md "Time zones": mail and the app state times as the clocks of
 * the event's zone read them, with its abbreviation, across the change to
 * summer time ({Y} has 2025's calendar: Berlin's clocks go forward on 30
 * March, New York's on 9 March). */
Test(notifications, times_are_stated_in_the_events_zone)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_resp *made = api_post("/api/events/create/", org.access, api_event_json(
      api_json("{'title':'Jazz Night','date_time':'{Y}-03-29T08:00:00Z',"
               "'timezone':'Europe/Berlin'}")));
  expect_status(made, 200);
  long long event = api_id(made);
  register_for(alice.access, event);
  json_t *m = json_array_get(deliver(), 0);
  expect_mail(m, "alice@example.com", "Registration confirmed: Jazz Night");
  expect_contains(m, "text", api_date("When: Saturday 29 March {Y}, 09:00 CET"
                                      " ({Y}-03-29T09:00:00+01:00)"));
  expect_lacks(m, "text", "UTC");

  /* Moved past the change, then to New York's zone: the instant and the
   * clocks that read it. */
  expect_status(api_patch(api_printf(EVENTS "%lld/update/", event), org.access,
                          api_json("{'date_time':'{Y}-03-31T16:00:00Z'}")), 200);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 2);
  m = json_array_get(all, 1);
  expect_mail(m, "alice@example.com", "Event updated: Jazz Night");
  expect_contains(m, "text", api_date("When: Monday 31 March {Y}, 18:00 CEST"
                                      " ({Y}-03-31T18:00:00+02:00)"));
  expect_contains(m, "text", api_date("Was: Saturday 29 March {Y}, 09:00 CET"
                                      " ({Y}-03-29T09:00:00+01:00), Berlin"));
  struct api_resp *r = api_get(NOTIFICATIONS, alice.access);
  expect_status(r, 200);
  json_t *latest = json_array_get(r->json, 0);
  cr_expect_str_eq(json_string_value(json_object_get(latest, "message")),
                   api_date("\"Jazz Night\" has changed: it now takes place on"
                            " Monday 31 March {Y}, 18:00 CEST at Berlin."));

  expect_status(api_patch(api_printf(EVENTS "%lld/update/", event), org.access,
                          api_json("{'timezone':'America/New_York',"
                                   "'date_time':'{Y}-03-08T14:00:00Z'}")), 200);
  m = json_array_get(deliver(), 2);
  expect_contains(m, "text", api_date("When: Saturday 8 March {Y}, 09:00 EST"
                                      " ({Y}-03-08T09:00:00-05:00)"));
  /* What it was, in the zone it has now. */
  expect_contains(m, "text", api_date("Was: Monday 31 March {Y}, 12:00 EDT"
                                      " ({Y}-03-31T12:00:00-04:00)"));
}

Test(notifications, a_deleted_event_mails_every_registrant)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  struct api_user carol = api_signup("carol", NULL);
  long long event = event_at(org.access, "Jazz Night", WHEN, 1);
  register_for(alice.access, event);
  register_for(bob.access, event);
  cancel(carol.access, api_id(register_for(carol.access, event)));
  cr_assert_eq(json_array_size(deliver()), 3);

  expect_status(api_delete(api_printf(EVENTS "%lld/delete/", event), org.access), 204);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 5);
  expect_mail(json_array_get(mail_to(all, "alice@example.com"), 1), "alice@example.com",
              "Event cancelled: Jazz Night");
  expect_mail(json_array_get(mail_to(all, "bob@example.com"), 1), "bob@example.com",
              "Event cancelled: Jazz Night");
  expect_contains(json_array_get(all, 3), "text", "cancelled");
  cr_expect_eq(json_array_size(mail_to(all, "carol@example.com")), 1);
  /* The notice outlives the event, in the app too. */
  struct api_resp *r = api_get(NOTIFICATIONS, alice.access);
  expect_str(json_array_get(r->json, 0), "type", "event_cancelled");
  expect_int(json_array_get(r->json, 0), "event", event);
}

/* ---- reminders ------------------------------------------------------------- */

#define REMINDERS "SELECT count(*) FROM notifications WHERE kind = 'event_reminder'"

static void start_reminding(void)
{
  const char *env[] = {"REMINDER_OFFSETS", "1h,5h", NULL};
  start_mailing(env);
}

Test(notification_reminders, reminders_due_now_are_sent_once, .init = start_reminding, .fini = stop)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user carol = api_signup("carol", NULL);
  /* The 1-hour reminder falls due in ten minutes; the 5-hour one has passed. */
  long long event = event_at(org.access, "Jazz Night", api_iso_from_now(3600 + 600), 10);
  register_for(alice.access, event);
  cancel(carol.access, api_id(register_for(carol.access, event)));
  cr_expect_eq(api_db_int(REMINDERS, 0), 0, "reminders are written when they fall due");

  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 2, "the two confirmations, no reminder yet");
  struct api_resp *r = api_get(NOTIFICATIONS, alice.access);
  cr_assert_eq(json_array_size(r->json), 1, "a reminder not yet due is not listed: %s", r->body);

  api_clock_advance(600);
  all = deliver();
  cr_assert_eq(json_array_size(all), 3, "two confirmations and one reminder");
  json_t *alices = mail_to(all, "alice@example.com");
  cr_assert_eq(json_array_size(alices), 2);
  expect_mail(json_array_get(alices, 1), "alice@example.com",
              "Reminder: Jazz Night starts in 1 hour");
  cr_expect_eq(count_subject(mail_to(all, "carol@example.com"), "Reminder"), 0);
  cr_expect_eq(count_subject(all, "Reminder: Jazz Night starts in 5 hours"), 0);
  /* Once: delivering again sends nothing. */
  cr_expect_eq(json_array_size(deliver()), 3);

  r = api_get(NOTIFICATIONS, alice.access);
  cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
  expect_str(json_array_get(r->json, 0), "type", "event_reminder");
  cr_expect_eq(api_db_int(REMINDERS, 0), 1,
               "alice's 1-hour reminder only: carol cancelled, and the 5-hour ones were "
               "never written");
}

Test(notification_reminders, a_rescheduled_event_moves_its_reminders, .init = start_reminding,
     .fini = stop)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user dave = api_signup("dave", NULL);
  /* Its 1-hour reminder is an hour away ... */
  long long event = event_at(org.access, "Jazz Night", api_iso_from_now(2 * 3600), 10);
  register_for(dave.access, event);
  cr_assert_eq(json_array_size(deliver()), 1);
  struct api_resp *r = api_get(NOTIFICATIONS, dave.access);
  cr_expect_eq(json_array_size(r->json), 1, "a reminder not yet due is not listed: %s", r->body);

  /* ... until the event moves 55 minutes earlier: five minutes away. */
  const char *when = api_iso_from_now(3600 + 300);
  expect_status(api_patch(api_printf(EVENTS "%lld/update/", event), org.access,
                          api_jsonf("{\"date_time\":\"%s\"}", when)), 200);
  cr_assert_eq(json_array_size(deliver()), 2, "the update, and no reminder yet");
  api_clock_advance(300);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 3, "confirmed, updated, reminded: %zu", json_array_size(all));
  expect_mail(json_array_get(all, 1), "dave@example.com", "Event updated: Jazz Night");
  json_t *reminder = json_array_get(all, 2);
  expect_mail(reminder, "dave@example.com", "Reminder: Jazz Night starts in 1 hour");
  expect_contains(reminder, "text", when);
  cr_expect_eq(api_db_int(REMINDERS, 0), 1,
               "the 5-hour reminder, already past, was never written");
}

/* Without REMINDER_OFFSETS: 24 hours and 3 hours before (API.md). */
Test(notification_reminders, by_default_reminders_come_a_day_and_three_hours_before,
     .init = start, .fini = stop)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user erin = api_signup("erin", NULL);
  long long event = event_at(org.access, "Jazz Night", api_iso_from_now(30 * 3600), 10);
  register_for(erin.access, event);
  cr_assert_eq(json_array_size(deliver()), 1, "the confirmation only");
  cr_expect_eq(api_db_int(REMINDERS, 0), 0, "written when they fall due");

  api_clock_advance(5 * 3600); /* an hour before the first is due */
  cr_assert_eq(json_array_size(deliver()), 1);
  api_clock_advance(3600);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 2);
  expect_mail(json_array_get(all, 1), "erin@example.com", "Reminder: Jazz Night starts in 24 hours");

  api_clock_advance(20 * 3600); /* an hour before the second */
  cr_assert_eq(json_array_size(deliver()), 2);
  api_clock_advance(3600);
  all = deliver();
  cr_assert_eq(json_array_size(all), 3);
  expect_mail(json_array_get(all, 2), "erin@example.com", "Reminder: Jazz Night starts in 3 hours");
  cr_expect_eq(json_array_size(deliver()), 3, "each reminder once");
}

/* ---- hostile content ------------------------------------------------------ */

Test(notifications, hostile_titles_and_names_stay_in_their_place)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  expect_status(api_patch("/api/users/me/", alice.access,
                          api_json("{'first_name':'Ann\\r\\nBcc: evil@example.com',"
                                   "'last_name':'\\\"<O&apos;Neil>\\\"'}")), 200);
  char title[600];
  snprintf(title, sizeof title, "Café \"Zürich\" <b>bold</b> & 東京 🎉\r\nBcc: evil@example.com %s",
           api_repeat('x', 150));
  long long event = event_at(org.access, title, WHEN, 10);
  register_for(alice.access, event);

  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 1);
  json_t *m = json_array_get(all, 0);
  char flat[600];
  snprintf(flat, sizeof flat, "Registration confirmed: Café \"Zürich\" <b>bold</b> & 東京 🎉 "
           "Bcc: evil@example.com %s", api_repeat('x', 150));
  expect_mail(m, "alice@example.com", flat);
  size_t i;
  json_t *name;
  json_array_foreach(json_object_get(m, "header_names"), i, name)
    cr_expect(strcasecmp(json_string_value(name), "Bcc") != 0, "an injected Bcc header");
  expect_lacks(m, "to", "\n");
  expect_contains(m, "to", "Ann");
  expect_contains(m, "text", "Café \"Zürich\" <b>bold</b> & 東京 🎉 Bcc: evil@example.com");
  expect_contains(m, "html", "Café &quot;Zürich&quot; &lt;b&gt;bold&lt;/b&gt; &amp; 東京 🎉");
  expect_lacks(m, "html", "<b>bold</b>");
}

/* ---- rendered when sent --------------------------------------------------------- */

/* The confirmations' mail in the outbox (src/delivery/). */
#define CONFIRMED "SELECT count(*) FROM outbox WHERE kind = 'registration_confirmed'"

Test(notifications, a_registration_writes_a_small_row_rendered_when_sent)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = event_at(org.access, "Jazz Night", WHEN, 10);
  register_for(alice.access, event);
  /* The unit of work wrote a reference to the notification, no body. */
  long long notification = api_db_int("SELECT id FROM notifications", 0);
  cr_expect_eq(api_db_int(api_printf(CONFIRMED " AND payload = '{\"render\":\"notification\","
                                     "\"ref\":%lld}' AND target = 'alice@example.com'"
                                     " AND source = 'notification:%lld'",
                                     notification, notification), 0), 1);

  /* Renamed before the worker sends: the mail says what the notification
   * said when it was written (it keeps the event as it was). */
  expect_status(api_patch(api_printf(EVENTS "%lld/update/", event), org.access,
                          api_json("{'title':'Renamed'}")), 200);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 1);
  json_t *m = json_array_get(all, 0);
  expect_mail(m, "alice@example.com", "Registration confirmed: Jazz Night");
  expect_contains(m, "text", "Jazz Night");
  expect_lacks(m, "text", "Renamed");
  struct api_resp *r = api_get(NOTIFICATIONS, alice.access);
  expect_str(json_array_get(r->json, 0), "title", "Registration confirmed: Jazz Night");
}

Test(notifications, mail_whose_notification_is_gone_dies_saying_so)
{
  smtp_restart((const char *const[]){"--reject-rcpt", "550", NULL});
  struct api_user org = api_signup("org", "organizer");
  struct api_user root = api_admin("root");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));
  cr_assert_eq(json_array_size(deliver()), 0);
  cr_assert_eq(api_db_int(CONFIRMED " AND state = 'dead'", 0), 1);
  long long notification = api_db_int("SELECT id FROM notifications", 0);

  /* alice goes, her notifications with her; the dead mail stays, as
   * history, and an operator requeues it. */
  expect_status(api_delete(api_user_path(alice.id), root.access), 204);
  cr_assert_eq(api_db_int("SELECT count(*) FROM notifications", 0), 0);
  smtp_restart(NULL);
  const char *requeue[] = {"outbox", "requeue", "--all", NULL}, *out;
  cr_assert_eq(api_process_run(requeue, NULL, &out), 0, "%s", out);
  cr_assert_eq(json_array_size(deliver()), 0, "nothing to render, nothing sent");
  cr_expect_eq(api_db_int(api_printf(CONFIRMED " AND state = 'dead' AND attempts = 1"
                                     " AND last_error = 'cannot render the mail: notification"
                                     " %lld is gone'", notification), 0), 1);
}

Test(notifications, mail_whose_renderer_is_missing_dies_saying_so)
{
  long long now = api_now_us();
  long long id = api_db_int(api_printf(
      "INSERT INTO outbox (channel, kind, message_id, target, payload, created_at,"
      " next_attempt_at) VALUES ('mail', 'newsletter', 'abc', 'alice@example.com',"
      " '{\"render\":\"newsletter\",\"ref\":1}', %lld, %lld) RETURNING id", now, now), 0);
  cr_assert_eq(json_array_size(deliver()), 0);
  cr_expect_eq(api_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'dead'"
                          " AND last_error = 'cannot render the mail: no renderer"
                          " \"newsletter\" is registered'", id), 1);
}

Test(notifications, mail_written_rendered_by_an_older_version_is_sent_as_it_is)
{
  /* A row as the outbox held it before mail was rendered when sent. */
  long long now = api_now_us();
  long long id = api_db_int(api_printf(
      "INSERT INTO outbox (channel, kind, message_id, target, payload, source, created_at,"
      " next_attempt_at) VALUES ('mail', 'registration_confirmed', 'c0ffee', 'dan@example.com',"
      " '{\"to\":\"dan@example.com\",\"to_name\":\"Dan\",\"subject\":\"Registration"
      " confirmed: Old Gig\",\"text\":\"Hello Dan,\\n\",\"html\":\"<p>Hello Dan,</p>\"}',"
      " 'notification:999', %lld, %lld) RETURNING id", now, now), 0);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 1);
  json_t *m = json_array_get(all, 0);
  expect_mail(m, "dan@example.com", "Registration confirmed: Old Gig");
  expect_contains(m, "to", "Dan");
  expect_contains(m, "text", "Hello Dan,");
  cr_expect_str_eq(str(m, "message_id"), "<c0ffee@example.com>");
  cr_expect_eq(api_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'sent'", id), 1);
}

/* ---- history -------------------------------------------------------------------- */

#define DAY (24 * 3600LL)
#define KEPT "SELECT count(*) FROM outbox WHERE id = ?"

Test(notifications, sent_mail_leaves_the_outbox_after_a_week_dead_mail_after_30_days)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));
  deliver();
  smtp_restart((const char *const[]){"--reject-rcpt", "550", NULL});
  register_for(bob.access, event_at(org.access, "Folk Night", WHEN, 10));
  deliver();
  smtp_restart(NULL);
  long long sent = api_db_int("SELECT id FROM outbox WHERE state = 'sent'"
                              " AND target = 'alice@example.com' AND id > ?", 0);
  long long dead = api_db_int("SELECT id FROM outbox WHERE state = 'dead'"
                              " AND target = 'bob@example.com' AND id > ?", 0);
  cr_assert(sent > 0 && dead > 0, "sent %lld, dead %lld", sent, dead);

  /* OUTBOX_RETENTION (7d) and OUTBOX_DEAD_RETENTION (30d) by default; the
   * workers prune as they deliver. */
  api_clock_advance(6 * DAY);
  deliver();
  cr_expect_eq(api_db_int(KEPT, sent), 1, "sent six days ago: kept");
  api_clock_advance(DAY + 60);
  deliver();
  cr_expect_eq(api_db_int(KEPT, sent), 0, "sent a week ago: gone");
  cr_expect_eq(api_db_int(KEPT, dead), 1, "dead a week ago: kept, to be requeued");
  api_clock_advance(23 * DAY);
  deliver();
  cr_expect_eq(api_db_int(KEPT, dead), 0, "dead 30 days ago: gone");
  /* The notifications themselves stay: only the outbox's history goes. */
  cr_expect_eq(api_db_int("SELECT count(*) FROM notifications WHERE id > ?", 0), 2);
}

/* ---- the mail server down ---------------------------------------------------- */

/* The mail server greets every connection with 421: down for now. */
static void mail_server_down(void)
{
  smtp_restart((const char *const[]){"--refuse", NULL});
}

static void mail_server_up(void)
{
  smtp_restart(NULL);
}

Test(notifications, mail_waits_for_the_server_to_come_back)
{
  mail_server_down();
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));

  cr_assert_eq(json_array_size(deliver()), 0);
  cr_assert_eq(api_db_int(CONFIRMED " AND attempts = 1 AND state = 'pending'", 0), 1);
  cr_expect_eq(api_db_int(CONFIRMED " AND last_error LIKE '%421%'", 0), 1);
  /* Not again before its retry is due ... */
  cr_assert_eq(json_array_size(deliver()), 0);
  cr_expect_eq(api_db_int(CONFIRMED " AND attempts = 1", 0), 1);
  /* ... then tried again. */
  api_clock_advance(3600);
  cr_assert_eq(json_array_size(deliver()), 0);
  cr_assert_eq(api_db_int(CONFIRMED " AND attempts = 2 AND state = 'pending'", 0), 1,
               "tried again");

  mail_server_up();
  api_clock_advance(3600);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 1);
  expect_mail(json_array_get(all, 0), "alice@example.com", "Registration confirmed: Jazz Night");
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent' AND attempts = 3", 0), 1);
  api_clock_advance(3600);
  cr_expect_eq(json_array_size(deliver()), 1, "delivered once");
}

static void start_two_attempts(void)
{
  const char *env[] = {"EMAIL_MAX_ATTEMPTS", "2", NULL};
  start_mailing(env);
}

Test(notification_retries, mail_dies_after_max_attempts_and_can_be_requeued,
     .init = start_two_attempts, .fini = stop)
{
  mail_server_down();
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));

  deliver();
  api_clock_advance(3600);
  deliver();
  cr_assert_eq(api_db_int(CONFIRMED " AND state = 'dead' AND attempts = 2", 0), 1);
  const char *out;
  const char *list[] = {"outbox", NULL};
  cr_assert_eq(api_process_run(list, NULL, &out), 0, "%s", out);
  cr_expect(strstr(out, "dead 1") != NULL, "%s", out);
  cr_expect(strstr(out, "registration_confirmed") != NULL, "%s", out);
  cr_expect(strstr(out, "alice@example.com") != NULL, "%s", out);

  mail_server_up();
  api_clock_advance(3600);
  cr_expect_eq(json_array_size(deliver()), 0, "dead mail stays dead");
  const char *requeue[] = {"outbox", "requeue", "--all", NULL};
  cr_assert_eq(api_process_run(requeue, NULL, &out), 0, "%s", out);
  cr_expect(strstr(out, "requeued 1") != NULL, "%s", out);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 1);
  expect_mail(json_array_get(all, 0), "alice@example.com", "Registration confirmed: Jazz Night");
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent'", 0), 1);
}

Test(notifications, a_permanent_refusal_is_dead_at_once)
{
  smtp_restart((const char *const[]){"--reject-rcpt", "550", NULL});
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));
  cr_assert_eq(json_array_size(deliver()), 0);
  cr_assert_eq(api_db_int(CONFIRMED " AND state = 'dead'", 0), 1);
  cr_expect_eq(api_db_int(CONFIRMED " AND attempts = 1", 0), 1);
  cr_expect_eq(api_db_int(CONFIRMED " AND last_error LIKE '%550%'", 0), 1);
}

/* ---- the server's own worker ----------------------------------------------------- */

static void start_with_worker(void)
{
  const char *env[] = {"WORKER", "on", "WORKER_INTERVAL", "100ms", NULL};
  start_mailing(env);
}

Test(notification_workers, the_servers_own_worker_sends_unasked, .init = start_with_worker,
     .fini = stop)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));
  /* Waits for what must happen: the row sent, then the message read. */
  cr_assert_eq(api_db_wait(CONFIRMED " AND state = 'sent'", 0, 1, WAIT_MS), 1);
  json_t *all = smtp_wait(1, WAIT_MS);
  cr_assert_eq(json_array_size(all), 1);
  expect_mail(json_array_get(all, 0), "alice@example.com", "Registration confirmed: Jazz Night");
  cr_expect_eq(api_db_int(CONFIRMED " AND attempts = 1", 0), 1);
}

/* ---- processes: killed, and side by side -------------------------------------- */

Test(notification_workers, a_killed_node_loses_no_mail, .init = start, .fini = stop)
{
  mail_server_down();
  struct api_process node;
  const char *serve[] = {"serve", NULL};
  /* Its worker tries each mail once, then waits long for the next try. */
  const char *on[] = {"WORKER", "on", "EMAIL_RETRY_DELAY", "1h", NULL};
  api_process_start(&node, serve, on);
  api_server_attach(node.port);
  struct api_user org = api_signup("org", "organizer");
  long long event = event_at(org.access, "Jazz Night", WHEN, 10);
  struct api_user people[5];
  for (size_t i = 0; i < 5; i++)
    register_for((people[i] = api_signup(api_printf("p%zu", i), NULL)).access, event);
  /* Each tried by the node (and refused) before it is killed. */
  cr_assert_eq(api_db_wait(CONFIRMED " AND attempts >= 1", 0, 5, WAIT_MS), 5);
  api_process_kill(&node, SIGKILL);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'pending' AND attempts = 1", 0), 5);

  /* Past every retry and every claim the node held, another worker sends. */
  mail_server_up();
  api_clock_advance(2 * 3600);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 5);
  for (size_t i = 0; i < 5; i++)
    cr_expect_eq(json_array_size(mail_to(all, api_printf("p%zu@example.com", i))), 1);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent'", 0), 5);
}

Test(notification_workers, mail_recorded_as_sent_is_not_sent_again, .init = start, .fini = stop)
{
  struct api_process node;
  const char *serve[] = {"serve", NULL};
  const char *on[] = {"WORKER", "on", NULL};
  api_process_start(&node, serve, on);
  api_server_attach(node.port);
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));
  cr_assert_eq(api_db_wait(CONFIRMED " AND state = 'sent'", 0, 1, WAIT_MS), 1);
  api_process_kill(&node, SIGKILL);

  /* A worker started after the kill, with every claim long run out. */
  api_clock_advance(3600);
  cr_expect_eq(json_array_size(deliver()), 1, "delivered once");
  const char *once[] = {"worker", "--once", NULL}, *out;
  cr_assert_eq(api_process_run(once, NULL, &out), 0, "%s", out);
  cr_expect_eq(smtp_count(), 1, "delivered once: %s", out);
}

Test(notification_workers, two_workers_deliver_each_mail_once, .init = start, .fini = stop)
{
  enum { PEOPLE = 30 };
  crowd_registered(PEOPLE);
  cr_expect_eq(smtp_count(), 0, "no worker in the server");

  struct api_process workers[2];
  const char *work[] = {"worker", NULL};
  for (size_t i = 0; i < 2; i++)
    api_process_start(&workers[i], work, NULL);
  /* Waits until every message came, then stops both: each finishes the
   * message in hand, so nothing can arrive after they exit. */
  smtp_wait(PEOPLE, WAIT_MS);
  for (size_t i = 0; i < 2; i++)
    cr_expect_eq(api_process_kill(&workers[i], SIGTERM), 0);
  json_t *all = smtp_messages();
  cr_assert_eq(json_array_size(all), PEOPLE);
  for (size_t i = 0; i < PEOPLE; i++)
    cr_expect_eq(json_array_size(mail_to(all, api_printf("p%zu@example.com", i))), 1);
  for (size_t i = 0; i < PEOPLE; i++)
    for (size_t j = i + 1; j < PEOPLE; j++)
      cr_expect_str_neq(str(json_array_get(all, i), "message_id"),
                        str(json_array_get(all, j), "message_id"));
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent' AND attempts = 1", 0), PEOPLE,
               "each taken once");
}

Test(notification_workers, a_rush_of_mail_goes_out_in_batches_each_with_its_own_outcome,
     .init = start, .fini = stop)
{
  enum { PEOPLE = 40, REFUSED = 3 }; /* more than one claim takes (32) */
  crowd_registered(PEOPLE);
  const char *refuse[] = {"--fail-first", api_printf("%d", REFUSED), NULL};
  smtp_restart(refuse);

  /* The earliest due go first: the first three are refused for now, the
   * rest of their batch and the next batch are sent. */
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), PEOPLE - REFUSED);
  for (size_t i = 0; i < PEOPLE; i++)
    cr_expect_eq(json_array_size(mail_to(all, api_printf("p%zu@example.com", i))),
                 i < REFUSED ? 0 : 1, "p%zu", i);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent' AND attempts = 1"
                          " AND claimed_until IS NULL", 0), PEOPLE - REFUSED);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'pending' AND attempts = 1"
                          " AND claimed_until IS NULL AND last_status = 451", 0), REFUSED,
               "each refusal recorded as its own, to be tried again");

  /* Past the retry, the three go, and nothing twice. */
  api_clock_advance(3600);
  all = deliver();
  cr_assert_eq(json_array_size(all), PEOPLE);
  for (size_t i = 0; i < PEOPLE; i++)
    cr_expect_eq(json_array_size(mail_to(all, api_printf("p%zu@example.com", i))), 1, "p%zu", i);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent' AND attempts = 2", 0), REFUSED);
}

Test(notification_workers, a_worker_told_to_stop_gives_back_what_it_has_not_sent,
     .init = start, .fini = stop)
{
  enum { PEOPLE = 10 };
  crowd_registered(PEOPLE);
  /* The mail server takes one message, then holds the next one's DATA
   * until the test lets it go: the worker is caught in mid-batch. */
  const char *go = mail_server_holding();
  struct api_process worker;
  const char *work[] = {"worker", NULL};
  api_process_start(&worker, work, NULL);
  const char *held = api_printf("%s.held", go);
  for (int waited = 0; access(held, F_OK) != 0; waited += 20) {
    cr_assert_lt(waited, WAIT_MS, "the worker never sent its second message");
    api_pause_ms(20);
  }
  cr_assert_eq(smtp_count(), 1);
  cr_assert_eq(api_db_int(CONFIRMED " AND state = 'pending' AND claimed_until IS NOT NULL", 0),
               PEOPLE, "the whole batch claimed, the first outcome not yet recorded");

  /* Told to stop, it finishes the message in hand and gives the rest back. */
  cr_assert_eq(kill(worker.pid, SIGTERM), 0);
  mail_server_release(go);
  cr_assert_eq(api_process_wait(&worker, WAIT_MS), 0, "%s", api_process_output(&worker));
  cr_assert_eq(smtp_count(), 2);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent' AND attempts = 1", 0), 2);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'pending' AND attempts = 0"
                          " AND claimed_until IS NULL", 0), PEOPLE - 2,
               "given back, the tries uncounted: due at once for the next worker");

  /* The next worker sends them, and nothing twice. */
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), PEOPLE);
  for (size_t i = 0; i < PEOPLE; i++)
    cr_expect_eq(json_array_size(mail_to(all, api_printf("p%zu@example.com", i))), 1, "p%zu", i);
}

Test(notification_workers, a_slow_mail_server_has_the_batch_renew_its_claims,
     .init = start, .fini = stop)
{
  enum { PEOPLE = 4 };
  crowd_registered(PEOPLE);
  /* The first message goes; every later one is held past EMAIL_TIMEOUT,
   * until every outcome is in. */
  const char *go = mail_server_holding();
  struct api_process worker;
  const char *once[] = {"worker", "--once", NULL};
  const char *slow[] = {"EMAIL_TIMEOUT", "1s", "LOG_LEVEL", "debug", NULL};
  api_process_start(&worker, once, slow);
  cr_assert_eq(api_db_wait(CONFIRMED " AND attempts = 1 AND claimed_until IS NULL", 0, PEOPLE,
                           WAIT_MS), PEOPLE);
  mail_server_release(go);
  cr_assert_eq(api_process_wait(&worker, WAIT_MS), 0, "%s", api_process_output(&worker));
  const char *out = api_process_output(&worker);

  /* A claim covers what may start in the first timeout: the third message
   * and the fourth start later, each after its claim was renewed. */
  cr_expect(strstr(out, "the claims of the batch's 2 unsent renewed") != NULL, "%s", out);
  cr_expect(strstr(out, "the claims of the batch's 1 unsent renewed") != NULL, "%s", out);
  cr_expect(strstr(out, "no longer this worker's") == NULL, "%s", out);
  /* Every outcome recorded under the claim that made it. */
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent' AND attempts = 1", 0), 1, "%s", out);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'pending' AND attempts = 1"
                          " AND claimed_until IS NULL AND last_error IS NOT NULL", 0),
               PEOPLE - 1, "%s", out);
}

static void start_reminding_an_hour_before(void)
{
  const char *env[] = {"REMINDER_OFFSETS", "1h", NULL};
  start_mailing(env);
}

Test(notification_workers, a_reminder_too_late_to_be_true_is_not_sent,
     .init = start_reminding_an_hour_before, .fini = stop)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  long long event = event_at(org.access, "Jazz Night", api_iso_from_now(2 * 3600), 10);
  register_for(alice.access, event);
  /* Its "starts in 1 hour" reminder falls due in an hour, but no worker
   * runs until 20 minutes are left: less than half of the hour. It is
   * written then, and found too late to be true. */
  api_clock_advance(3600 + 40 * 60);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 1, "the confirmation only");
  expect_mail(json_array_get(all, 0), "alice@example.com", "Registration confirmed: Jazz Night");
  cr_expect_eq(api_db_int("SELECT count(*) FROM outbox WHERE kind = 'event_reminder'"
                          " AND state = 'dead' AND last_error LIKE 'too late%'", 0), 1,
               "dead, with the reason");
}

Test(notification_workers, a_mail_whose_workers_keep_dying_ends_dead, .init = start, .fini = stop)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));
  /* Claimed EMAIL_MAX_ATTEMPTS times by workers that died before an outcome. */
  cr_assert_eq(api_db_int("UPDATE outbox SET attempts = 3"
                          " WHERE kind = 'registration_confirmed' RETURNING attempts", 0), 3);
  const char *once[] = {"worker", "--once", NULL}, *out;
  const char *three[] = {"EMAIL_MAX_ATTEMPTS", "3", NULL};
  cr_assert_eq(api_process_run(once, three, &out), 0, "%s", out);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'dead' AND attempts = 4"
                          " AND last_error LIKE 'claimed more often%'", 0), 1, "%s", out);
  cr_expect_eq(smtp_count(), 0, "not sent a fourth time");
}

Test(notification_workers, the_console_mailer_prints_the_whole_message, .init = start,
     .fini = stop)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  register_for(alice.access, event_at(org.access, "Jazz Night", WHEN, 10));
  const char *once[] = {"worker", "--once", NULL};
  const char *console[] = {"EMAIL_URL", "console://", "LOG_LEVEL", "info", NULL};
  const char *out;
  cr_assert_eq(api_process_run(once, console, &out), 0, "%s", out);
  cr_expect(strstr(out, "To: alice@example.com") || strstr(out, "<alice@example.com>"),
            "%s", out);
  cr_expect(strstr(out, "Subject: Registration confirmed: Jazz Night") != NULL, "%s", out);
  cr_expect(strstr(out, "Ticket: ") != NULL, "%s", out);
  cr_expect_eq(api_db_int(CONFIRMED " AND state = 'sent'", 0), 1);
  cr_expect_eq(smtp_count(), 0);
}

Test(notifications, a_bad_email_url_is_refused_at_start)
{
  const char *once[] = {"worker", "--once", NULL};
  const char *bad[] = {"EMAIL_URL", "http://mail.example.com/", NULL};
  const char *out;
  cr_expect_eq(api_process_run(once, bad, &out), 1, "%s", out);
  cr_expect(strstr(out, "EMAIL_URL") != NULL, "%s", out);
  const char *from[] = {"EMAIL_FROM", "not an address", NULL};
  cr_expect_eq(api_process_run(once, from, &out), 1, "%s", out);
  cr_expect(strstr(out, "EMAIL_FROM") != NULL, "%s", out);
}

/* ---- the in-app list ---------------------------------------------------------- */

Test(notifications, the_list_is_the_callers_own_newest_first)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  long long first = event_at(org.access, "First", WHEN, 10);
  long long second = event_at(org.access, "Second", WHEN, 10);
  register_for(alice.access, first);
  register_for(alice.access, second);

  struct api_resp *r = api_get(NOTIFICATIONS, alice.access);
  expect_status(r, 200);
  expect_that(strcmp(api_header(r, "X-Total-Count"), "2") == 0, "X-Total-Count");
  cr_assert_eq(json_array_size(r->json), 2);
  expect_int(json_array_get(r->json, 0), "event", second);
  expect_int(json_array_get(r->json, 1), "event", first);
  long long newest = api_int(json_array_get(r->json, 0), "id");

  r = api_post(api_printf(NOTIFICATIONS "%lld/read/", newest), alice.access, NULL);
  expect_status(r, 200);
  expect_keys(r, NOTIFICATION_KEYS);
  expect_bool(r, "is_read", true);
  r = api_post(api_printf(NOTIFICATIONS "%lld/read/", newest), alice.access, NULL);
  expect_status(r, 200);
  expect_bool(r, "is_read", true);
  r = api_get(api_printf(NOTIFICATIONS "%lld/", newest), alice.access);
  expect_status(r, 200);
  expect_bool(r, "is_read", true);
  r = api_get(NOTIFICATIONS, alice.access);
  expect_bool(json_array_get(r->json, 0), "is_read", true);
  expect_bool(json_array_get(r->json, 1), "is_read", false);

  /* Another user's is not found, whatever the method. */
  r = api_post(api_printf(NOTIFICATIONS "%lld/read/", newest), bob.access, NULL);
  expect_status(r, 404);
  expect_detail(r, NO_NOTIFICATION);
  expect_status(api_get(api_printf(NOTIFICATIONS "%lld/", newest), bob.access), 404);
  expect_status(api_post(NOTIFICATIONS "999999/read/", alice.access, NULL), 404);
  r = api_get(NOTIFICATIONS, bob.access);
  expect_body(r, "[]");
  expect_status(api_get(NOTIFICATIONS, NULL), 401);
  expect_status(api_post(api_printf(NOTIFICATIONS "%lld/read/", newest), NULL, NULL), 401);
}

Test(notifications, the_list_paginates_as_the_event_list)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user alice = api_signup("alice", NULL);
  for (int i = 0; i < 3; i++)
    register_for(alice.access, event_at(org.access, api_printf("E%d", i), WHEN, 10));
  struct api_resp *r = api_get(NOTIFICATIONS "?limit=2", alice.access);
  expect_status(r, 200);
  expect_keys(r, "count", "next", "previous", "results", NULL);
  expect_int(r, "count", 3);
  expect_null(r, "previous");
  cr_expect_eq(json_array_size(json_object_get(r->json, "results")), 2);
  expect_str(r, "next", api_url(NOTIFICATIONS "?limit=2&offset=2"));
  r = api_get(NOTIFICATIONS "?limit=2&offset=2", alice.access);
  cr_expect_eq(json_array_size(json_object_get(r->json, "results")), 1);
  expect_null(r, "next");
  r = api_get(NOTIFICATIONS "?limit=abc", alice.access);
  expect_status(r, 400);
  expect_field_error(r, "limit", "A valid integer is required.");
  r = api_get(NOTIFICATIONS "?limit=0", alice.access);
  expect_status(r, 400);
}

Test(notifications, a_deleted_organizer_cancels_their_events_to_every_registrant)
{
  struct api_user org = api_signup("org", "organizer");
  struct api_user root = api_admin("root");
  struct api_user alice = api_signup("alice", NULL);
  struct api_user bob = api_signup("bob", NULL);
  long long jazz = event_at(org.access, "Jazz Night", WHEN, 0);
  long long poetry = event_at(org.access, "Poetry Slam", WHEN, 0);
  register_for(alice.access, jazz);
  register_for(bob.access, poetry);
  cr_assert_eq(json_array_size(deliver()), 2);

  expect_status(api_delete(api_user_path(org.id), root.access), 204);
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 4);
  expect_mail(json_array_get(mail_to(all, "alice@example.com"), 1), "alice@example.com",
              "Event cancelled: Jazz Night");
  expect_mail(json_array_get(mail_to(all, "bob@example.com"), 1), "bob@example.com",
              "Event cancelled: Poetry Slam");
  cr_expect_eq(json_array_size(mail_to(all, "org@example.com")), 0);
  struct api_resp *r = api_get(NOTIFICATIONS, bob.access);
  expect_str(json_array_get(r->json, 0), "type", "event_cancelled");
  expect_int(json_array_get(r->json, 0), "event", poetry);
  expect_status(api_get(api_printf(EVENTS "%lld/", jazz), alice.access), 404);
}

/* ---- an upgrade: mail left unsent before the outbox had its own table ---------- */

#define HOUR_US (3600LL * 1000000)

/*
 * A notification as migration 0008's table held it, in-app row and
 * outbox entry in one, for user; its id.
 */
static long long legacy_notification(long long user, const char *kind, long long offset,
                                     long long event_time, long long due, const char *state,
                                     int attempts, long long next, const char *error,
                                     const char *message_id, long long sent_at)
{
  return api_db_int(api_printf(
      "INSERT INTO notifications (user_id, kind, event_id, registration_id, reminder_offset,"
      " event_title, event_date_time, event_location, ticket_code, due_at, state, attempts,"
      " next_attempt_at, last_error, sent_at, message_id)"
      " VALUES (%lld, '%s', 999, NULL, %lld, 'Old Gig', %lld, 'Lisbon', NULL, %lld, '%s', %d,"
      " %lld, %s, %s, %s) RETURNING id",
      user, kind, offset, event_time, due, state, attempts, next,
      error ? api_printf("'%s'", error) : "NULL",
      sent_at ? api_printf("%lld", sent_at) : "NULL",
      message_id ? api_printf("'%s'", message_id) : "NULL"), 0);
}

static void fill_legacy(void)
{
  char hash[PASSWORD_HASH_MAX];
  cr_assert_eq(password_hash(API_PASSWORD, hash), 0);
  long long carol = api_db_int(api_printf(
      "INSERT INTO users (username, username_key, email, email_key, password, first_name,"
      " date_joined) VALUES ('carol', 'carol', 'carol@example.com', 'carol@example.com', '%s',"
      " 'Carol', 0) RETURNING id", hash), 0);
  long long now = api_now_us(), event = now + 25 * HOUR_US;
  /* Never tried; tried twice and due again; given up on; sent; and a
   * reminder due in an hour (its event moved later). */
  legacy_notification(carol, "registration_waitlisted", 0, event, now - 3 * HOUR_US, "pending",
                      0, now - 3 * HOUR_US, NULL, NULL, 0);
  legacy_notification(carol, "registration_promoted", 0, event, now - 2 * HOUR_US, "pending", 2,
                      now - 60 * 1000000LL, "421 try later", "<legacy-1@example.com>", 0);
  legacy_notification(carol, "event_updated", 0, event, now - 4 * HOUR_US, "dead", 8,
                      now - HOUR_US, "550 mailbox unavailable", "<legacy-2@example.com>", 0);
  legacy_notification(carol, "registration_confirmed", 0, event, now - 5 * HOUR_US, "sent", 1,
                      now - 5 * HOUR_US, NULL, "<legacy-3@example.com>", now - 5 * HOUR_US);
  legacy_notification(carol, "event_reminder", 24 * 3600, event, now + HOUR_US, "pending", 0,
                      now + HOUR_US, NULL, NULL, 0);
}

static void start_upgraded(void)
{
  start_mailing_upgraded(NULL, 8, fill_legacy);
}

/* The message whose Message-ID is id, or NULL. */
static json_t *with_message_id(json_t *messages, const char *id)
{
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m)
    if (strcmp(str(m, "message_id"), id) == 0)
      return m;
  return NULL;
}

Test(notification_upgrade, mail_left_unsent_by_an_older_version_is_sent_after_it,
     .init = start_upgraded, .fini = stop)
{
  json_t *all = deliver();
  cr_assert_eq(json_array_size(all), 2, "the mail never tried, and the one due for a retry");
  expect_mail(json_array_get(mail_to(all, "carol@example.com"), 0), "carol@example.com",
              "You are on the waitlist: Old Gig");
  json_t *retried = with_message_id(all, "<legacy-1@example.com>");
  expect_mail(retried, "carol@example.com", "A place opened up: Old Gig");
  expect_contains(retried, "to", "Carol");
  expect_contains(retried, "text", "Lisbon");
  cr_expect_eq(api_db_int("SELECT attempts FROM outbox WHERE message_id = 'legacy-1@example.com'"
                          " AND state = 'sent'", 0), 3, "its third try");
  cr_expect_eq(api_db_int("SELECT count(*) FROM notifications_unsent", 0), 0);

  /* Dead stays dead, listed with its reason; what was sent is history. */
  const char *out;
  const char *list[] = {"outbox", NULL};
  cr_assert_eq(api_process_run(list, NULL, &out), 0, "%s", out);
  cr_expect(strstr(out, "pending 1  sent 3  dead 1") != NULL, "%s", out);
  cr_expect(strstr(out, "550 mailbox unavailable") != NULL, "%s", out);
  cr_expect(strstr(out, "event_updated") != NULL, "%s", out);

  /* The reminder when it falls due. */
  api_clock_advance(3600);
  all = deliver();
  cr_assert_eq(json_array_size(all), 3);
  expect_mail(json_array_get(all, 2), "carol@example.com",
              "Reminder: Old Gig starts in 24 hours");
  cr_expect_eq(json_array_size(deliver()), 3, "each once");

  /* In the app, every notification as before. */
  struct api_user carol = api_login("carol", API_PASSWORD);
  struct api_resp *r = api_get(NOTIFICATIONS, carol.access);
  expect_status(r, 200);
  cr_assert_eq(json_array_size(r->json), 5, "%s", r->body);
  expect_keys(json_array_get(r->json, 0), NOTIFICATION_KEYS);
  expect_str(json_array_get(r->json, 0), "type", "event_reminder");
  expect_str(json_array_get(r->json, 4), "type", "registration_confirmed");
}
