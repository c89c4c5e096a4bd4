#include "webhooks/urls.h"

#include "http/http.h"
#include "webhooks/views.h"

/* What an API key needs for each route (http/http.h). */
#define KEY ROUTE_KEY(SCOPE_WEBHOOKS)

static const struct route routes[] = {
  {HTTP_GET, "/api/webhooks/", webhooks_list_view, KEY},
  {HTTP_POST, "/api/webhooks/", webhooks_create_view, KEY},
  {HTTP_GET, "/api/webhooks/<int:id>/", webhooks_detail_view, KEY},
  {HTTP_PATCH, "/api/webhooks/<int:id>/", webhooks_update_view, KEY},
  {HTTP_DELETE, "/api/webhooks/<int:id>/", webhooks_delete_view, KEY},
  {HTTP_POST, "/api/webhooks/<int:id>/rotate-secret/", webhooks_rotate_secret_view, KEY},
  {HTTP_POST, "/api/webhooks/<int:id>/ping/", webhooks_ping_view, KEY},
  {HTTP_GET, "/api/webhooks/<int:id>/deliveries/", webhooks_deliveries_view, KEY},
  {HTTP_POST, "/api/webhooks/<int:id>/deliveries/<int:did>/redeliver/", webhooks_redeliver_view,
   KEY},
};

int
webhooks_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
