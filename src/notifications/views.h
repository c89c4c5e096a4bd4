/*
 * views.h - the caller's in-app notifications: the list (newest first,
 * limit/offset as the event list), one, and marking one read. Another
 * user's notification is 404, as if it did not exist.
 */
#ifndef EVENTAPI_NOTIFICATIONS_VIEWS_H
#define EVENTAPI_NOTIFICATIONS_VIEWS_H

#include "http/http.h"

void notifications_list_view(struct http_request *req);
void notifications_detail_view(struct http_request *req);
void notifications_read_view(struct http_request *req);

#endif
