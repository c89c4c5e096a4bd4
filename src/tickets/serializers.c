#include "tickets/serializers.h"

#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/timefmt.h"

json_t *
tickets_serialize(const struct ticket *t)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "code", json_string(t->code));
  json_object_set_new(obj, "event", json_integer(t->event_id));
  json_object_set_new(obj, "ticket_type", json_id_or_null(t->ticket_type_id));
  json_object_set_new(obj, "registration", json_integer(t->registration_id));
  json_object_set_new(obj, "issued_at", json_time_or_null(t->issued_at));
  json_object_set_new(obj, "is_checked_in", json_boolean(t->checked_in_at != 0));
  json_object_set_new(obj, "checked_in_at", json_time_or_null(t->checked_in_at));
  return obj;
}

json_t *
tickets_serialize_at_door(const struct ticket *t)
{
  json_t *obj = tickets_serialize(t);
  json_t *holder = json_object();
  json_set_string(holder, "username", t->username);
  json_set_string(holder, "first_name", t->first_name);
  json_set_string(holder, "last_name", t->last_name);
  json_object_set_new(obj, "holder", holder);
  json_object_set_new(obj, "ticket_type_name",
                      t->ticket_type_name ? json_string(t->ticket_type_name) : json_null());
  json_set_string(obj, "event_title", t->event_title);
  return obj;
}

json_t *
tickets_audit_serialize(const struct tickets_audit *a)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(a->id));
  json_set_string(obj, "ticket", a->ticket_code);
  json_object_set_new(obj, "event", json_integer(a->event_id));
  json_set_string(obj, "action", a->action == TICKETS_UNDO ? "undo" : "check_in");
  json_object_set_new(obj, "by", json_id_or_null(a->by));
  json_object_set_new(obj, "username", a->by_username ? json_string(a->by_username) : json_null());
  json_set_string(obj, "device", a->device);
  json_object_set_new(obj, "at", json_time(a->at));
  json_object_set_new(obj, "version", json_integer(a->version));
  return obj;
}

json_t *
tickets_stats_serialize(int64_t event_id, const struct tickets_stats *s)
{
  json_t *types = json_array();
  for (size_t i = 0; i < s->ntypes; i++)
    json_array_append_new(types, json_pack("{s:I, s:s, s:I, s:I}",
        "id", (json_int_t)s->types[i].id, "name", s->types[i].name ? s->types[i].name : "",
        "confirmed", (json_int_t)s->types[i].confirmed,
        "checked_in", (json_int_t)s->types[i].checked_in));
  json_t *slots = json_array();
  for (size_t i = 0; i < s->nslots; i++)
    json_array_append_new(slots, json_pack("{s:o, s:I}", "start", json_time(s->slots[i].start),
                                           "checked_in", (json_int_t)s->slots[i].checked_in));
  return json_pack("{s:I, s:I, s:I, s:o, s:o}", "event", (json_int_t)event_id,
                   "confirmed", (json_int_t)s->confirmed, "checked_in", (json_int_t)s->checked_in,
                   "ticket_types", types, "per_15_minutes", slots);
}

/*
 * One scan of the body into *scan, its problems into errors: "code" (at
 * most 100 characters), "scanned_at" (a time; one after now is taken as
 * now, a device's clock being ahead) and "device" (optional: else device).
 */
static void
read_scan(json_t *item, const char *device, int64_t now, arena_t *arena,
          struct tickets_scan *scan, json_t *errors)
{
  if (!json_is_object(item)) {
    json_error_add(errors, "non_field_errors",
                   arena_printf(arena, "Invalid data. Expected a dictionary, but got %s.",
                                json_python_type(item)));
    return;
  }
  json_field_string(item, "code", &(struct string_rules){.required = true, .max_length = 100},
                    errors, arena, &scan->code);
  if (json_field_datetime(item, "scanned_at", true, errors, &scan->scanned_at) == FIELD_SET &&
      scan->scanned_at > now)
    scan->scanned_at = now;
  const char *named;
  scan->device = json_field_string(item, "device", &(struct string_rules){
                                       .allow_blank = true, .max_length = TICKETS_DEVICE_MAX},
                                   errors, arena, &named) == FIELD_SET ? named : device;
}

int
tickets_scans_read(json_t *body, const char *device, int64_t now, arena_t *arena,
                   struct tickets_scan **scans, size_t *count, json_t **errors)
{
  *scans = NULL;
  *count = 0;
  *errors = NULL;
  json_t *list = json_object_get(body, "scans");
  const char *problem = NULL;
  if (list == NULL || json_is_null(list))
    problem = list ? "This field may not be null." : "This field is required.";
  else if (!json_is_array(list))
    problem = arena_printf(arena, "Expected a list of items but got type \"%s\".",
                           json_python_type(list));
  else if (json_array_size(list) == 0)
    problem = "This list may not be empty.";
  else if (json_array_size(list) > TICKETS_SYNC_MAX)
    problem = "Ensure this field has no more than 1000 elements.";
  _Static_assert(TICKETS_SYNC_MAX == 1000, "the message names the limit");
  if (problem) {
    *errors = json_pack("{s:[s]}", "scans", problem);
    return *errors ? EVENTAPI_EINVAL : EVENTAPI_ENOMEM;
  }
  size_t n = json_array_size(list);
  struct tickets_scan *read = arena_alloc(arena, n * sizeof *read);
  json_t *each = json_array();
  if (read == NULL || each == NULL) {
    json_decref(each);
    return EVENTAPI_ENOMEM;
  }
  memset(read, 0, n * sizeof *read);
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    json_t *item_errors = json_object();
    read_scan(json_array_get(list, i), device, now, arena, &read[i], item_errors);
    any |= json_errors_any(item_errors);
    json_array_append_new(each, item_errors);
  }
  if (any) {
    *errors = json_pack("{s:o}", "scans", each);
    return *errors ? EVENTAPI_EINVAL : EVENTAPI_ENOMEM;
  }
  json_decref(each);
  *scans = read;
  *count = n;
  return 0;
}
