#include "users/serializers.h"

#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "users/email.h"
#include "users/validators.h"

json_t *
users_serialize(const struct user *u, bool with_status)
{
  json_t *obj = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}",
                          "id", (json_int_t)u->id,
                          "username", u->username,
                          "email", u->email,
                          "first_name", u->first_name,
                          "last_name", u->last_name,
                          "role", role_name(u->role));
  if (obj && with_status)
    json_object_set_new(obj, "is_active", json_boolean(u->is_active));
  return obj;
}

static const struct string_rules username_rules = {
  .required = true, .max_length = USERNAME_MAX,
};
static const struct string_rules email_rules = {
  .required = true, .max_length = EMAIL_MAX,
};
static const struct string_rules name_rules = {
  .allow_blank = true, .max_length = NAME_MAX_CHARS,
};
static const struct string_rules password_rules = {
  .required = true, .keep_spaces = true,
};

/* DRF's ChoiceField message shows the input as Python's str() would. */
static void
role_field(json_t *body, bool admin_allowed, arena_t *arena, enum role *role, json_t *errors)
{
  json_t *value = json_object_get(body, "role");
  if (value == NULL)
    return;
  const char *text = NULL;
  enum role parsed;
  if (json_is_string(value)) {
    text = json_string_value(value);
    if (role_parse(text, &parsed) == 0 && (parsed != ROLE_ADMIN || admin_allowed)) {
      *role = parsed;
      return;
    }
  } else if (json_is_null(value)) {
    json_error_add(errors, "role", "This field may not be null.");
    return;
  } else if (json_is_true(value) || json_is_false(value)) {
    text = json_is_true(value) ? "True" : "False";
  } else if (json_is_integer(value)) {
    text = arena_printf(arena, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
  } else if (json_is_real(value)) {
    text = arena_printf(arena, "%g", json_real_value(value));
  } else {
    json_error_add(errors, "role", "Not a valid choice.");
    return;
  }
  char *msg = arena_printf(arena, "\"%s\" is not a valid choice.", text);
  json_error_add(errors, "role", msg ? msg : "Not a valid choice.");
}

static void
username_field(json_t *body, arena_t *arena, struct user *u, json_t *errors)
{
  if (json_field_string(body, "username", &username_rules, errors, arena, &u->username) != FIELD_SET) {
    /* DRF runs every validator: a too-long name may be invalid as well. */
    json_t *value = json_object_get(body, "username");
    if (json_is_string(value) && json_string_length(value) > 0 &&
        !users_username_valid(json_string_value(value)))
      json_error_add(errors, "username",
                     "Enter a valid username. This value may contain only letters, "
                     "numbers, and @/./+/-/_ characters.");
    u->username = NULL;
    return;
  }
  if (!users_username_valid(u->username)) {
    json_error_add(errors, "username",
                   "Enter a valid username. This value may contain only letters, "
                   "numbers, and @/./+/-/_ characters.");
    u->username = NULL;
  }
}

static void
email_field(json_t *body, bool required, arena_t *arena, struct user *u, json_t *errors)
{
  struct string_rules rules = email_rules;
  rules.required = required;
  const char *email = NULL;
  enum field_result got = json_field_string(body, "email", &rules, errors, arena, &email);
  if (got == FIELD_SET && !users_email_valid(email)) {
    json_error_add(errors, "email", "Enter a valid email address.");
    got = FIELD_INVALID;
  }
  if (got == FIELD_SET)
    u->email = email;
  else if (got == FIELD_INVALID)
    u->email = NULL;
}

static void
name_fields(json_t *body, arena_t *arena, struct user *u, json_t *errors)
{
  const char *value;
  if (json_field_string(body, "first_name", &name_rules, errors, arena, &value) == FIELD_SET)
    u->first_name = value;
  if (json_field_string(body, "last_name", &name_rules, errors, arena, &value) == FIELD_SET)
    u->last_name = value;
}

void
users_password_check(const char *password, const struct user *u, const char *field,
                     json_t *errors)
{
  json_t *messages = json_array();
  users_password_validate(password, u->username, u->email, u->first_name, u->last_name,
                          messages);
  size_t i;
  json_t *msg;
  json_array_foreach(messages, i, msg)
    json_error_add(errors, field, json_string_value(msg));
  json_decref(messages);
}

int
users_signup_validate(json_t *body, arena_t *arena, struct user *u,
                      const char **password, json_t *errors)
{
  u->first_name = "";
  u->last_name = "";
  u->role = ROLE_ATTENDEE;
  u->is_active = true;
  username_field(body, arena, u, errors);
  email_field(body, true, arena, u, errors);
  name_fields(body, arena, u, errors);
  role_field(body, false, arena, &u->role, errors);
  if (json_field_string(body, "password", &password_rules, errors, arena, password) == FIELD_SET)
    users_password_check(*password, u, "password", errors);
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

int
users_update_validate(json_t *body, bool by_admin, arena_t *arena, struct user *u,
                      json_t *errors)
{
  email_field(body, false, arena, u, errors);
  name_fields(body, arena, u, errors);
  /* API.md: admin is granted only by an admin; an admin keeps theirs. */
  role_field(body, by_admin || u->role == ROLE_ADMIN, arena, &u->role, errors);
  if (by_admin) {
    bool active;
    if (json_field_bool(body, "is_active", false, errors, &active) == FIELD_SET)
      u->is_active = active;
  }
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}
