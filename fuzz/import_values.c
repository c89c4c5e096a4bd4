/*
 * import_values.c - the readers of the values `eventapi import-django`
 * takes from the original's database (importer/django.h): Django's time
 * text and its UUIDs, as SQLite and PostgreSQL give them.
 *
 * Input: the first byte picks the reader (even: time, odd: UUID); the rest
 * is the column's text (cut at a NUL).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "importer/django.h"
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
  if (size == 0)
    return 0;
  char *text = malloc(size);
  if (text == NULL)
    return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  if (data[0] % 2 == 0) {
    int64_t us;
    /* Years 1 to 9999. */
    if (importer_django_time(text, &us))
      assert(us > INT64_C(-62135596800000000) && us < INT64_C(253402300800000000));
  } else {
    char code[37];
    if (importer_django_uuid(text, code)) {
      assert(strlen(code) == 36 && code[8] == '-' && code[13] == '-' && code[18] == '-' &&
             code[23] == '-');
      for (size_t i = 0; i < 36; i++)
        assert(code[i] == '-' || (code[i] >= '0' && code[i] <= '9') ||
               (code[i] >= 'a' && code[i] <= 'f'));
    }
  }
  free(text);
  return 0;
}
