/*
 * pagination.c - limit and offset in, a page or a plain array out.
 */
#include "shortcuts/pagination.h"

#include "core/jsonutil.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"

/*
 * Reads the query parameter name as an integer in [min, max] into *out;
 * false when it is absent or empty, or (with DRF's message added to
 * errors) invalid.
 */
static bool
int_param(struct http_request *req, const char *name, int64_t min, int64_t max, json_t *errors,
          int64_t *out)
{
  const char *value = http_query(req, name);
  if (value == NULL || *value == '\0')
    return false;
  return json_int_text(value, name, min, max, errors, out);
}

bool
pagination_params_or_reply(struct http_request *req, struct page *page)
{
  *page = (struct page){.limit = PAGINATION_MAX};
  json_t *errors = json_object();
  page->paginate = int_param(req, "limit", 1, PAGINATION_MAX, errors, &page->limit);
  /* DRF: without a limit there is no pagination, and offset means nothing. */
  if (int_param(req, "offset", 0, INT64_MAX / 2, errors, &page->offset) && !page->paginate)
    page->offset = 0;
  if (json_errors_any(errors)) {
    http_reply_json(req, 400, errors);
    return false;
  }
  json_decref(errors);
  return true;
}

void
pagination_reply(struct http_request *req, const struct page *page, int64_t total,
                 json_t *results)
{
  http_add_header(req, "X-Total-Count", arena_printf(&req->arena, "%lld", (long long)total));
  if (!page->paginate) {
    http_reply_json(req, 200, results);
    return;
  }
  int64_t limit = page->limit, offset = page->offset;
  json_t *body = json_object();
  json_object_set_new(body, "count", json_integer(total));
  json_set_string(body, "next", offset + limit < total
                  ? http_page_url(req, limit, offset + limit) : NULL);
  json_set_string(body, "previous", offset > 0
                  ? http_page_url(req, limit, offset > limit ? offset - limit : 0) : NULL);
  json_object_set_new(body, "results", results);
  http_reply_json(req, 200, body);
}

void
pagination_user_list(struct http_request *req, db_unit_fn read,
                     json_t *(*item)(const void *items, size_t i))
{
  if (authenticated_or_reply(req))
    pagination_list(req, req->user->id, read, item);
}

void
pagination_list(struct http_request *req, int64_t of, db_unit_fn read,
                json_t *(*item)(const void *items, size_t i))
{
  struct page_read r = {.of = of, .arena = &req->arena};
  if (!pagination_params_or_reply(req, &r.page))
    return;
  /* One read transaction: the count and the page agree. */
  if (!ok_or_reply(req, db_read(read, &r), NULL, NULL))
    return;
  json_t *results = json_array();
  for (size_t i = 0; i < r.count; i++)
    json_array_append_new(results, item(r.items, i));
  pagination_reply(req, &r.page, r.total, results);
}
