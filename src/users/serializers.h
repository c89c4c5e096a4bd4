/*
 * serializers.h - users between JSON and struct user, with DRF's
 * validation messages.
 */
#ifndef EVENTAPI_USERS_SERIALIZERS_H
#define EVENTAPI_USERS_SERIALIZERS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "users/models.h"

/*
 * The API's user: {"id","username","email","first_name","last_name","role"},
 * plus "is_active" for the admin views (with_status). Never the password.
 * The caller owns the returned object.
 */
json_t *users_serialize(const struct user *u, bool with_status);

/*
 * Validates a sign-up body into u (strings in arena) and *password, adding
 * every problem to errors. Uniqueness is the view's to check, in its
 * transaction. 0, or EVENTAPI_EINVAL when errors holds any.
 */
int users_signup_validate(json_t *body, arena_t *arena, struct user *u,
                          const char **password, json_t *errors);

/*
 * Applies an update body onto u, which holds the current values: email,
 * first_name, last_name and role; with by_admin also is_active and the admin
 * role. No field is required, on PUT either (the original's email may be
 * blank on the model, so DRF does not require it): a field left out keeps
 * its value. username, id and password in the body are ignored. 0, or
 * EVENTAPI_EINVAL when errors holds any.
 */
int users_update_validate(json_t *body, bool by_admin, arena_t *arena, struct user *u,
                          json_t *errors);

/*
 * Validates a password against Django's validators for user u, adding the
 * messages to errors[field].
 */
void users_password_check(const char *password, const struct user *u,
                          const char *field, json_t *errors);

#endif
