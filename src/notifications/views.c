/*
 * views.c - the caller's notifications: list, one, mark read.
 */
#include "notifications/views.h"

#include "core/error.h"
#include "core/timefmt.h"
#include "notifications/models.h"
#include "notifications/serializers.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"

static const char NO_NOTIFICATION[] = "No Notification matches the given query.";

/* A page of the caller's notifications and their count, as one read. */
struct list_read {
  int64_t user_id, now;
  struct page page;
  arena_t *arena;
  struct notification *items;
  size_t count;
  int64_t total;
};

static int
read_list(db_t *db, void *arg)
{
  struct list_read *r = arg;
  return notifications_list(db, r->user_id, r->now, r->page.limit, r->page.offset, r->arena,
                            &r->items, &r->count, &r->total);
}

void
notifications_list_view(struct http_request *req)
{
  struct list_read r = {.now = time_now_us(), .arena = &req->arena};
  if (!authenticated_or_reply(req) || !pagination_params_or_reply(req, &r.page))
    return;
  r.user_id = req->user->id;
  /* The count and the page in one read transaction, so that they agree. */
  if (!ok_or_reply(req, db_read(read_list, &r), NULL, NULL))
    return;
  json_t *results = json_array();
  for (size_t i = 0; i < r.count; i++)
    json_array_append_new(results, notifications_serialize(&r.items[i], &req->arena));
  pagination_reply(req, &r.page, r.total, results);
}

/* Answers the caller's notification of the path. */
static void
reply_one(struct http_request *req)
{
  db_t *db = database_or_reply(req);
  struct notification n;
  if (db && object_or_404(req, notifications_get_for_user(db, req->user->id, req->ids[0],
                                                          time_now_us(), &req->arena, &n),
                          NO_NOTIFICATION))
    http_reply_json(req, 200, notifications_serialize(&n, &req->arena));
}

void
notifications_detail_view(struct http_request *req)
{
  if (authenticated_or_reply(req))
    reply_one(req);
}

/* A notification marked read, as a unit of work. */
struct mark_read {
  int64_t user_id, id, now;
};

static int
mark_read_unit(db_t *db, void *arg)
{
  struct mark_read *unit = arg;
  return notifications_mark_read(db, unit->user_id, unit->id, unit->now);
}

static void
mark_read_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (object_or_404(req, rc, NO_NOTIFICATION))
    reply_one(req);
}

void
notifications_read_view(struct http_request *req)
{
  if (!authenticated_or_reply(req))
    return;
  struct mark_read unit = {req->user->id, req->ids[0], time_now_us()};
  write_or_reply(req, mark_read_unit, &unit, sizeof unit, mark_read_reply);
}
