/*
 * sessions.c - an event session's body (sessions_validate), as a create
 * and as a partial update.
 *
 * Input: the Content-Type line, then the body.
 */
#include <string.h>

#include "core/jsonutil.h"
#include "core/text.h"
#include "events/serializers.h"
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
  for (int partial = 0; partial < 2; partial++) {
    struct session s = {.id = 5, .event_id = 3, .speaker = "", .description = ""};
    if (partial) {
      s.title = "Keynote";
      s.start_time = INT64_C(1900000000000000);
      s.end_time = INT64_C(1900003600000000);
    }
    json_t *errors = json_object();
    sessions_validate(body, partial, &arena, &s, errors);
    fuzz_check_errors(errors);
    if (!json_errors_any(errors)) {
      FUZZ_CHECK(s.title != NULL && text_valid_utf8(s.title, strlen(s.title)));
      FUZZ_CHECK(s.speaker != NULL && text_valid_utf8(s.speaker, strlen(s.speaker)));
      FUZZ_CHECK(s.description != NULL);
      FUZZ_CHECK(s.start_time < s.end_time);
    }
    json_decref(errors);
  }
  json_decref(body);
  arena_free(&arena);
  return 0;
}
