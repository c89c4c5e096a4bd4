/*
 * serializers.h - tickets as the API shows them.
 */
#ifndef EVENTAPI_TICKETS_SERIALIZERS_H
#define EVENTAPI_TICKETS_SERIALIZERS_H

#include <jansson.h>

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
 * "device","at"}. The caller owns it.
 */
json_t *tickets_audit_serialize(const struct tickets_audit *a);

#endif
