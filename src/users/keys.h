/*
 * keys.h - API keys: for scanners, kiosks and integrations that cannot log
 * in every 30 minutes (docs/api.md, "API keys").
 *
 * A key is "eak_" and 32 random bytes in unpadded base64url, shown once,
 * when it is made. Only its SHA-256 is kept (32 random bytes leave nothing
 * to guess, so a slow hash would add nothing but time to every request),
 * and its first characters, to recognise it in a list. A key acts as the
 * user who made it, as that user is at each request (their role; nothing
 * once they are inactive or gone), within its scopes and, when it names
 * one, its event.
 */
#ifndef EVENTAPI_USERS_KEYS_H
#define EVENTAPI_USERS_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "db/db.h"

#define USERS_KEY_LEN (4 + 43)     /* "eak_" and 32 bytes of base64url */
#define USERS_KEY_PREFIX_LEN 12    /* what a list shows of it */
#define USERS_KEYS_PER_USER_MAX 20
#define USERS_KEY_NAME_MAX 100

struct api_key {
  int64_t id;
  int64_t user_id;
  const char *name;
  const char *prefix;
  unsigned scopes;           /* enum scope bits */
  int64_t event_id;          /* 0: every event */
  int64_t expires_at;        /* 0: never */
  int64_t last_used_at;      /* 0: never used */
  int64_t created_at;
};

/* A new key into out (NUL-terminated). */
void users_key_new(char out[USERS_KEY_LEN + 1]);

/*
 * Validates the body of a new key ("name", "scopes", "event", "expires_at")
 * for who into k, DRF's messages into errors: 0, EVENTAPI_EINVAL, or a
 * database error. The event must be one who may work at the door of or
 * change.
 */
int users_keys_validate(json_t *body, db_t *db, const struct principal *who, int64_t now,
                        arena_t *arena, struct api_key *k, json_t *errors);

/*
 * Inserts k with key (its id into k->id): EVENTAPI_ECONFLICT when its user
 * has USERS_KEYS_PER_USER_MAX keys already. A unit of work.
 */
int users_keys_insert(db_t *db, struct api_key *k, const char *key);

/* One page of user_id's keys, newest first, and how many there are. */
int users_keys_list(db_t *db, int64_t user_id, int64_t limit, int64_t offset, arena_t *arena,
                    struct api_key **out, size_t *count, int64_t *total);

/* Revokes user_id's key id: 0, or EVENTAPI_ENOTFOUND. A unit of work. */
int users_keys_delete(db_t *db, int64_t user_id, int64_t id);

/* The principal of key (http_key_loader). */
int users_keys_load_principal(const char *key, struct principal *out, bool *active);

/* {"id","name","prefix","scopes","event","expires_at","last_used_at",
 *  "created_at"}, and "key" when key is not NULL (only when it is made). */
json_t *users_keys_serialize(const struct api_key *k, const char *key);

#endif
