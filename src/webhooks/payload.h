/*
 * payload.h - what a webhook POSTs: {"type","timestamp","data"}, as the
 * Standard Webhooks specification shapes an event, "data" being the
 * resource as the API shows it to the webhook's owner.
 */
#ifndef EVENTAPI_WEBHOOKS_PAYLOAD_H
#define EVENTAPI_WEBHOOKS_PAYLOAD_H

#include <jansson.h>
#include <stdint.h>

#include "webhooks/models.h"

/*
 * The body of a webhook of type that happened at now, with data (stolen),
 * as compact JSON text: what is POSTed, byte for byte, and signed. The
 * caller frees it (free()); NULL when out of memory or data is NULL.
 */
char *webhooks_payload(enum webhooks_type type, int64_t now, json_t *data);

/*
 * The base of the links in w's payloads (an event's image URL): PUBLIC_URL
 * when the server has one, else the address the webhook was made through.
 * Borrowed from config or w; no trailing slash (arena memory when trimmed).
 */
const char *webhooks_base_url(const struct webhook *w, arena_t *arena);

#endif
