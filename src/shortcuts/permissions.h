/*
 * permissions.h - who may call a view at all, DRF's permission classes as
 * checks that answer for themselves: each returns true when the request
 * may go on, or replies (401 without credentials, 403 without the right)
 * and returns false. What an object allows (an event's owner, a ticket's
 * holder) is its app's: events/rules.h.
 */
#ifndef EVENTAPI_SHORTCUTS_PERMISSIONS_H
#define EVENTAPI_SHORTCUTS_PERMISSIONS_H

#include <stdbool.h>

#include "http/http.h"

/* DRF IsAuthenticated. */
bool authenticated_or_reply(struct http_request *req);

/* Admins only (DRF IsAdminUser). */
bool admin_or_reply(struct http_request *req);

/* Organizers and admins. */
bool organizer_or_reply(struct http_request *req);

#endif
