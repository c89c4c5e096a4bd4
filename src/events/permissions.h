/*
 * permissions.h - who may see and who may change an event. Each loader
 * answers for itself: it returns true with the event, or replies (401, 403,
 * 404, 503) and returns false.
 */
#ifndef EVENTAPI_EVENTS_PERMISSIONS_H
#define EVENTAPI_EVENTS_PERMISSIONS_H

#include <stdbool.h>

#include "db/db.h"
#include "events/models.h"
#include "http/http.h"

/* The event's organizer, or an admin. */
bool is_event_owner(const struct http_request *req, const struct event *e);

/* Loads event id if the caller may see it (404 "No Event matches the given query." otherwise). */
bool events_load_visible(struct http_request *req, db_t *db, int64_t id, struct event *e);

/*
 * Loads event id for a change: 401 for anonymous callers, 404 when the
 * caller may not see it, 403 unless the caller is its organizer or an admin.
 */
bool events_load_for_change(struct http_request *req, db_t *db, int64_t id, struct event *e);

#endif
