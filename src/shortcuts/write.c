/*
 * write.c - a view's unit of work and its answer (see write.h).
 */
#include "shortcuts/write.h"

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
    http_reply_db_error(req, rc);
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

void
write_and_reply(struct http_request *req, db_unit_fn unit, void *ctx, write_reply_fn reply)
{
  if (!db_write_is_async()) {
    answer(req, db_write(unit, ctx), ctx, reply);
    return;
  }
  struct pending *p = arena_alloc(&req->arena, sizeof *p);
  if (p == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  *p = (struct pending){req, ctx, reply, 0};
  /* Parked first: the writer may finish before this function returns. */
  http_suspend(req, resumed, p);
  db_write_async(unit, ctx, done, p);
}

static void
release_json(void *json)
{
  json_decref(json);
}

json_t *
write_errors(struct http_request *req)
{
  json_t *errors = json_object();
  if (errors && arena_defer(&req->arena, release_json, errors) < 0) {
    json_decref(errors);
    return NULL;
  }
  return errors;
}
