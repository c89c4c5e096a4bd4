/*
 * serializers.h - tickets as the API shows them.
 */
#ifndef EVENTAPI_TICKETS_SERIALIZERS_H
#define EVENTAPI_TICKETS_SERIALIZERS_H

#include <jansson.h>

#include "tickets/door.h"
#include "tickets/models.h"

/*
 * {"code","event","ticket_type","registration","issued_at","is_checked_in",
 *  "checked_in_at"}; the caller owns it.
 */
json_t *tickets_serialize(const struct ticket *t);

/*
 * The answer at the door (a check-in, an undo): tickets_serialize() and who
 * it belongs to, "holder" {"username","first_name","last_name"},
 * "ticket_type_name" (null: none) and "event_title". The caller owns it.
 */
json_t *tickets_serialize_at_door(const struct ticket *t);

/*
 * A check-in audit row: {"id","ticket","event","action","by","username",
 * "device","at","version"}. The caller owns it.
 */
json_t *tickets_audit_serialize(const struct tickets_audit *a);

/*
 * An event's check-in figures: {"event","confirmed","checked_in",
 * "ticket_types": [{"id","name","confirmed","checked_in"}],
 * "per_15_minutes": [{"start","checked_in"}]}. The caller owns it.
 */
json_t *tickets_stats_serialize(int64_t event_id, const struct tickets_stats *s);

/*
 * The scans of a sync body ({"scans": [{"code","scanned_at","device"}]},
 * at most TICKETS_SYNC_MAX), device standing for a scan that names none
 * and a scan dated after now taken as made at now: 0 with *scans (arena
 * memory, *count of them); EVENTAPI_EINVAL with *errors (a new object the
 * caller owns: {"scans": [message]} for the list, or one object of
 * messages per scan, {} for a good one); EVENTAPI_ENOMEM.
 */
int tickets_scans_read(json_t *body, const char *device, int64_t now, arena_t *arena,
                       struct tickets_scan **scans, size_t *count, json_t **errors);

#endif
