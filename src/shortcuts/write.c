/*
 * write.c - a view's unit of work and its answer (see write.h).
 */
#include "shortcuts/write.h"

#include <string.h>

#include "core/error.h"

struct pending {
  struct http_request *req;
  void *ctx;
  write_reply_fn reply;
  int rc;
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
answer(struct http_request *req, int rc, void *ctx, write_reply_fn reply)
{
  if (storage_failure(rc))
    http_reply_error(req, rc);
  else
    reply(req, rc, ctx);
}

static void
resumed(struct http_request *req, void *arg)
{
  struct pending *p = arg;
  answer(req, p->rc, p->ctx, p->reply);
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
  struct pending *p = db_write_is_async() ? arena_alloc(&req->arena, sizeof *p) : NULL;
  if (copy == NULL || (p == NULL && db_write_is_async())) {
    http_reply_internal(req, "out of memory");
    return false;
  }
  memcpy(copy, ctx, size);
  if (p == NULL) {
    answer(req, db_write(unit, copy), copy, reply);
    return true;
  }
  *p = (struct pending){req, copy, reply, 0};
  /* Parked first: the writer may finish before this function returns. */
  http_suspend(req, resumed, p);
  db_write_async(unit, copy, done, p);
  return true;
}
