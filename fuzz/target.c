/*
 * target.c - the request target (http_target_parse): the path
 * percent-decoded, the query string split into decoded parameters.
 *
 * Input: the target as sent on the request line ("/path?query").
 */
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "http/query.h"
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
  char *target = fuzz_text(data, size);
  arena_t arena = {0};
  const char *path = NULL;
  struct http_param *params = NULL;
  size_t count = 0;
  enum http_target_error rc = http_target_parse(&arena, target, &path, &params, &count);
  FUZZ_CHECK(rc == HTTP_TARGET_OK || rc == HTTP_TARGET_NUL_IN_PATH ||
             rc == HTTP_TARGET_NUL_IN_QUERY || rc == HTTP_TARGET_TOO_MANY_PARAMS);
  FUZZ_CHECK(path != NULL);
  if (rc == HTTP_TARGET_OK) {
    /* query.h: the path decoded, invalid UTF-8 replaced, no NUL anywhere. */
    FUZZ_CHECK(text_valid_utf8(path, strlen(path)));
    FUZZ_CHECK(count <= HTTP_QUERY_MAX_PARAMS);
    for (size_t i = 0; i < count; i++) {
      FUZZ_CHECK(params[i].name != NULL && params[i].value != NULL);
      FUZZ_CHECK(text_valid_utf8(params[i].name, strlen(params[i].name)));
      FUZZ_CHECK(text_valid_utf8(params[i].value, strlen(params[i].value)));
    }
  }
  arena_free(&arena);
  free(target);
  return 0;
}
