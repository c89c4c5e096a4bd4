/*
 * commands.c - `eventapi createsuperuser` and `eventapi changepassword`
 * (see commands.h).
 */
#include "users/commands.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "auth/password.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/text.h"
#include "db/db.h"
#include "users/models.h"
#include "users/serializers.h"
#include "users/email.h"
#include "users/validators.h"

#define PASSWORD_INPUT_MAX 1024
#define ATTEMPTS 3 /* as Django's changepassword */

enum { STATUS_OK = 0, STATUS_FAILED = 1, STATUS_NO_TERMINAL = 2 };

/*
 * The sign-up's password validators on password for u, their messages
 * joined by sep into buf ("" when it passes). Returns 0, or
 * EVENTAPI_ENOMEM.
 */
static int
password_problems(const char *password, const struct user *u, const char *sep, char *buf,
                  size_t len)
{
  json_t *errors = json_object();
  if (errors == NULL)
    return EVENTAPI_ENOMEM;
  users_password_check(password, u, "password", errors);
  buf[0] = '\0';
  size_t used = 0, i;
  json_t *message;
  json_array_foreach(json_object_get(errors, "password"), i, message) {
    int n = snprintf(buf + used, len - used, "%s%s", used ? sep : "", json_string_value(message));
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
  json_decref(errors);
  return 0;
}

/*
 * The new password of u into buf: given (not NULL), or asked twice through
 * prompt until both agree and the validators pass, at most ATTEMPTS times.
 * Returns an exit status; STATUS_OK with buf set.
 */
static int
new_password(const char *command, const char *given, const struct user *u,
             users_prompt_fn prompt, char *buf, size_t len)
{
  char problems[1024];
  if (given != NULL) {
    if (password_problems(given, u, " ", problems, sizeof problems) < 0)
      return STATUS_FAILED;
    if (problems[0]) {
      fprintf(stderr, "eventapi: password: %s\n", problems);
      return STATUS_FAILED;
    }
    snprintf(buf, len, "%s", given);
    return STATUS_OK;
  }
  char again[PASSWORD_INPUT_MAX];
  int status = STATUS_FAILED;
  for (int attempt = 1; attempt <= ATTEMPTS && status == STATUS_FAILED; attempt++) {
    if (prompt == NULL || prompt("Password: ", buf, len) < 0 ||
        prompt("Password (again): ", again, sizeof again) < 0) {
      fprintf(stderr, "eventapi: %s: no terminal to ask for the password on: use --password "
                      "or EVENTAPI_PASSWORD\n", command);
      status = STATUS_NO_TERMINAL;
    } else if (strcmp(buf, again) != 0) {
      fprintf(stderr, "Passwords do not match. Please try again.\n");
    } else if (password_problems(buf, u, "\n", problems, sizeof problems) < 0) {
      break;
    } else if (problems[0]) {
      fprintf(stderr, "%s\n", problems);
    } else {
      status = STATUS_OK;
    }
  }
  sodium_memzero(again, sizeof again);
  if (status == STATUS_FAILED)
    fprintf(stderr, "eventapi: %s: no password set after %d attempts\n", command, ATTEMPTS);
  return status;
}

/* Username and email as sign-up checks them, before a password is asked for. */
static int
check_new_admin(db_t *db, const char *username, const char *email)
{
  if (!users_username_valid(username) || text_utf8_length(username) > USERNAME_MAX) {
    fprintf(stderr, "eventapi: username: Enter a valid username. This value may contain only "
                    "letters, numbers, and @/./+/-/_ characters.\n");
    return STATUS_FAILED;
  }
  if (!users_email_valid(email) || strlen(email) > EMAIL_MAX) {
    fprintf(stderr, "eventapi: email: Enter a valid email address.\n");
    return STATUS_FAILED;
  }
  bool taken = false;
  int rc = users_username_taken(db, username, 0, &taken);
  if (rc < 0 || taken) {
    fprintf(stderr, "eventapi: username: %s\n", taken
            ? "A user with that username already exists." : eventapi_strerror(rc));
    return STATUS_FAILED;
  }
  if ((rc = users_email_taken(db, email, 0, &taken)) < 0 || taken) {
    fprintf(stderr, "eventapi: email: %s\n", taken
            ? "A user with that email already exists." : eventapi_strerror(rc));
    return STATUS_FAILED;
  }
  return STATUS_OK;
}

int
users_cmd_createsuperuser(const char *username, const char *email, const char *password,
                          users_prompt_fn prompt, FILE *out)
{
  db_t *db = db_thread();
  if (db == NULL)
    return STATUS_FAILED; /* logged */
  int status = check_new_admin(db, username, email);
  if (status != STATUS_OK)
    return status;
  /* Checked as sign-up checks a new user: names blank, role aside. */
  const struct user admin = {
    .username = username, .email = email, .first_name = "", .last_name = "",
    .role = ROLE_ADMIN,
  };
  char chosen[PASSWORD_INPUT_MAX], err[512] = "";
  status = new_password("createsuperuser", password, &admin, prompt, chosen, sizeof chosen);
  if (status == STATUS_OK) {
    if (users_create_superuser(username, email, chosen, err, sizeof err) == 0) {
      fprintf(out, "Superuser \"%s\" created.\n", username);
    } else {
      fprintf(stderr, "eventapi: %s\n", err[0] ? err : "cannot create the superuser");
      status = STATUS_FAILED;
    }
  }
  sodium_memzero(chosen, sizeof chosen);
  return status;
}

/* A new password, as a unit of work. */
struct new_password {
  int64_t user_id;
  const char *hash;
};

/* As the API's password change: it also ends the tokens the user holds. */
static int
store_password(db_t *db, void *arg)
{
  struct new_password *unit = arg;
  return users_set_password(db, unit->user_id, unit->hash);
}

int
users_cmd_changepassword(const char *username, const char *password, users_prompt_fn prompt,
                         FILE *out)
{
  db_t *db = db_thread();
  if (db == NULL)
    return STATUS_FAILED; /* logged */
  arena_t arena = {0};
  struct user u;
  int rc = users_get_by_username(db, username, &arena, &u);
  if (rc < 0) {
    if (rc == EVENTAPI_ENOTFOUND)
      fprintf(stderr, "eventapi: changepassword: user \"%s\" does not exist\n", username);
    else
      fprintf(stderr, "eventapi: database: %s\n", eventapi_strerror(rc));
    arena_free(&arena);
    return STATUS_FAILED;
  }
  if (password == NULL) {
    fprintf(out, "Changing password for user \"%s\"\n", u.username);
    fflush(out);
  }
  char chosen[PASSWORD_INPUT_MAX], hash[PASSWORD_HASH_MAX];
  int status = new_password("changepassword", password, &u, prompt, chosen, sizeof chosen);
  if (status == STATUS_OK) {
    struct new_password unit = {u.id, hash};
    rc = password_hash(chosen, hash);
    if (rc == 0)
      rc = db_write(store_password, &unit);
    if (rc < 0) {
      fprintf(stderr, "eventapi: changepassword: %s; the password is unchanged\n",
              eventapi_strerror(rc));
      status = STATUS_FAILED;
    } else {
      fprintf(out, "Password changed successfully for user \"%s\"\n", u.username);
      if (!u.is_active)
        fprintf(out, "Note: \"%s\" is inactive and cannot log in until an admin sets "
                     "is_active (PATCH /api/users/%lld/).\n", u.username, (long long)u.id);
    }
  }
  sodium_memzero(chosen, sizeof chosen);
  arena_free(&arena);
  return status;
}
