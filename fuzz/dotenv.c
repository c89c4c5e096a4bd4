/*
 * dotenv.c - the .env file (dotenv_parse): KEY=VALUE lines, comments,
 * export, quoting and escapes.
 *
 * Input: the file's bytes (not NUL-terminated, as dotenv_parse allows).
 */
#include <stdlib.h>
#include <string.h>

#include "core/dotenv.h"
#include "core/error.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

static bool
key_valid(const char *key)
{
  if (!((*key >= 'A' && *key <= 'Z') || (*key >= 'a' && *key <= 'z') || *key == '_'))
    return false;
  for (const char *c = key + 1; *c; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
          *c == '_'))
      return false;
  return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* Exactly size bytes, no NUL after them: a read past the end is caught. */
  char *text = malloc(size ? size : 1);
  if (text == NULL)
    abort();
  if (size > 0)
    memcpy(text, data, size);
  struct dotenv env = {0};
  int bad_line = 0;
  int rc = dotenv_parse(text, size, &env, &bad_line);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  if (rc == 0) {
    for (size_t i = 0; i < env.count; i++) {
      FUZZ_CHECK(key_valid(env.entries[i].key));
      FUZZ_CHECK(env.entries[i].value != NULL);
      /* One entry per key: the last value given. */
      FUZZ_CHECK(dotenv_get(&env, env.entries[i].key) == env.entries[i].value);
    }
  } else {
    FUZZ_CHECK(bad_line >= 1);
  }
  dotenv_free(&env);
  free(text);
  return 0;
}
