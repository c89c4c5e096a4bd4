/*
 * views.c - webhooks: an organizer's (or an admin's) endpoints, their
 * secrets, and what was sent to them.
 *
 * Every endpoint is for organizers and admins (401 without a token, 403
 * for attendees). An organizer sees and changes their own webhooks only:
 * another's is 404, as if it were not there; an admin sees every one.
 */
#include "webhooks/views.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "shortcuts/body.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"
#include "webhooks/models.h"
#include "webhooks/payload.h"
#include "webhooks/serializers.h"

static const char NO_WEBHOOK[] = "No Webhook matches the given query.";
/* WEBHOOKS_PER_USER_MAX, in words. */
static const char TOO_MANY[] = "You may have at most 20 webhooks. Delete one you no longer use.";
_Static_assert(WEBHOOKS_PER_USER_MAX == 20, "TOO_MANY names the limit");
static const char INACTIVE[] = "This webhook is not active.";
static const char NO_DELIVERY[] = "No Delivery matches the given query.";
static const char STILL_PENDING[] = "This delivery is still pending.";

/* Optional fields that a form may send blank: then not given. */
static const char *const FORM_OPTIONAL[] = {"is_active", NULL};

/* The webhooks the caller may see: its own, or everyone's for an admin. */
static int64_t
owner_filter(const struct http_request *req)
{
  return req->user->role == ROLE_ADMIN ? 0 : req->user->id;
}

/*
 * Loads the webhook of the path for an organizer or admin who may see it
 * (its owner, an admin); false after replying 401, 403, 404 or 503.
 */
static bool
webhook_or_404(struct http_request *req, struct webhook *w)
{
  db_t *db = organizer_or_reply(req) ? database_or_reply(req) : NULL;
  if (db == NULL)
    return false;
  int rc = webhooks_get(db, req->ids[0], &req->arena, w);
  int64_t owner = owner_filter(req);
  if (rc == 0 && owner != 0 && w->owner_id != owner)
    rc = EVENTAPI_ENOTFOUND; /* someone else's is not there */
  return object_or_404(req, rc, NO_WEBHOOK);
}

/* Reloads webhook id and answers it with status, with secret if not NULL. */
static void
reply_webhook(struct http_request *req, int64_t id, unsigned status, const char *secret)
{
  db_t *db = database_or_reply(req);
  struct webhook w;
  if (db && object_or_404(req, webhooks_get(db, id, &req->arena, &w), NO_WEBHOOK))
    http_reply_json(req, status, webhooks_serialize(&w, secret));
}

/* ---- list ---------------------------------------------------------------- */

/* A page of the webhooks of an owner (0: everyone's) (struct page_read). */
static int
read_page(db_t *db, void *arg)
{
  struct page_read *r = arg;
  struct webhook *list = NULL;
  int rc = webhooks_list(db, r->of, r->page.limit, r->page.offset, r->arena, &list, &r->count,
                         &r->total);
  r->items = list;
  return rc;
}

static json_t *
page_item(const void *items, size_t i)
{
  return webhooks_serialize(&((const struct webhook *)items)[i], NULL);
}

void
webhooks_list_view(struct http_request *req)
{
  if (organizer_or_reply(req))
    pagination_list(req, owner_filter(req), read_page, page_item);
}

void
webhooks_detail_view(struct http_request *req)
{
  struct webhook w;
  if (webhook_or_404(req, &w))
    http_reply_json(req, 200, webhooks_serialize(&w, NULL));
}

/* ---- create, change, delete ------------------------------------------------ */

/* A webhook created, as a unit of work; its secret shown once, in the answer. */
struct create_unit {
  struct webhook w;
  char secret[WEBHOOKS_SECRET_LEN + 1];
};

static int
create_unit(db_t *db, void *arg)
{
  struct create_unit *unit = arg;
  return webhooks_insert(db, &unit->w, unit->secret);
}

static void
create_reply(struct http_request *req, int rc, void *arg)
{
  struct create_unit *unit = arg;
  if (rc == EVENTAPI_ECONFLICT)
    http_reply_json(req, 400, json_pack("{s:[s]}", "non_field_errors", TOO_MANY));
  else if (ok_or_reply(req, rc, NULL, NULL))
    http_reply_json(req, 201, webhooks_serialize(&unit->w, unit->secret));
}

void
webhooks_create_view(struct http_request *req)
{
  json_t *body = organizer_or_reply(req) ? body_or_reply(req, FORM_OPTIONAL) : NULL;
  db_t *db = body ? database_or_reply(req) : NULL;
  json_t *errors = db ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  int64_t now = time_now_us();
  struct create_unit unit = {.w = {
    .owner_id = req->user->id, .description = "", .is_active = true,
    .base_url = http_base_url(req), .created_at = now, .updated_at = now, .active_since = now,
  }};
  int rc = webhooks_validate(body, true, db, req->user, &req->arena, &unit.w, errors);
  if (!ok_or_reply(req, rc, errors, NULL))
    return;
  webhooks_secret_new(unit.secret);
  write_or_reply(req, create_unit, &unit, sizeof unit, create_reply);
}

/* A webhook changed, as a unit of work. */
static int
update_unit(db_t *db, void *arg)
{
  return webhooks_update(db, arg);
}

static void
update_reply(struct http_request *req, int rc, void *arg)
{
  struct webhook *w = arg;
  if (object_or_404(req, rc, NO_WEBHOOK))
    reply_webhook(req, w->id, 200, NULL);
}

void
webhooks_update_view(struct http_request *req)
{
  struct webhook w;
  if (!webhook_or_404(req, &w))
    return;
  json_t *body = body_or_reply(req, FORM_OPTIONAL);
  db_t *db = body ? database_or_reply(req) : NULL;
  json_t *errors = db ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  int rc = webhooks_validate(body, false, db, req->user, &req->arena, &w, errors);
  w.updated_at = time_now_us();
  if (ok_or_reply(req, rc, errors, NULL))
    write_or_reply(req, update_unit, &w, sizeof w, update_reply);
}

static int
delete_unit(db_t *db, void *arg)
{
  return webhooks_delete(db, *(const int64_t *)arg);
}

static void
delete_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (object_or_404(req, rc, NO_WEBHOOK))
    http_reply_empty(req, 204);
}

void
webhooks_delete_view(struct http_request *req)
{
  struct webhook w;
  if (webhook_or_404(req, &w))
    write_or_reply(req, delete_unit, &w.id, sizeof w.id, delete_reply);
}

/* ---- secrets --------------------------------------------------------------- */

/* A new secret, as a unit of work; the one it replaces signs for a day more. */
struct rotate_unit {
  int64_t id, now;
  char secret[WEBHOOKS_SECRET_LEN + 1];
};

static int
rotate_unit(db_t *db, void *arg)
{
  struct rotate_unit *unit = arg;
  return webhooks_rotate(db, unit->id, unit->secret, unit->now);
}

static void
rotate_reply(struct http_request *req, int rc, void *arg)
{
  struct rotate_unit *unit = arg;
  if (object_or_404(req, rc, NO_WEBHOOK))
    reply_webhook(req, unit->id, 200, unit->secret);
}

void
webhooks_rotate_secret_view(struct http_request *req)
{
  struct webhook w;
  if (!webhook_or_404(req, &w))
    return;
  struct rotate_unit unit = {.id = w.id, .now = time_now_us()};
  webhooks_secret_new(unit.secret);
  write_or_reply(req, rotate_unit, &unit, sizeof unit, rotate_reply);
}

/* ---- sending ------------------------------------------------------------------ */

/* Answers 202 with delivery id, just written. */
static void
reply_delivery(struct http_request *req, int64_t id)
{
  db_t *db = database_or_reply(req);
  struct delivery_message m;
  if (db && ok_or_reply(req, delivery_get(db, id, &req->arena, &m), NULL, NULL))
    http_reply_json(req, 202, webhooks_delivery_serialize(&m));
}

/* A ping written to the outbox, as a unit of work. */
struct ping_unit {
  int64_t webhook_id;
  const char *url;
  int64_t now;
  int64_t delivery_id;
};

static int
ping_unit(db_t *db, void *arg)
{
  struct ping_unit *unit = arg;
  char *body = webhooks_payload(WEBHOOKS_PING, unit->now,
                                json_pack("{s:I}", "webhook", (json_int_t)unit->webhook_id));
  if (body == NULL)
    return EVENTAPI_ENOMEM;
  struct delivery_webhook w = {
    .url = unit->url, .type = webhooks_type_name(WEBHOOKS_PING), .body = body,
    .ref = unit->webhook_id,
  };
  int rc = delivery_webhook_enqueue(db, &w, unit->now, &unit->delivery_id);
  free(body);
  return rc;
}

static void
ping_reply(struct http_request *req, int rc, void *arg)
{
  struct ping_unit *unit = arg;
  if (ok_or_reply(req, rc, NULL, NULL))
    reply_delivery(req, unit->delivery_id);
}

void
webhooks_ping_view(struct http_request *req)
{
  struct webhook w;
  if (!webhook_or_404(req, &w))
    return;
  if (!w.is_active) {
    http_reply_detail(req, 409, INACTIVE);
    return;
  }
  struct ping_unit unit = {.webhook_id = w.id, .url = w.url, .now = time_now_us()};
  write_or_reply(req, ping_unit, &unit, sizeof unit, ping_reply);
}

/* ---- deliveries ---------------------------------------------------------------- */

/* A page of a webhook's deliveries, as one read (the count and page agree). */
struct deliveries_read {
  int64_t webhook_id;
  struct page page;
  arena_t *arena;
  struct delivery_message *items;
  size_t count;
  int64_t total;
};

static int
read_deliveries(db_t *db, void *arg)
{
  struct deliveries_read *r = arg;
  return delivery_webhook_list(db, r->webhook_id, r->page.limit, r->page.offset, r->arena,
                               &r->items, &r->count, &r->total);
}

void
webhooks_deliveries_view(struct http_request *req)
{
  struct webhook w;
  if (!webhook_or_404(req, &w))
    return;
  struct deliveries_read r = {.webhook_id = w.id, .arena = &req->arena};
  if (!pagination_params_or_reply(req, &r.page) ||
      !ok_or_reply(req, db_read(read_deliveries, &r), NULL, NULL))
    return;
  json_t *results = json_array();
  for (size_t i = 0; i < r.count; i++)
    json_array_append_new(results, webhooks_delivery_serialize(&r.items[i]));
  pagination_reply(req, &r.page, r.total, results);
}

/* A delivery written again, as a unit of work: its body, its webhook-id. */
struct redeliver_unit {
  int64_t webhook_id;
  const char *url, *type, *body, *message_id;
  int64_t now;
  int64_t delivery_id;
};

static int
redeliver_unit(db_t *db, void *arg)
{
  struct redeliver_unit *unit = arg;
  struct delivery_webhook w = {
    .url = unit->url, .type = unit->type, .body = unit->body, .ref = unit->webhook_id,
    .message_id = unit->message_id,
  };
  return delivery_webhook_enqueue(db, &w, unit->now, &unit->delivery_id);
}

static void
redeliver_reply(struct http_request *req, int rc, void *arg)
{
  struct redeliver_unit *unit = arg;
  if (ok_or_reply(req, rc, NULL, NULL))
    reply_delivery(req, unit->delivery_id);
}

void
webhooks_redeliver_view(struct http_request *req)
{
  struct webhook w;
  if (!webhook_or_404(req, &w))
    return;
  db_t *db = database_or_reply(req);
  struct delivery_message m;
  if (db == NULL ||
      !object_or_404(req, delivery_webhook_get(db, w.id, req->ids[1], &req->arena, &m),
                     NO_DELIVERY))
    return;
  if (!w.is_active) {
    http_reply_detail(req, 409, INACTIVE);
    return;
  }
  /* Sent once more, not twice at once: a pending one is still being tried. */
  if (strcmp(m.state, "pending") == 0) {
    http_reply_detail(req, 409, STILL_PENDING);
    return;
  }
  /* To the URL as it is now: a redelivery follows an endpoint that moved. */
  struct redeliver_unit unit = {
    .webhook_id = w.id, .url = w.url, .type = m.kind, .body = m.payload,
    .message_id = m.message_id, .now = time_now_us(),
  };
  write_or_reply(req, redeliver_unit, &unit, sizeof unit, redeliver_reply);
}
