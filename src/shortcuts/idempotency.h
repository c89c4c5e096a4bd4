/*
 * idempotency.h - safe retries: a user's write sent with an
 * Idempotency-Key is answered once, and a repeat of it gets that answer
 * again, changing nothing (docs/api.md, "Safe retries").
 *
 * The key is claimed, the change made and its answer kept in one unit of
 * work (write_or_reply, shortcuts/write.h): either all of them commit or
 * none does, so an answer that was sent is never lost and a change is
 * never made twice. Before the view, the replayer answers a key already
 * kept: the same answer, with Idempotent-Replayed: true, when the method,
 * target and body are the same; 422 when they are not. A key claimed by a
 * request still running is 409 for the others. Keys are the user's own;
 * they last IDEMPOTENCY_KEY_TTL (24 h) and are then pruned on the
 * delivery worker's beat.
 */
#ifndef EVENTAPI_SHORTCUTS_IDEMPOTENCY_H
#define EVENTAPI_SHORTCUTS_IDEMPOTENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "db/db.h"
#include "http/http.h"

/* The replayer of http_set_replayer(): true after answering req. */
bool idempotency_replay(struct http_request *req);

/*
 * Claims req's key for its user, in the caller's unit of work: 0 with its
 * row's id in *id, EVENTAPI_EKEYTAKEN when the user's key is held by
 * another request (one not past its lifetime), or another negative code.
 */
int idempotency_claim(db_t *db, const struct http_request *req, int64_t *id);

/*
 * Keeps req's answer (status, Content-Type, the headers from the
 * nheaders-th on, body) in the row id, in the unit of work that claimed it.
 */
int idempotency_keep(db_t *db, int64_t id, const struct http_request *req, int nheaders);

/*
 * The 409 of a key that another request holds: {"detail": ...}.
 */
void idempotency_reply_taken(struct http_request *req);

/* A delivery tick: deletes keys past their lifetime, 500 at a time. */
int idempotency_prune(const struct config *cfg, int64_t now, bool *more);

#endif
