/*
 * json_body.c - the request body as request data (http_body_parse, what
 * http_json_body() reads): JSON, application/x-www-form-urlencoded and
 * multipart/form-data, chosen by the Content-Type.
 *
 * Input: the Content-Type line (empty for none), then the body.
 */
#include <stdlib.h>

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
  if (body != NULL) {
    /* What a view echoes back must serialise. */
    char *text = json_dumps(body, JSON_COMPACT);
    FUZZ_CHECK(text != NULL);
    free(text);
    json_decref(body);
  }
  arena_free(&arena);
  return 0;
}
