/*
 * views.h - the tickets app's handlers.
 */
#ifndef EVENTAPI_TICKETS_VIEWS_H
#define EVENTAPI_TICKETS_VIEWS_H

#include "http/http.h"

void tickets_list_view(struct http_request *req);
void tickets_detail_view(struct http_request *req);
void tickets_check_in_view(struct http_request *req);
void tickets_undo_check_in_view(struct http_request *req);
void tickets_sync_view(struct http_request *req);
void tickets_feed_view(struct http_request *req);
void tickets_stats_view(struct http_request *req);
void tickets_audit_view(struct http_request *req);
void tickets_qr_svg_view(struct http_request *req);
void tickets_qr_png_view(struct http_request *req);

#endif
