/*
 * availability.h - how many places an event has left: GET
 * /api/events/{id}/availability/ (docs/api.md, "Availability").
 *
 * The counts are those the registrations app keeps on the event's and its
 * ticket types' rows (confirmed_count: confirmed registrations and places
 * held by waitlist offers) and the registrations waiting for a place.
 * version names one state of them: the event's own version (its capacity
 * and ticket types) plus its seats_version, which every statement that
 * takes or frees a place, or adds to or takes from the waitlist, raises.
 * Both only grow, so a newer state always has a greater version.
 */
#ifndef EVENTAPI_EVENTS_AVAILABILITY_H
#define EVENTAPI_EVENTS_AVAILABILITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "db/db.h"
#include "http/http.h"

struct availability_type {
  int64_t id;
  int64_t quantity;   /* 0: unlimited */
  int64_t confirmed;
};

struct availability {
  int64_t event;
  int64_t capacity;   /* 0: unlimited */
  int64_t confirmed;  /* places taken: confirmed, and held for offers */
  int64_t waitlisted; /* waiting for a place, offers not counted */
  int64_t version;
  struct availability_type *types;
  size_t ntypes;
};

/*
 * Reads event id's availability for who (NULL: anonymous), in one read
 * transaction of its own: EVENTAPI_ENOTFOUND when there is no such event
 * or who may not see it (the visibility rule, events/rules.h).
 */
int events_availability_read(int64_t id, const struct principal *who, arena_t *arena,
                             struct availability *out);

/* The same, whoever asks: for what was checked before (a stream's viewer). */
int events_availability_read_any(int64_t id, arena_t *arena, struct availability *out);

/* {"event", "capacity", "confirmed", "remaining", "waitlisted",
 *  "ticket_types": [{"id", "quantity", "confirmed", "remaining"}], "version"} */
json_t *events_availability_serialize(const struct availability *a);

/* Its strong ETag: "\"a<event>-<version>\"" into out. */
void events_availability_etag(const struct availability *a, char out[48]);

/* GET /api/events/{id}/availability/: the object, with its ETag (304 for
 * If-None-Match). */
void events_availability_view(struct http_request *req);

#endif
