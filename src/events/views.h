/*
 * views.h - the events app's handlers: categories, events, their sessions
 * and ticket types.
 */
#ifndef EVENTAPI_EVENTS_VIEWS_H
#define EVENTAPI_EVENTS_VIEWS_H

#include "http/http.h"

void events_categories_list_view(struct http_request *req);
void events_categories_detail_view(struct http_request *req);
void events_categories_create_view(struct http_request *req);
void events_categories_update_view(struct http_request *req);
void events_categories_delete_view(struct http_request *req);

void events_create_view(struct http_request *req);
void events_list_view(struct http_request *req);
void events_detail_view(struct http_request *req);
void events_update_view(struct http_request *req);
void events_delete_view(struct http_request *req);

void events_ticket_types_create_view(struct http_request *req);
void events_ticket_types_update_view(struct http_request *req);
void events_ticket_types_delete_view(struct http_request *req);
void events_sessions_create_view(struct http_request *req);
void events_sessions_update_view(struct http_request *req);
void events_sessions_delete_view(struct http_request *req);

#endif
