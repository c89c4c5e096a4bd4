/*
 * keys_views.c - a user's API keys (see keys_views.h): made, listed and
 * revoked with a token only (the routes take no key, so a key cannot make
 * another).
 */
#include "users/keys_views.h"

#include <string.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "shortcuts/body.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"
#include "users/keys.h"

static const char NO_KEY[] = "No API key matches the given query.";
/* USERS_KEYS_PER_USER_MAX, in words. */
static const char TOO_MANY[] = "You may have at most 20 API keys. Revoke one you no longer use.";
_Static_assert(USERS_KEYS_PER_USER_MAX == 20, "TOO_MANY names the limit");

/* The caller's page of keys (struct page_read). */
static int
read_page(db_t *db, void *arg)
{
  struct page_read *r = arg;
  struct api_key *list = NULL;
  int rc = users_keys_list(db, r->of, r->page.limit, r->page.offset, r->arena, &list,
                           &r->count, &r->total);
  r->items = list;
  return rc;
}

static json_t *
page_item(const void *items, size_t i)
{
  return users_keys_serialize(&((const struct api_key *)items)[i], NULL);
}

void
users_keys_list_view(struct http_request *req)
{
  pagination_user_list(req, read_page, page_item);
}

/* A key made, as a unit of work; the key itself shown once, in the answer. */
struct create_unit {
  struct api_key k;
  char key[USERS_KEY_LEN + 1];
  char prefix[USERS_KEY_PREFIX_LEN + 1];
};

static int
create_unit(db_t *db, void *arg)
{
  struct create_unit *unit = arg;
  unit->k.prefix = unit->prefix;
  return users_keys_insert(db, &unit->k, unit->key);
}

static void
create_reply(struct http_request *req, int rc, void *arg)
{
  struct create_unit *unit = arg;
  if (rc == EVENTAPI_ECONFLICT)
    http_reply_json(req, 400, json_pack("{s:[s]}", "non_field_errors", TOO_MANY));
  else if (ok_or_reply(req, rc, NULL, NULL))
    http_reply_json(req, 201, users_keys_serialize(&unit->k, unit->key));
}

void
users_keys_create_view(struct http_request *req)
{
  json_t *body = authenticated_or_reply(req) ? body_or_reply(req, NULL) : NULL;
  db_t *db = body ? database_or_reply(req) : NULL;
  json_t *errors = db ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  int64_t now = time_now_us();
  struct create_unit unit = {.k = {.user_id = req->user->id, .created_at = now}};
  int rc = users_keys_validate(body, db, req->user, now, &req->arena, &unit.k, errors);
  if (!ok_or_reply(req, rc, errors, NULL))
    return;
  users_key_new(unit.key);
  memcpy(unit.prefix, unit.key, USERS_KEY_PREFIX_LEN);
  write_or_reply(req, create_unit, &unit, sizeof unit, create_reply);
}

/* A key revoked, as a unit of work: it opens nothing from the next request. */
static int
delete_unit(db_t *db, void *arg)
{
  const int64_t *ids = arg; /* user, key */
  return users_keys_delete(db, ids[0], ids[1]);
}

static void
delete_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (object_or_404(req, rc, NO_KEY))
    http_reply_empty(req, 204);
}

void
users_keys_delete_view(struct http_request *req)
{
  if (!authenticated_or_reply(req))
    return;
  int64_t ids[2] = {req->user->id, req->ids[0]};
  write_or_reply(req, delete_unit, ids, sizeof ids, delete_reply);
}
