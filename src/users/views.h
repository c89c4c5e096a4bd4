/*
 * views.h - the users app's handlers: sign-up, tokens, me, admin.
 */
#ifndef EVENTAPI_USERS_VIEWS_H
#define EVENTAPI_USERS_VIEWS_H

#include "http/http.h"

void users_register(struct http_request *req);
void users_token_obtain(struct http_request *req);
void users_token_refresh(struct http_request *req);
void users_token_verify(struct http_request *req);
void users_token_blacklist(struct http_request *req);
void users_me_get(struct http_request *req);
void users_me_update(struct http_request *req);
void users_me_password(struct http_request *req);
void users_admin_list(struct http_request *req);
void users_admin_get(struct http_request *req);
void users_admin_update(struct http_request *req);
void users_admin_delete(struct http_request *req);

#endif
