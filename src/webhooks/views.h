/*
 * views.h - the webhooks app's handlers.
 */
#ifndef EVENTAPI_WEBHOOKS_VIEWS_H
#define EVENTAPI_WEBHOOKS_VIEWS_H

#include "http/http.h"

void webhooks_list_view(struct http_request *req);
void webhooks_create_view(struct http_request *req);
void webhooks_detail_view(struct http_request *req);
void webhooks_update_view(struct http_request *req);
void webhooks_delete_view(struct http_request *req);
void webhooks_rotate_secret_view(struct http_request *req);
void webhooks_ping_view(struct http_request *req);
void webhooks_deliveries_view(struct http_request *req);
void webhooks_redeliver_view(struct http_request *req);

#endif
