/*
 * serializers.h - the in-app notification as JSON:
 * {"id","type","event","title","message","is_read","created_at"}.
 */
#ifndef EVENTAPI_NOTIFICATIONS_SERIALIZERS_H
#define EVENTAPI_NOTIFICATIONS_SERIALIZERS_H

#include <jansson.h>

#include "core/arena.h"
#include "notifications/models.h"

/* A new JSON object (the caller owns it), or NULL when out of memory. */
json_t *notifications_serialize(const struct notification *n, arena_t *arena);

#endif
