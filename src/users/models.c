#include "users/models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "users/signals.h"
#include "users/email.h"
#include "users/validators.h"

#define USER_COLUMNS \
  "id, username, email, first_name, last_name, password, role, is_active, date_joined," \
  " token_generation"

static int
read_user(db_stmt_t *st, arena_t *arena, void *out)
{
  struct user *u = out;
  u->id = db_column_int(st, 0);
  u->username = arena_strdup(arena, db_column_text(st, 1));
  u->email = arena_strdup(arena, db_column_text(st, 2));
  u->first_name = arena_strdup(arena, db_column_text(st, 3));
  u->last_name = arena_strdup(arena, db_column_text(st, 4));
  u->password = arena_strdup(arena, db_column_text(st, 5));
  if (role_parse(db_column_text(st, 6), &u->role) < 0)
    u->role = ROLE_ATTENDEE;
  u->is_active = db_column_int(st, 7) != 0;
  u->date_joined = db_column_int(st, 8);
  u->token_generation = db_column_int(st, 9);
  if (!u->username || !u->email || !u->first_name || !u->last_name || !u->password)
    return EVENTAPI_ENOMEM;
  return 0;
}

int
users_get(db_t *db, int64_t id, arena_t *arena, struct user *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE id = ?");
  if (st)
    db_bind_int(st, 1, id);
  return db_row(st, read_user, arena, out);
}

int
users_get_by_email(db_t *db, const char *email, arena_t *arena, struct user *out)
{
  char *key = text_fold(email);
  if (key == NULL)
    return EVENTAPI_ENOTFOUND; /* not UTF-8: nobody has that address */
  db_stmt_t *st = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE email_key = ?");
  if (st)
    db_bind_text(st, 1, key);
  int rc = db_row(st, read_user, arena, out);
  free(key);
  return rc;
}

int
users_get_by_username(db_t *db, const char *username, arena_t *arena, struct user *out)
{
  char *key = text_fold(username);
  if (key == NULL)
    return EVENTAPI_ENOTFOUND; /* not UTF-8: nobody has that name */
  db_stmt_t *st = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE username_key = ?");
  if (st)
    db_bind_text(st, 1, key);
  int rc = db_row(st, read_user, arena, out);
  free(key);
  if ((rc == 0 && strcmp(out->username, username) == 0) || (rc < 0 && rc != EVENTAPI_ENOTFOUND))
    return rc;
  /* Users moved from the original system may differ from another only in
   * case (importer/django.c): their key is "#same-name-<id>", and they are
   * found by their name exactly as written, through the key's index. */
  struct user exact;
  st = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE username_key >= '#same-name-'"
                      " AND username_key < '#same-name.' AND username = ?");
  if (st)
    db_bind_text(st, 1, username);
  int exact_rc = db_row(st, read_user, arena, &exact);
  if (exact_rc == 0)
    *out = exact;
  return exact_rc == EVENTAPI_ENOTFOUND ? rc : exact_rc;
}

int
users_list(db_t *db, arena_t *arena, struct user **out, size_t *count)
{
  db_stmt_t *st = db_prepare(db, "SELECT " USER_COLUMNS " FROM users ORDER BY id");
  void *list;
  int rc = db_rows(st, read_user, sizeof **out, 0, arena, &list, count);
  *out = list;
  return rc;
}

static int
taken(db_stmt_t *st, const char *value, int64_t except_id, bool *found)
{
  *found = false;
  if (st == NULL)
    return EVENTAPI_EDB;
  char *key = text_fold(value);
  if (key == NULL) {
    db_reset(st);
    return EVENTAPI_ENOMEM;
  }
  db_bind_text(st, 1, key);
  db_bind_int(st, 2, except_id);
  int rc = db_exists(st, found);
  free(key);
  return rc;
}

int
users_username_taken(db_t *db, const char *username, int64_t except_id, bool *found)
{
  return taken(db_prepare(db, "SELECT 1 FROM users WHERE username_key = ? AND id <> ?"),
               username, except_id, found);
}

int
users_email_taken(db_t *db, const char *email, int64_t except_id, bool *found)
{
  return taken(db_prepare(db, "SELECT 1 FROM users WHERE email_key = ? AND id <> ?"),
               email, except_id, found);
}

static const char USERNAME_TAKEN[] = "A user with that username already exists.";
static const char EMAIL_TAKEN[] = "A user with that email already exists.";

int
users_check_unique(db_t *db, const struct user *u, bool check_username, json_t *errors)
{
  bool taken = false;
  int rc = 0;
  if (check_username && u->username &&
      (rc = users_username_taken(db, u->username, u->id, &taken)) == 0 && taken)
    json_error_add(errors, "username", USERNAME_TAKEN);
  if (rc == 0 && u->email && (rc = users_email_taken(db, u->email, u->id, &taken)) == 0 &&
      taken)
    json_error_add(errors, "email", EMAIL_TAKEN);
  return rc < 0 ? rc : json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

int
users_save(db_t *db, struct user *u, bool creating, json_t *errors)
{
  json_object_clear(errors); /* a unit may run again */
  int rc = users_check_unique(db, u, creating, errors);
  if (rc < 0)
    return rc;
  rc = creating ? users_insert(db, u) : users_update(db, u);
  if (rc == EVENTAPI_ECONSTRAINT) {
    json_error_add(errors, creating ? "username" : "email",
                   creating ? USERNAME_TAKEN : EMAIL_TAKEN);
    return EVENTAPI_EINVAL;
  }
  return rc;
}

int
users_insert(db_t *db, struct user *u)
{
  char *username_key = text_fold(u->username);
  char *email_key = text_fold(u->email);
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO users (username, username_key, email, email_key, password,"
      " first_name, last_name, role, is_active, date_joined)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  int rc = EVENTAPI_ENOMEM;
  if (username_key && email_key && st) {
    db_bind_text(st, 1, u->username);
    db_bind_text(st, 2, username_key);
    db_bind_text(st, 3, u->email);
    db_bind_text(st, 4, email_key);
    db_bind_text(st, 5, u->password);
    db_bind_text(st, 6, u->first_name);
    db_bind_text(st, 7, u->last_name);
    db_bind_text(st, 8, role_name(u->role));
    db_bind_int(st, 9, u->is_active);
    db_bind_int(st, 10, u->date_joined);
    rc = db_step_id(st, &u->id);
  } else if (st == NULL) {
    rc = EVENTAPI_EDB;
  }
  free(username_key);
  free(email_key);
  return rc;
}

int
users_update(db_t *db, const struct user *u)
{
  char *email_key = text_fold(u->email);
  if (email_key == NULL)
    return EVENTAPI_ENOMEM;
  /* SET reads the row as it was: the generation moves only when this very
   * update turns is_active from 1 to 0. */
  int rc = db_exec(db,
      "UPDATE users SET email = ?, email_key = ?, first_name = ?, last_name = ?,"
      " role = ?, is_active = ?,"
      " token_generation = token_generation + (CASE WHEN is_active = 1 AND ? = 0"
      " THEN 1 ELSE 0 END) WHERE id = ?",
      NULL, "sssssiii", u->email, email_key, u->first_name, u->last_name,
      role_name(u->role), (int64_t)u->is_active, (int64_t)u->is_active, u->id);
  free(email_key);
  return rc;
}

int
users_set_password(db_t *db, int64_t id, const char *hash)
{
  int changes = 0;
  int rc = db_exec(db,
      "UPDATE users SET password = ?, token_generation = token_generation + 1 WHERE id = ?",
      &changes, "si", hash, id);
  if (rc == 0 && changes == 0)
    rc = EVENTAPI_ENOTFOUND;
  return rc;
}

int
users_upgrade_password(db_t *db, int64_t id, const char *old, const char *hash)
{
  return db_exec(db, "UPDATE users SET password = ? WHERE id = ? AND password = ?", NULL, "sis",
                 hash, id, old);
}

int
users_delete(db_t *db, int64_t id, int64_t now, arena_t *arena)
{
  int changes = 0;
  int rc = signal_send(&users_deleting, db, &(struct users_deletion){id, now, arena});
  if (rc == 0)
    rc = db_exec(db, "DELETE FROM users WHERE id = ?", &changes, "i", id);
  if (rc == 0 && changes == 0)
    rc = EVENTAPI_ENOTFOUND;
  return rc;
}

int
users_load_principal(int64_t id, struct principal *out, bool *active)
{
  db_t *db = db_thread();
  if (db == NULL)
    return EVENTAPI_EUNAVAILABLE;
  db_stmt_t *st = db_prepare(db,
      "SELECT role, is_active, token_generation FROM users WHERE id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, id);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    out->id = id;
    if (role_parse(db_column_text(st, 0), &out->role) < 0)
      out->role = ROLE_ATTENDEE;
    *active = db_column_int(st, 1) != 0;
    out->token_generation = db_column_int(st, 2);
    rc = 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_ENOTFOUND;
  }
  db_reset(st);
  return rc;
}

/* An admin made from the command line, as a unit of work. */
struct superuser_unit {
  struct user u;
  char *err;
  size_t errlen;
};

/* EVENTAPI_ECONFLICT, explained in err, when the name or email is taken. */
static int
superuser_unit(db_t *db, void *arg)
{
  struct superuser_unit *unit = arg;
  bool taken = false;
  int rc = users_username_taken(db, unit->u.username, 0, &taken);
  if (rc == 0 && taken) {
    snprintf(unit->err, unit->errlen, "username: %s", USERNAME_TAKEN);
    return EVENTAPI_ECONFLICT;
  }
  if (rc == 0 && (rc = users_email_taken(db, unit->u.email, 0, &taken)) == 0 && taken) {
    snprintf(unit->err, unit->errlen, "email: %s", EMAIL_TAKEN);
    return EVENTAPI_ECONFLICT;
  }
  return rc < 0 ? rc : users_insert(db, &unit->u);
}

int
users_create_superuser(const char *username, const char *email, const char *password,
                       char *err, size_t errlen)
{
  if (username == NULL || !users_username_valid(username) ||
      text_utf8_length(username) > USERNAME_MAX) {
    snprintf(err, errlen, "username: Enter a valid username. This value may contain only "
                          "letters, numbers, and @/./+/-/_ characters.");
    return EVENTAPI_EINVAL;
  }
  if (email == NULL || !users_email_valid(email) || strlen(email) > EMAIL_MAX) {
    snprintf(err, errlen, "email: Enter a valid email address.");
    return EVENTAPI_EINVAL;
  }
  json_t *messages = json_array();
  if (messages == NULL)
    return EVENTAPI_ENOMEM;
  if (password == NULL || users_password_validate(password, username, email, NULL, NULL, messages) > 0) {
    snprintf(err, errlen, "password: %s",
             password ? json_string_value(json_array_get(messages, 0)) : "This field is required.");
    json_decref(messages);
    return EVENTAPI_EINVAL;
  }
  json_decref(messages);
  char hash[PASSWORD_HASH_MAX];
  if (password_hash(password, hash) < 0) {
    snprintf(err, errlen, "cannot hash the password (out of memory)");
    return EVENTAPI_ENOMEM;
  }
  db_t *db = db_thread();
  if (db == NULL) {
    snprintf(err, errlen, "cannot open the database");
    return EVENTAPI_EUNAVAILABLE;
  }
  struct superuser_unit unit = {
    .u = {.username = username, .email = email, .first_name = "", .last_name = "",
          .password = hash, .role = ROLE_ADMIN, .is_active = true,
          .date_joined = time_now_us()},
    .err = err, .errlen = errlen,
  };
  int rc = db_write(superuser_unit, &unit);
  if (rc < 0 && rc != EVENTAPI_ECONFLICT)
    snprintf(err, errlen, "database error: %s", eventapi_strerror(rc));
  return rc;
}

int
users_token_blacklist_add(db_t *db, const char *jti, int64_t user_id, int64_t expires_at_us)
{
  int64_t now = time_now_us();
  int rc = db_exec(db, "DELETE FROM token_blacklist WHERE expires_at < ?", NULL, "i", now);
  if (rc == 0)
    rc = db_exec(db,
        "INSERT INTO token_blacklist (jti, user_id, expires_at, blacklisted_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (jti) DO NOTHING",
        NULL, "siii", jti, user_id, expires_at_us, now);
  return rc;
}

int
users_token_blacklisted(db_t *db, const char *jti, bool *blacklisted)
{
  db_stmt_t *st = db_prepare(db, "SELECT 1 FROM token_blacklist WHERE jti = ?");
  if (st)
    db_bind_text(st, 1, jti);
  return db_exists(st, blacklisted);
}
