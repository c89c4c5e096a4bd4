#include "events/permissions.h"

#include "core/error.h"
#include "users/permissions.h"

bool
is_event_owner(const struct http_request *req, const struct event *e)
{
  return req->user && (req->user->role == ROLE_ADMIN || req->user->id == e->organizer_id);
}

bool
events_load_visible(struct http_request *req, db_t *db, int64_t id, struct event *e)
{
  int rc = events_get(db, id, &req->arena, e);
  if (rc == 0) {
    rc = events_can_see(db, e, req->user);
    if (rc == 1)
      return true;
    if (rc == 0)
      rc = EVENTAPI_ENOTFOUND; /* API.md: private events are 404 to others */
  }
  if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, "No Event matches the given query.");
  else
    http_reply_error(req, rc);
  return false;
}

bool
events_load_for_change(struct http_request *req, db_t *db, int64_t id, struct event *e)
{
  if (!permission_authenticated(req) || !events_load_visible(req, db, id, e))
    return false;
  if (is_event_owner(req, e))
    return true;
  http_reply_forbidden(req);
  return false;
}
