/*
 * form.c - application/x-www-form-urlencoded bodies (form_parse_urlencoded).
 *
 * Input: the body.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "http/form.h"
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
  /* Exactly the body's bytes, so that a read past them is caught. */
  char *body = fuzz_text(data, size);
  json_t *fields = NULL;
  const char *why = NULL;
  int rc = form_parse_urlencoded(body, size, &fields, &why);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  FUZZ_CHECK((rc == 0) == (fields != NULL));
  FUZZ_CHECK(rc == 0 || why != NULL);
  if (fields) {
    FUZZ_CHECK(json_object_size(fields) <= FORM_FIELDS_MAX);
    const char *name;
    json_t *value;
    json_object_foreach(fields, name, value) {
      FUZZ_CHECK(json_is_string(value));
      FUZZ_CHECK(text_valid_utf8(name, strlen(name)));
      FUZZ_CHECK(text_valid_utf8(json_string_value(value), json_string_length(value)));
    }
  }
  json_decref(fields);
  free(body);
  return 0;
}
