/*
 * views.h - the registrations app's handlers.
 */
#ifndef EVENTAPI_REGISTRATIONS_VIEWS_H
#define EVENTAPI_REGISTRATIONS_VIEWS_H

#include "http/http.h"

void registrations_register_view(struct http_request *req);      /* .../<event_id>/register/ */
void registrations_register_body_view(struct http_request *req); /* .../register/ {"event"} */
void registrations_me_view(struct http_request *req);
void registrations_detail_view(struct http_request *req);
void registrations_cancel_view(struct http_request *req);
/* POST .../accept/ and .../decline/: the holder's answer to a waitlist offer. */
void registrations_accept_view(struct http_request *req);
void registrations_decline_view(struct http_request *req);
void registrations_event_list_view(struct http_request *req);    /* the organizer's list, CSV */

#endif
