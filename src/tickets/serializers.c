#include "tickets/serializers.h"

#include "core/timefmt.h"

static json_t *
timestamp(int64_t us)
{
  if (us == 0)
    return json_null();
  char text[TIME_ISO_MAX];
  time_format_iso(us, text);
  return json_string(text);
}

static json_t *
id_or_null(int64_t id)
{
  return id ? json_integer(id) : json_null();
}

json_t *
tickets_serialize(const struct ticket *t)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "code", json_string(t->code));
  json_object_set_new(obj, "event", json_integer(t->event_id));
  json_object_set_new(obj, "ticket_type", id_or_null(t->ticket_type_id));
  json_object_set_new(obj, "registration", json_integer(t->registration_id));
  json_object_set_new(obj, "issued_at", timestamp(t->issued_at));
  json_object_set_new(obj, "is_checked_in", json_boolean(t->checked_in_at != 0));
  json_object_set_new(obj, "checked_in_at", timestamp(t->checked_in_at));
  return obj;
}
