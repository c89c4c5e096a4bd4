#include "users/permissions.h"

bool
permission_authenticated(struct http_request *req)
{
  if (req->user)
    return true;
  http_reply_unauthenticated(req);
  return false;
}

bool
permission_admin(struct http_request *req)
{
  if (!permission_authenticated(req))
    return false;
  if (req->user->role == ROLE_ADMIN)
    return true;
  http_reply_forbidden(req);
  return false;
}

bool
permission_organizer(struct http_request *req)
{
  if (!permission_authenticated(req))
    return false;
  if (req->user->role == ROLE_ADMIN || req->user->role == ROLE_ORGANIZER)
    return true;
  http_reply_forbidden(req);
  return false;
}
