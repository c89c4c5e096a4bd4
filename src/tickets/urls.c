#include "tickets/urls.h"

#include "tickets/views.h"

static const struct route routes[] = {
  {HTTP_GET, "/api/tickets/", tickets_list_view, 0},
  {HTTP_GET, "/api/tickets/<str:code>/", tickets_detail_view, 0},
  {HTTP_POST, "/api/tickets/<str:code>/check-in/", tickets_check_in_view, 0},
  {HTTP_DELETE, "/api/tickets/<str:code>/check-in/", tickets_undo_check_in_view, 0},
  {HTTP_POST, "/api/registrations/ticket/<str:code>/checkin/", tickets_check_in_view, 0},
  {HTTP_GET, "/api/events/<int:id>/check-ins/audit/", tickets_audit_view, 0},
  {HTTP_GET, "/api/tickets/<str:code>/qr.svg/", tickets_qr_svg_view, 0},
  {HTTP_GET, "/api/tickets/<str:code>/qr.png/", tickets_qr_png_view, 0},
};

int
tickets_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
