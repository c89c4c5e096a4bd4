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

#endif
