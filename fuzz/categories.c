/*
 * categories.c - a category's body (categories_validate) and the slug made
 * from its name (categories_slugify), as a create and a partial update.
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

/* A slug as DRF's SlugField takes it: [A-Za-z0-9_-]+ (upper case allowed). */
static void
check_slug(const char *slug)
{
  FUZZ_CHECK(*slug != '\0');
  for (const char *c = slug; *c; c++)
    FUZZ_CHECK((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
               (*c >= '0' && *c <= '9') || *c == '-' || *c == '_');
}

/* Django's slugify: [a-z0-9_-], never beginning or ending with '-' or '_'. */
static void
check_slugified(const char *slug)
{
  size_t len = strlen(slug);
  for (const char *c = slug; *c; c++)
    FUZZ_CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_');
  FUZZ_CHECK(len == 0 || (slug[0] != '-' && slug[0] != '_' && slug[len - 1] != '-' &&
                          slug[len - 1] != '_'));
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
    struct category c = {.id = 2};
    if (partial) {
      c.name = "Meetups";
      c.slug = "meetups";
    }
    json_t *errors = json_object();
    categories_validate(body, partial, &arena, &c, errors);
    fuzz_check_errors(errors);
    if (!json_errors_any(errors)) {
      FUZZ_CHECK(c.name != NULL && text_valid_utf8(c.name, strlen(c.name)));
      if (c.slug != NULL) /* absent on a create: the view makes it from the name */
        check_slug(c.slug);
    }
    json_decref(errors);
  }
  json_t *name = json_object_get(body, "name");
  if (json_is_string(name)) {
    char *slug = categories_slugify(&arena, json_string_value(name));
    FUZZ_CHECK(slug != NULL);
    check_slugified(slug);
  }
  json_decref(body);
  arena_free(&arena);
  return 0;
}
