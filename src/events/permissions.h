/*
 * permissions.h - the events app's preambles: load the event of a path for
 * seeing or for changing it, or answer why not. Each returns true with the
 * event, or replies (401, 403, 404, 503) and returns false.
 */
#ifndef EVENTAPI_EVENTS_PERMISSIONS_H
#define EVENTAPI_EVENTS_PERMISSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "events/models.h"
#include "http/http.h"

/* Event id if the caller may see it (404 "No Event matches the given query." otherwise). */
bool event_visible_or_404(struct http_request *req, int64_t id, struct event *e);

/*
 * Event id for a change: 401 for anonymous callers, 404 when the caller
 * may not see it, 403 unless the caller may change it.
 */
bool event_owned_or_reply(struct http_request *req, int64_t id, struct event *e);

/*
 * Event id for the work at its door (its registrations, its check-ins):
 * its organizer, admins and its staff (events/rules.h). 401 for anonymous
 * callers, 404 when the caller may neither see the event nor work at its
 * door, 403 when they may see it only. *can_export (may be NULL) tells
 * whether they may download its registrations as CSV.
 */
bool event_door_or_reply(struct http_request *req, int64_t id, struct event *e,
                         bool *can_export);

#endif
