/*
 * permissions.c - the events app's preambles (see permissions.h).
 */
#include "events/permissions.h"

#include "core/error.h"
#include "events/rules.h"
#include "shortcuts/database.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"

static const char NO_EVENT[] = "No Event matches the given query.";

/* Loads event id from db if the caller may see it. */
static bool
visible_or_404(struct http_request *req, db_t *db, int64_t id, struct event *e)
{
  bool visible = false;
  int rc = events_get(db, id, &req->arena, e);
  if (rc == 0 && (rc = events_can_see(db, e, req->user, &visible)) == 0 && !visible)
    rc = EVENTAPI_ENOTFOUND; /* API.md: private events are 404 to others */
  return object_or_404(req, rc, NO_EVENT);
}

bool
event_visible_or_404(struct http_request *req, int64_t id, struct event *e)
{
  db_t *db = database_or_reply(req);
  return db && visible_or_404(req, db, id, e);
}

bool
event_owned_or_reply(struct http_request *req, int64_t id, struct event *e)
{
  db_t *db = database_or_reply(req);
  if (db == NULL || !authenticated_or_reply(req) || !visible_or_404(req, db, id, e))
    return false;
  if (events_may_change(req->user, e->organizer_id))
    return true;
  http_reply_forbidden(req);
  return false;
}
