/*
 * serializers.h - registrations as the API shows them, and the fields a
 * registration body carries. Every serialize function returns a new object
 * the caller owns.
 */
#ifndef EVENTAPI_REGISTRATIONS_SERIALIZERS_H
#define EVENTAPI_REGISTRATIONS_SERIALIZERS_H

#include <jansson.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/jsonutil.h"
#include "registrations/models.h"

/* {"id","user","event","ticket_type","registered_at","is_waitlisted","ticket"} */
json_t *registrations_serialize(const struct registration *r);

/* The short form of GET .../me/: {"id","event","ticket_type","registered_at","is_waitlisted"} */
json_t *registrations_serialize_short(const struct registration *r);

/* The organizer's view: the registration with its user's details. */
json_t *registrations_serialize_for_organizer(const struct registration *r);

/*
 * Reads the primary-key field name of a registration body ("event",
 * "ticket_type") as DRF's PrimaryKeyRelatedField does: FIELD_SET with *id,
 * FIELD_ABSENT for absent, null or blank (RelatedField reads "" as null, as
 * forms send it), FIELD_INVALID (DRF's message added to errors[name], in
 * arena memory). Whether the object exists is the caller's to check.
 */
enum field_result registrations_pk_field(json_t *body, const char *name, json_t *errors,
                                         arena_t *arena, int64_t *id);

#endif
