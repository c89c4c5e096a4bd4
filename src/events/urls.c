#include "events/urls.h"

#include "events/availability.h"
#include "events/calendar.h"
#include "events/live.h"
#include "events/images.h"
#include "events/staff_views.h"
#include "events/views.h"
#include "http/media.h"

/* What an API key needs for each route (http/http.h). */
#define READ ROUTE_KEY(SCOPE_EVENTS_READ)
#define WRITE ROUTE_KEY(SCOPE_EVENTS_WRITE)
#define ONE ROUTE_ONE_EVENT

static const struct route routes[] = {
  {HTTP_GET, "/api/events/categories/", events_categories_list_view, READ},
  {HTTP_POST, "/api/events/categories/", events_categories_create_view, WRITE},
  {HTTP_GET, "/api/events/categories/<int:id>/", events_categories_detail_view, READ},
  {HTTP_PUT | HTTP_PATCH, "/api/events/categories/<int:id>/", events_categories_update_view, WRITE},
  {HTTP_DELETE, "/api/events/categories/<int:id>/", events_categories_delete_view, WRITE},

  {HTTP_POST, "/api/events/create/", events_create_view, WRITE},
  {HTTP_GET, "/api/events/", events_list_view, READ},
  {HTTP_GET, "/api/events/calendar.ics/", events_calendar_feed_view, READ},
  {HTTP_GET, "/api/events/<int:id>/", events_detail_view, READ | ONE},
  {HTTP_PUT | HTTP_PATCH, "/api/events/<int:id>/update/", events_update_view, WRITE | ONE},
  {HTTP_DELETE, "/api/events/<int:id>/delete/", events_delete_view, WRITE | ONE},
  {HTTP_GET, "/api/events/<int:id>/calendar.ics/", events_calendar_one_view, READ | ONE},
  {HTTP_GET, "/api/events/<int:id>/availability/", events_availability_view, READ | ONE},
  {HTTP_GET, "/api/events/<int:id>/availability/stream/", events_availability_stream_view,
   READ | ONE},
  {HTTP_PUT, "/api/events/<int:id>/image/", events_image_put_view, ROUTE_UPLOAD | WRITE | ONE},
  {HTTP_DELETE, "/api/events/<int:id>/image/", events_image_delete_view, WRITE | ONE},

  {HTTP_POST, "/api/events/<int:id>/ticket-types/", events_ticket_types_create_view, WRITE | ONE},
  {HTTP_PUT | HTTP_PATCH, "/api/events/<int:id>/ticket-types/<int:tid>/", events_ticket_types_update_view,
   WRITE | ONE},
  {HTTP_DELETE, "/api/events/<int:id>/ticket-types/<int:tid>/", events_ticket_types_delete_view,
   WRITE | ONE},
  {HTTP_POST, "/api/events/<int:id>/sessions/", events_sessions_create_view, WRITE | ONE},
  {HTTP_PUT | HTTP_PATCH, "/api/events/<int:id>/sessions/<int:sid>/", events_sessions_update_view,
   WRITE | ONE},
  {HTTP_DELETE, "/api/events/<int:id>/sessions/<int:sid>/", events_sessions_delete_view,
   WRITE | ONE},
  {HTTP_GET, "/api/events/<int:id>/staff/", events_staff_list_view, READ | ONE},
  /* A key of one event lists that event alone (the view filters). */
  {HTTP_GET, "/api/events/door/", events_door_list_view, ROUTE_KEY(SCOPE_CHECKIN) | ONE},
  {HTTP_POST, "/api/events/<int:id>/staff/", events_staff_add_view, WRITE | ONE},
  {HTTP_DELETE, "/api/events/<int:id>/staff/<int:user_id>/", events_staff_remove_view, WRITE | ONE},

  {HTTP_GET, "/media/<str:name>/", media_view, READ},
};

int
events_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
