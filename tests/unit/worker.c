/*
 * worker.c - the outbox worker (delivery/worker) on a real (SQLite)
 * database, with mail to files (or to a port that refuses): what is due is
 * sent once, under its message_id; a failure is tried again after its
 * back-off and is dead after EMAIL_MAX_ATTEMPTS tries; a permanent refusal,
 * a message too late, one whose workers kept dying and one whose payload
 * is not a mail are dead at once, with the reason; a mail written as a
 * reference is rendered by its renderer on the worker's thread when it is
 * sent, under the same Message-ID on every try, and one whose renderer is
 * missing or finds what it refers to gone is dead with the reason; ticks
 * run on the worker's beat. The clock stands still (time_test_freeze) and is moved by
 * the test.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "delivery/mail.h"
#include "delivery/outbox.h"
#include "delivery/worker.h"
#include "support/db.h"
#include "support/tmpdir.h"

#define SECOND INT64_C(1000000)
#define T0 (INT64_C(1900000000) * SECOND)

static char mail_dir[128], file_url[160];
static struct config cfg;
static db_t *db;

static void
setup(void)
{
  db = unit_db_open();
  cr_assert_eq(delivery_global_init(), 0);
  snprintf(mail_dir, sizeof mail_dir, "%s/mail", tmpdir_path());
  snprintf(file_url, sizeof file_url, "file://%s/", mail_dir);
  cfg.email_url = file_url;
  cfg.email_from = "Events <events@example.com>";
  cfg.email_max_attempts = 3;
  cfg.email_retry_ms = 30000;
  cfg.email_timeout_ms = 2000;
  cfg.worker_interval_ms = 50;
  time_test_freeze(T0);
}

static void
teardown(void)
{
  time_test_freeze(0);
  delivery_global_cleanup();
  unit_db_close();
}

TestSuite(worker, .init = setup, .fini = teardown, .timeout = 60);

/* A mail to to, written as an app writes it; its id. */
static int64_t
add_mail(const char *to, const struct delivery_new *options)
{
  struct delivery_mail mail = {to, "Ann Lee", "Hello", "Hi Ann,\n", "<p>Hi Ann,</p>\n"};
  struct delivery_new m = options ? *options : (struct delivery_new){.kind = "greeting"};
  int64_t id = 0;
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
  cr_assert_eq(delivery_mail_enqueue(db, &mail, &m, T0, &id), 0);
  cr_assert_eq(db_commit(db), 0);
  return id;
}

/* Runs a worker until nothing is due. */
static void
run_once(void)
{
  volatile sig_atomic_t stop = 0;
  cr_assert_eq(delivery_worker_run(&cfg, &stop, true), 0);
}

/* The .eml files written so far; the text of the last one in last (if not NULL). */
static size_t
mails(char **last)
{
  DIR *d = opendir(mail_dir);
  if (d == NULL)
    return 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 4, ".eml") != 0)
      continue;
    n++;
    if (last) {
      char path[512];
      snprintf(path, sizeof path, "%s/%s", mail_dir, e->d_name);
      FILE *f = fopen(path, "r");
      cr_assert_not_null(f);
      free(*last);
      *last = calloc(1, 65536);
      cr_assert_gt(fread(*last, 1, 65535, f), 0);
      fclose(f);
    }
  }
  closedir(d);
  return n;
}

/* message carries the Message-ID of outbox row id. */
static void
expect_message_id(const char *message, int64_t id)
{
  char header[128];
  snprintf(header, sizeof header, "Message-ID: <%s@example.com>",
           unit_db_text("SELECT message_id FROM outbox WHERE id = ?", id));
  cr_assert_not_null(strstr(message, header), "%s", message);
}

/* Outbox row id was sent, at its first try. */
static void
expect_sent_at_first_try(int64_t id)
{
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'sent'"
                           " AND attempts = 1", id), 1);
}

Test(worker, sends_what_is_due_once_under_its_message_id)
{
  int64_t id = add_mail("ann@example.com", NULL);
  run_once();
  char *message = NULL;
  cr_assert_eq(mails(&message), 1);
  expect_message_id(message, id);
  cr_assert_not_null(strstr(message, "Subject: Hello"), "%s", message);
  cr_assert_not_null(strstr(message, "From: \"Events\" <events@example.com>"), "%s", message);
  cr_assert_not_null(strstr(message, "Ann Lee"), "%s", message);
  free(message);
  expect_sent_at_first_try(id);
  cr_assert_eq(unit_db_int("SELECT sent_at FROM outbox WHERE id = ?", id), T0);
  run_once();
  cr_assert_eq(mails(NULL), 1, "sent once");
}

Test(worker, a_message_waits_for_its_time)
{
  add_mail("ann@example.com", &(struct delivery_new){.kind = "later",
                                                      .not_before = T0 + 60 * SECOND});
  run_once();
  cr_assert_eq(mails(NULL), 0);
  time_test_freeze(T0 + 60 * SECOND);
  run_once();
  cr_assert_eq(mails(NULL), 1);
}

Test(worker, a_failure_is_tried_again_after_its_back_off_then_dead)
{
  cfg.email_url = "smtp://127.0.0.1:1"; /* nothing listens: refused */
  int64_t id = add_mail("ann@example.com", NULL);
  run_once();
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'pending'"
                           " AND attempts = 1 AND claimed_until IS NULL", id), 1);
  int64_t retry = unit_db_int("SELECT next_attempt_at FROM outbox WHERE id = ?", id);
  cr_assert(retry >= T0 + 15 * SECOND && retry <= T0 + 30 * SECOND, "%lld", (long long)retry);
  cr_assert_not_null(strstr(unit_db_text("SELECT last_error FROM outbox WHERE id = ?", id),
                            "127.0.0.1:1"));
  run_once();
  cr_assert_eq(unit_db_int("SELECT attempts FROM outbox WHERE id = ?", id), 1, "not before then");

  time_test_freeze(retry);
  run_once();
  cr_assert_eq(unit_db_int("SELECT attempts FROM outbox WHERE id = ?", id), 2);
  int64_t second = unit_db_int("SELECT next_attempt_at FROM outbox WHERE id = ?", id);
  cr_assert(second >= retry + 30 * SECOND && second <= retry + 60 * SECOND, "doubled");

  time_test_freeze(second);
  run_once();
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'dead'"
                           " AND attempts = 3", id), 1, "EMAIL_MAX_ATTEMPTS tries");
  time_test_freeze(second + 3600 * SECOND);
  run_once();
  cr_assert_eq(unit_db_int("SELECT attempts FROM outbox WHERE id = ?", id), 3, "dead stays dead");
}

/* Dead at its first try, nothing sent, with a reason starting so. */
static void
expect_dead_at_once(int64_t id, int64_t attempts, const char *reason)
{
  run_once();
  cr_assert_eq(mails(NULL), 0);
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", id), "dead");
  cr_assert_eq(unit_db_int("SELECT attempts FROM outbox WHERE id = ?", id), attempts);
  const char *error = unit_db_text("SELECT last_error FROM outbox WHERE id = ?", id);
  cr_assert_eq(strncmp(error, reason, strlen(reason)), 0, "%s", error);
}

Test(worker, an_address_that_cannot_be_used_is_dead_at_once)
{
  expect_dead_at_once(add_mail("not an address", NULL), 1,
                      "the recipient's address cannot be used");
}

Test(worker, a_message_too_late_is_dead_at_once)
{
  int64_t id = add_mail("ann@example.com", &(struct delivery_new){.kind = "reminder",
                                                                   .expires_at = T0 - 1});
  expect_dead_at_once(id, 1, "too late: not to be sent after");
}

Test(worker, a_message_whose_workers_keep_dying_is_dead)
{
  int64_t id = add_mail("ann@example.com", NULL);
  /* Claimed EMAIL_MAX_ATTEMPTS times by workers that died before an outcome. */
  cr_assert_eq(db_exec(db, "UPDATE outbox SET attempts = 3 WHERE id = ?", NULL, "i", id), 0);
  expect_dead_at_once(id, 4, "claimed more often than EMAIL_MAX_ATTEMPTS without an outcome");
}

Test(worker, a_payload_that_is_not_a_mail_is_dead_at_once)
{
  struct delivery_new m = {.channel = "mail", .kind = "k", .target = "ann@example.com",
                           .payload = "{\"to\":\"ann@example.com\"}"};
  int64_t id;
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  expect_dead_at_once(id, 1, "the payload is not a mail");
  m.payload = "not json";
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  expect_dead_at_once(id, 1, "the payload is not a mail");
}

Test(worker, a_message_id_with_its_own_domain_is_kept)
{
  add_mail("ann@example.com", &(struct delivery_new){.kind = "old",
                                                      .message_id = "abc123@old.example.org"});
  run_once();
  char *message = NULL;
  cr_assert_eq(mails(&message), 1);
  cr_assert_not_null(strstr(message, "Message-ID: <abc123@old.example.org>"), "%s", message);
  free(message);
}

/* ---- rendered at send time ----------------------------------------------- */

static pthread_t test_thread;
static int renders;
static int render_rc; /* what the renderer answers */

/* Renders ref 7 as a greeting; anything else is gone. */
static int
greeting(db_t *render_db, int64_t ref, arena_t *arena, struct delivery_mail *mail, char *err,
         size_t errlen)
{
  renders++;
  cr_assert(pthread_equal(pthread_self(), test_thread), "rendered on the worker's thread");
  cr_assert_not_null(render_db);
  /* Inside a read transaction of the worker's own connection. */
  db_stmt_t *st = db_prepare(render_db, "SELECT count(*) FROM outbox");
  cr_assert_not_null(st);
  cr_assert_eq(db_step(st), DB_ROW);
  db_reset(st);
  if (render_rc < 0) {
    snprintf(err, errlen, "the greeting service is away");
    return render_rc;
  }
  if (ref != 7) {
    snprintf(err, errlen, "greeting %lld is gone", (long long)ref);
    return EVENTAPI_ENOTFOUND;
  }
  mail->to_name = "Ann Lee";
  mail->subject = arena_printf(arena, "Hello, greeting %lld", (long long)ref);
  mail->text = "Hi Ann,\n";
  mail->html = "<p>Hi Ann,</p>\n";
  return 0;
}

/* A mail to ann that renderer renders from ref when it is sent; its id. */
static int64_t
add_reference(const char *renderer, int64_t ref)
{
  struct delivery_new m = {.kind = "greeting"};
  int64_t id = 0;
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
  cr_assert_eq(delivery_mail_enqueue_ref(db, renderer, ref, "ann@example.com", &m, T0, &id), 0);
  cr_assert_eq(db_commit(db), 0);
  return id;
}

Test(worker, a_reference_is_rendered_on_the_worker_when_sent)
{
  test_thread = pthread_self();
  cr_assert_eq(delivery_mail_renderer_register("greeting", greeting), 0);
  int64_t id = add_reference("greeting", 7);
  cr_assert_str_eq(unit_db_text("SELECT payload FROM outbox WHERE id = ?", id),
                   "{\"render\":\"greeting\",\"ref\":7}", "a small row, nothing rendered");
  cr_assert_eq(renders, 0, "not rendered when written");
  run_once();
  cr_assert_eq(renders, 1);
  char *message = NULL;
  cr_assert_eq(mails(&message), 1);
  expect_message_id(message, id);
  cr_assert_not_null(strstr(message, "Subject: Hello, greeting 7"), "%s", message);
  cr_assert_not_null(strstr(message, "To: \"Ann Lee\" <ann@example.com>"), "%s", message);
  cr_assert_not_null(strstr(message, "Hi Ann,"), "%s", message);
  free(message);
  expect_sent_at_first_try(id);
}

Test(worker, a_reference_is_the_same_mail_on_every_try)
{
  test_thread = pthread_self();
  cr_assert_eq(delivery_mail_renderer_register("greeting", greeting), 0);
  cfg.email_url = "smtp://127.0.0.1:1"; /* refused: tried again later */
  int64_t id = add_reference("greeting", 7);
  run_once();
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'pending'"
                           " AND attempts = 1", id), 1);
  /* The renderer's own failure is worth retrying too, with its reason. */
  time_test_freeze(T0 + 3600 * SECOND);
  render_rc = EVENTAPI_EBUSY;
  run_once();
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'pending'"
                           " AND attempts = 2", id), 1);
  cr_assert_str_eq(unit_db_text("SELECT last_error FROM outbox WHERE id = ?", id),
                   "cannot render the mail: the greeting service is away");
  time_test_freeze(T0 + 7200 * SECOND);
  render_rc = 0;
  cfg.email_url = file_url;
  run_once();
  cr_assert_eq(renders, 3, "rendered at each try");
  char *message = NULL;
  cr_assert_eq(mails(&message), 1);
  char header[128];
  snprintf(header, sizeof header, "Message-ID: <%s@example.com>",
           unit_db_text("SELECT message_id FROM outbox WHERE id = ?", id));
  cr_assert_not_null(strstr(message, header), "the same Message-ID: %s", message);
  free(message);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'sent'"
                           " AND attempts = 3", id), 1);
}

Test(worker, a_reference_without_its_renderer_is_dead_at_once)
{
  expect_dead_at_once(add_reference("nobody", 7), 1,
                      "cannot render the mail: no renderer \"nobody\" is registered");
}

Test(worker, a_reference_to_what_is_gone_is_dead_at_once)
{
  test_thread = pthread_self();
  cr_assert_eq(delivery_mail_renderer_register("greeting", greeting), 0);
  expect_dead_at_once(add_reference("greeting", 8), 1,
                      "cannot render the mail: greeting 8 is gone");
}

Test(worker, a_reference_that_is_malformed_is_dead_at_once)
{
  struct delivery_new m = {.channel = "mail", .kind = "k", .target = "ann@example.com",
                           .payload = "{\"render\":\"greeting\"}"};
  int64_t id;
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  expect_dead_at_once(id, 1, "the payload is not a mail");
}

Test(worker, renderers_have_plain_names)
{
  cr_assert_eq(delivery_mail_renderer_register("", greeting), EVENTAPI_EINVAL);
  cr_assert_eq(delivery_mail_renderer_register("a\"b", greeting), EVENTAPI_EINVAL);
  cr_assert_eq(delivery_mail_renderer_register("greeting", NULL), EVENTAPI_EINVAL);
  struct delivery_new m = {.kind = "k"};
  cr_assert_eq(delivery_mail_enqueue_ref(db, "a\"b", 1, "ann@example.com", &m, T0, NULL),
               EVENTAPI_EINVAL);
  cr_assert_eq(delivery_mail_enqueue_ref(db, "greeting", 1, NULL, &m, T0, NULL),
               EVENTAPI_EINVAL);
}

static int tick_calls;

/* Has more to do twice; on its third beat writes a mail. */
static int
enqueue_unit(db_t *unit_db, void *arg)
{
  (void)arg;
  struct delivery_mail mail = {"bob@example.com", NULL, "Ticked", "x", "<p>x</p>"};
  struct delivery_new m = {.kind = "tick"};
  return delivery_mail_enqueue(unit_db, &mail, &m, time_now_us(), NULL);
}

static int
tick(const struct config *c, int64_t now, bool *more)
{
  (void)c, (void)now;
  tick_calls++;
  *more = tick_calls < 3;
  return tick_calls == 3 ? db_write(enqueue_unit, NULL) : 0;
}

Test(worker, ticks_run_until_they_have_no_more)
{
  delivery_on_tick(tick);
  delivery_on_tick(tick); /* kept once */
  run_once();
  cr_assert_eq(tick_calls, 3);
  cr_assert_eq(mails(NULL), 1, "what the tick wrote was sent in the same run");
  time_test_freeze(T0 + SECOND);
  run_once();
  cr_assert_eq(tick_calls, 4, "once a beat");
}

Test(worker, settings_are_checked_by_name)
{
  char err[256];
  cr_assert_eq(delivery_check_config(&cfg, err, sizeof err), 0, "%s", err);
  cfg.email_from = "not an address";
  cr_assert_eq(delivery_check_config(&cfg, err, sizeof err), EVENTAPI_EINVAL);
  cr_assert_not_null(strstr(err, "EMAIL_FROM"), "%s", err);
  cfg.email_from = "events@example.com";
  cfg.email_url = "http://mail.example.com/";
  cr_assert_eq(delivery_check_config(&cfg, err, sizeof err), EVENTAPI_EINVAL);
  cr_assert_not_null(strstr(err, "EMAIL_URL"), "%s", err);
  volatile sig_atomic_t stop = 0;
  cr_assert_eq(delivery_worker_run(&cfg, &stop, true), EVENTAPI_EINVAL, "no worker starts");
}

Test(worker, history_past_its_retention_goes_on_the_worker_beat)
{
  cfg.outbox_retention = 7 * 86400;
  cfg.outbox_dead_retention = 30 * 86400;
  int64_t sent = add_mail("ann@example.com", NULL);
  int64_t dead = add_mail("not an address", NULL);
  run_once();
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", sent), "sent");
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", dead), "dead");
  /* More than one batch of old history, written as the worker would have. */
  cr_assert_eq(db_exec(db, "INSERT INTO outbox (channel, kind, message_id, target, payload,"
                           " created_at, state, attempts, next_attempt_at, sent_at)"
                           " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                           " WHERE i < 1200)"
                           " SELECT 'mail', 'old', 'old-' || i, 'bob@example.com', '{}', ?,"
                           " 'sent', 1, ?, ? FROM n",
                       NULL, "iii", T0 - 20 * 86400 * SECOND, T0 - 20 * 86400 * SECOND,
                       T0 - 20 * 86400 * SECOND), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE kind = 'old' AND id > ?", 0), 1200);

  time_test_freeze(T0 + SECOND);
  run_once();
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE kind = 'old' AND id > ?", 0), 0,
               "every batch of what was past its time");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", sent), 1, "a week not yet");

  time_test_freeze(T0 + 7 * 86400 * SECOND + SECOND);
  run_once();
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", sent), 0, "sent a week ago");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", dead), 1,
               "the dead are kept longer");

  time_test_freeze(T0 + 30 * 86400 * SECOND + SECOND);
  run_once();
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", dead), 0);
}

Test(worker, history_is_kept_when_its_retention_is_0)
{
  int64_t sent = add_mail("ann@example.com", NULL); /* cfg's retentions are 0 */
  run_once();
  time_test_freeze(T0 + 3650 * 86400 * SECOND);
  run_once();
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", sent), "sent");
}
