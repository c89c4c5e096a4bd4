#include "notifications/urls.h"

#include "notifications/views.h"

static const struct route routes[] = {
  {HTTP_GET, "/api/notifications/", notifications_list_view, 0},
  {HTTP_GET, "/api/notifications/<int:id>/", notifications_detail_view, 0},
  {HTTP_POST, "/api/notifications/<int:id>/read/", notifications_read_view, 0},
};

int
notifications_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
