/*
 * idempotency.c - safe retries (see idempotency.h).
 */
#include "shortcuts/idempotency.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "shortcuts/reply.h"

#define PRUNE_BATCH 500
#define PRUNE_BATCH_SQL "500"

static const char MISMATCH[] =
    "This Idempotency-Key was used with another request (its method, path or body "
    "differ). Use a new key for a new request.";
static const char TAKEN[] =
    "A request with this Idempotency-Key is still being processed. Try again shortly.";

/* The oldest creation time a key still counts from, in microseconds. */
static int64_t
oldest_kept(int64_t now)
{
  int64_t ttl = config ? config->idempotency_key_ttl : 86400;
  return now - ttl * 1000000;
}

/* A kept answer, as read. */
struct kept {
  const char *fingerprint;
  int64_t status;
  const char *content_type;
  const char *headers;
  const char *body;
  size_t body_len;
};

static int
read_kept(db_stmt_t *st, arena_t *arena, void *out)
{
  struct kept *k = out;
  bool failed = false;
  k->fingerprint = db_column_text_dup(st, 0, arena, &failed);
  k->status = db_column_int(st, 1);
  k->content_type = db_column_text_dup(st, 2, arena, &failed);
  k->headers = db_column_text_dup(st, 3, arena, &failed);
  k->body = db_column_text_dup(st, 4, arena, &failed);
  k->body_len = k->body ? strlen(k->body) : 0;
  return failed ? EVENTAPI_ENOMEM : 0;
}

struct lookup {
  const struct http_request *req;
  arena_t *arena;
  struct kept kept;
};

static int
lookup(db_t *db, void *arg)
{
  struct lookup *l = arg;
  db_stmt_t *st = db_prepare(db, "SELECT fingerprint, status, content_type, headers, body"
                                 " FROM idempotency_keys"
                                 " WHERE user_id = ? AND key = ? AND created_at >= ?");
  if (st) {
    db_bind_int(st, 1, l->req->user->id);
    db_bind_text(st, 2, l->req->idempotency_key);
    db_bind_int(st, 3, oldest_kept(time_now_us()));
  }
  return db_row(st, read_kept, l->arena, &l->kept);
}

/* Answers again what was kept: the status, type, headers and body. */
static void
replay(struct http_request *req, const struct kept *k)
{
  json_t *headers = json_loads(k->headers, 0, NULL);
  const char *name;
  json_t *value;
  json_object_foreach(headers, name, value) {
    const char *n = arena_strdup(&req->arena, name);
    const char *v = arena_strdup(&req->arena, json_string_value(value));
    if (n && v)
      http_add_header(req, n, v);
  }
  json_decref(headers);
  http_add_header(req, "Idempotent-Replayed", "true");
  char *body = malloc(k->body_len ? k->body_len : 1);
  if (body == NULL) {
    http_reply_internal(req, "out of memory replaying an answer");
    return;
  }
  memcpy(body, k->body, k->body_len);
  http_reply_bytes(req, (unsigned)k->status, k->content_type[0] ? k->content_type : NULL, body,
                   k->body_len);
}

bool
idempotency_replay(struct http_request *req)
{
  struct lookup l = {.req = req, .arena = &req->arena};
  int rc = db_read(lookup, &l);
  if (rc == EVENTAPI_ENOTFOUND)
    return false; /* a new key: the view runs, and the unit claims it */
  if (rc < 0) {
    http_reply_error(req, rc);
    return true;
  }
  if (strcmp(l.kept.fingerprint, req->idempotency_fingerprint) != 0)
    http_reply_detail(req, 422, MISMATCH);
  else
    replay(req, &l.kept);
  return true;
}

int
idempotency_claim(db_t *db, const struct http_request *req, int64_t *id)
{
  int64_t now = time_now_us();
  /* A key past its lifetime is free again, whether pruned yet or not. */
  int rc = db_exec(db, "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?"
                       " AND created_at < ?", NULL, "isi", req->user->id,
                   req->idempotency_key, oldest_kept(now));
  if (rc < 0)
    return rc;
  /* A clash inserts nothing rather than failing, which would abort the
   * whole transaction on PostgreSQL; there, a second request waits on the
   * first's row until it commits or not. */
  db_stmt_t *st = db_prepare(db, "INSERT INTO idempotency_keys"
                                 " (user_id, key, fingerprint, created_at) VALUES (?, ?, ?, ?)"
                                 " ON CONFLICT (user_id, key) DO NOTHING RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, req->user->id);
  db_bind_text(st, 2, req->idempotency_key);
  db_bind_text(st, 3, req->idempotency_fingerprint);
  db_bind_int(st, 4, now);
  rc = db_step(st);
  if (rc == DB_ROW)
    *id = db_column_int(st, 0);
  db_reset(st);
  return rc == DB_ROW ? 0 : rc < 0 ? rc : EVENTAPI_EKEYTAKEN;
}

int
idempotency_keep(db_t *db, int64_t id, const struct http_request *req, int nheaders)
{
  json_t *headers = json_object();
  for (int i = nheaders; headers && i < req->nheaders; i++)
    json_object_set_new(headers, req->headers[i].name, json_string(req->headers[i].value));
  char *headers_text = headers ? json_dumps(headers, JSON_COMPACT) : NULL;
  json_decref(headers);
  const char *data = req->reply ? req->reply : req->reply_shared;
  char *body = malloc(req->reply_len + 1);
  if (headers_text == NULL || body == NULL) {
    free(headers_text);
    free(body);
    return EVENTAPI_ENOMEM;
  }
  if (req->reply_len)
    memcpy(body, data, req->reply_len);
  body[req->reply_len] = '\0';
  int rc = db_exec(db, "UPDATE idempotency_keys SET status = ?, content_type = ?, headers = ?,"
                       " body = ? WHERE id = ?", NULL, "isssi", (int64_t)req->status,
                   req->content_type ? req->content_type : "", headers_text, body, id);
  free(headers_text);
  free(body);
  return rc;
}

void
idempotency_reply_taken(struct http_request *req)
{
  http_add_header(req, "Retry-After", "1");
  http_reply_detail(req, 409, TAKEN);
}

static int
prune_unit(db_t *db, void *arg)
{
  int64_t *cut = arg;
  int changes = 0;
  int rc = db_exec(db, "DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM"
                       " idempotency_keys WHERE created_at < ? ORDER BY created_at"
                       " LIMIT " PRUNE_BATCH_SQL ")",
                   &changes, "i", *cut);
  cut[1] = changes;
  return rc;
}

int
idempotency_prune(const struct config *cfg, int64_t now, bool *more)
{
  (void)cfg;
  int64_t arg[2] = {oldest_kept(now), 0};
  int rc = db_write(prune_unit, arg);
  *more = rc == 0 && arg[1] == PRUNE_BATCH;
  return rc;
}
