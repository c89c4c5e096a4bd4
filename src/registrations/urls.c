#include "registrations/urls.h"

#include "registrations/views.h"

/* What an API key needs for each route (http/http.h). */
#define READ (ROUTE_KEY(SCOPE_REGISTRATIONS_READ) | ROUTE_ONE_EVENT)

static const struct route routes[] = {
  {HTTP_POST, "/api/registrations/<int:event_id>/register/", registrations_register_view, 0},
  {HTTP_POST, "/api/registrations/register/", registrations_register_body_view, 0},
  {HTTP_GET, "/api/registrations/me/", registrations_me_view, 0},
  {HTTP_GET, "/registrations/me/", registrations_me_view, 0},
  {HTTP_GET, "/api/registrations/<int:id>/", registrations_detail_view, 0},
  {HTTP_DELETE, "/api/registrations/<int:id>/", registrations_cancel_view, 0},
  {HTTP_POST, "/api/registrations/<int:id>/accept/", registrations_accept_view, 0},
  {HTTP_POST, "/api/registrations/<int:id>/decline/", registrations_decline_view, 0},
  {HTTP_GET, "/api/events/<int:id>/registrations/", registrations_event_list_view, READ},
};

int
registrations_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
