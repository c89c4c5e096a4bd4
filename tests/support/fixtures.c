/*
 * fixtures.c - what many tests make: events, categories, the ids of what was
 * made, tickets' codes, images.
 */
#include "support/api.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support/image.h"

const char *api_dump(const json_t *json)
{
  char *text = json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  if (!text)
    return "(null)";
  api_keep(text, free);
  return text;
}

long long api_id(const struct api_resp *r)
{
  json_t *id = json_object_get(r->json, "id");
  expect_that(json_is_integer(id) && json_integer_value(id) > 0,
              "expected a positive id from %s %s: %ld %s", r->method, r->path, r->status,
              r->body);
  return (long long)json_integer_value(id);
}

long long api_int(const json_t *json, const char *key)
{
  json_t *value = json_object_get(json, key);
  expect_that(json_is_integer(value), "expected an integer \"%s\" in %s", key, api_dump(json));
  return (long long)json_integer_value(value);
}

const char *api_event_json(const char *overrides)
{
  json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:i}", "title", "Jazz Night",
                           "description", "", "date_time", api_date(API_EVENT_WHEN),
                           "location", "Berlin", "capacity", 100);
  cr_assert(body != NULL);
  if (overrides && overrides[0]) {
    json_error_t error;
    json_t *over = json_loads(api_json(overrides), 0, &error);
    if (!json_is_object(over)) {
      json_decref(over);
      json_decref(body);
      cr_assert_fail("bad event overrides %s: %s", overrides, error.text);
    }
    json_object_update(body, over);
    json_decref(over);
  }
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  cr_assert(text != NULL);
  api_keep(text, free);
  return text;
}

/* The ids of the items of r's list field, into ids (at most max). */
static void ids_of(struct api_resp *r, const char *field, long long *ids, size_t max)
{
  json_t *list = json_object_get(r->json, field);
  expect_that(json_is_array(list), "expected a list \"%s\": %s", field, r->body);
  for (size_t i = 0; i < json_array_size(list) && i < max; i++)
    ids[i] = api_int(json_array_get(list, i), "id");
}

struct api_event api_create_event(const char *token, const char *overrides)
{
  struct api_resp *r = api_post("/api/events/create/", token, api_event_json(overrides));
  expect_status(r, 200);
  struct api_event e = { .id = api_id(r), .resp = r };
  ids_of(r, "ticket_types", e.ticket_types, sizeof e.ticket_types / sizeof *e.ticket_types);
  ids_of(r, "sessions", e.sessions, sizeof e.sessions / sizeof *e.sessions);
  return e;
}

long long api_create_category(const char *token, const char *name)
{
  struct api_resp *r = api_post("/api/events/categories/", token,
                                api_jsonf("{'name':'%s'}", name));
  expect_status(r, 201);
  return api_id(r);
}

const char *api_ticket_code(const struct api_resp *r)
{
  json_t *ticket = json_object_get(r->json, "ticket");
  const char *code = json_string_value(json_object_get(ticket, "code"));
  expect_that(code != NULL, "expected a ticket: %s", r->body);
  return code;
}

const unsigned char *api_png_declaring(size_t size, uint32_t width, uint32_t height,
                                       size_t *len)
{
  unsigned char *png = image_png(size, width, height, len);
  api_keep(png, free);
  return png;
}

const unsigned char *api_png(size_t size, size_t *len)
{
  return api_png_declaring(size, 1, 1, len);
}
