/*
 * permissions.c - who may call a view at all (see permissions.h).
 */
#include "shortcuts/permissions.h"

bool
authenticated_or_reply(struct http_request *req)
{
  if (req->user)
    return true;
  http_reply_unauthenticated(req);
  return false;
}

/* Authenticated, with one of the roles of mask (bits of 1 << enum role). */
static bool
role_or_reply(struct http_request *req, unsigned mask)
{
  if (!authenticated_or_reply(req))
    return false;
  if (mask & (1u << req->user->role))
    return true;
  http_reply_forbidden(req);
  return false;
}

bool
admin_or_reply(struct http_request *req)
{
  return role_or_reply(req, 1u << ROLE_ADMIN);
}

bool
organizer_or_reply(struct http_request *req)
{
  return role_or_reply(req, 1u << ROLE_ADMIN | 1u << ROLE_ORGANIZER);
}
