/*
 * schema.c - joins the apps' OpenAPI fragments into one document and serves
 * it (see schema.h).
 *
 * Joining: the fragment holding "openapi" (src/ops/openapi.json) is the
 * base, with the info, servers, security and the shared components. Every
 * other fragment adds its "paths", "tags" and "components" sections. A path
 * and method, or a component name, described twice is an error: the document
 * is then refused whole rather than served half right.
 */
#include "ops/schema.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ops/yaml.h"

#define FORMATS 3

static pthread_once_t once = PTHREAD_ONCE_INIT;
static json_t *document;
static pthread_mutex_t texts_lock = PTHREAD_MUTEX_INITIALIZER;
static char *texts[FORMATS];
static size_t text_lens[FORMATS];

/* Adds the path items of from to paths; 0, or -1 on a clash (logged). */
static int
merge_paths(json_t *paths, json_t *from, const char *app)
{
  const char *path;
  json_t *item;
  json_object_foreach(from, path, item) {
    json_t *have = json_object_get(paths, path);
    if (have == NULL) {
      json_object_set(paths, path, item);
      continue;
    }
    const char *key;
    json_t *op;
    json_object_foreach(item, key, op) {
      if (json_object_get(have, key) != NULL) {
        log_error("openapi: %s describes %s %s again", app, key, path);
        return -1;
      }
      json_object_set(have, key, op);
    }
  }
  return 0;
}

/* Adds components sections (schemas, responses, ...) of from to components. */
static int
merge_components(json_t *components, json_t *from, const char *app)
{
  const char *section;
  json_t *entries;
  json_object_foreach(from, section, entries) {
    json_t *have = json_object_get(components, section);
    if (have == NULL) {
      have = json_object();
      json_object_set_new(components, section, have);
    }
    const char *name;
    json_t *entry;
    json_object_foreach(entries, name, entry) {
      if (json_object_get(have, name) != NULL) {
        log_error("openapi: %s defines components/%s/%s again", app, section, name);
        return -1;
      }
      json_object_set(have, name, entry);
    }
  }
  return 0;
}

static json_t *
join(void)
{
  json_t *doc = NULL;
  json_t *parts[32];
  size_t count = 0;
  for (const struct ops_schema_fragment *f = ops_schema_fragments; f->app != NULL; f++) {
    json_error_t error;
    json_t *part = json_loads(f->json, 0, &error);
    if (!json_is_object(part) || count == sizeof parts / sizeof parts[0]) {
      log_error("openapi: %s/openapi.json: %s", f->app, part ? "too many fragments" : error.text);
      json_decref(part);
      goto fail;
    }
    parts[count++] = part;
    if (json_object_get(part, "openapi") != NULL) {
      if (doc != NULL) {
        log_error("openapi: %s/openapi.json: a second base document", f->app);
        goto fail;
      }
      doc = json_deep_copy(part);
    }
  }
  if (doc == NULL) {
    log_error("openapi: no fragment holds the base document");
    goto fail;
  }
  json_t *paths = json_object_get(doc, "paths");
  if (paths == NULL)
    json_object_set_new(doc, "paths", paths = json_object());
  json_t *components = json_object_get(doc, "components");
  if (components == NULL)
    json_object_set_new(doc, "components", components = json_object());
  json_t *tags = json_object_get(doc, "tags");
  if (tags == NULL)
    json_object_set_new(doc, "tags", tags = json_array());
  for (size_t i = 0; i < count; i++) {
    const char *app = ops_schema_fragments[i].app;
    json_t *part = parts[i];
    if (json_object_get(part, "openapi") != NULL)
      continue;
    if (merge_paths(paths, json_object_get(part, "paths"), app) < 0 ||
        merge_components(components, json_object_get(part, "components"), app) < 0)
      goto fail;
    json_t *part_tags = json_object_get(part, "tags");
    if (json_is_array(part_tags))
      json_array_extend(tags, part_tags);
  }
  for (size_t i = 0; i < count; i++)
    json_decref(parts[i]);
  return doc;

fail:
  for (size_t i = 0; i < count; i++)
    json_decref(parts[i]);
  json_decref(doc);
  return NULL;
}

static void
build(void)
{
  document = join();
}

const json_t *
ops_schema_document(void)
{
  pthread_once(&once, build);
  return document;
}

/* The document as text in format; NULL when out of memory. */
static char *
dump(enum ops_schema_format format)
{
  if (format == OPS_SCHEMA_YAML)
    return ops_yaml_dump(document, NULL);
  if (format == OPS_SCHEMA_JSON)
    return json_dumps(document, JSON_COMPACT);
  /* The pretty JSON ends with a newline, like the YAML. */
  char *text = json_dumps(document, JSON_INDENT(2));
  size_t len = text ? strlen(text) : 0;
  char *pretty = text ? realloc(text, len + 2) : NULL;
  if (pretty == NULL) {
    free(text);
    return NULL;
  }
  memcpy(pretty + len, "\n", 2);
  return pretty;
}

const char *
ops_schema_text(enum ops_schema_format format, size_t *len)
{
  if (ops_schema_document() == NULL)
    return NULL;
  /* Each format is made when first asked for: most processes serve one,
   * many none. */
  pthread_mutex_lock(&texts_lock);
  if (texts[format] == NULL && (texts[format] = dump(format)) != NULL)
    text_lens[format] = strlen(texts[format]);
  const char *text = texts[format];
  *len = text_lens[format];
  pthread_mutex_unlock(&texts_lock);
  if (text == NULL)
    log_error("openapi: out of memory");
  return text;
}

void
ops_schema_view(struct http_request *req)
{
  const char *format = http_query(req, "format");
  enum ops_schema_format which;
  if (format == NULL || format[0] == '\0' || strcmp(format, "json") == 0 ||
      strcmp(format, "openapi-json") == 0) {
    which = OPS_SCHEMA_JSON;
  } else if (strcmp(format, "yaml") == 0 || strcmp(format, "openapi") == 0) {
    which = OPS_SCHEMA_YAML;
  } else {
    http_reply_detail(req, 404, "Not found."); /* DRF: an unknown format suffix */
    return;
  }
  size_t len;
  const char *text = ops_schema_text(which, &len);
  if (text == NULL) {
    http_reply_internal(req, "the OpenAPI document cannot be built");
    return;
  }
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  memcpy(copy, text, len + 1);
  http_reply_bytes(req, 200, which == OPS_SCHEMA_YAML ? OPS_SCHEMA_YAML_TYPE : OPS_SCHEMA_JSON_TYPE,
                   copy, len);
}

static const struct route routes[] = {
  {HTTP_GET, "/api/schema/", ops_schema_view, 0},
};

int
ops_schema_urls_register(void)
{
  return http_routes_add(routes, sizeof routes / sizeof routes[0]);
}
