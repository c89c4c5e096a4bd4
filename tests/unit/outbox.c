/*
 * outbox.c - the delivery layer's outbox (delivery/outbox) on a real
 * (SQLite) database: messages written, claimed under a lease, and settled
 * by the claim that is still current only, so a worker whose lease ran
 * out cannot undo the work of the one that took the message over; due
 * times and channels; batches claimed in due order, claims renewed and
 * given back; cancelling what a source has still unsent; dead
 * messages listed, counted and requeued.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "db/db.h"
#include "delivery/outbox.h"
#include "support/db.h"

#define SECOND INT64_C(1000000)
#define T0 (INT64_C(1900000000) * SECOND)
#define LEASE (10 * SECOND)
#define HOUR (3600 * SECOND)

static db_t *db;
static arena_t arena;

static void
setup(void)
{
  db = unit_db_open();
}

static void
teardown(void)
{
  arena_free(&arena);
  unit_db_close();
}

TestSuite(outbox, .init = setup, .fini = teardown);

/* A message of channel from source, due at due; its id. */
static int64_t
add(const char *channel, const char *source, int64_t due)
{
  struct delivery_new m = {
    .channel = channel,
    .kind = "registration_confirmed",
    .target = "ann@example.com",
    .payload = "{\"to\":\"ann@example.com\"}",
    .source = source,
    .not_before = due,
  };
  int64_t id = 0;
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  cr_assert_gt(id, 0);
  return id;
}

/* The next due message of channel at now, or 0. */
static int64_t
claim(const char *channel, int64_t now, struct delivery_message *out)
{
  struct delivery_message m;
  bool found;
  cr_assert_eq(delivery_claim(db, channel, now, LEASE, &arena, out ? out : &m, &found), 0);
  return found ? (out ? out : &m)->id : 0;
}

static int
sent(int64_t id, int64_t attempts, int64_t now)
{
  struct delivery_outcome o = {.sent = true, .status = 250, .response = "250 OK"};
  return delivery_record(db, id, attempts, now, &o);
}

static int
failed(int64_t id, int64_t attempts, int64_t retry_at)
{
  struct delivery_outcome o = {.retry_at = retry_at, .error = "451 try later", .status = 451};
  return delivery_record(db, id, attempts, T0, &o);
}

Test(outbox, a_message_is_written_whole_with_a_message_id)
{
  int64_t id = add("mail", "notification:7", 0);
  struct delivery_message m;
  cr_assert_eq(delivery_get(db, id, &arena, &m), 0);
  cr_assert_str_eq(m.channel, "mail");
  cr_assert_str_eq(m.kind, "registration_confirmed");
  cr_assert_str_eq(m.target, "ann@example.com");
  cr_assert_str_eq(m.payload, "{\"to\":\"ann@example.com\"}");
  cr_assert_str_eq(m.source, "notification:7");
  cr_assert_str_eq(m.state, "pending");
  cr_assert_eq(m.attempts, 0);
  cr_assert_eq(m.created_at, T0);
  cr_assert_eq(m.next_attempt_at, T0, "due now when not_before is 0");
  cr_assert_eq(m.expires_at, 0);
  cr_assert_eq(strlen(m.message_id), 32, "%s", m.message_id);
  cr_assert_eq(strspn(m.message_id, "0123456789abcdef"), 32, "%s", m.message_id);
  cr_assert_str_neq(m.message_id, unit_db_text("SELECT message_id FROM outbox WHERE id = ?",
                                               add("mail", NULL, 0)), "each its own");
  cr_assert_eq(delivery_get(db, id + 100, &arena, &m), EVENTAPI_ENOTFOUND);
}

Test(outbox, what_a_message_lacks_is_refused)
{
  struct delivery_new m = {.channel = "mail", .kind = "k", .target = "t", .payload = "{}"};
  struct delivery_new bad[5] = {m, m, m, m, m};
  bad[0].channel = NULL;
  bad[1].kind = NULL;
  bad[2].target = NULL;
  bad[3].payload = NULL;
  char long_id[DELIVERY_MESSAGE_ID_MAX + 2];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  bad[4].message_id = long_id;
  for (size_t i = 0; i < 5; i++)
    cr_assert_eq(delivery_enqueue(db, &bad[i], T0, NULL), EVENTAPI_EINVAL, "%zu", i);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id > ?", 0), 0);
  /* A message_id given is kept: a redelivery goes out under the same one. */
  m.message_id = "msg_abc";
  int64_t id;
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  cr_assert_str_eq(unit_db_text("SELECT message_id FROM outbox WHERE id = ?", id), "msg_abc");
}

Test(outbox, an_expired_claim_cannot_record_over_the_next)
{
  int64_t id = add("mail", NULL, T0);
  struct delivery_message m;
  cr_assert_eq(claim("mail", T0, &m), id);
  cr_assert_eq(m.attempts, 1, "the claim counts the try");
  cr_assert_eq(m.claimed_until, T0 + LEASE);
  char first_id[64];
  snprintf(first_id, sizeof first_id, "%s", m.message_id);
  /* Held: nobody else takes it during the lease. */
  cr_assert_eq(claim("mail", T0 + LEASE - 1, NULL), 0);
  /* The first worker stalls past its lease; a second takes the message over. */
  cr_assert_eq(claim("mail", T0 + LEASE, &m), id);
  cr_assert_eq(m.attempts, 2);
  cr_assert_str_eq(m.message_id, first_id, "one message_id for every try");

  /* The first one's outcomes, late, change nothing. */
  cr_assert_eq(failed(id, 1, 0), EVENTAPI_ENOTFOUND);
  cr_assert_eq(failed(id, 1, T0 + 60 * SECOND), EVENTAPI_ENOTFOUND);
  cr_assert_eq(sent(id, 1, T0 + LEASE + 1), EVENTAPI_ENOTFOUND);
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", id), "pending");
  cr_assert_eq(unit_db_int("SELECT claimed_until FROM outbox WHERE id = ?", id), T0 + 2 * LEASE,
               "the second claim still holds");

  /* The current claim's do. */
  cr_assert_eq(sent(id, 2, T0 + LEASE + 2), 0);
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", id), "sent");
  cr_assert_eq(unit_db_int("SELECT sent_at FROM outbox WHERE id = ?", id), T0 + LEASE + 2);
  cr_assert_eq(unit_db_int("SELECT last_status FROM outbox WHERE id = ?", id), 250);
  cr_assert_str_eq(unit_db_text("SELECT last_response FROM outbox WHERE id = ?", id), "250 OK");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND claimed_until IS NULL",
                           id), 1);
  /* And once sent, a late failure cannot make it dead (then requeued, sent twice). */
  cr_assert_eq(failed(id, 2, 0), EVENTAPI_ENOTFOUND);
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", id), "sent");
  cr_assert_eq(claim("mail", T0 + 100 * LEASE, NULL), 0, "a sent message is never claimed");
}

Test(outbox, a_failure_of_the_current_claim_schedules_the_retry)
{
  int64_t id = add("mail", NULL, T0);
  cr_assert_eq(claim("mail", T0, NULL), id);
  cr_assert_eq(failed(id, 1, T0 + 30 * SECOND), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'pending'"
                           " AND claimed_until IS NULL AND last_error = '451 try later'"
                           " AND last_status = 451", id), 1);
  cr_assert_eq(claim("mail", T0 + 29 * SECOND, NULL), 0, "not before its retry time");
  cr_assert_eq(claim("mail", T0 + 30 * SECOND, NULL), id);
  cr_assert_eq(failed(id, 2, 0), 0);
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", id), "dead");
  cr_assert_eq(claim("mail", T0 + 100 * LEASE, NULL), 0, "a dead message is never claimed");
}

Test(outbox, messages_are_claimed_by_due_time_and_channel)
{
  int64_t later = add("mail", NULL, T0 + 60 * SECOND);
  int64_t webhook = add("webhook", NULL, T0);
  int64_t sooner = add("mail", NULL, T0 + 10 * SECOND);
  cr_assert_eq(claim("mail", T0, NULL), 0, "nothing of mail due yet");
  cr_assert_eq(claim("mail", T0 + 60 * SECOND, NULL), sooner, "the one due first");
  cr_assert_eq(claim("mail", T0 + 60 * SECOND, NULL), later);
  cr_assert_eq(claim("mail", T0 + 60 * SECOND, NULL), 0);
  cr_assert_eq(claim("webhook", T0, NULL), webhook, "a channel claims its own only");
}

Test(outbox, a_batch_is_claimed_earliest_due_first_up_to_its_limit)
{
  int64_t third = add("mail", NULL, T0 + 3 * SECOND);
  int64_t first = add("mail", NULL, T0 + 1 * SECOND);
  int64_t later = add("mail", NULL, T0 + HOUR);
  int64_t second = add("mail", NULL, T0 + 2 * SECOND);
  int64_t fourth = add("mail", NULL, T0 + 3 * SECOND); /* due with third: by id */
  add("webhook", NULL, T0);
  struct delivery_message *m;
  size_t n;
  cr_assert_eq(delivery_claim_batch(db, "mail", T0 + 10 * SECOND, LEASE, 3, &arena, &m, &n), 0);
  cr_assert_eq(n, 3);
  int64_t want[] = {first, second, third};
  for (size_t i = 0; i < n; i++) {
    cr_expect_eq(m[i].id, want[i], "claim %zu", i);
    cr_expect_eq(m[i].attempts, 1);
    cr_expect_eq(m[i].claimed_until, T0 + 10 * SECOND + LEASE);
  }
  /* The next claim skips what is held, and what is not due yet. */
  cr_assert_eq(delivery_claim_batch(db, "mail", T0 + 10 * SECOND, LEASE, 3, &arena, &m, &n), 0);
  cr_assert_eq(n, 1);
  cr_expect_eq(m[0].id, fourth);
  cr_assert_eq(delivery_claim_batch(db, "mail", T0 + 10 * SECOND, LEASE, 3, &arena, &m, &n), 0);
  cr_expect_eq(n, 0);
  cr_expect(m == NULL);
  cr_expect_eq(unit_db_int("SELECT attempts FROM outbox WHERE id = ?", later), 0);
}

Test(outbox, a_claim_is_renewed_only_while_it_is_current)
{
  int64_t id = add("mail", NULL, T0);
  cr_assert_eq(claim("mail", T0, NULL), id);
  cr_assert_eq(delivery_renew(db, id, 1, T0 + 3 * LEASE), 0);
  cr_expect_eq(unit_db_int("SELECT claimed_until FROM outbox WHERE id = ?", id), T0 + 3 * LEASE);
  cr_expect_eq(claim("mail", T0 + 2 * LEASE, NULL), 0, "held for as long as renewed");

  /* Run out, and taken over: the first claim can renew nothing. */
  cr_assert_eq(claim("mail", T0 + 3 * LEASE, NULL), id);
  cr_expect_eq(delivery_renew(db, id, 1, T0 + 9 * LEASE), EVENTAPI_ENOTFOUND);
  cr_expect_eq(unit_db_int("SELECT claimed_until FROM outbox WHERE id = ?", id), T0 + 4 * LEASE);
  cr_assert_eq(sent(id, 2, T0 + 3 * LEASE), 0);
  cr_expect_eq(delivery_renew(db, id, 2, T0 + 9 * LEASE), EVENTAPI_ENOTFOUND, "sent");
}

Test(outbox, a_claim_given_back_is_due_again_its_try_uncounted)
{
  int64_t id = add("mail", NULL, T0);
  cr_assert_eq(claim("mail", T0, NULL), id);
  cr_assert_eq(delivery_release(db, id, 1), 0);
  struct delivery_message m;
  cr_assert_eq(delivery_get(db, id, &arena, &m), 0);
  cr_expect_str_eq(m.state, "pending");
  cr_expect_eq(m.attempts, 0);
  cr_expect_eq(m.claimed_until, 0);
  cr_expect_eq(m.next_attempt_at, T0, "due as before");
  cr_expect_eq(delivery_release(db, id, 1), EVENTAPI_ENOTFOUND, "given back once");

  /* Claimed again at once; a stale claim gives nothing back. */
  cr_assert_eq(claim("mail", T0, &m), id);
  cr_expect_eq(m.attempts, 1);
  cr_expect_eq(delivery_release(db, id, 0), EVENTAPI_ENOTFOUND);
  cr_expect_eq(unit_db_int("SELECT attempts FROM outbox WHERE id = ?", id), 1);
}

Test(outbox, a_source_cancels_what_it_has_unsent)
{
  int64_t mine = add("mail", "notification:1", T0);
  int64_t also_mine = add("mail", "notification:1", T0 + HOUR);
  int64_t theirs = add("mail", "notification:2", T0);
  int cancelled = -1;
  cr_assert_eq(delivery_cancel(db, "notification:1", T0, &cancelled), 0);
  cr_assert_eq(cancelled, 2);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", mine), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", also_mine), 0,
               "not yet due: cancelled all the same");
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", theirs), 1);
  cr_assert_eq(delivery_cancel(db, "notification:1", T0, &cancelled), 0);
  cr_assert_eq(cancelled, 0, "nothing left");

  /* Being sent (claimed and held), sent, or dead: not cancelled. */
  int64_t held = add("mail", "notification:3", T0);
  cr_assert_eq(claim("mail", T0, NULL), theirs);
  cr_assert_eq(sent(theirs, 1, T0), 0);
  cr_assert_eq(claim("mail", T0, NULL), held);
  cr_assert_eq(delivery_cancel(db, "notification:3", T0 + LEASE - 1, &cancelled), 0);
  cr_assert_eq(cancelled, 0, "a claim being sent is left to its outcome");
  cr_assert_eq(delivery_cancel(db, "notification:2", T0, &cancelled), 0);
  cr_assert_eq(cancelled, 0, "sent is history");
  cr_assert_eq(failed(held, 1, 0), 0);
  cr_assert_eq(delivery_cancel(db, "notification:3", T0 + 2 * LEASE, &cancelled), 0);
  cr_assert_eq(cancelled, 0, "dead is history");
  /* A lease that ran out (its worker died) no longer holds it. */
  int64_t orphan = add("mail", "notification:4", T0);
  cr_assert_eq(claim("mail", T0, NULL), orphan);
  cr_assert_eq(delivery_cancel(db, "notification:4", T0 + LEASE, &cancelled), 0);
  cr_assert_eq(cancelled, 1);
  cr_assert_eq(failed(orphan, 1, T0 + LEASE), EVENTAPI_ENOTFOUND,
               "the dead worker's late outcome finds nothing");
}

Test(outbox, dead_messages_are_listed_counted_and_requeued)
{
  int64_t a = add("mail", NULL, T0), b = add("mail", NULL, T0 + SECOND);
  add("mail", NULL, T0 + 2 * SECOND);
  for (int64_t id = a; id <= b; id++) {
    cr_assert_eq(claim("mail", T0 + 10 * SECOND, NULL), id);
    cr_assert_eq(failed(id, 1, 0), 0);
  }
  int64_t pending, sent_count, dead;
  cr_assert_eq(delivery_counts(db, &pending, &sent_count, &dead), 0);
  cr_assert_eq(pending, 1);
  cr_assert_eq(sent_count, 0);
  cr_assert_eq(dead, 2);
  struct delivery_message *list;
  size_t count;
  cr_assert_eq(delivery_list(db, "dead", 10, &arena, &list, &count), 0);
  cr_assert_eq(count, 2);
  cr_assert_eq(list[0].id, a);
  cr_assert_str_eq(list[1].last_error, "451 try later");
  cr_assert_eq(delivery_list(db, "dead", 1, &arena, &list, &count), 0);
  cr_assert_eq(count, 1, "at most limit");

  const char *message_id = unit_db_text("SELECT message_id FROM outbox WHERE id = ?", a);
  char kept[64];
  snprintf(kept, sizeof kept, "%s", message_id);
  int changed = 0;
  cr_assert_eq(delivery_requeue(db, a, T0 + HOUR, &changed), 0);
  cr_assert_eq(changed, 1);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'pending'"
                           " AND attempts = 0", a), 1);
  cr_assert_str_eq(unit_db_text("SELECT message_id FROM outbox WHERE id = ?", a), kept);
  cr_assert_eq(delivery_requeue(db, a, T0, &changed), 0);
  cr_assert_eq(changed, 0, "no longer dead");
  cr_assert_eq(delivery_requeue(db, 0, T0, &changed), 0);
  cr_assert_eq(changed, 1, "every dead one: b");
  cr_assert_eq(delivery_counts(db, &pending, &sent_count, &dead), 0);
  cr_assert_eq(pending, 3);
  cr_assert_eq(dead, 0);
}

Test(outbox, a_carried_over_message_keeps_its_tries)
{
  struct delivery_new m = {.channel = "mail", .kind = "k", .target = "t", .payload = "{}",
                           .message_id = "abc@example.com", .attempts = 3,
                           .last_error = "421 down", .not_before = T0 + SECOND};
  int64_t id;
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM outbox WHERE id = ? AND state = 'pending'"
                           " AND attempts = 3 AND last_error = '421 down'", id), 1);
  struct delivery_message claimed;
  cr_assert_eq(claim("mail", T0 + SECOND, &claimed), id);
  cr_assert_eq(claimed.attempts, 4);
  m.dead = true;
  cr_assert_eq(delivery_enqueue(db, &m, T0, &id), 0);
  cr_assert_str_eq(unit_db_text("SELECT state FROM outbox WHERE id = ?", id), "dead");
}

/* Whether message id is still in the outbox. */
static bool
kept(int64_t id)
{
  return unit_db_int("SELECT count(*) FROM outbox WHERE id = ?", id) == 1;
}

Test(outbox, history_past_its_time_is_pruned_in_batches)
{
  /* Three sent at T0, T0 + 1h and T0 + 2h; one dead after its try at T0;
   * one pending, due long ago. */
  int64_t sent_ids[3];
  for (int i = 0; i < 3; i++) {
    sent_ids[i] = add("mail", NULL, T0 + i * HOUR);
    cr_assert_eq(claim("mail", T0 + i * HOUR, NULL), sent_ids[i]);
    cr_assert_eq(sent(sent_ids[i], 1, T0 + i * HOUR), 0);
  }
  int64_t dead = add("mail", NULL, T0 - 10 * HOUR);
  cr_assert_eq(claim("mail", T0, NULL), dead);
  cr_assert_eq(failed(dead, 1, 0), 0);
  int64_t pending = add("mail", NULL, T0 - 100 * HOUR);

  int deleted = -1;
  cr_assert_eq(delivery_prune(db, T0 + 90 * 60 * SECOND, 0, 1, &deleted), 0);
  cr_assert_eq(deleted, 1, "a batch of one");
  cr_assert(!kept(sent_ids[0]));
  cr_assert(kept(sent_ids[1]), "not past its time yet, in a full batch");
  cr_assert_eq(delivery_prune(db, T0 + 90 * 60 * SECOND, 0, 10, &deleted), 0);
  cr_assert_eq(deleted, 1, "what was left of it");
  cr_assert(!kept(sent_ids[1]));
  cr_assert(kept(sent_ids[2]), "sent after the cut");
  cr_assert(kept(dead), "dead messages kept (0)");

  cr_assert_eq(delivery_prune(db, 0, T0 - 11 * HOUR, 10, &deleted), 0);
  cr_assert_eq(deleted, 0);
  cr_assert(kept(dead), "its last try was due after the cut");
  cr_assert_eq(delivery_prune(db, 0, T0 + SECOND, 10, &deleted), 0);
  cr_assert_eq(deleted, 1);
  cr_assert(!kept(dead));
  cr_assert(kept(sent_ids[2]), "sent messages kept (0)");

  cr_assert_eq(delivery_prune(db, T0 + 100 * HOUR, T0 + 100 * HOUR, 10, &deleted), 0);
  cr_assert_eq(deleted, 1);
  cr_assert(!kept(sent_ids[2]));
  cr_assert(kept(pending), "pending messages are never pruned");
}

Test(outbox, a_source_lists_what_it_wrote_newest_first)
{
  int64_t first = add("webhook", "webhook:1", 0);
  add("webhook", "webhook:2", 0);
  int64_t second = add("webhook", "webhook:1", 0);
  int64_t third = add("webhook", "webhook:1", 0);
  cr_assert_eq(sent(claim("webhook", T0, NULL), 1, T0), 0); /* first, now sent */
  struct delivery_message *list;
  size_t count;
  int64_t total;
  cr_assert_eq(delivery_list_source(db, "webhook:1", 2, 0, &arena, &list, &count, &total), 0);
  cr_assert_eq(total, 3);
  cr_assert_eq(count, 2);
  cr_assert_eq(list[0].id, third);
  cr_assert_eq(list[1].id, second);
  cr_assert_eq(delivery_list_source(db, "webhook:1", 2, 2, &arena, &list, &count, &total), 0);
  cr_assert_eq(count, 1);
  cr_assert_eq(list[0].id, first);
  cr_assert_str_eq(list[0].state, "sent", "any state");
  cr_assert_eq(delivery_list_source(db, "webhook:1", 2, 3, &arena, &list, &count, &total), 0);
  cr_assert_eq(count, 0);
  cr_assert_eq(total, 3);
  cr_assert_eq(delivery_list_source(db, "webhook:9", 10, 0, &arena, &list, &count, &total), 0);
  cr_assert_eq(total, 0);
}

/* A message of source written at written, tried once and failed (dead, or
 * due again ten hours later); its id. */
static int64_t
add_failed(const char *source, int64_t written, bool dead)
{
  struct delivery_new m = {.channel = "webhook", .kind = "ping", .target = "https://x/",
                           .payload = "{}", .source = source};
  int64_t id;
  cr_assert_eq(delivery_enqueue(db, &m, written, &id), 0);
  struct delivery_message claimed;
  bool found;
  cr_assert_eq(delivery_claim(db, "webhook", written, LEASE, &arena, &claimed, &found), 0);
  cr_assert(found && claimed.id == id);
  struct delivery_outcome o = {.retry_at = dead ? 0 : written + 10 * HOUR, .error = "HTTP 500",
                               .status = 500};
  cr_assert_eq(delivery_record(db, id, claimed.attempts, written, &o), 0);
  return id;
}

Test(outbox, a_source_failing_since_its_last_success)
{
  int64_t failing;
  bool dead;
  cr_assert_eq(delivery_source_failing(db, "webhook:1", 0, &failing, &dead), 0);
  cr_assert_eq(failing, 0, "nothing written");
  cr_assert(!dead);

  add_failed("webhook:1", T0, false);
  add_failed("webhook:1", T0 + HOUR, true);
  add_failed("webhook:2", T0 - HOUR, true); /* another source's */
  cr_assert_eq(delivery_source_failing(db, "webhook:1", 0, &failing, &dead), 0);
  cr_assert_eq(failing, T0, "from the oldest failure");
  cr_assert(dead);
  cr_assert_eq(delivery_source_failing(db, "webhook:1", T0 + 1, &failing, &dead), 0);
  cr_assert_eq(failing, T0 + HOUR, "only what was written since since");

  /* A message written later and delivered: what failed before it no longer counts. */
  struct delivery_new m = {.channel = "webhook", .kind = "ping", .target = "https://x/",
                           .payload = "{}", .source = "webhook:1"};
  int64_t ok;
  cr_assert_eq(delivery_enqueue(db, &m, T0 + 2 * HOUR, &ok), 0);
  struct delivery_message claimed;
  bool found;
  cr_assert_eq(delivery_claim(db, "webhook", T0 + 2 * HOUR, LEASE, &arena, &claimed, &found), 0);
  cr_assert(found && claimed.id == ok);
  cr_assert_eq(sent(ok, claimed.attempts, T0 + 2 * HOUR), 0);
  cr_assert_eq(delivery_source_failing(db, "webhook:1", 0, &failing, &dead), 0);
  cr_assert_eq(failing, 0);
  cr_assert(!dead);

  add_failed("webhook:1", T0 + 3 * HOUR, false);
  cr_assert_eq(delivery_source_failing(db, "webhook:1", 0, &failing, &dead), 0);
  cr_assert_eq(failing, T0 + 3 * HOUR);
  cr_assert(!dead, "still being tried");
}
