/*
 * serializers.c - webhooks between JSON and structs (see serializers.h).
 */
#include "webhooks/serializers.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "events/models.h"
#include "events/rules.h"
#include "http/address.h"
#include "registrations/serializers.h"

static json_t *
types_serialize(int64_t events)
{
  json_t *list = json_array();
  for (unsigned i = 0; i < WEBHOOKS_NTYPES; i++)
    if (events & WEBHOOKS_BIT(i))
      json_array_append_new(list, json_string(webhooks_type_name((enum webhooks_type)i)));
  return list;
}

json_t *
webhooks_serialize(const struct webhook *w, const char *secret)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(w->id));
  json_object_set_new(obj, "owner", json_integer(w->owner_id));
  json_object_set_new(obj, "url", json_string(w->url));
  json_object_set_new(obj, "events", types_serialize(w->events));
  json_object_set_new(obj, "event", json_id_or_null(w->event_id));
  json_object_set_new(obj, "description", json_string(w->description));
  json_object_set_new(obj, "is_active", json_boolean(w->is_active));
  json_object_set_new(obj, "created_at", json_time_or_null(w->created_at));
  json_object_set_new(obj, "updated_at", json_time_or_null(w->updated_at));
  json_object_set_new(obj, "failing_since", json_time_or_null(w->failing_since));
  json_object_set_new(obj, "disabled_at", json_time_or_null(w->disabled_at));
  if (secret)
    json_object_set_new(obj, "secret", json_string(secret));
  return obj;
}

json_t *
webhooks_delivery_serialize(const struct delivery_message *m)
{
  json_t *obj = json_object();
  bool pending = strcmp(m->state, "pending") == 0;
  json_object_set_new(obj, "id", json_integer(m->id));
  json_object_set_new(obj, "message_id", json_string(m->message_id));
  json_object_set_new(obj, "type", json_string(m->kind));
  json_object_set_new(obj, "status", json_string(m->state));
  json_object_set_new(obj, "attempts", json_integer(m->attempts));
  json_object_set_new(obj, "response_status", json_id_or_null(m->last_status));
  json_set_string(obj, "response_body", m->last_response);
  json_set_string(obj, "error", m->last_error);
  json_object_set_new(obj, "created_at", json_time_or_null(m->created_at));
  json_object_set_new(obj, "next_attempt_at",
                      pending ? json_time_or_null(m->next_attempt_at) : json_null());
  json_object_set_new(obj, "sent_at", json_time_or_null(m->sent_at));
  /* The body as it was POSTed: JSON the app made, so it parses. */
  json_t *payload = json_loads(m->payload, JSON_DECODE_ANY, NULL);
  json_object_set_new(obj, "payload", payload ? payload : json_string(m->payload));
  return obj;
}

/* DRF's way with a reason: "the URL has no host" -> "The URL has no host." */
static const char *
sentence(const char *reason, arena_t *arena)
{
  char *text = arena_printf(arena, "%s.", reason);
  if (text)
    text[0] = (char)toupper((unsigned char)text[0]);
  return text ? text : "Enter a valid URL.";
}

/* Whether host (as libcurl gives it: an IPv6 address in brackets) names
 * this machine: localhost, a name under .localhost, 127.0.0.0/8 or ::1. */
static bool
host_is_loopback(const char *host)
{
  size_t len = strlen(host);
  const char *suffix = ".localhost";
  size_t suffix_len = strlen(suffix);
  if (strcasecmp(host, "localhost") == 0 ||
      (len > suffix_len && strcasecmp(host + len - suffix_len, suffix) == 0))
    return true;
  struct http_address address;
  struct http_network v4, v6;
  return http_address_parse(host, len, &address) &&
         http_network_parse("127.0.0.0/8", 11, &v4) && http_network_parse("::1", 3, &v6) &&
         (http_network_contains(&v4, &address) || http_network_contains(&v6, &address));
}

/*
 * Whether url (one delivery_webhook_url_check() allowed) is http:// to
 * another host than this machine: *elsewhere. 0, or EVENTAPI_ENOMEM.
 */
static int
http_elsewhere(const char *url, bool *elsewhere)
{
  *elsewhere = false;
  CURLU *h = curl_url();
  if (h == NULL)
    return EVENTAPI_ENOMEM;
  char *scheme = NULL, *host = NULL;
  int rc = 0;
  if (curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
      curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
    rc = EVENTAPI_ENOMEM; /* the check parsed it already: only memory is left to fail */
  else if (strcasecmp(scheme, "http") == 0 &&
           curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    *elsewhere = !host_is_loopback(host);
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(h);
  return rc;
}

static void
validate_url(json_t *body, bool creating, arena_t *arena, struct webhook *w, json_t *errors)
{
  const char *url;
  struct string_rules rules = {.required = creating, .max_length = WEBHOOKS_URL_MAX};
  if (json_field_string(body, "url", &rules, errors, arena, &url) != FIELD_SET)
    return;
  char why[256] = "";
  bool elsewhere = false;
  int rc = delivery_webhook_url_check(config, url, why, sizeof why);
  if (rc == 0)
    rc = http_elsewhere(url, &elsewhere);
  if (rc == EVENTAPI_EINVAL)
    json_error_add(errors, "url", sentence(why, arena));
  else if (rc < 0)
    json_error_add(errors, "url", "Enter a valid URL.");
  /* Plain http:// is for a receiver on this machine (development, tests). */
  else if (elsewhere)
    json_error_add(errors, "url", "The URL must begin with https:// (WEBHOOK_ALLOW_HTTP allows "
                                  "http:// to this machine only).");
  else
    w->url = url;
}

/* DRF's MultipleChoiceField: a non-empty list of known event types. */
static void
validate_events(json_t *body, bool creating, arena_t *arena, struct webhook *w, json_t *errors)
{
  json_t *list = json_object_get(body, "events");
  if (list == NULL) {
    if (creating)
      json_error_add(errors, "events", "This field is required.");
    return;
  }
  if (json_is_null(list)) {
    json_error_add(errors, "events", "This field may not be null.");
    return;
  }
  if (!json_is_array(list)) {
    json_error_add(errors, "events", arena_printf(arena,
        "Expected a list of items but got type \"%s\".", json_python_type(list)));
    return;
  }
  if (json_array_size(list) == 0) {
    json_error_add(errors, "events", "This selection may not be empty.");
    return;
  }
  int64_t events = 0;
  bool valid = true;
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    enum webhooks_type type;
    if (json_is_string(item) && webhooks_type_parse(json_string_value(item), &type) == 0) {
      events |= WEBHOOKS_BIT(type);
      continue;
    }
    char *text = json_is_string(item) ? NULL : json_dumps(item, JSON_ENCODE_ANY | JSON_COMPACT);
    json_error_add(errors, "events", arena_printf(arena, "\"%s\" is not a valid choice.",
        text ? text : json_is_string(item) ? json_string_value(item) : "?"));
    free(text);
    valid = false;
  }
  if (valid)
    w->events = events;
}

/* DRF's PrimaryKeyRelatedField over the events who may change. */
static int
validate_event(json_t *body, db_t *db, const struct principal *who, arena_t *arena,
               struct webhook *w, json_t *errors)
{
  int64_t id = 0;
  if (registrations_pk_field(body, "event", errors, arena, &id) != FIELD_SET)
    return 0;
  struct event e;
  int rc = events_get(db, id, arena, &e);
  if (rc < 0 && rc != EVENTAPI_ENOTFOUND)
    return rc;
  /* Another organizer's event is no more there than one that is not. */
  if (rc == EVENTAPI_ENOTFOUND || !events_may_change(who, e.organizer_id))
    registrations_invalid_pk(errors, "event", id, arena);
  else
    w->event_id = id;
  return 0;
}

int
webhooks_validate(json_t *body, bool creating, db_t *db, const struct principal *who,
                  arena_t *arena, struct webhook *w, json_t *errors)
{
  validate_url(body, creating, arena, w, errors);
  validate_events(body, creating, arena, w, errors);
  int rc = creating ? validate_event(body, db, who, arena, w, errors) : 0;
  if (rc < 0)
    return rc;
  const char *description;
  struct string_rules rules = {.allow_blank = true, .max_length = WEBHOOKS_DESCRIPTION_MAX};
  if (json_field_string(body, "description", &rules, errors, arena, &description) == FIELD_SET)
    w->description = description;
  bool active;
  if (json_field_bool(body, "is_active", false, errors, &active) == FIELD_SET)
    w->is_active = active;
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}
