#include "http/middleware.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "core/config.h"
#include "core/error.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "http/router.h"

static http_user_loader user_loader;
static http_key_loader key_loader;
static http_replayer replayer;

void
http_set_replayer(http_replayer fn)
{
  replayer = fn;
}

void
http_set_key_loader(http_key_loader loader)
{
  key_loader = loader;
}

void
http_set_user_loader(http_user_loader loader)
{
  user_loader = loader;
}

/* ---- request id ---- */

static bool
request_id_sane(const char *id)
{
  size_t len = strlen(id);
  if (len == 0 || len > 64)
    return false;
  for (const char *p = id; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':'))
      return false;
  }
  return true;
}

/*
 * 16 unpredictable bytes without a system call per request: each thread
 * draws a key from the system once, then takes ChaCha20's output for a
 * counter under that key (libsodium's deterministic generator), a new
 * counter each time.
 */
static void
request_id_bytes(unsigned char out[16])
{
  static _Thread_local unsigned char key[randombytes_SEEDBYTES];
  static _Thread_local uint64_t drawn;
  if (drawn == 0)
    randombytes_buf(key, sizeof key);
  drawn++;
  unsigned char seed[randombytes_SEEDBYTES];
  memcpy(seed, key, sizeof seed);
  for (size_t i = 0; i < sizeof drawn; i++)
    seed[i] ^= (unsigned char)(drawn >> (8 * i));
  randombytes_buf_deterministic(out, 16, seed);
}

void
middleware_request_id(struct http_request *req)
{
  const char *given = http_header(req, "X-Request-Id");
  if (given && request_id_sane(given)) {
    strcpy(req->request_id, given);
  } else {
    unsigned char bytes[16];
    request_id_bytes(bytes);
    text_hex(bytes, sizeof bytes, req->request_id);
  }
  http_add_header(req, "X-Request-Id", req->request_id);
}

/* ---- authentication ---- */

static void
reply_token_error(struct http_request *req, json_t *body)
{
  http_reply_json(req, 401, body); /* the server adds the Bearer challenge */
}

static void
reply_invalid_token(struct http_request *req)
{
  reply_token_error(req, json_pack(
      "{s:s, s:s, s:[{s:s, s:s, s:s}]}",
      "detail", "Given token not valid for any token type",
      "code", "token_not_valid",
      "messages",
      "token_class", "AccessToken", "token_type", "access",
      "message", "Token is invalid or expired"));
}

/* The Authorization header had more or fewer than two words: 401. */
static void
reply_bad_header(struct http_request *req)
{
  reply_token_error(req, json_pack("{s:s, s:s}",
      "detail", "Authorization header must contain two space-delimited values",
      "code", "bad_authorization_header"));
}

/*
 * What a loader answered (rc, active) of the caller: true when they are
 * there and active; else false after replying 401 (missing: detail and
 * code of missing; inactive) or the storage error.
 */
static bool
loaded_or_reply(struct http_request *req, int rc, bool active, const char *missing,
                const char *missing_code)
{
  if (rc == EVENTAPI_ENOTFOUND)
    reply_token_error(req, json_pack("{s:s, s:s}", "detail", missing, "code", missing_code));
  else if (rc < 0)
    http_reply_error(req, rc);
  else if (!active)
    reply_token_error(req, json_pack("{s:s, s:s}", "detail", "User is inactive",
                                     "code", "user_inactive"));
  return rc == 0 && active;
}

/*
 * The caller of an "Api-Key" header (n words, key the second): the key's
 * user within the key's scopes and event, or false after replying 401
 * (not a key, or its user inactive) or 403 (the route takes no key, or
 * needs a scope the key has not, or names no event when the key does).
 */
static bool
authenticate_key(struct http_request *req, int n, const char *key)
{
  if (n != 2) {
    reply_bad_header(req);
    return false;
  }
  bool active = false;
  req->user_storage = (struct principal){0};
  int rc = key_loader ? key_loader(key, &req->user_storage, &active) : EVENTAPI_ENOTFOUND;
  if (!loaded_or_reply(req, rc, active, "Invalid API key.", "api_key_not_valid"))
    return false;
  unsigned flags = req->route ? req->route->flags : 0;
  unsigned needs = ROUTE_KEY_SCOPE(flags);
  const char *problem = NULL;
  if (needs == 0)
    problem = "API keys may not be used here.";
  else if ((needs & req->user_storage.key_scopes) == 0)
    problem = arena_printf(&req->arena, "This API key does not have the scope \"%s\".",
                           scope_name((enum scope)needs));
  else if (req->user_storage.key_event != 0 && !(flags & ROUTE_ONE_EVENT))
    problem = arena_printf(&req->arena, "This API key is for event %lld only.",
                           (long long)req->user_storage.key_event);
  if (problem) {
    http_reply_json(req, 403, json_pack("{s:s}", "detail", problem));
    return false;
  }
  /* A ROUTE_ONE_EVENT route names its event by the path's first id (or a
   * ticket, whose views compare its event): another event is not there. */
  if (req->user_storage.key_event != 0 && req->nparams > 0 && req->ids[0] != 0 &&
      req->ids[0] != req->user_storage.key_event) {
    http_reply_detail(req, 404, "No Event matches the given query.");
    return false;
  }
  req->user = &req->user_storage;
  return true;
}

bool
middleware_authenticate(struct http_request *req)
{
  if (req->route && (req->route->flags & ROUTE_NO_AUTH))
    return true;
  const char *header = http_header(req, "Authorization");
  if (header == NULL)
    return true;
  /* SimpleJWT: split on whitespace; another scheme means "not ours". */
  char *copy = arena_strdup(&req->arena, header);
  if (copy == NULL) {
    http_reply_internal(req, "out of memory");
    return false;
  }
  char *parts[3] = {0};
  int n = 0;
  for (char *save = NULL, *tok = strtok_r(copy, " \t", &save); tok;
       tok = strtok_r(NULL, " \t", &save)) {
    if (n < 3)
      parts[n] = tok;
    n++;
  }
  if (n > 0 && strcmp(parts[0], "Api-Key") == 0)
    return authenticate_key(req, n, parts[1]);
  if (n == 0 || strcmp(parts[0], "Bearer") != 0)
    return true;
  if (n != 2) {
    reply_bad_header(req);
    return false;
  }
  struct token_claims claims;
  int64_t now = time_now_us() / 1000000;
  if (auth_token_verify_remembered(config->secret_key, strlen(config->secret_key), parts[1],
                                   TOKEN_ACCESS, now, &claims) < 0) {
    reply_invalid_token(req);
    return false;
  }
  bool active = false;
  req->user_storage = (struct principal){0};
  int rc = user_loader ? user_loader(claims.user_id, &req->user_storage, &active)
                       : EVENTAPI_ENOTFOUND;
  if (!loaded_or_reply(req, rc, active, "User not found", "user_not_found"))
    return false;
  /* Ended by a password change or a deactivation since it was issued. */
  if (claims.generation != req->user_storage.token_generation) {
    reply_invalid_token(req);
    return false;
  }
  req->user = &req->user_storage;
  return true;
}

/* ---- CORS ---- */

static char **cors_origins;
static size_t cors_count;
static bool cors_any;

int
middleware_cors_configure(const char *origins)
{
  middleware_cors_free();
  if (origins == NULL)
    return 0;
  char *copy = strdup(origins);
  if (copy == NULL)
    return EVENTAPI_ENOMEM;
  for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok;
       tok = strtok_r(NULL, ", \t", &save)) {
    if (strcmp(tok, "*") == 0) {
      cors_any = true;
      continue;
    }
    size_t len = strlen(tok);
    while (len > 0 && tok[len - 1] == '/')
      tok[--len] = '\0';
    char **grown = realloc(cors_origins, (cors_count + 1) * sizeof *grown);
    char *origin = strdup(tok);
    if (grown == NULL || origin == NULL) {
      free(origin);
      if (grown)
        cors_origins = grown;
      free(copy);
      return EVENTAPI_ENOMEM;
    }
    cors_origins = grown;
    cors_origins[cors_count++] = origin;
  }
  free(copy);
  return 0;
}

void
middleware_cors_free(void)
{
  for (size_t i = 0; i < cors_count; i++)
    free(cors_origins[i]);
  free(cors_origins);
  cors_origins = NULL;
  cors_count = 0;
  cors_any = false;
}

static bool
origin_allowed(const char *origin)
{
  if (cors_any)
    return true;
  for (size_t i = 0; i < cors_count; i++)
    if (strcmp(cors_origins[i], origin) == 0)
      return true;
  return false;
}

void
middleware_cors(struct http_request *req, unsigned allowed)
{
  const char *origin = http_header(req, "Origin");
  if (origin == NULL || (!cors_any && cors_count == 0) || !origin_allowed(origin))
    return;
  http_add_header(req, "Access-Control-Allow-Origin", cors_any ? "*" : origin);
  if (!cors_any)
    http_add_header(req, "Vary", "Origin");
  http_add_header(req, "Access-Control-Expose-Headers",
                  "X-Request-Id, X-Total-Count, Retry-After, ETag, Content-Disposition, "
                  "Idempotent-Replayed");
  if (req->method == HTTP_OPTIONS && http_header(req, "Access-Control-Request-Method")) {
    char *methods = arena_alloc(&req->arena, 64);
    if (methods) {
      router_allow_header(allowed, methods, 64);
      http_add_header(req, "Access-Control-Allow-Methods", methods);
    }
    http_add_header(req, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, X-Request-Id, If-None-Match, Idempotency-Key, X-Device");
    http_add_header(req, "Access-Control-Max-Age", "86400");
  }
}

/* ---- idempotency keys ---- */

#define IDEMPOTENCY_KEY_MAX 255

static bool
idempotency_key_sane(const char *key)
{
  size_t len = strlen(key);
  if (len == 0 || len > IDEMPOTENCY_KEY_MAX)
    return false;
  for (const char *p = key; *p; p++)
    if (*p < 0x20 || *p > 0x7e)
      return false;
  return true;
}

bool
middleware_idempotency(struct http_request *req)
{
  const char *key = http_header(req, "Idempotency-Key");
  enum http_method m = req->method;
  if (key == NULL || !(m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH || m == HTTP_DELETE))
    return true;
  if (!idempotency_key_sane(key)) {
    http_reply_detail(req, 400, "Idempotency-Key must be 1 to 255 printable ASCII characters.");
    return false;
  }
  /* Kept per user: anonymous writes (sign-up, login) and uploads (which
   * replace a file whole, idempotent as they are) run as without a key. */
  if (req->user == NULL || replayer == NULL ||
      (req->route->flags & (ROUTE_NO_AUTH | ROUTE_UPLOAD)) != 0)
    return true;
  crypto_hash_sha256_state state;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, (const unsigned char *)req->method_name,
                            strlen(req->method_name) + 1);
  crypto_hash_sha256_update(&state, (const unsigned char *)req->target, strlen(req->target) + 1);
  if (req->body)
    crypto_hash_sha256_update(&state, (const unsigned char *)req->body, req->body_len);
  crypto_hash_sha256_final(&state, digest);
  sodium_bin2hex(req->idempotency_fingerprint, sizeof req->idempotency_fingerprint, digest,
                 sizeof digest);
  req->idempotency_key = key;
  return !replayer(req);
}
