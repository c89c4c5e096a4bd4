/*
 * health.c - GET /healthz (see health.h).
 */
#include "ops/health.h"

#include "core/error.h"
#include "db/db.h"

static void
unavailable(struct http_request *req, const char *detail)
{
  http_add_header(req, "Retry-After", "1");
  http_reply_json(req, 503, json_pack("{s:s, s:s}", "status", "unavailable", "detail", detail));
}

void
ops_health_view(struct http_request *req)
{
  http_add_header(req, "Cache-Control", "no-store");
  db_t *db = db_thread(); /* not database_or_reply(): its 503 has another shape */
  if (db == NULL) {
    unavailable(req, "The database cannot be opened.");
    return;
  }
  int rc = db_ping(db);
  if (rc < 0) {
    const char *detail = arena_printf(&req->arena, "The database did not answer (%s).",
                                      eventapi_strerror(rc));
    unavailable(req, detail ? detail : "The database did not answer.");
    return;
  }
  http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}
