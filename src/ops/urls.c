/*
 * urls.c - the operations route table (see urls.h).
 */
#include "ops/urls.h"

#include "core/config.h"
#include "http/http.h"
#include "ops/docs.h"
#include "ops/health.h"
#include "ops/metrics.h"

static const struct route routes[] = {
  {HTTP_GET, "/healthz/", ops_health_view, ROUTE_ANY_HOST},
  {HTTP_GET, "/metrics/", ops_metrics_view, ROUTE_ANY_HOST},
  {HTTP_GET, "/api/docs/", ops_docs_page_view, 0},
};

/* Only with a local copy of Swagger UI (docs.h): no route serves files
 * that are not there. */
static const struct route asset_routes[] = {
  {HTTP_GET, "/static/docs/<str:name>/", ops_docs_asset_view, 0},
};

int
ops_urls_register(void)
{
  int rc = http_routes_add(routes, sizeof routes / sizeof routes[0]);
  if (rc == 0 && ops_docs_configure(config) != NULL)
    rc = http_routes_add(asset_routes, sizeof asset_routes / sizeof asset_routes[0]);
  return rc;
}
