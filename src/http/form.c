/*
 * form.c - urlencoded and multipart form bodies as JSON objects of strings.
 */
#include "http/form.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/text.h"
#include "http/multipart.h"
#include "http/query.h"

static const char NOT_UTF8[] = "A field name or value is not valid UTF-8.";
static const char HOLDS_NUL[] = "A field name or value holds a NUL character.";

bool
form_is_urlencoded(const char *content_type)
{
  static const char type[] = "application/x-www-form-urlencoded";
  size_t len = strcspn(content_type, ";");
  while (len > 0 && (content_type[len - 1] == ' ' || content_type[len - 1] == '\t'))
    len--;
  return len == sizeof type - 1 && strncasecmp(content_type, type, len) == 0;
}


/* Checks text[0..len) as a name or value: 0, or EVENTAPI_EINVAL with *why. */
static int
check_text(const char *text, size_t len, const char **why)
{
  if (memchr(text, '\0', len) != NULL) {
    *why = HOLDS_NUL;
    return EVENTAPI_EINVAL;
  }
  if (!text_valid_utf8(text, len)) {
    *why = NOT_UTF8;
    return EVENTAPI_EINVAL;
  }
  return 0;
}

/* Sets obj[name[0..name_len)] to the string value[0..value_len): the last one wins. */
static int
set_field(json_t *obj, const char *name, size_t name_len, const char *value, size_t value_len)
{
  char *key = strndup(name, name_len);
  json_t *string = json_stringn(value, value_len);
  if (key == NULL || string == NULL) {
    free(key);
    json_decref(string);
    return EVENTAPI_ENOMEM;
  }
  int rc = json_object_set_new(obj, key, string) == 0 ? 0 : EVENTAPI_ENOMEM; /* steals it */
  free(key);
  return rc;
}

int
form_parse_urlencoded(const char *body, size_t len, json_t **out, const char **why)
{
  *out = NULL;
  /* parse_qsl's max_num_fields: 1 + the number of separators. */
  size_t fields = len > 0;
  for (size_t i = 0; i < len; i++)
    fields += body[i] == '&';
  if (fields > FORM_FIELDS_MAX) {
    *why = "Too many fields (the limit is 1000).";
    return EVENTAPI_EINVAL;
  }
  json_t *obj = json_object();
  char *buffer = malloc(len + 1);
  if (obj == NULL || buffer == NULL) {
    json_decref(obj);
    free(buffer);
    *why = "out of memory";
    return EVENTAPI_ENOMEM;
  }
  int rc = 0;
  for (size_t start = 0; rc == 0 && start < len;) {
    const char *pair = body + start;
    const char *amp = memchr(pair, '&', len - start);
    size_t pair_len = amp ? (size_t)(amp - pair) : len - start;
    start += pair_len + 1;
    if (pair_len == 0)
      continue;
    const char *eq = memchr(pair, '=', pair_len);
    size_t raw_name_len = eq ? (size_t)(eq - pair) : pair_len;
    /* Name and value decoded one after the other into the buffer. */
    size_t name_len = http_percent_decode(pair, raw_name_len, true, buffer);
    size_t value_len =
        eq ? http_percent_decode(eq + 1, pair_len - raw_name_len - 1, true, buffer + name_len) : 0;
    rc = check_text(buffer, name_len, why);
    if (rc == 0)
      rc = check_text(buffer + name_len, value_len, why);
    if (rc == 0 && (rc = set_field(obj, buffer, name_len, buffer + name_len, value_len)) < 0)
      *why = "out of memory";
  }
  free(buffer);
  if (rc < 0) {
    json_decref(obj);
    return rc;
  }
  *out = obj;
  return 0;
}

struct fields {
  json_t *obj;
  const char *why;
};

static int
add_text_part(void *ctx, const struct multipart_part *part)
{
  struct fields *f = ctx;
  if (part->filename != NULL)
    return 0; /* a file: no endpoint that reads fields takes one */
  int rc = check_text(part->name, strlen(part->name), &f->why);
  if (rc == 0)
    rc = check_text(part->data, part->len, &f->why);
  if (rc == 0 && (rc = set_field(f->obj, part->name, strlen(part->name), part->data,
                                 part->len)) < 0)
    f->why = "out of memory";
  return rc;
}

int
form_parse_multipart(const char *content_type, const char *body, size_t len, arena_t *arena,
                     json_t **out, const char **why)
{
  struct fields f = {.obj = json_object()};
  *out = NULL;
  if (f.obj == NULL) {
    *why = "out of memory";
    return EVENTAPI_ENOMEM;
  }
  int rc = multipart_each(content_type, body, len, arena, add_text_part, &f, why);
  if (rc < 0) {
    if (f.why)
      *why = f.why;
    json_decref(f.obj);
    return rc;
  }
  *out = f.obj;
  return 0;
}

void
form_blank_as_absent(struct http_request *req, json_t *body, const char *const *names)
{
  const char *type = http_header(req, "Content-Type");
  if (req->body_len == 0 || type == NULL ||
      !(form_is_urlencoded(type) || multipart_is_form_data(type)))
    return;
  for (; *names; names++) {
    json_t *value = json_object_get(body, *names);
    if (json_is_string(value) && json_string_length(value) == 0)
      json_object_del(body, *names);
  }
}
