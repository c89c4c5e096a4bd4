/*
 * keys.c - the body of a new API key (users_keys_validate): name, scopes,
 * event (looked up in a database holding one event of the caller's and
 * one of another organizer's) and expires_at.
 *
 * Input: the Content-Type line, then the body.
 */
#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "users/keys.h"
#include "support.h"

static db_t *db;

/* The caller: organizer 2, whose event is 1; event 2 is organizer 3's. */
static const struct principal caller = {.id = 2, .role = ROLE_ORGANIZER};
#define NOW INT64_C(1800000000000000)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  db = fuzz_database("keys", FUZZ_TWO_ORGANIZERS);
  return 0;
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
  struct api_key k = {.user_id = caller.id, .created_at = NOW};
  json_t *errors = json_object();
  int rc = users_keys_validate(body, db, &caller, NOW, &arena, &k, errors);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  FUZZ_CHECK((rc == 0) == !json_errors_any(errors));
  if (rc == 0) {
    /* What passed is what the table keeps and the middleware trusts. */
    FUZZ_CHECK(k.name != NULL && k.name[0] != '\0' &&
               text_utf8_length(k.name) <= USERS_KEY_NAME_MAX);
    FUZZ_CHECK(k.scopes != 0 && (k.scopes & ~((1u << SCOPE_COUNT) - 1)) == 0);
    FUZZ_CHECK(k.event_id == 0 || k.event_id == 1);
    FUZZ_CHECK(k.expires_at == 0 || k.expires_at > NOW);
  }
  fuzz_check_errors(errors);
  json_decref(errors);
  json_decref(body);
  arena_free(&arena);
  return 0;
}
