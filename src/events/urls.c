#include "events/urls.h"

#include "events/calendar.h"
#include "events/images.h"
#include "events/staff_views.h"
#include "events/views.h"
#include "http/media.h"

static const struct route routes[] = {
  {HTTP_GET, "/api/events/categories/", events_categories_list_view, 0},
  {HTTP_POST, "/api/events/categories/", events_categories_create_view, 0},
  {HTTP_GET, "/api/events/categories/<int:id>/", events_categories_detail_view, 0},
  {HTTP_PUT | HTTP_PATCH, "/api/events/categories/<int:id>/", events_categories_update_view, 0},
  {HTTP_DELETE, "/api/events/categories/<int:id>/", events_categories_delete_view, 0},

  {HTTP_POST, "/api/events/create/", events_create_view, 0},
  {HTTP_GET, "/api/events/", events_list_view, 0},
  {HTTP_GET, "/api/events/calendar.ics/", events_calendar_feed_view, 0},
  {HTTP_GET, "/api/events/<int:id>/", events_detail_view, 0},
  {HTTP_PUT | HTTP_PATCH, "/api/events/<int:id>/update/", events_update_view, 0},
  {HTTP_DELETE, "/api/events/<int:id>/delete/", events_delete_view, 0},
  {HTTP_GET, "/api/events/<int:id>/calendar.ics/", events_calendar_one_view, 0},
  {HTTP_PUT, "/api/events/<int:id>/image/", events_image_put_view, ROUTE_UPLOAD},
  {HTTP_DELETE, "/api/events/<int:id>/image/", events_image_delete_view, 0},

  {HTTP_POST, "/api/events/<int:id>/ticket-types/", events_ticket_types_create_view, 0},
  {HTTP_PUT | HTTP_PATCH, "/api/events/<int:id>/ticket-types/<int:tid>/", events_ticket_types_update_view, 0},
  {HTTP_DELETE, "/api/events/<int:id>/ticket-types/<int:tid>/", events_ticket_types_delete_view, 0},
  {HTTP_POST, "/api/events/<int:id>/sessions/", events_sessions_create_view, 0},
  {HTTP_PUT | HTTP_PATCH, "/api/events/<int:id>/sessions/<int:sid>/", events_sessions_update_view, 0},
  {HTTP_DELETE, "/api/events/<int:id>/sessions/<int:sid>/", events_sessions_delete_view, 0},
  {HTTP_GET, "/api/events/<int:id>/staff/", events_staff_list_view, 0},
  {HTTP_POST, "/api/events/<int:id>/staff/", events_staff_add_view, 0},
  {HTTP_DELETE, "/api/events/<int:id>/staff/<int:user_id>/", events_staff_remove_view, 0},

  {HTTP_GET, "/media/<str:name>/", media_view, 0},
};

int
events_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
