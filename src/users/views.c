/*
 * views.c - the users app: sign-up, SimpleJWT's token views, `me`, the
 * password change, and the admin's user management.
 */
#include "users/views.h"

#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "shortcuts/body.h"
#include "shortcuts/database.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"
#include "users/models.h"
#include "users/serializers.h"

static const char NO_USER[] = "No User matches the given query.";

static int64_t
now_seconds(void)
{
  return time_now_us() / 1000000;
}

/* ok_or_reply(), with field errors in the order of the user's fields. */
static bool
user_ok_or_reply(struct http_request *req, int rc, json_t *errors, const char *missing)
{
  static const char *const fields[] = {
    "username", "email", "password", "old_password", "new_password",
    "first_name", "last_name", "role", "is_active", NULL,
  };
  if (rc != EVENTAPI_EINVAL || errors == NULL)
    return ok_or_reply(req, rc, NULL, missing);
  http_reply_json(req, 400, json_errors_ordered(errors, fields));
  return false;
}

/* A user written, as a unit of work: created (sign-up) or updated. */
struct user_unit {
  struct user u;
  bool creating;
  bool with_status;   /* the answer shows is_active (the admin's view) */
  json_t *errors;     /* uniqueness, checked under the lock */
};

static int
user_unit(db_t *db, void *arg)
{
  struct user_unit *unit = arg;
  return users_save(db, &unit->u, unit->creating, unit->errors);
}

static void
user_reply(struct http_request *req, int rc, void *arg)
{
  struct user_unit *unit = arg;
  /* 404 when deleted meanwhile. */
  if (user_ok_or_reply(req, rc, unit->errors, NO_USER))
    http_reply_json(req, unit->creating ? 201 : 200,
                    users_serialize(&unit->u, unit->with_status));
}

/* DRF: a blank optional choice (or boolean) in a form is not given. */
static const char *const SIGNUP_FORM_OPTIONAL[] = {"role", NULL};
static const char *const UPDATE_FORM_OPTIONAL[] = {"role", "is_active", NULL};

/* ---- sign-up ---- */

void
users_register_view(struct http_request *req)
{
  json_t *body = body_or_reply(req, SIGNUP_FORM_OPTIONAL);
  json_t *errors = body ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  struct user_unit unit = {.creating = true, .errors = errors};
  const char *password = NULL;
  users_signup_validate(body, &req->arena, &unit.u, &password, errors);
  db_t *db = database_or_reply(req);
  /* Cheap uniqueness answer before the costly hash; re-checked below. */
  if (db == NULL || !user_ok_or_reply(req, users_check_unique(db, &unit.u, true, errors), errors, NULL))
    return;
  char *hash = arena_alloc(&req->arena, PASSWORD_HASH_MAX);
  if (hash == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  if (password_hash(password, hash) < 0) {
    http_reply_internal(req, "cannot hash a password");
    return;
  }
  unit.u.password = hash;
  unit.u.date_joined = time_now_us();
  write_or_reply(req, user_unit, &unit, sizeof unit, user_reply);
}

/* ---- tokens ---- */

static void
reply_token_invalid(struct http_request *req, const char *detail)
{
  http_reply_json(req, 401, json_pack("{s:s, s:s}", "detail", detail, "code", "token_not_valid"));
}

/* Reads one required, non-blank string field; adds its error otherwise. */
static const char *
required_string(struct http_request *req, json_t *body, const char *name, bool trim,
                json_t *errors)
{
  struct string_rules rules = {.required = true, .keep_spaces = !trim};
  const char *value = NULL;
  json_field_string(body, name, &rules, errors, &req->arena, &value);
  return value;
}

static int
issue(const struct config *cfg, enum token_type type, int64_t user_id, int64_t generation,
      char **out)
{
  return auth_token_issue(cfg->secret_key, strlen(cfg->secret_key), type, user_id, generation,
                          now_seconds(),
                          type == TOKEN_ACCESS ? cfg->access_lifetime : cfg->refresh_lifetime,
                          out, NULL);
}

static void
reply_throttled(struct http_request *req, unsigned wait)
{
  http_add_header(req, "Retry-After", arena_printf(&req->arena, "%u", wait));
  http_reply_detail(req, 429, arena_printf(&req->arena,
      "Request was throttled. Expected available in %u second%s.", wait, wait == 1 ? "" : "s"));
}

/*
 * Checks username's password. Returns 0 with *ok and (when ok) *u filled,
 * or a database error.
 */
static int
check_credentials(struct http_request *req, db_t *db, const char *username,
                  const char *password, struct user *u, bool *ok)
{
  int rc = users_get_by_username(db, username, &req->arena, u);
  if (rc == 0) {
    *ok = password_verify(u->password, password) && u->is_active;
  } else if (rc == EVENTAPI_ENOTFOUND) {
    password_burn(password); /* the same time for unknown users */
    *ok = false;
    rc = 0;
  }
  return rc;
}

/* 200 {"refresh", "access"} for the user. */
static void
reply_tokens(struct http_request *req, int64_t user_id, int64_t generation)
{
  char *refresh = NULL, *access = NULL;
  if (issue(config, TOKEN_REFRESH, user_id, generation, &refresh) < 0 ||
      issue(config, TOKEN_ACCESS, user_id, generation, &access) < 0)
    http_reply_internal(req, "cannot issue tokens");
  else
    http_reply_json(req, 200, json_pack("{s:s, s:s}", "refresh", refresh, "access", access));
  free(refresh);
  free(access);
}

/* A login's password hash upgraded, as a unit of work. */
struct rehash_unit {
  int64_t user_id, generation;
  char old[PASSWORD_DJANGO_MAX];
  char hash[PASSWORD_HASH_MAX];
};

static int
rehash_unit(db_t *db, void *arg)
{
  struct rehash_unit *unit = arg;
  return users_upgrade_password(db, unit->user_id, unit->old, unit->hash);
}

static void
rehash_reply(struct http_request *req, int rc, void *arg)
{
  struct rehash_unit *unit = arg;
  if (ok_or_reply(req, rc, NULL, NULL))
    reply_tokens(req, unit->user_id, unit->generation);
}

void
users_token_obtain_view(struct http_request *req)
{
  json_t *body = body_or_reply(req, NULL);
  json_t *errors = body ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  const char *username = required_string(req, body, "username", true, errors);
  const char *password = required_string(req, body, "password", false, errors);
  if (!user_ok_or_reply(req, errors_rc(errors), errors, NULL))
    return;

  /* API.md: failures are counted per client and username, folded as for
   * uniqueness; the attempt is reserved before the slow password check so
   * that parallel guesses are counted exactly. */
  char *key = text_fold(username);
  struct throttle_attempt attempt;
  unsigned wait = throttle_reserve(http_client_ip(req), key ? key : username, time_now_us(),
                                   &attempt);
  free(key);
  if (wait > 0) {
    reply_throttled(req, wait);
    return;
  }
  db_t *db = database_or_reply(req);
  struct user u;
  bool ok = false;
  int rc = db ? check_credentials(req, db, username, password, &u, &ok) : 0;
  /* Only a wrong password counts; a failed database gives the place back. */
  throttle_settle(&attempt, db != NULL && rc == 0 && !ok, time_now_us());
  if (db == NULL || !ok_or_reply(req, rc, NULL, NULL))
    return;
  if (!ok) {
    http_reply_detail(req, 401, "No active account found with the given credentials");
    return;
  }
  if (!password_needs_rehash(u.password)) {
    reply_tokens(req, u.id, u.token_generation);
    return;
  }
  /* A hash of the original Django system's: stored again as argon2id now
   * that the password is known right (as Django upgrades its own). */
  struct rehash_unit unit = {.user_id = u.id, .generation = u.token_generation};
  if (strlen(u.password) >= sizeof unit.old || password_hash(password, unit.hash) < 0) {
    reply_tokens(req, u.id, u.token_generation); /* kept as it is; tried at the next login */
    return;
  }
  strcpy(unit.old, u.password);
  write_or_reply(req, rehash_unit, &unit, sizeof unit, rehash_reply);
}

/*
 * Loads the user of claims: 0 with *alive (exists and is active) and
 * *current (the token's generation is the user's: not ended by a password
 * change or a deactivation since; true for a user gone, whom *alive
 * reports), or a database error.
 */
static int
token_user(const struct token_claims *claims, bool *alive, bool *current)
{
  struct principal who = {0};
  bool active = false;
  int rc = users_load_principal(claims->user_id, &who, &active);
  *alive = rc == 0 && active;
  *current = rc != 0 || who.token_generation == claims->generation;
  return rc == EVENTAPI_ENOTFOUND ? 0 : rc;
}

/*
 * Verifies a refresh token for the refresh, verify and blacklist views:
 * replies 401 and returns false when it is invalid, expired, blacklisted or
 * ended (answered as blacklisted, which it amounts to); else *alive tells
 * whether its user exists and is active.
 */
static bool
refresh_valid(struct http_request *req, db_t *db, const char *token, struct token_claims *claims,
              bool *alive)
{
  if (auth_token_verify(config->secret_key, strlen(config->secret_key), token,
                        TOKEN_REFRESH, now_seconds(), claims) < 0) {
    reply_token_invalid(req, "Token is invalid or expired");
    return false;
  }
  bool current = true, blacklisted = false;
  int rc = users_token_blacklisted(db, claims->jti, &blacklisted);
  if (rc == 0 && !blacklisted)
    rc = token_user(claims, alive, &current);
  if (!ok_or_reply(req, rc, NULL, NULL))
    return false;
  if (blacklisted || !current) {
    reply_token_invalid(req, "Token is blacklisted");
    return false;
  }
  return true;
}

/* Parses {"<field>": token} into *token; replies 400 and returns false if absent. */
static bool
token_field(struct http_request *req, const char *field, const char **token)
{
  json_t *body = body_or_reply(req, NULL);
  json_t *errors = body ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return false;
  *token = required_string(req, body, field, true, errors);
  return user_ok_or_reply(req, errors_rc(errors), errors, NULL);
}

void
users_token_refresh_view(struct http_request *req)
{
  const char *token;
  if (!token_field(req, "refresh", &token))
    return;
  db_t *db = database_or_reply(req);
  struct token_claims claims;
  bool alive = false;
  if (db == NULL || !refresh_valid(req, db, token, &claims, &alive))
    return;
  if (!alive) {
    http_reply_json(req, 401, json_pack("{s:s, s:s}",
        "detail", "No active account found for the given token.", "code", "no_active_account"));
    return;
  }
  /* The refresh token's generation, never a newer one: ended together. */
  char *access = NULL;
  if (issue(config, TOKEN_ACCESS, claims.user_id, claims.generation, &access) < 0)
    http_reply_internal(req, "cannot issue a token");
  else
    http_reply_json(req, 200, json_pack("{s:s}", "access", access));
  free(access);
}

void
users_token_verify_view(struct http_request *req)
{
  const char *token;
  if (!token_field(req, "token", &token))
    return;
  db_t *db = database_or_reply(req);
  if (db == NULL)
    return;
  struct token_claims claims;
  const char *key = config->secret_key;
  bool alive = false, current = true;
  if (auth_token_verify(key, strlen(key), token, TOKEN_ACCESS, now_seconds(), &claims) == 0) {
    if (!ok_or_reply(req, token_user(&claims, &alive, &current), NULL, NULL))
      return;
  } else if (!refresh_valid(req, db, token, &claims, &alive)) {
    return;
  }
  /* API.md: the token of a deleted or deactivated user is not valid, nor
   * an access token ended by a password change. */
  if (!alive || !current)
    reply_token_invalid(req, "Token is invalid or expired");
  else
    http_reply_json(req, 200, json_object());
}

/* Logout, as a unit of work. */
struct blacklist_unit {
  const char *jti;
  int64_t user_id, expires_at_us;
};

static int
blacklist_unit(db_t *db, void *arg)
{
  struct blacklist_unit *unit = arg;
  if (unit->jti == NULL)
    return EVENTAPI_ENOMEM;
  return users_token_blacklist_add(db, unit->jti, unit->user_id, unit->expires_at_us);
}

static void
blacklist_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (ok_or_reply(req, rc, NULL, NULL))
    http_reply_json(req, 200, json_object());
}

void
users_token_blacklist_view(struct http_request *req)
{
  const char *token;
  if (!token_field(req, "refresh", &token))
    return;
  db_t *db = database_or_reply(req);
  struct token_claims claims;
  bool alive;
  if (db == NULL || !refresh_valid(req, db, token, &claims, &alive))
    return;
  struct blacklist_unit unit = {arena_strdup(&req->arena, claims.jti), claims.user_id,
                                claims.exp * 1000000};
  write_or_reply(req, blacklist_unit, &unit, sizeof unit, blacklist_reply);
}

/* ---- me ---- */

/* Loads the (authenticated) caller; replies and returns false when that fails. */
static bool
me_or_reply(struct http_request *req, struct user *me)
{
  db_t *db = database_or_reply(req);
  int rc = db ? users_get(db, req->user->id, &req->arena, me) : 0;
  if (rc == EVENTAPI_ENOTFOUND) { /* deleted since the token was checked */
    http_reply_unauthenticated(req);
    return false;
  }
  return db && ok_or_reply(req, rc, NULL, NULL);
}

void
users_me_get_view(struct http_request *req)
{
  struct user me;
  if (authenticated_or_reply(req) && me_or_reply(req, &me))
    http_reply_json(req, 200, users_serialize(&me, false));
}

/*
 * Validates body onto u, then writes it as a unit of work that checks the
 * email's uniqueness under the write lock. Replies in every case.
 */
static void
update_user(struct http_request *req, struct user *u, bool by_admin, bool with_status)
{
  json_t *body = body_or_reply(req, UPDATE_FORM_OPTIONAL);
  json_t *errors = body ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  int rc = users_update_validate(body, by_admin, &req->arena, u, errors);
  struct user_unit unit = {.u = *u, .with_status = with_status, .errors = errors};
  if (user_ok_or_reply(req, rc, errors, NULL))
    write_or_reply(req, user_unit, &unit, sizeof unit, user_reply);
}

void
users_me_update_view(struct http_request *req)
{
  struct user me;
  if (authenticated_or_reply(req) && me_or_reply(req, &me))
    update_user(req, &me, false, false);
}

/* A new password, as a unit of work: it also ends the user's tokens. */
struct password_unit {
  int64_t user_id;
  char hash[PASSWORD_HASH_MAX];
};

static int
password_unit(db_t *db, void *arg)
{
  struct password_unit *unit = arg;
  return users_set_password(db, unit->user_id, unit->hash);
}

static void
password_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (rc == EVENTAPI_ENOTFOUND) /* deleted meanwhile */
    http_reply_unauthenticated(req);
  else if (ok_or_reply(req, rc, NULL, NULL))
    http_reply_empty(req, 204);
}

void
users_me_password_view(struct http_request *req)
{
  json_t *body = authenticated_or_reply(req) ? body_or_reply(req, NULL) : NULL;
  struct user me;
  json_t *errors = body && me_or_reply(req, &me) ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  const char *old_password = required_string(req, body, "old_password", false, errors);
  const char *new_password = required_string(req, body, "new_password", false, errors);
  if (old_password && !password_verify(me.password, old_password))
    json_error_add(errors, "old_password", "Wrong password.");
  if (new_password)
    users_password_check(new_password, &me, "new_password", errors);
  struct password_unit unit = {.user_id = me.id};
  if (!user_ok_or_reply(req, errors_rc(errors), errors, NULL))
    return;
  if (password_hash(new_password, unit.hash) < 0)
    http_reply_internal(req, "cannot hash a password");
  else
    write_or_reply(req, password_unit, &unit, sizeof unit, password_reply);
}

/* ---- admin ---- */

void
users_admin_list_view(struct http_request *req)
{
  db_t *db = admin_or_reply(req) ? database_or_reply(req) : NULL;
  struct user *users;
  size_t count;
  if (db == NULL || !ok_or_reply(req, users_list(db, &req->arena, &users, &count), NULL, NULL))
    return;
  json_t *list = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(list, users_serialize(&users[i], true));
  http_add_header(req, "X-Total-Count", arena_printf(&req->arena, "%zu", count));
  http_reply_json(req, 200, list);
}

/* The user of the path, for an admin; false after replying. */
static bool
user_or_404(struct http_request *req, struct user *u)
{
  db_t *db = admin_or_reply(req) ? database_or_reply(req) : NULL;
  return db && object_or_404(req, users_get(db, req->ids[0], &req->arena, u), NO_USER);
}

void
users_admin_get_view(struct http_request *req)
{
  struct user u;
  if (user_or_404(req, &u))
    http_reply_json(req, 200, users_serialize(&u, true));
}

void
users_admin_update_view(struct http_request *req)
{
  struct user u;
  if (user_or_404(req, &u))
    update_user(req, &u, true, true);
}

/* A user deleted, as a unit of work: the other apps wind up their rows first. */
struct delete_unit {
  int64_t user_id, now;
  arena_t *arena;
};

static int
delete_unit(db_t *db, void *arg)
{
  struct delete_unit *unit = arg;
  return users_delete(db, unit->user_id, unit->now, unit->arena);
}

static void
delete_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (object_or_404(req, rc, NO_USER))
    http_reply_empty(req, 204);
}

void
users_admin_delete_view(struct http_request *req)
{
  struct delete_unit unit = {req->ids[0], time_now_us(), &req->arena};
  if (admin_or_reply(req))
    write_or_reply(req, delete_unit, &unit, sizeof unit, delete_reply);
}
