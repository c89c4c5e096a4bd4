/*
 * outbox.h - the durable outbox: every SQL statement on the outbox table
 * (migration 0009).
 *
 * A message is written by whoever has something to say (an app's signal
 * receiver), in the unit of work of the change that causes it, so it
 * exists if and only if that change committed. It carries where it goes
 * (target) and what its channel needs to send it (payload): the message
 * itself, or, for mail an app renders at send time, a reference its
 * renderer reads when the worker sends it (mail.h), so that the unit of
 * work stays small. Either way the worker knows nothing of the app that
 * wrote it.
 *
 * Lifecycle: pending -> sent, or pending -> dead (a permanent refusal, too
 * many tries, or too late); dead -> pending again by an operator
 * (delivery_requeue). A pending message is due from next_attempt_at on. A
 * worker claims due messages, a few at a time, by setting a lease
 * (claimed_until) and counting the try, sends them outside any
 * transaction, then records each outcome for that claim only. A worker
 * that dies mid-send leaves a lease that runs out, and the message is
 * claimed again: at-least-once, and exactly once whenever the outcome was
 * recorded.
 *
 * Every function here is one statement (or a few) on the caller's
 * connection: a part of the caller's unit of work (db_write), or atomic
 * alone.
 */
#ifndef EVENTAPI_DELIVERY_OUTBOX_H
#define EVENTAPI_DELIVERY_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"

/* The longest message_id a caller may give (32 hex digits are made). */
#define DELIVERY_MESSAGE_ID_MAX 200

/* A message to write. Every pointer is borrowed. */
struct delivery_new {
  const char *channel;    /* "mail" ("webhook" ...): the transport */
  const char *kind;       /* what it is about, for operators: "registration_confirmed" */
  const char *target;     /* the address or URL it goes to */
  const char *payload;    /* what the channel needs, as it reads it (JSON; mail.h) */
  const char *source;     /* the writer's key ("notification:42"), to cancel by; NULL: none */
  const char *message_id; /* NULL: a new random one; given: kept (a redelivery) */
  int64_t not_before;     /* due from then on; 0: now */
  int64_t expires_at;     /* not sent after then (dead: too late); 0: never */
  /* A message carried over from an earlier outbox (an upgrade): its tries
   * so far and how the last ended; 0, NULL and false for a new one. */
  int64_t attempts;
  const char *last_error;
  bool dead;
};

/* A message as stored. Strings live in the arena given to the reader. */
struct delivery_message {
  int64_t id;
  const char *channel, *kind, *message_id, *target, *payload;
  const char *source;        /* NULL: none */
  int64_t created_at;
  int64_t expires_at;        /* 0: never */
  const char *state;         /* "pending", "sent" or "dead" */
  int64_t attempts;          /* tries so far, the current claim's included */
  int64_t next_attempt_at;
  int64_t claimed_until;     /* 0: not claimed */
  int64_t sent_at;           /* 0: not sent */
  const char *last_error;    /* NULL: none */
  int64_t last_status;       /* the last reply's code (SMTP, HTTP); 0: none */
  const char *last_response; /* the start of the last reply; NULL: none */
};

/*
 * Writes m, due at m->not_before (or now), and has this process's workers
 * woken once the caller's transaction commits. Sets *id when id is not
 * NULL. Returns 0 or a negative code (EVENTAPI_EINVAL for a missing
 * channel, kind, target or payload, or a message_id too long).
 */
int delivery_enqueue(db_t *db, const struct delivery_new *m, int64_t now, int64_t *id);

/*
 * Cancels what is still unsent of source: deletes its pending messages that
 * no worker holds at now (a claim being sent is left to its outcome).
 * *cancelled counts them. Sent and dead messages stay, as history.
 */
int delivery_cancel(db_t *db, const char *source, int64_t now, int *cancelled);

/*
 * Claims the next due message of channel for lease_us microseconds and
 * counts the try: *found is false when nothing is due, else out holds the
 * message as claimed (attempts included), in arena memory. One statement
 * (FOR UPDATE SKIP LOCKED on PostgreSQL, so claimers skip each other's rows).
 */
int delivery_claim(db_t *db, const char *channel, int64_t now, int64_t lease_us,
                   arena_t *arena, struct delivery_message *out, bool *found);

/*
 * Claims the due messages of channel, at most limit of them, the earliest
 * due first, as delivery_claim claims one: *out (arena memory, NULL when
 * none) holds the *count claimed, in due order. One statement.
 */
int delivery_claim_batch(db_t *db, const char *channel, int64_t now, int64_t lease_us,
                         size_t limit, arena_t *arena, struct delivery_message **out,
                         size_t *count);

/*
 * Extends the claim that made try number attempts of id until until (a
 * worker with more of a batch to send than its lease covers), or returns
 * EVENTAPI_ENOTFOUND when that claim is no longer current (as
 * delivery_record).
 */
int delivery_renew(db_t *db, int64_t id, int64_t attempts, int64_t until);

/*
 * Gives back the claim that made try number attempts of id without a try
 * (a worker stopping before it sent the message): not claimed, the try
 * uncounted, due as before. EVENTAPI_ENOTFOUND as delivery_renew.
 */
int delivery_release(db_t *db, int64_t id, int64_t attempts);

/* Message id (any state). 0 or EVENTAPI_ENOTFOUND. */
int delivery_get(db_t *db, int64_t id, arena_t *arena, struct delivery_message *out);

/* How a try ended. Strings are borrowed. */
struct delivery_outcome {
  bool sent;
  int64_t retry_at;       /* not sent: tried again then, or dead when 0 */
  const char *error;      /* not sent: why; NULL when sent */
  int64_t status;         /* the reply's code; 0: none */
  const char *response;   /* the start of the reply; NULL: none */
};

/*
 * Records the outcome of the claim that made try number attempts of id,
 * at now: a message claimed again since (this worker's lease ran out),
 * cancelled, or no longer pending is left to its new owner, and
 * EVENTAPI_ENOTFOUND returned.
 */
int delivery_record(db_t *db, int64_t id, int64_t attempts, int64_t now,
                    const struct delivery_outcome *outcome);

/*
 * Deletes history, the oldest first and at most limit messages: sent
 * messages sent before sent_before, and dead ones whose last try was due
 * before dead_before (0: that state is kept for ever). Pending messages
 * are never touched. *deleted counts what went; fewer than limit means
 * nothing more is past its time. A short write, for the worker's beat.
 */
int delivery_prune(db_t *db, int64_t sent_before, int64_t dead_before, int limit,
                   int *deleted);

/* Messages in state ("pending" or "dead"), by due time, at most limit. */
int delivery_list(db_t *db, const char *state, int64_t limit, arena_t *arena,
                  struct delivery_message **out, size_t *count);

/*
 * One page of the messages of source (any state), newest first: at most
 * limit from offset into *out (arena memory, *count of them), and the
 * number of all of them in *total. Run it in a read transaction for the
 * two to agree. What a writer shows of what it wrote (a webhook's
 * deliveries); sent and dead messages stay only for their retention.
 */
int delivery_list_source(db_t *db, const char *source, int64_t limit, int64_t offset,
                         arena_t *arena, struct delivery_message **out, size_t *count,
                         int64_t *total);

/*
 * How the messages of source written since since fare: *failing_since is
 * when the oldest of them that failed a try was written (0: none), among
 * those written after the last message of source was sent; *dead tells
 * whether one of those is dead. What a writer needs to tell an endpoint
 * that has failed for a while from one that failed once.
 */
int delivery_source_failing(db_t *db, const char *source, int64_t since,
                            int64_t *failing_since, bool *dead);

/* Counts of messages by state, for operators and /metrics. */
int delivery_counts(db_t *db, int64_t *pending, int64_t *sent, int64_t *dead);

/*
 * Puts dead message id (0: every dead one) back in the queue, due now, with
 * its tries reset and its message_id kept. *changed counts them.
 */
int delivery_requeue(db_t *db, int64_t id, int64_t now, int *changed);

#endif
