/*
 * images.c - an uploaded image's structure (events_image_detect): PNG chunks,
 * JPEG segments, GIF blocks and WebP RIFF chunks, and the dimensions they
 * declare.
 *
 * Input: the file's bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "events/image_format.h"
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
  /* A copy of exactly size bytes, so that a read past the end is caught. */
  unsigned char *copy = malloc(size ? size : 1);
  if (copy == NULL)
    abort();
  if (size > 0)
    memcpy(copy, data, size);
  struct image_size dims = {123, 456};
  enum image_type type = events_image_detect(copy, size, &dims);
  FUZZ_CHECK(type >= IMAGE_NONE && type <= IMAGE_WEBP);
  if (type == IMAGE_NONE) {
    FUZZ_CHECK(dims.width == 0 && dims.height == 0);
    FUZZ_CHECK(events_image_extension(type) == NULL);
  } else {
    FUZZ_CHECK(events_image_extension(type) != NULL);
  }
  /* Without a size wanted, the same answer. */
  FUZZ_CHECK(events_image_detect(copy, size, NULL) == type);
  free(copy);
  return 0;
}
