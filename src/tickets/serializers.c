#include "tickets/serializers.h"

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
