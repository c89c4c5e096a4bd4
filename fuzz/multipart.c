/*
 * multipart.c - multipart/form-data bodies: the boundary of the
 * Content-Type (multipart_boundary), every part (multipart_each) and the
 * image upload's field (multipart_find), whose answers must agree.
 *
 * Input: the Content-Type line, then the body.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/multipart.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

struct walk {
  const char *body;
  size_t len;
  size_t parts;
  struct multipart_part last_image; /* the last part named "image" */
  bool image;
};

static int
visit(void *ctx, const struct multipart_part *part)
{
  struct walk *w = ctx;
  FUZZ_CHECK(part->name != NULL);
  FUZZ_CHECK(part->data >= w->body && part->len <= w->len &&
             (size_t)(part->data - w->body) <= w->len - part->len);
  w->parts++;
  if (strcmp(part->name, "image") == 0) {
    w->last_image = *part;
    w->image = true;
  }
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *newline = memchr(data, '\n', size);
  size_t type_len = newline ? (size_t)(newline - data) : size;
  char *type = fuzz_text(data, type_len);
  size_t len = newline ? size - type_len - 1 : 0;
  char *body = fuzz_text(newline ? newline + 1 : data, len);
  arena_t arena = {0};

  char boundary[MULTIPART_BOUNDARY_MAX + 1];
  int has_boundary = multipart_boundary(type, boundary) == 0;
  FUZZ_CHECK(!has_boundary || multipart_is_form_data(type));
  FUZZ_CHECK(!has_boundary || (strlen(boundary) >= 1 && strlen(boundary) <= MULTIPART_BOUNDARY_MAX));

  struct walk w = {.body = body, .len = len};
  const char *why = NULL;
  int each = multipart_each(type, body, len, &arena, visit, &w, &why);
  FUZZ_CHECK(each == 0 || each == EVENTAPI_EINVAL);
  FUZZ_CHECK(each == 0 || why != NULL);
  FUZZ_CHECK(each != 0 || has_boundary);
  FUZZ_CHECK(w.parts <= MULTIPART_PARTS_MAX);

  struct multipart_part image;
  int found = multipart_find(type, body, len, "image", &arena, &image, &why);
  if (each == 0) {
    /* A well-formed body: find sees what the walk saw. */
    FUZZ_CHECK(found == (w.image ? 0 : EVENTAPI_ENOTFOUND));
    if (found == 0)
      FUZZ_CHECK(image.data == w.last_image.data && image.len == w.last_image.len);
  } else {
    FUZZ_CHECK(found == EVENTAPI_EINVAL);
  }

  arena_free(&arena);
  free(body);
  free(type);
  return 0;
}
