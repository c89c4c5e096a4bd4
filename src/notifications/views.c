/*
 * views.c - the caller's notifications: list, one, mark read.
 */
#include "notifications/views.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/timefmt.h"
#include "notifications/models.h"
#include "notifications/serializers.h"
#include "shortcuts/database.h"
#include "shortcuts/write.h"
#include "users/permissions.h"

#define LIST_MAX 1000 /* as the event list: a plain array holds at most this many */

static const char NO_NOTIFICATION[] = "No Notification matches the given query.";

/* A limit/offset query parameter in [min, max]: DRF's messages otherwise. */
static bool
int_param(struct http_request *req, const char *name, int64_t min, int64_t max,
          json_t *errors, int64_t *out)
{
  const char *value = http_query(req, name);
  if (value == NULL || *value == '\0')
    return false;
  char *end;
  long long n = strtoll(value, &end, 10);
  char msg[96];
  if (end == value || *end || value[0] == ' ' || value[0] == '+')
    snprintf(msg, sizeof msg, "A valid integer is required.");
  else if (n < min)
    snprintf(msg, sizeof msg, "Ensure this value is greater than or equal to %lld.", (long long)min);
  else if (n > max)
    snprintf(msg, sizeof msg, "Ensure this value is less than or equal to %lld.", (long long)max);
  else {
    *out = n;
    return true;
  }
  json_error_add(errors, name, msg);
  return false;
}

void
notifications_list_view(struct http_request *req)
{
  if (!permission_authenticated(req))
    return;
  int64_t limit = LIST_MAX, offset = 0;
  json_t *errors = json_object();
  bool paginate = int_param(req, "limit", 1, LIST_MAX, errors, &limit);
  if (int_param(req, "offset", 0, INT64_MAX / 2, errors, &offset) && !paginate)
    offset = 0; /* DRF: without a limit, offset means nothing */
  if (json_errors_any(errors)) {
    http_reply_json(req, 400, errors);
    return;
  }
  json_decref(errors);
  db_t *db = database_or_reply(req);
  if (db == NULL)
    return;
  struct notification *list;
  size_t count;
  int64_t total;
  int rc = notifications_list(db, req->user->id, time_now_us(), limit, offset, &req->arena,
                              &list, &count, &total);
  if (rc < 0) {
    http_reply_error(req, rc);
    return;
  }
  json_t *results = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(results, notifications_serialize(&list[i], &req->arena));
  http_add_header(req, "X-Total-Count", arena_printf(&req->arena, "%lld", (long long)total));
  if (!paginate) {
    http_reply_json(req, 200, results);
    return;
  }
  json_t *body = json_object();
  json_object_set_new(body, "count", json_integer(total));
  json_set_string(body, "next", offset + limit < total
                  ? http_page_url(req, limit, offset + limit) : NULL);
  json_set_string(body, "previous", offset > 0
                  ? http_page_url(req, limit, offset > limit ? offset - limit : 0) : NULL);
  json_object_set_new(body, "results", results);
  http_reply_json(req, 200, body);
}

static void
reply_one(struct http_request *req, db_t *db)
{
  struct notification n;
  int rc = notifications_get_for_user(db, req->user->id, req->ids[0], time_now_us(),
                                      &req->arena, &n);
  if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, NO_NOTIFICATION);
  else if (rc < 0)
    http_reply_error(req, rc);
  else
    http_reply_json(req, 200, notifications_serialize(&n, &req->arena));
}

void
notifications_detail_view(struct http_request *req)
{
  if (!permission_authenticated(req))
    return;
  db_t *db = database_or_reply(req);
  if (db != NULL)
    reply_one(req, db);
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
  db_t *db = rc == 0 ? database_or_reply(req) : NULL;
  if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, NO_NOTIFICATION);
  else if (rc < 0)
    http_reply_error(req, rc);
  else if (db)
    reply_one(req, db);
}

void
notifications_read_view(struct http_request *req)
{
  if (!permission_authenticated(req))
    return;
  struct mark_read *unit = arena_alloc(&req->arena, sizeof *unit);
  if (unit == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  *unit = (struct mark_read){req->user->id, req->ids[0], time_now_us()};
  write_and_reply(req, mark_read_unit, unit, mark_read_reply);
}
