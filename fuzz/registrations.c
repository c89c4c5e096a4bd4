/*
 * registrations.c - a registration body's fields (registrations_pk_field):
 * "event" (POST /api/registrations/) and "ticket_type".
 *
 * Input: the Content-Type line, then the body.
 */
#include "core/error.h"
#include "core/jsonutil.h"
#include "registrations/serializers.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
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
  static const char *const fields[] = {"event", "ticket_type"};
  json_t *errors = json_object();
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    int64_t id = 0;
    enum field_result got = registrations_pk_field(body, fields[i], errors, &arena, &id);
    FUZZ_CHECK(got == FIELD_SET || got == FIELD_ABSENT || got == FIELD_INVALID);
    FUZZ_CHECK((got == FIELD_INVALID) == (json_object_get(errors, fields[i]) != NULL));
  }
  fuzz_check_errors(errors);
  json_decref(errors);
  json_decref(body);
  arena_free(&arena);
  return 0;
}
