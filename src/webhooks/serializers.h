/*
 * serializers.h - webhooks and their deliveries as the API shows them,
 * and a webhook body read with DRF's validation messages. Every serialize
 * function returns a new object the caller owns.
 */
#ifndef EVENTAPI_WEBHOOKS_SERIALIZERS_H
#define EVENTAPI_WEBHOOKS_SERIALIZERS_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "db/db.h"
#include "delivery/outbox.h"
#include "webhooks/models.h"

/*
 * {"id","owner","url","events","event","description","is_active",
 *  "created_at","updated_at","failing_since","disabled_at"}, and "secret"
 * when secret is not NULL (only when it is made: on creation and rotation).
 */
json_t *webhooks_serialize(const struct webhook *w, const char *secret);

/*
 * A delivery (an outbox row of the webhook): {"id","message_id","type",
 * "status","attempts","response_status","response_body","error",
 * "created_at","next_attempt_at","sent_at","payload"}.
 */
json_t *webhooks_delivery_serialize(const struct delivery_message *m);

/*
 * Validates a webhook body onto w, which holds the current values for an
 * update (PATCH: every field optional) and defaults for a create (url and
 * events required). url must pass delivery_webhook_url_check() under the
 * server's settings, and be https:// unless it goes to this machine
 * (localhost, 127.0.0.0/8, ::1: http:// with WEBHOOK_ALLOW_HTTP); events is a non-empty list of event types; event
 * (create only: afterwards it is read-only) is null or an event that who
 * may change, read from db; description at most WEBHOOKS_DESCRIPTION_MAX
 * characters; is_active a boolean. Every problem is added to errors.
 * Returns 0, EVENTAPI_EINVAL when errors holds any, or a database error.
 */
int webhooks_validate(json_t *body, bool creating, db_t *db, const struct principal *who,
                      arena_t *arena, struct webhook *w, json_t *errors);

#endif
