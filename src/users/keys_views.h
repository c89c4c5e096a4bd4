/*
 * keys_views.h - a user's API keys: POST and GET /api/keys/, DELETE
 * /api/keys/{id}/ (docs/api.md, "API keys").
 */
#ifndef EVENTAPI_USERS_KEYS_VIEWS_H
#define EVENTAPI_USERS_KEYS_VIEWS_H

#include "http/http.h"

void users_keys_list_view(struct http_request *req);
void users_keys_create_view(struct http_request *req);
void users_keys_delete_view(struct http_request *req);

#endif
