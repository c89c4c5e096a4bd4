/*
 * write.c - a view's unit of work and its answer (see write.h).
 */
#include "shortcuts/write.h"

#include <string.h>

#include "core/error.h"
#include "shortcuts/idempotency.h"

struct pending {
  struct http_request *req;
  db_unit_fn unit;
  void *ctx;
  write_reply_fn reply;
  int rc;
  /* A write sent with an Idempotency-Key: answered inside its unit. */
  bool keyed;
  bool replied;  /* the answer is made (and kept with the change) */
  int nheaders;  /* the request's headers before the answer's */
};

/* Failures of the storage rather than of the request. */
static bool
storage_failure(int rc)
{
  return rc == EVENTAPI_EBUSY || rc == EVENTAPI_EUNAVAILABLE || rc == EVENTAPI_EDB ||
         rc == EVENTAPI_EIO || rc == EVENTAPI_ENOMEM || rc == EVENTAPI_EINTERNAL ||
         rc == EVENTAPI_EFULL || rc == EVENTAPI_ENOTDURABLE;
}

static void
answer(struct pending *p)
{
  struct http_request *req = p->req;
  if (p->replied) {
    if (p->rc == 0)
      return; /* made in the unit, which committed */
    http_reply_reset(req, p->nheaders); /* its commit failed: that answer is void */
  }
  if (p->rc == EVENTAPI_EKEYTAKEN)
    idempotency_reply_taken(req);
  else if (storage_failure(p->rc))
    http_reply_error(req, p->rc);
  else
    p->reply(req, p->rc, p->ctx);
}

/*
 * The unit of a keyed write: the key claimed, the view's change, and its
 * answer, made here and kept with it, so that they commit together or not
 * at all. The view's answers are functions of the unit's result alone, so
 * they can be made before the commit (on the writer's thread, while the
 * request is parked); a commit that fails voids it (answer()).
 */
static int
keyed_unit(db_t *db, void *arg)
{
  struct pending *p = arg;
  if (p->replied) {
    /* Run again (a batch replayed, a race lost): answer afresh. */
    http_reply_reset(p->req, p->nheaders);
    p->replied = false;
  }
  int64_t id = 0;
  int rc = idempotency_claim(db, p->req, &id);
  if (rc == 0)
    rc = p->unit(db, p->ctx);
  if (rc < 0)
    return rc; /* undone, the claim too: the view answers as without a key */
  p->nheaders = p->req->nheaders;
  db_t *before = db_thread_lend(db); /* the answer reads what the unit wrote */
  p->reply(p->req, 0, p->ctx);
  db_thread_lend(before);
  p->replied = true;
  rc = idempotency_keep(db, id, p->req, p->nheaders);
  if (rc < 0) {
    http_reply_reset(p->req, p->nheaders);
    p->replied = false;
  }
  return rc;
}

static void
resumed(struct http_request *req, void *arg)
{
  (void)req;
  answer(arg);
}

/* On the writer's thread: the unit's fate is durable. */
static void
done(void *arg, int rc)
{
  struct pending *p = arg;
  p->rc = rc;
  http_resume(p->req);
}

bool
write_or_reply(struct http_request *req, db_unit_fn unit, const void *ctx, size_t size,
               write_reply_fn reply)
{
  void *copy = arena_alloc(&req->arena, size);
  struct pending *p = arena_alloc(&req->arena, sizeof *p);
  if (copy == NULL || p == NULL) {
    http_reply_internal(req, "out of memory");
    return false;
  }
  memcpy(copy, ctx, size);
  *p = (struct pending){.req = req, .unit = unit, .ctx = copy, .reply = reply,
                        .keyed = req->idempotency_key != NULL};
  db_unit_fn run = p->keyed ? keyed_unit : unit;
  void *run_ctx = p->keyed ? (void *)p : copy;
  if (!db_write_is_async()) {
    p->rc = db_write(run, run_ctx);
    answer(p);
    return true;
  }
  /* Parked first: the writer may finish before this function returns. */
  http_suspend(req, resumed, p);
  db_write_async(run, run_ctx, done, p);
  return true;
}
