/*
 * users.c - the users app's serializers: the sign-up body
 * (users_signup_validate, Django's password validators included) and the
 * profile update body (users_update_validate), as a user and as an admin.
 *
 * Input: the Content-Type line, then the body.
 */
#include <string.h>

#include "core/jsonutil.h"
#include "core/text.h"
#include "support.h"
#include "users/serializers.h"
#include "users/validators.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

/* A validated user's strings are what the database will store. */
static void
check_user(const struct user *u)
{
  const char *const strings[] = {u->username, u->email, u->first_name, u->last_name};
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
    FUZZ_CHECK(strings[i] == NULL || text_valid_utf8(strings[i], strlen(strings[i])));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  arena_t arena = {0};
  json_t *body = fuzz_body(data, size, &arena);
  if (body == NULL) {
    arena_free(&arena);
    return 0;
  }

  json_t *errors = json_object();
  struct user u = {0};
  const char *password = NULL;
  users_signup_validate(body, &arena, &u, &password, errors);
  if (!json_errors_any(errors)) {
    FUZZ_CHECK(u.username != NULL && u.email != NULL && password != NULL);
    FUZZ_CHECK(users_username_valid(u.username) && users_email_valid(u.email));
    check_user(&u);
  }
  fuzz_check_errors(errors);
  json_decref(errors);

  for (int by_admin = 0; by_admin < 2; by_admin++) {
    struct user current = {
      .id = 7, .username = "ada", .email = "ada@example.com", .first_name = "Ada",
      .last_name = "Lovelace", .role = by_admin ? ROLE_ORGANIZER : ROLE_ATTENDEE,
      .is_active = true,
    };
    errors = json_object();
    users_update_validate(body, by_admin, &arena, &current, errors);
    if (!json_errors_any(errors))
      check_user(&current);
    /* The password change view checks the new password against the user. */
    json_t *new_password = json_object_get(body, "new_password");
    if (json_is_string(new_password))
      users_password_check(json_string_value(new_password), &current, "new_password", errors);
    fuzz_check_errors(errors);
    json_decref(errors);
  }

  json_decref(body);
  arena_free(&arena);
  return 0;
}
