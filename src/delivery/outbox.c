/*
 * outbox.c - the outbox table (see outbox.h).
 */
#include "delivery/outbox.h"

#include <sodium.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "delivery/worker.h"

#define MESSAGE_COLUMNS                                                              \
  "id, channel, kind, message_id, target, payload, source, created_at, expires_at,"  \
  " state, attempts, next_attempt_at, claimed_until, sent_at, last_error,"           \
  " last_status, last_response"

/* The row st is on (MESSAGE_COLUMNS) into out, a struct delivery_message,
 * strings in arena (a db_row_fn). */
static int
read_message(db_stmt_t *st, arena_t *arena, void *out)
{
  struct delivery_message *m = out;
  bool failed = false;
  memset(m, 0, sizeof *m);
  m->id = db_column_int(st, 0);
  m->channel = db_column_text_dup(st, 1, arena, &failed);
  m->kind = db_column_text_dup(st, 2, arena, &failed);
  m->message_id = db_column_text_dup(st, 3, arena, &failed);
  m->target = db_column_text_dup(st, 4, arena, &failed);
  m->payload = db_column_text_dup(st, 5, arena, &failed);
  m->source = db_column_text_dup(st, 6, arena, &failed);
  m->created_at = db_column_int(st, 7);
  m->expires_at = db_column_int_or(st, 8, 0);
  m->state = db_column_text_dup(st, 9, arena, &failed);
  m->attempts = db_column_int(st, 10);
  m->next_attempt_at = db_column_int(st, 11);
  m->claimed_until = db_column_int_or(st, 12, 0);
  m->sent_at = db_column_int_or(st, 13, 0);
  m->last_error = db_column_text_dup(st, 14, arena, &failed);
  m->last_status = db_column_int_or(st, 15, 0);
  m->last_response = db_column_text_dup(st, 16, arena, &failed);
  return failed ? EVENTAPI_ENOMEM : 0;
}

/* After the commit: the workers of channel (a static name; NULL: all). */
static void
wake(void *channel)
{
  delivery_wake_channel(channel);
}

/* 32 random hex digits: unique without coordination. */
static void
new_message_id(char out[33])
{
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  text_hex(bytes, sizeof bytes, out);
}

int
delivery_enqueue(db_t *db, const struct delivery_new *m, int64_t now, int64_t *id)
{
  if (m->channel == NULL || m->kind == NULL || m->target == NULL || m->payload == NULL ||
      (m->message_id && (m->message_id[0] == '\0' ||
                         strlen(m->message_id) > DELIVERY_MESSAGE_ID_MAX)))
    return EVENTAPI_EINVAL;
  char fresh[33];
  if (m->message_id == NULL)
    new_message_id(fresh);
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO outbox (channel, kind, message_id, target, payload, source, created_at,"
      " expires_at, state, attempts, next_attempt_at, last_error)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, m->channel);
  db_bind_text(st, 2, m->kind);
  db_bind_text(st, 3, m->message_id ? m->message_id : fresh);
  db_bind_text(st, 4, m->target);
  db_bind_text(st, 5, m->payload);
  db_bind_text(st, 6, m->source);
  db_bind_int(st, 7, now);
  if (m->expires_at)
    db_bind_int(st, 8, m->expires_at);
  else
    db_bind_null(st, 8);
  db_bind_text(st, 9, m->dead ? "dead" : "pending");
  db_bind_int(st, 10, m->attempts);
  db_bind_int(st, 11, m->not_before ? m->not_before : now);
  db_bind_text(st, 12, m->last_error);
  int64_t new_id;
  int rc = db_step_id(st, &new_id);
  if (rc == 0 && id)
    *id = new_id;
  if (rc == 0 && !m->dead)
    rc = db_on_commit(db, wake, (void *)delivery_channel_named(m->channel));
  return rc;
}

int
delivery_cancel(db_t *db, const char *source, int64_t now, int *cancelled)
{
  return db_exec(db, "DELETE FROM outbox WHERE source = ? AND state = 'pending'"
                     " AND (claimed_until IS NULL OR claimed_until <= ?)",
                 cancelled, "si", source, now);
}

/* Claimed messages in due order: RETURNING gives them in no set order. */
static int
by_due(const void *a, const void *b)
{
  const struct delivery_message *x = a, *y = b;
  if (x->next_attempt_at != y->next_attempt_at)
    return x->next_attempt_at < y->next_attempt_at ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

int
delivery_claim_batch(db_t *db, const char *channel, int64_t now, int64_t lease_us, size_t limit,
                     arena_t *arena, struct delivery_message **out, size_t *count)
{
  *out = NULL;
  *count = 0;
  /* The rows are chosen and locked once, in a materialized CTE: a
   * subquery of the UPDATE itself may run again when PostgreSQL re-checks
   * a row another claimer changed (READ COMMITTED), and so claim rows that
   * another worker had just claimed. */
  db_stmt_t *st = db_prepare(db,
      "WITH due AS MATERIALIZED (SELECT id FROM outbox WHERE channel = ?"
      " AND state = 'pending' AND next_attempt_at <= ?"
      " AND (claimed_until IS NULL OR claimed_until <= ?)"
      " ORDER BY next_attempt_at, id LIMIT ?" DB_SKIP_LOCKED ")"
      " UPDATE outbox SET claimed_until = ?, attempts = attempts + 1"
      " WHERE id IN (SELECT id FROM due) RETURNING " MESSAGE_COLUMNS);
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, channel);
  db_bind_int(st, 2, now);
  db_bind_int(st, 3, now);
  db_bind_int(st, 4, (int64_t)limit);
  db_bind_int(st, 5, now + lease_us);
  void *items = NULL;
  int rc = db_rows(st, read_message, sizeof **out, limit, arena, &items, count);
  if (rc < 0) {
    *count = 0;
    return rc;
  }
  *out = items;
  if (*count > 1)
    qsort(*out, *count, sizeof **out, by_due);
  return 0;
}

int
delivery_claim(db_t *db, const char *channel, int64_t now, int64_t lease_us, arena_t *arena,
               struct delivery_message *out, bool *found)
{
  struct delivery_message *claimed;
  size_t n;
  int rc = delivery_claim_batch(db, channel, now, lease_us, 1, arena, &claimed, &n);
  *found = rc == 0 && n == 1;
  if (*found)
    *out = claimed[0];
  return rc;
}

int
delivery_get(db_t *db, int64_t id, arena_t *arena, struct delivery_message *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " MESSAGE_COLUMNS " FROM outbox WHERE id = ?");
  if (st)
    db_bind_int(st, 1, id);
  return db_row(st, read_message, arena, out);
}

/* The claim is the row's attempts count: each claim raises it. */
#define STILL_CLAIMED " WHERE id = ? AND attempts = ? AND state = 'pending'"

int
delivery_record(db_t *db, int64_t id, int64_t attempts, int64_t now,
                const struct delivery_outcome *o)
{
  int changes = 0, rc;
  const char *error = o->error ? o->error : "failed";
  if (o->sent)
    rc = db_exec(db, "UPDATE outbox SET state = 'sent', sent_at = ?, claimed_until = NULL,"
                     " last_error = NULL, last_status = NULLIF(?, 0), last_response = ?"
                     STILL_CLAIMED, &changes, "iisii", now, o->status, o->response, id,
                 attempts);
  else if (o->retry_at == 0)
    rc = db_exec(db, "UPDATE outbox SET state = 'dead', claimed_until = NULL, last_error = ?,"
                     " last_status = NULLIF(?, 0), last_response = ?" STILL_CLAIMED,
                 &changes, "sisii", error, o->status, o->response, id, attempts);
  else
    rc = db_exec(db, "UPDATE outbox SET next_attempt_at = ?, claimed_until = NULL,"
                     " last_error = ?, last_status = NULLIF(?, 0), last_response = ?"
                     STILL_CLAIMED, &changes, "isisii", o->retry_at, error, o->status,
                 o->response, id, attempts);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

int
delivery_renew(db_t *db, int64_t id, int64_t attempts, int64_t until)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE outbox SET claimed_until = ?" STILL_CLAIMED, &changes, "iii",
                   until, id, attempts);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

int
delivery_release(db_t *db, int64_t id, int64_t attempts)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE outbox SET claimed_until = NULL, attempts = attempts - 1"
                       STILL_CLAIMED, &changes, "ii", id, attempts);
  return rc == 0 && changes == 0 ? EVENTAPI_ENOTFOUND : rc;
}

/*
 * Deletes at most limit messages in state whose last try was due, and
 * which were sent (if they were), before before. The index on (state,
 * next_attempt_at, id) finds them in order: a message is sent after its
 * last try fell due, so one sent before before was due before it.
 */
static int
prune_state(db_t *db, const char *state, int64_t before, int limit, int *deleted)
{
  *deleted = 0;
  if (before == 0 || limit <= 0)
    return 0;
  return db_exec(db, "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                     " WHERE state = ? AND next_attempt_at < ?"
                     " AND COALESCE(sent_at, next_attempt_at) < ?"
                     " ORDER BY next_attempt_at, id LIMIT ?" DB_SKIP_LOCKED ")",
                 deleted, "siii", state, before, before, (int64_t)limit);
}

int
delivery_prune(db_t *db, int64_t sent_before, int64_t dead_before, int limit, int *deleted)
{
  int sent = 0, dead = 0;
  int rc = prune_state(db, "sent", sent_before, limit, &sent);
  if (rc == 0)
    rc = prune_state(db, "dead", dead_before, limit - sent, &dead);
  *deleted = sent + dead;
  return rc;
}

int
delivery_list(db_t *db, const char *state, int64_t limit, arena_t *arena,
              struct delivery_message **out, size_t *count)
{
  db_stmt_t *st = db_prepare(db, "SELECT " MESSAGE_COLUMNS " FROM outbox WHERE state = ?"
                                 " ORDER BY next_attempt_at, id LIMIT ?");
  if (st) {
    db_bind_text(st, 1, state);
    db_bind_int(st, 2, limit);
  }
  void *items;
  int rc = db_rows(st, read_message, sizeof **out, 0, arena, &items, count);
  *out = items;
  return rc;
}

int
delivery_list_source(db_t *db, const char *source, int64_t limit, int64_t offset,
                     arena_t *arena, struct delivery_message **out, size_t *count,
                     int64_t *total)
{
  void *items;
  int rc = db_page(db, "SELECT count(*) FROM outbox WHERE source = ?",
                   "SELECT " MESSAGE_COLUMNS " FROM outbox WHERE source = ?"
                   " ORDER BY id DESC LIMIT ? OFFSET ?",
                   limit, offset, read_message, sizeof **out, arena, &items, count, total, "s",
                   source);
  *out = items;
  return rc;
}

int
delivery_source_failing(db_t *db, const char *source, int64_t since, int64_t *failing_since,
                        bool *dead)
{
  *failing_since = 0;
  *dead = false;
  /* A message written before the last one sent was delivered, or not,
   * before that success: only those written after it say the endpoint
   * fails now. */
  db_stmt_t *st = db_prepare(db,
      "SELECT min(created_at), max(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) FROM outbox"
      " WHERE source = ? AND state <> 'sent' AND last_error IS NOT NULL AND created_at >= ?"
      " AND created_at > COALESCE((SELECT max(sent_at) FROM outbox"
      " WHERE source = ? AND state = 'sent'), 0)");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, source);
  db_bind_int(st, 2, since);
  db_bind_text(st, 3, source);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *failing_since = db_column_int_or(st, 0, 0);
    *dead = db_column_int_or(st, 1, 0) != 0;
    rc = 0;
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
delivery_counts(db_t *db, int64_t *pending, int64_t *sent, int64_t *dead)
{
  *pending = *sent = *dead = 0;
  db_stmt_t *st = db_prepare(db, "SELECT state, count(*) FROM outbox GROUP BY state");
  if (st == NULL)
    return EVENTAPI_EDB;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    const char *state = db_column_text(st, 0);
    int64_t n = db_column_int(st, 1);
    if (strcmp(state, "pending") == 0)
      *pending = n;
    else if (strcmp(state, "sent") == 0)
      *sent = n;
    else if (strcmp(state, "dead") == 0)
      *dead = n;
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
delivery_requeue(db_t *db, int64_t id, int64_t now, int *changed)
{
  int rc = db_exec(db, "UPDATE outbox SET state = 'pending', attempts = 0,"
                       " next_attempt_at = ?, claimed_until = NULL"
                       " WHERE state = 'dead' AND (? = 0 OR id = ?)",
                   changed, "iii", now, id, id);
  if (rc == 0 && *changed > 0)
    rc = db_on_commit(db, wake, NULL);
  return rc;
}
