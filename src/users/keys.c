/*
 * keys.c - API keys (see keys.h).
 */
#include "users/keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/timefmt.h"
#include "events/models.h"
#include "events/staff.h"

/* How often a key's last use is written down, at most. */
#define LAST_USED_EVERY_US (INT64_C(60) * 1000000)

void
users_key_new(char out[USERS_KEY_LEN + 1])
{
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  memcpy(out, "eak_", 4);
  sodium_bin2base64(out + 4, USERS_KEY_LEN + 1 - 4, bytes, sizeof bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(bytes, sizeof bytes);
}

/* The hex SHA-256 of key, as the table keeps it. */
static void
key_hash(const char *key, char out[2 * crypto_hash_sha256_BYTES + 1])
{
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, (const unsigned char *)key, strlen(key));
  sodium_bin2hex(out, 2 * crypto_hash_sha256_BYTES + 1, digest, sizeof digest);
}

/* Scope bits as the table keeps them: their names, space-separated. */
static const char *
scopes_text(unsigned scopes, arena_t *arena)
{
  char text[128] = "";
  for (unsigned i = 0; i < SCOPE_COUNT; i++) {
    if (!(scopes & (1u << i)))
      continue;
    if (text[0])
      strcat(text, " ");
    strcat(text, scope_name((enum scope)(1u << i)));
  }
  return arena_strdup(arena, text);
}

static unsigned
scopes_parse_text(const char *text)
{
  unsigned scopes = 0;
  char copy[128];
  snprintf(copy, sizeof copy, "%s", text);
  for (char *save = NULL, *name = strtok_r(copy, " ", &save); name;
       name = strtok_r(NULL, " ", &save))
    scopes |= (unsigned)scope_parse(name);
  return scopes;
}

/* "scopes": a non-empty list of scope names, into *scopes. */
static void
validate_scopes(json_t *body, arena_t *arena, unsigned *scopes, json_t *errors)
{
  json_t *list = json_object_get(body, "scopes");
  if (list == NULL) {
    json_error_add(errors, "scopes", "This field is required.");
    return;
  }
  if (!json_is_array(list)) {
    json_error_add(errors, "scopes",
                   json_is_null(list) ? "This field may not be null."
                   : arena_printf(arena, "Expected a list of items but got type \"%s\".",
                                  json_python_type(list)));
    return;
  }
  if (json_array_size(list) == 0) {
    json_error_add(errors, "scopes", "This selection may not be empty.");
    return;
  }
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    enum scope scope = json_is_string(item) ? scope_parse(json_string_value(item)) : 0;
    if (scope == 0) {
      json_error_add(errors, "scopes", arena_printf(arena, "\"%s\" is not a valid choice.",
                     json_is_string(item) ? json_string_value(item) : json_python_type(item)));
      return;
    }
    *scopes |= (unsigned)scope;
  }
}

/* "event": null, or an event who may change or work the door of. */
static int
validate_event(json_t *body, db_t *db, const struct principal *who, arena_t *arena,
               int64_t *event_id, json_t *errors)
{
  json_t *value = json_object_get(body, "event");
  if (value == NULL || json_is_null(value))
    return 0;
  if (!json_is_integer(value)) {
    json_error_add(errors, "event", arena_printf(arena,
                   "Incorrect type. Expected pk value, received %s.", json_python_type(value)));
    return 0;
  }
  int64_t id = json_integer_value(value);
  struct event e;
  bool may = false, can_export;
  int rc = id > 0 ? events_get(db, id, arena, &e) : EVENTAPI_ENOTFOUND;
  if (rc == 0)
    rc = events_staff_door(db, e.id, e.organizer_id, who, &may, &can_export);
  if (rc < 0 && rc != EVENTAPI_ENOTFOUND)
    return rc;
  if (rc == 0 && may)
    *event_id = id;
  else
    json_error_add(errors, "event", arena_printf(arena,
                   "Invalid pk \"%lld\" - object does not exist.", (long long)id));
  return 0;
}

int
users_keys_validate(json_t *body, db_t *db, const struct principal *who, int64_t now,
                    arena_t *arena, struct api_key *k, json_t *errors)
{
  json_field_string(body, "name", &(struct string_rules){.required = true,
                    .max_length = USERS_KEY_NAME_MAX}, errors, arena, &k->name);
  validate_scopes(body, arena, &k->scopes, errors);
  int rc = validate_event(body, db, who, arena, &k->event_id, errors);
  if (rc < 0)
    return rc;
  json_t *expires = json_object_get(body, "expires_at");
  if (expires && !json_is_null(expires) &&
      json_field_datetime(body, "expires_at", false, errors, &k->expires_at) == FIELD_SET &&
      k->expires_at <= now)
    json_error_add(errors, "expires_at", "Ensure this value is in the future.");
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

int
users_keys_insert(db_t *db, struct api_key *k, const char *key)
{
  db_stmt_t *st = db_prepare(db, "SELECT count(*) FROM api_keys WHERE user_id = ?");
  if (st)
    db_bind_int(st, 1, k->user_id);
  int64_t held;
  int rc = db_int(st, &held);
  if (rc < 0)
    return rc;
  if (held >= USERS_KEYS_PER_USER_MAX)
    return EVENTAPI_ECONFLICT;
  char hash[2 * crypto_hash_sha256_BYTES + 1];
  key_hash(key, hash);
  arena_t arena = {0};
  const char *scopes = scopes_text(k->scopes, &arena);
  st = scopes ? db_prepare(db, "INSERT INTO api_keys (user_id, name, prefix, hash, scopes,"
                               " event_id, expires_at, created_at)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id") : NULL;
  if (st) {
    db_bind_int(st, 1, k->user_id);
    db_bind_text(st, 2, k->name);
    db_bind_text(st, 3, k->prefix);
    db_bind_text(st, 4, hash);
    db_bind_text(st, 5, scopes);
    if (k->event_id)
      db_bind_int(st, 6, k->event_id);
    else
      db_bind_null(st, 6);
    if (k->expires_at)
      db_bind_int(st, 7, k->expires_at);
    else
      db_bind_null(st, 7);
    db_bind_int(st, 8, k->created_at);
  }
  rc = scopes == NULL ? EVENTAPI_ENOMEM : st == NULL ? EVENTAPI_EDB : db_step_id(st, &k->id);
  arena_free(&arena);
  return rc;
}

#define KEY_COLUMNS \
  "id, user_id, name, prefix, scopes, event_id, expires_at, last_used_at, created_at"

static int
read_key(db_stmt_t *st, arena_t *arena, void *out)
{
  struct api_key *k = out;
  bool failed = false;
  k->id = db_column_int(st, 0);
  k->user_id = db_column_int(st, 1);
  k->name = db_column_text_dup(st, 2, arena, &failed);
  k->prefix = db_column_text_dup(st, 3, arena, &failed);
  k->scopes = scopes_parse_text(db_column_text(st, 4));
  k->event_id = db_column_int_or(st, 5, 0);
  k->expires_at = db_column_int_or(st, 6, 0);
  k->last_used_at = db_column_int_or(st, 7, 0);
  k->created_at = db_column_int(st, 8);
  return failed ? EVENTAPI_ENOMEM : 0;
}

int
users_keys_list(db_t *db, int64_t user_id, int64_t limit, int64_t offset, arena_t *arena,
                struct api_key **out, size_t *count, int64_t *total)
{
  void *list;
  int rc = db_page(db, "SELECT count(*) FROM api_keys WHERE user_id = ?",
                   "SELECT " KEY_COLUMNS " FROM api_keys WHERE user_id = ?"
                   " ORDER BY id DESC LIMIT ? OFFSET ?",
                   limit, offset, read_key, sizeof **out, arena, &list, count, total, "i",
                   user_id);
  *out = list;
  return rc;
}

int
users_keys_delete(db_t *db, int64_t user_id, int64_t id)
{
  int changes = 0;
  int rc = db_exec(db, "DELETE FROM api_keys WHERE id = ? AND user_id = ?", &changes, "ii", id,
                   user_id);
  return rc < 0 ? rc : changes == 1 ? 0 : EVENTAPI_ENOTFOUND;
}

/* ---- a request with a key ------------------------------------------------ */

/* A key's last use, written down after the request that used it. */
struct touch {
  int64_t id, now;
};

static int
touch_unit(db_t *db, void *arg)
{
  const struct touch *t = arg;
  return db_exec(db, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", NULL, "ii", t->now,
                 t->id);
}

static void
touch_done(void *arg, int rc)
{
  (void)rc; /* a last use not written down is written by the next one */
  free(arg);
}

int
users_keys_load_principal(const char *key, struct principal *out, bool *active)
{
  if (strlen(key) != USERS_KEY_LEN || strncmp(key, "eak_", 4) != 0)
    return EVENTAPI_ENOTFOUND;
  db_t *db = db_thread();
  if (db == NULL)
    return EVENTAPI_EUNAVAILABLE;
  char hash[2 * crypto_hash_sha256_BYTES + 1];
  key_hash(key, hash);
  db_stmt_t *st = db_prepare(db, "SELECT k.id, k.scopes, k.event_id, k.expires_at,"
                                 " k.last_used_at, u.id, u.role, u.is_active,"
                                 " u.token_generation"
                                 " FROM api_keys k JOIN users u ON u.id = k.user_id"
                                 " WHERE k.hash = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, hash);
  int rc = db_step(st);
  int64_t now = time_now_us(), last_used = 0;
  if (rc == DB_ROW) {
    int64_t expires_at = db_column_int_or(st, 3, 0);
    out->key_id = db_column_int(st, 0);
    out->key_scopes = scopes_parse_text(db_column_text(st, 1));
    out->key_event = db_column_int_or(st, 2, 0);
    last_used = db_column_int_or(st, 4, 0);
    out->id = db_column_int(st, 5);
    if (role_parse(db_column_text(st, 6), &out->role) < 0)
      out->role = ROLE_ATTENDEE;
    *active = db_column_int(st, 7) != 0;
    out->token_generation = db_column_int(st, 8);
    rc = expires_at != 0 && expires_at <= now ? EVENTAPI_ENOTFOUND : 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_ENOTFOUND;
  }
  db_reset(st);
  if (rc == 0 && now - last_used >= LAST_USED_EVERY_US) {
    struct touch *t = malloc(sizeof *t);
    if (t) {
      *t = (struct touch){out->key_id, now};
      db_write_async(touch_unit, t, touch_done, t);
    }
  }
  return rc;
}

json_t *
users_keys_serialize(const struct api_key *k, const char *key)
{
  json_t *scopes = json_array();
  for (unsigned i = 0; i < SCOPE_COUNT; i++)
    if (k->scopes & (1u << i))
      json_array_append_new(scopes, json_string(scope_name((enum scope)(1u << i))));
  json_t *obj = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)k->id,
                          "name", k->name, "prefix", k->prefix, "scopes", scopes,
                          "event", json_id_or_null(k->event_id),
                          "expires_at", json_time_or_null(k->expires_at),
                          "last_used_at", json_time_or_null(k->last_used_at),
                          "created_at", json_time(k->created_at));
  if (obj && key)
    json_object_set_new(obj, "key", json_string(key));
  return obj;
}
