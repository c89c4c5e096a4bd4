#include "registrations/serializers.h"

#include <stdlib.h>

#include "core/jsonutil.h"
#include "core/timefmt.h"

static json_t *
ticket_summary(const struct registration *r, bool with_time)
{
  if (!r->has_ticket)
    return json_null();
  json_t *t = json_object();
  json_object_set_new(t, "code", json_string(r->ticket.code));
  json_object_set_new(t, "issued_at", json_time_or_null(r->ticket.issued_at));
  json_object_set_new(t, "is_checked_in", json_boolean(r->ticket.checked_in_at != 0));
  if (with_time)
    json_object_set_new(t, "checked_in_at", json_time_or_null(r->ticket.checked_in_at));
  return t;
}

/* offer_expires_at, while r holds a waitlist offer (only then: the
 * original's registrations have no such key). */
static void
add_offer(json_t *obj, const struct registration *r)
{
  if (r->is_waitlisted && r->offer_expires_at && !r->cancelled_at)
    json_object_set_new(obj, "offer_expires_at", json_time_or_null(r->offer_expires_at));
}

json_t *
registrations_serialize(const struct registration *r)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(r->id));
  json_object_set_new(obj, "user", json_integer(r->user_id));
  json_object_set_new(obj, "event", json_integer(r->event_id));
  json_object_set_new(obj, "ticket_type", json_id_or_null(r->ticket_type_id));
  json_object_set_new(obj, "registered_at", json_time_or_null(r->registered_at));
  json_object_set_new(obj, "is_waitlisted", json_boolean(r->is_waitlisted));
  json_object_set_new(obj, "ticket", ticket_summary(r, false));
  add_offer(obj, r);
  return obj;
}

json_t *
registrations_serialize_short(const struct registration *r)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(r->id));
  json_object_set_new(obj, "event", json_integer(r->event_id));
  json_object_set_new(obj, "ticket_type", json_id_or_null(r->ticket_type_id));
  json_object_set_new(obj, "registered_at", json_time_or_null(r->registered_at));
  json_object_set_new(obj, "is_waitlisted", json_boolean(r->is_waitlisted));
  add_offer(obj, r);
  return obj;
}

json_t *
registrations_serialize_for_organizer(const struct registration *r)
{
  json_t *obj = json_object();
  json_object_set_new(obj, "id", json_integer(r->id));
  json_object_set_new(obj, "user", json_pack("{s:I, s:s, s:s, s:s, s:s}",
                                             "id", (json_int_t)r->user_id,
                                             "username", r->username, "email", r->email,
                                             "first_name", r->first_name,
                                             "last_name", r->last_name));
  json_object_set_new(obj, "ticket_type", json_id_or_null(r->ticket_type_id));
  json_object_set_new(obj, "registered_at", json_time_or_null(r->registered_at));
  json_object_set_new(obj, "is_waitlisted", json_boolean(r->is_waitlisted));
  json_object_set_new(obj, "ticket", ticket_summary(r, true));
  add_offer(obj, r);
  return obj;
}

enum field_result
registrations_pk_field(json_t *body, const char *name, json_t *errors, arena_t *arena,
                       int64_t *id)
{
  json_t *value = json_object_get(body, name);
  if (value == NULL || json_is_null(value) ||
      (json_is_string(value) && json_string_length(value) == 0))
    return FIELD_ABSENT;
  if (json_is_integer(value)) {
    *id = json_integer_value(value);
    return FIELD_SET;
  }
  if (json_is_string(value)) {
    char *end;
    const char *digits = json_string_value(value);
    long long n = strtoll(digits, &end, 10);
    if (*end == '\0' && end != digits) {
      *id = n;
      return FIELD_SET;
    }
  }
  json_error_add(errors, name, arena_printf(arena, "Incorrect type. Expected pk value, received %s.",
                 json_is_string(value) ? "str" : json_is_boolean(value) ? "bool"
                 : json_is_real(value) ? "float" : json_is_array(value) ? "list" : "dict"));
  return FIELD_INVALID;
}

void
registrations_invalid_pk(json_t *errors, const char *name, int64_t id, arena_t *arena)
{
  json_error_add(errors, name, arena_printf(arena, "Invalid pk \"%lld\" - object does not exist.",
                                            (long long)id));
}
