/*
 * reply.c - a view's one error channel (see reply.h).
 */
#include "shortcuts/reply.h"

#include "core/error.h"
#include "core/jsonutil.h"

static void
release_json(void *json)
{
  json_decref(json);
}

json_t *
errors_or_reply(struct http_request *req)
{
  json_t *errors = json_object();
  if (errors && arena_defer(&req->arena, release_json, errors) < 0) {
    json_decref(errors);
    errors = NULL;
  }
  if (errors == NULL)
    http_reply_internal(req, "out of memory");
  return errors;
}

int
errors_rc(const json_t *errors)
{
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

bool
ok_or_reply(struct http_request *req, int rc, json_t *errors, const char *missing)
{
  if (rc == 0)
    return true;
  if (rc == EVENTAPI_EINVAL && errors)
    http_reply_json(req, 400, json_incref(errors));
  else if (rc == EVENTAPI_ENOTFOUND && missing)
    http_reply_detail(req, 404, missing);
  else
    http_reply_error(req, rc);
  return false;
}

bool
object_or_404(struct http_request *req, int rc, const char *missing)
{
  return ok_or_reply(req, rc, NULL, missing);
}

bool
valid_or_400(struct http_request *req, json_t *errors)
{
  return ok_or_reply(req, errors_rc(errors), errors, NULL);
}
