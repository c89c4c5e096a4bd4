/*
 * permissions.h - who may do what, as small checks that answer for
 * themselves: each returns true when the request may go on, or replies
 * (401 without credentials, 403 without the right) and returns false.
 */
#ifndef EVENTAPI_USERS_PERMISSIONS_H
#define EVENTAPI_USERS_PERMISSIONS_H

#include <stdbool.h>

#include "http/http.h"

/* DRF IsAuthenticated. */
bool permission_authenticated(struct http_request *req);

/* Admins only (DRF IsAdminUser). */
bool permission_admin(struct http_request *req);

/* Organizers and admins. */
bool permission_organizer(struct http_request *req);

static inline bool
is_admin(const struct http_request *req)
{
  return req->user && req->user->role == ROLE_ADMIN;
}

#endif
