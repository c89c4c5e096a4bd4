/*
 * serializers.h - registrations as the API shows them.
 * Every function returns a new object the caller owns.
 */
#ifndef EVENTAPI_REGISTRATIONS_SERIALIZERS_H
#define EVENTAPI_REGISTRATIONS_SERIALIZERS_H

#include <jansson.h>

#include "registrations/models.h"

/* {"id","user","event","ticket_type","registered_at","is_waitlisted","ticket"} */
json_t *registrations_serialize(const struct registration *r);

/* The short form of GET .../me/: {"id","event","ticket_type","registered_at","is_waitlisted"} */
json_t *registrations_serialize_short(const struct registration *r);

/* The organizer's view: the registration with its user's details. */
json_t *registrations_serialize_for_organizer(const struct registration *r);

#endif
