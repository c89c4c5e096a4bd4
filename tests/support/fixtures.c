/*
 * fixtures.c - what many tests make: events, the ids of what was made, images.
 */
#include "support/api.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *dumps(const json_t *json)
{
  char *text = json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  if (!text)
    return "(none)";
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
  expect_that(json_is_integer(value), "expected an integer \"%s\" in %s", key, dumps(json));
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

static void put_be32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* A chunk of len bytes of data at out (NULL data: the zeros already there). */
static size_t png_chunk(unsigned char *out, const char *type, const unsigned char *data,
                        size_t len)
{
  put_be32(out, (uint32_t)len);
  memcpy(out + 4, type, 4);
  if (data && len)
    memcpy(out + 8, data, len);
  put_be32(out + 8 + len, (uint32_t)crc32(0L, out + 4, (uInt)len + 4));
  return 12 + len;
}

const unsigned char *api_png(size_t size, size_t *len)
{
  static const unsigned char raw[2] = {0, 0x80};
  unsigned char idat[64];
  uLongf idat_len = sizeof idat;
  cr_assert_eq(compress(idat, &idat_len, raw, sizeof raw), Z_OK);
  static const unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
  size_t minimal = 8 + 25 + 12 + idat_len + 12;
  cr_assert(size == 0 || size >= minimal + 12, "a PNG takes %zu bytes at least", minimal + 12);
  unsigned char *png = calloc(1, size ? size : minimal);
  cr_assert(png != NULL);
  api_keep(png, free);
  memcpy(png, "\x89PNG\r\n\x1a\n", 8);
  size_t n = 8;
  n += png_chunk(png + n, "IHDR", ihdr, sizeof ihdr);
  n += png_chunk(png + n, "IDAT", idat, idat_len);
  if (size)
    n += png_chunk(png + n, "skIp", NULL, size - minimal - 12);
  n += png_chunk(png + n, "IEND", NULL, 0);
  *len = n;
  return png;
}
