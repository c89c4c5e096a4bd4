/*
 * staff_views.c - an event's staff (see staff_views.h).
 *
 * Every view is for whoever may change the event (events/rules.h): 401
 * without a token, 404 for an event the caller may not see, 403 for one
 * they may see only. Staff themselves do not keep the staff list.
 */
#include "events/staff_views.h"

#include "core/error.h"
#include "core/timefmt.h"
#include "events/permissions.h"
#include "events/serializers.h"
#include "events/staff.h"
#include "shortcuts/body.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"

static const char NO_STAFF[] = "No Staff matches the given query.";

/* Optional fields that a form may send blank: then not given. */
static const char *const FORM_OPTIONAL[] = {"can_export", NULL};

/* A page of an event's staff (struct page_read, of the event). */
static int
read_page(db_t *db, void *arg)
{
  struct page_read *r = arg;
  struct event_staff *list = NULL;
  int rc = events_staff_list(db, r->of, r->page.limit, r->page.offset, r->arena, &list,
                             &r->count, &r->total);
  r->items = list;
  return rc;
}

static json_t *
page_item(const void *items, size_t i)
{
  return events_staff_serialize(&((const struct event_staff *)items)[i]);
}

void
events_staff_list_view(struct http_request *req)
{
  struct event e;
  if (event_owned_or_reply(req, req->ids[0], &e))
    pagination_list(req, e.id, read_page, page_item);
}

/* A page of the events at the caller's door, as one read. */
struct doors_read {
  const struct principal *who;
  struct page page;
  int64_t now;
  arena_t *arena;
  struct event_door *items;
  size_t count;
  int64_t total;
};

static int
read_doors(db_t *db, void *arg)
{
  struct doors_read *r = arg;
  return events_staff_doors(db, r->who->id, r->who->key_event, r->now, r->page.limit,
                            r->page.offset, r->arena, &r->items, &r->count, &r->total);
}

/*
 * GET /api/events/door/: the events whose tickets the caller checks in
 * (their own and those they are staff of; an API key's one event only),
 * the nearest to now first, for a scanner to pick from.
 */
void
events_door_list_view(struct http_request *req)
{
  if (!authenticated_or_reply(req))
    return;
  struct doors_read r = {.who = req->user, .now = time_now_us(), .arena = &req->arena};
  if (!pagination_params_or_reply(req, &r.page) ||
      !ok_or_reply(req, db_read(read_doors, &r), NULL, NULL))
    return;
  json_t *results = json_array();
  for (size_t i = 0; i < r.count; i++)
    json_array_append_new(results, events_door_serialize(&r.items[i]));
  pagination_reply(req, &r.page, r.total, results);
}

/* A staff entry added, as a unit of work. */
static int
add_unit(db_t *db, void *arg)
{
  return events_staff_insert(db, arg);
}

static void
add_reply(struct http_request *req, int rc, void *arg)
{
  struct event_staff *s = arg;
  if (rc == EVENTAPI_ECONSTRAINT) /* added by another request meanwhile */
    http_reply_json(req, 400, json_pack("{s:[s]}", "non_field_errors", EVENTS_STAFF_TWICE));
  else if (ok_or_reply(req, rc, NULL, NULL))
    http_reply_json(req, 201, events_staff_serialize(s));
}

void
events_staff_add_view(struct http_request *req)
{
  struct event e;
  if (!event_owned_or_reply(req, req->ids[0], &e))
    return;
  json_t *body = body_or_reply(req, FORM_OPTIONAL);
  db_t *db = body ? database_or_reply(req) : NULL;
  json_t *errors = db ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  struct event_staff s = {.added_by = req->user->id, .created_at = time_now_us()};
  int rc = events_staff_validate(body, db, &e, &req->arena, &s, errors);
  if (ok_or_reply(req, rc, errors, NULL))
    write_or_reply(req, add_unit, &s, sizeof s, add_reply);
}

/* A staff entry removed, as a unit of work: its powers end with it. */
static int
remove_unit(db_t *db, void *arg)
{
  const int64_t *ids = arg; /* event, user */
  return events_staff_delete(db, ids[0], ids[1]);
}

static void
remove_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (object_or_404(req, rc, NO_STAFF))
    http_reply_empty(req, 204);
}

void
events_staff_remove_view(struct http_request *req)
{
  struct event e;
  if (!event_owned_or_reply(req, req->ids[0], &e))
    return;
  int64_t ids[2] = {e.id, req->ids[1]};
  write_or_reply(req, remove_unit, ids, sizeof ids, remove_reply);
}
