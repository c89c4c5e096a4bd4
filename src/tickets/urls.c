#include "tickets/urls.h"

#include "tickets/checkin.h"
#include "tickets/views.h"

/* What an API key needs for each route (http/http.h). */
#define DOOR (ROUTE_KEY(SCOPE_CHECKIN) | ROUTE_ONE_EVENT)
#define READ (ROUTE_KEY(SCOPE_REGISTRATIONS_READ) | ROUTE_ONE_EVENT)

static const struct route routes[] = {
  {HTTP_GET, "/api/tickets/", tickets_list_view, 0},
  {HTTP_GET, "/api/tickets/<str:code>/", tickets_detail_view, DOOR},
  {HTTP_POST, "/api/tickets/<str:code>/check-in/", tickets_check_in_view, DOOR},
  {HTTP_DELETE, "/api/tickets/<str:code>/check-in/", tickets_undo_check_in_view, DOOR},
  {HTTP_POST, "/api/registrations/ticket/<str:code>/checkin/", tickets_check_in_view, DOOR},
  {HTTP_GET, "/api/events/<int:id>/check-ins/", tickets_feed_view, DOOR},
  {HTTP_POST, "/api/events/<int:id>/check-ins/sync/", tickets_sync_view, DOOR},
  {HTTP_GET, "/api/events/<int:id>/check-ins/stats/", tickets_stats_view, DOOR},
  {HTTP_GET, "/api/events/<int:id>/check-ins/audit/", tickets_audit_view, READ},
  {HTTP_GET, "/api/tickets/<str:code>/qr.svg/", tickets_qr_svg_view, 0},
  {HTTP_GET, "/api/tickets/<str:code>/qr.png/", tickets_qr_png_view, 0},
  /* The door's web page (checkin.h). */
  {HTTP_GET, "/checkin/", tickets_checkin_page_view, ROUTE_NO_AUTH},
  {HTTP_GET, "/checkin/<str:name>/", tickets_checkin_file_view, ROUTE_NO_AUTH},
};

int
tickets_urls_register(void)
{
  tickets_checkin_configure();
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
