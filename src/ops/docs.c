/*
 * docs.c - the API reference page and its locally served assets (see
 * docs.h).
 */
#include "ops/docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "http/media.h"
#include "core/log.h"

#define ASSET_NAME_MAX 128
#define ASSET_SIZE_MAX (32 * 1024 * 1024) /* swagger-ui's biggest .map is ~ 6 MiB */

/* %1$s is DOCS_ASSETS_URL with its trailing slash. config.c has refused
 * any value with a character that could leave the attribute. */
#define PAGE_FORMAT \
  "<!DOCTYPE html>\n" \
  "<html lang=\"en\">\n" \
  "<head>\n" \
  "<meta charset=\"utf-8\">\n" \
  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
  "<title>eventapi API reference</title>\n" \
  "<link rel=\"stylesheet\" href=\"%1$sswagger-ui.css\">\n" \
  "</head>\n" \
  "<body>\n" \
  "<div id=\"swagger-ui\"></div>\n" \
  "<script src=\"%1$sswagger-ui-bundle.js\"></script>\n" \
  "<script>\n" \
  "window.ui = SwaggerUIBundle({\n" \
  "  url: \"/api/schema/\",\n" \
  "  dom_id: \"#swagger-ui\",\n" \
  "  deepLinking: true,\n" \
  "  persistAuthorization: true,\n" \
  "  presets: [SwaggerUIBundle.presets.apis],\n" \
  "  layout: \"BaseLayout\"\n" \
  "});\n" \
  "</script>\n" \
  "</body>\n" \
  "</html>\n"

void
docs_page_view(struct http_request *req)
{
  const char *base = config->docs_assets_url;
  size_t len = strlen(base);
  const char *slash = len > 0 && base[len - 1] == '/' ? "" : "/";
  const char *assets = arena_printf(&req->arena, "%s%s", base, slash);
  char *page = NULL;
  int n = assets ? asprintf(&page, PAGE_FORMAT, assets) : -1;
  if (n < 0) {
    http_reply_internal(req, "docs: out of memory");
    return;
  }
  http_add_header(req, "Cache-Control", "no-cache");
  http_reply_bytes(req, 200, "text/html; charset=utf-8", page, (size_t)n);
}

static const struct {
  const char *ext;
  const char *type;
} asset_types[] = {
  {".css", "text/css; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".map", "application/json"},
  {".png", "image/png"},
  {".html", "text/html; charset=utf-8"},
};

/* The Content-Type of a servable asset name, or NULL for any other name. */
static const char *
asset_type(const char *name)
{
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len > ASSET_NAME_MAX || name[0] == '.')
    return NULL;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '-' || c == '_'))
      return NULL;
  }
  const char *dot = strrchr(name, '.');
  if (dot == NULL)
    return NULL; /* no extension, no type we serve */
  for (size_t i = 0; i < sizeof asset_types / sizeof asset_types[0]; i++)
    if (strcmp(dot, asset_types[i].ext) == 0)
      return asset_types[i].type;
  return NULL;
}

void
docs_asset_view(struct http_request *req)
{
  const char *name = req->nparams > 0 ? req->params[0] : NULL;
  const char *type = asset_type(name);
  const char *dir = config->docs_assets_dir;
  if (type == NULL || dir == NULL || dir[0] == '\0') {
    http_reply_not_found(req);
    return;
  }
  const char *path = arena_printf(&req->arena, "%s/%s", dir, name);
  if (path == NULL) {
    http_reply_internal(req, "docs: out of memory");
    return;
  }
  /* The files change only when reinstalled: size and time name a version. */
  media_send_file(req, path, type, NULL, "public, max-age=86400", ASSET_SIZE_MAX);
}
