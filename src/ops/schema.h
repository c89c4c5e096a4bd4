/*
 * schema.h - the OpenAPI 3.1 document of the whole API, served at
 * GET /api/schema/ (JSON; ?format=yaml for YAML).
 *
 * Each app describes its own routes in src/<app>/openapi.json, next to the
 * code; the build embeds those fragments (scripts/embed-openapi.py) and this
 * module joins them, once per process, into one document. The test
 * tests/api/schema.c holds the router's table and the document to each
 * other: no route without its description, no description without its route.
 */
#ifndef EVENTAPI_OPS_SCHEMA_H
#define EVENTAPI_OPS_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "http/http.h"

/* One embedded fragment: the app's folder name and its JSON text. */
struct ops_schema_fragment {
  const char *app;
  const char *json;
};

/* Generated: every fragment, ending with { NULL, NULL }. */
extern const struct ops_schema_fragment ops_schema_fragments[];

enum ops_schema_format {
  OPS_SCHEMA_JSON,        /* compact JSON, as served */
  OPS_SCHEMA_JSON_PRETTY, /* indented JSON (the `eventapi schema` command) */
  OPS_SCHEMA_YAML,
};

/* Content types served: the media types registered for OpenAPI documents. */
#define OPS_SCHEMA_JSON_TYPE "application/vnd.oai.openapi+json; charset=utf-8"
#define OPS_SCHEMA_YAML_TYPE "application/vnd.oai.openapi; charset=utf-8"

/*
 * The joined document, built on the first call (thread-safe) and kept for
 * the life of the process: borrowed, never to be changed or freed. NULL when
 * a fragment is broken or two fragments describe the same thing (logged).
 */
const json_t *ops_schema_document(void);

/*
 * The document as text in format, built once per format and cached:
 * borrowed, NUL-terminated, its length in *len. NULL as above.
 */
const char *ops_schema_text(enum ops_schema_format format, size_t *len);

/* GET /api/schema/[?format=json|yaml]: anyone, with or without a token. */
void ops_schema_view(struct http_request *req);

/* Registers GET /api/schema/. */
int ops_schema_urls_register(void);

#endif
