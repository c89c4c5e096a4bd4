/*
 * models.h - users and the refresh-token blacklist: structs and every SQL
 * statement for them.
 *
 * Strings of a struct user read from the database live in the arena passed
 * to the reading function.
 */
#ifndef EVENTAPI_USERS_MODELS_H
#define EVENTAPI_USERS_MODELS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "db/db.h"

#define USERNAME_MAX 150
#define NAME_MAX_CHARS 150
#define EMAIL_MAX 254

struct user {
  int64_t id;
  const char *username;
  const char *email;
  const char *first_name;
  const char *last_name;
  const char *password; /* the argon2id hash */
  enum role role;
  bool is_active;
  int64_t date_joined;
  int64_t token_generation; /* tokens issued at another generation are ended */
};

/* 0 with *out filled, EVENTAPI_ENOTFOUND, or a database error. */
int users_get(db_t *db, int64_t id, arena_t *arena, struct user *out);

/* Looks a user up by email, case-insensitively. As users_get. */
int users_get_by_email(db_t *db, const char *email, arena_t *arena, struct user *out);

/* Looks a user up by username, case-insensitively. As users_get. */
int users_get_by_username(db_t *db, const char *username, arena_t *arena, struct user *out);

/* All users by id. *out is an arena array of *count users. */
int users_list(db_t *db, arena_t *arena, struct user **out, size_t *count);

/*
 * Whether another user (not except_id) holds username / email
 * case-insensitively: 0 with the answer in *found, or a database error.
 */
int users_username_taken(db_t *db, const char *username, int64_t except_id, bool *found);
int users_email_taken(db_t *db, const char *email, int64_t except_id, bool *found);

/*
 * Adds the uniqueness errors of u's username (when check_username) and
 * email to errors (Django's messages). Returns 0, EVENTAPI_EINVAL when
 * errors holds any (these or others), or a database error.
 */
int users_check_unique(db_t *db, const struct user *u, bool check_username, json_t *errors);

/*
 * Writes u as a unit of work does: created (creating) or updated, its
 * username (when creating) and email checked against the other users
 * first. EVENTAPI_EINVAL with errors (cleared first: a unit may run again)
 * when one is taken; the unique indexes on their folded forms are the last
 * word when another node wins the race.
 */
int users_save(db_t *db, struct user *u, bool creating, json_t *errors);

/* Inserts u (id ignored) and sets u->id. EVENTAPI_ECONSTRAINT when taken. */
int users_insert(db_t *db, struct user *u);

/*
 * Writes email, names, role and is_active of u->id. Deactivating an active
 * user also ends every token issued to them (moves their token generation
 * on), decided on the row itself, so racing updates end them exactly once.
 */
int users_update(db_t *db, const struct user *u);

/*
 * Sets the password hash of user id and ends every token issued to them
 * before (moves their token generation on): tokens issued from the commit
 * on carry the new generation and work. Inside db_begin(DB_WRITE).
 */
int users_set_password(db_t *db, int64_t id, const char *hash);

/* Replaces the hash old (a Django hash, password_needs_rehash) with hash,
 * the same password's: tokens stay valid. Nothing when the password
 * changed meanwhile. Returns 0 or a negative code. */
int users_upgrade_password(db_t *db, int64_t id, const char *old, const char *hash);

/*
 * Deletes user id, after sending users_deleting (users/signals.h) so that
 * the other apps wind up the user's rows first. EVENTAPI_ENOTFOUND when
 * there was no such user. Inside a write transaction.
 */
int users_delete(db_t *db, int64_t id, int64_t now, arena_t *arena);

/*
 * The http_user_loader of the auth middleware (uses the thread's connection):
 * role, is_active and token generation of user id, in one indexed query.
 */
int users_load_principal(int64_t id, struct principal *out, bool *active);

/*
 * Creates an admin (the `createsuperuser` command): validates username,
 * email and password as sign-up does, on the thread's connection. Returns 0,
 * or EVENTAPI_EINVAL / EVENTAPI_ECONFLICT with the reason in err.
 */
int users_create_superuser(const char *username, const char *email,
                           const char *password, char *err, size_t errlen);

/* The refresh-token blacklist (jti of a token and its expiry). */
int users_token_blacklist_add(db_t *db, const char *jti, int64_t user_id, int64_t expires_at_us);
/* Whether jti is blacklisted: 0 with the answer in *blacklisted, or a database error. */
int users_token_blacklisted(db_t *db, const char *jti, bool *blacklisted);

#endif
