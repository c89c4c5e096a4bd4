/*
 * response.c - the reply helpers of http.h. A reply is recorded on the
 * request; server.c turns it into a libmicrohttpd response.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "http/http.h"
#include "http/stats.h"

#define JSON_TYPE "application/json; charset=utf-8"

void
http_add_header(struct http_request *req, const char *name, const char *value)
{
  if (req->nheaders < HTTP_MAX_HEADERS)
    req->headers[req->nheaders++] = (struct http_header){name, value};
  else
    log_error("rid=%s: too many response headers, dropped %s", req->request_id, name);
}

void
http_reply_bytes(struct http_request *req, unsigned status,
                 const char *content_type, char *data, size_t len)
{
  if (req->replied) {
    /* A bug: two replies. Keep the first, never leak the second. */
    log_error("rid=%s: second reply %u ignored", req->request_id, status);
    free(data);
    return;
  }
  req->replied = true;
  req->status = status;
  req->reply = data;
  req->reply_len = len;
  req->content_type = content_type;
}

void
http_reply_reset(struct http_request *req, int nheaders)
{
  free(req->reply);
  req->reply = NULL;
  if (req->reply_release) {
    req->reply_release(req->reply_release_arg);
    req->reply_release = NULL;
  }
  req->reply_shared = NULL;
  req->reply_len = 0;
  req->content_type = NULL;
  req->status = 0;
  req->replied = false;
  if (nheaders >= 0 && nheaders < req->nheaders)
    req->nheaders = nheaders;
}

void
http_reply_shared(struct http_request *req, unsigned status, const char *content_type,
                  const char *data, size_t len, void (*release)(void *arg), void *arg)
{
  if (req->replied) {
    log_error("rid=%s: second reply %u ignored", req->request_id, status);
    release(arg);
    return;
  }
  req->replied = true;
  req->status = status;
  req->reply_shared = data;
  req->reply_len = len;
  req->reply_release = release;
  req->reply_release_arg = arg;
  req->content_type = content_type;
}

/* Appends JSON text to a strbuf (a json_dump_callback_t). */
static int
append_json(const char *buffer, size_t size, void *data)
{
  struct strbuf *out = data;
  strbuf_append(out, buffer, size);
  return out->failed ? -1 : 0;
}

void
http_reply_json(struct http_request *req, unsigned status, json_t *body)
{
  if (body == NULL) {
    http_reply_internal(req, "reply without a body (out of memory?)");
    return;
  }
  /* One pass into a growing buffer: json_dumpb would walk the tree twice,
   * once to size it. */
  struct strbuf out = {0};
  int rc = json_dump_callback(body, append_json, &out, JSON_COMPACT);
  json_decref(body);
  size_t len = 0;
  char *data = rc == 0 && !out.failed && out.len > 0 ? strbuf_take(&out, &len) : NULL;
  strbuf_free(&out);
  if (data == NULL) {
    http_reply_internal(req, "cannot serialise a reply");
    return;
  }
  http_reply_bytes(req, status, JSON_TYPE, data, len);
}

void
http_reply_detail(struct http_request *req, unsigned status, const char *detail)
{
  http_reply_json(req, status, json_pack("{s:s}", "detail", detail));
}

void
http_reply_empty(struct http_request *req, unsigned status)
{
  http_reply_bytes(req, status, NULL, NULL, 0);
}

void
http_reply_not_modified(struct http_request *req, uint64_t length)
{
  http_reply_bytes(req, 304, NULL, NULL, 0);
  req->representation_len = length;
}

void
http_reply_unauthenticated(struct http_request *req)
{
  http_reply_detail(req, 401, "Authentication credentials were not provided.");
}

void
http_reply_forbidden(struct http_request *req)
{
  http_reply_detail(req, 403, "You do not have permission to perform this action.");
}

void
http_reply_not_found(struct http_request *req)
{
  http_reply_detail(req, 404, "Not found.");
}

void
http_reply_internal(struct http_request *req, const char *why)
{
  log_error("rid=%s: internal error: %s", req->request_id, why);
  if (req->replied)
    return;
  static const char body[] = "{\"detail\":\"internal error\"}";
  char *data = malloc(sizeof body - 1);
  if (data)
    memcpy(data, body, sizeof body - 1);
  http_reply_bytes(req, 500, JSON_TYPE, data, data ? sizeof body - 1 : 0);
}

void
http_reply_error(struct http_request *req, int rc)
{
  /* A row that went away, or a constraint that a concurrent change now
   * trips, between a view's read and its write: the client's answer. */
  if (rc == EVENTAPI_ENOTFOUND) {
    http_reply_not_found(req);
    return;
  }
  http_stats_error(rc);
  if (rc == EVENTAPI_ECONSTRAINT || rc == EVENTAPI_ECONFLICT) {
    http_reply_detail(req, 409, "The request conflicts with a concurrent change. Please retry.");
    return;
  }
  /* EVENTAPI_ENOTDURABLE: the change may stand (it committed), but the
   * disk did not confirm it; the client cannot be told it succeeded. */
  if (rc == EVENTAPI_EUNAVAILABLE || rc == EVENTAPI_EBUSY || rc == EVENTAPI_ENOTDURABLE) {
    log_warn("rid=%s: database: %s", req->request_id, eventapi_strerror(rc));
    http_add_header(req, "Retry-After", "1");
    http_reply_detail(req, 503, "The database is unavailable. Please retry.");
    return;
  }
  if (rc == EVENTAPI_EFULL) {
    /* The database's disk, or the media folder's: nothing was stored. */
    log_warn("rid=%s: storage full", req->request_id);
    http_add_header(req, "Retry-After", "1");
    http_reply_detail(req, 503, "The server is out of storage space. Please retry later.");
    return;
  }
  http_reply_internal(req, eventapi_strerror(rc));
}
