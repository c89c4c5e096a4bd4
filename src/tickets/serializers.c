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
  return obj;
}
