/*
 * staff_views.h - an event's staff, as its organizer or an admin keeps it:
 * list, add, remove; and the events at whose door the caller works
 * (routes in events/urls.c).
 */
#ifndef EVENTAPI_EVENTS_STAFF_VIEWS_H
#define EVENTAPI_EVENTS_STAFF_VIEWS_H

#include "http/http.h"

void events_staff_list_view(struct http_request *req);
void events_door_list_view(struct http_request *req);
void events_staff_add_view(struct http_request *req);
void events_staff_remove_view(struct http_request *req);

#endif
