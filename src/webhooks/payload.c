/*
 * payload.c - a webhook's body (see payload.h).
 */
#include "webhooks/payload.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/timefmt.h"

char *
webhooks_payload(enum webhooks_type type, int64_t now, json_t *data)
{
  if (data == NULL)
    return NULL;
  char when[TIME_ISO_MAX];
  time_format_iso(now, when);
  json_t *body = json_object();
  json_object_set_new(body, "type", json_string(webhooks_type_name(type)));
  json_object_set_new(body, "timestamp", json_string(when));
  json_object_set_new(body, "data", data);
  char *text = json_object_size(body) == 3 ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  return text;
}

const char *
webhooks_base_url(const struct webhook *w, arena_t *arena)
{
  const char *base = config && config->public_url && config->public_url[0] ? config->public_url
                                                                           : w->base_url;
  size_t len = strlen(base);
  if (len == 0 || base[len - 1] != '/')
    return base;
  while (len > 0 && base[len - 1] == '/')
    len--;
  char *trimmed = arena_strndup(arena, base, len);
  return trimmed ? trimmed : base;
}
