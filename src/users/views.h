/*
 * views.h - the users app's handlers: sign-up, tokens, me, admin.
 */
#ifndef EVENTAPI_USERS_VIEWS_H
#define EVENTAPI_USERS_VIEWS_H

#include "http/http.h"

void users_register_view(struct http_request *req);
void users_token_obtain_view(struct http_request *req);
void users_token_refresh_view(struct http_request *req);
void users_token_verify_view(struct http_request *req);
void users_token_blacklist_view(struct http_request *req);
void users_me_get_view(struct http_request *req);
void users_me_update_view(struct http_request *req);
void users_me_password_view(struct http_request *req);
void users_admin_list_view(struct http_request *req);
void users_admin_get_view(struct http_request *req);
void users_admin_update_view(struct http_request *req);
void users_admin_delete_view(struct http_request *req);

#endif
