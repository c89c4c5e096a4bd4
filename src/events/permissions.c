/*
 * permissions.c - the events app's preambles (see permissions.h).
 */
#include "events/permissions.h"

#include "core/error.h"
#include "events/rules.h"
#include "events/staff.h"
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

bool
event_door_or_reply(struct http_request *req, int64_t id, struct event *e, bool *can_export)
{
  db_t *db = database_or_reply(req);
  if (db == NULL || !authenticated_or_reply(req))
    return false;
  bool may = false, export = false;
  int rc = events_get(db, id, &req->arena, e);
  if (rc == 0)
    rc = events_staff_door(db, e->id, e->organizer_id, req->user, &may, &export);
  if (rc == 0 && may) {
    if (can_export)
      *can_export = export;
    return true;
  }
  if (rc != 0)
    return object_or_404(req, rc, NO_EVENT);
  /* Not at its door: as for a change, 404 unless the caller may see it. */
  if (visible_or_404(req, db, id, e))
    http_reply_forbidden(req);
  return false;
}
