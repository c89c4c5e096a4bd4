/*
 * docs.c - the API reference page and its locally served assets (see
 * docs.h).
 */
#include "ops/docs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "http/media.h"

#define ASSET_NAME_MAX 128
#define ASSET_SIZE_MAX (32 * 1024 * 1024) /* swagger-ui's biggest .map is ~ 6 MiB */
#define SWAGGER_UI_MAJOR_MIN 5           /* the first that reads OpenAPI 3.1 */

/* The version scripts/docs-assets/package.json pins, named in the advice. */
#define SWAGGER_UI_VERSION "5.35.0"
#define INSTALL_PREFIX "/usr/local/share/eventapi/docs"

const char *const docs_assets_search_path[] = {
  INSTALL_PREFIX "/node_modules/swagger-ui-dist", /* scripts/install-deps */
  "node_modules/swagger-ui-dist",                 /* npm install in the working directory */
  "/usr/local/lib/node_modules/swagger-ui-dist",  /* npm install -g, Debian's npm */
  "/usr/lib/node_modules/swagger-ui-dist",        /* npm install -g, NodeSource's Node.js */
  "/usr/share/nodejs/swagger-ui-dist",            /* Debian's place for Node.js modules */
  NULL,
};

/* %1$s is the assets' base with its trailing slash: DOCS_ASSETS_URL, which
 * config.c has refused with any character that could leave the attribute,
 * or /static/docs/. */
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

/* Without Swagger UI: what to do, instead of a blank page. %1$s says why. */
#define HELP_FORMAT \
  "<!DOCTYPE html>\n" \
  "<html lang=\"en\">\n" \
  "<head>\n" \
  "<meta charset=\"utf-8\">\n" \
  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
  "<title>eventapi API reference: Swagger UI is not installed</title>\n" \
  "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;" \
  "line-height:1.5}pre,code{background:#f3f3f3}pre{padding:.6em 1em;overflow-x:auto}</style>\n" \
  "</head>\n" \
  "<body>\n" \
  "<h1>API reference: Swagger UI is not installed</h1>\n" \
  "<p>This page shows the API with Swagger UI, whose files this server does not have. " \
  "%1$s</p>\n" \
  "<p>To serve them from this server (no Internet needed afterwards), install them once, " \
  "then restart the server:</p>\n" \
  "<pre>scripts/install-deps    # from eventapi's source tree, as make run does\n" \
  "# or\n" \
  "npm install --prefix " INSTALL_PREFIX " swagger-ui-dist@" SWAGGER_UI_VERSION "</pre>\n" \
  "<p>or set <code>DOCS_ASSETS_DIR</code> to a folder holding npm's " \
  "<code>swagger-ui-dist</code>. To have browsers load them from a CDN instead, set</p>\n" \
  "<pre>DOCS_ASSETS_URL=https://cdn.jsdelivr.net/npm/swagger-ui-dist@" SWAGGER_UI_VERSION \
  "/</pre>\n" \
  "<p>Meanwhile, the OpenAPI document itself is at <a href=\"/api/schema/\">/api/schema/</a> " \
  "(<a href=\"/api/schema/?format=yaml\">YAML</a>).</p>\n" \
  "</body>\n" \
  "</html>\n"

/* Set by ops_docs_configure before the server's threads, read-only after. */
static char *assets_dir; /* served at /static/docs/; NULL: none */
static char *page;       /* the whole page, as it is answered */
static size_t page_len;

static bool
is_file(const char *dir, const char *name)
{
  char path[4096];
  struct stat st;
  int n = snprintf(path, sizeof path, "%s/%s", dir, name);
  return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The major version in dir's package.json; 0 when it has none to read. */
static long
package_major(const char *dir)
{
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/package.json", dir);
  if (n < 0 || (size_t)n >= sizeof path)
    return 0;
  json_t *package = json_load_file(path, 0, NULL);
  const char *version = json_string_value(json_object_get(package, "version"));
  long major = version ? strtol(version, NULL, 10) : 0;
  json_decref(package);
  return major;
}

const char *
ops_docs_assets_find(const char *const *dirs)
{
  for (const char *const *dir = dirs; *dir; dir++) {
    if (!is_file(*dir, "swagger-ui-bundle.js") || !is_file(*dir, "swagger-ui.css"))
      continue;
    long major = package_major(*dir);
    if (major == 0 || major >= SWAGGER_UI_MAJOR_MIN)
      return *dir;
  }
  return NULL;
}

/* The page's text, in page: Swagger UI's from base, or else the advice. */
static void
build_page(const char *base, const char *why)
{
  free(page);
  page = NULL;
  page_len = 0;
  int n = -1;
  if (base) {
    size_t len = strlen(base);
    char *with_slash = NULL;
    if (asprintf(&with_slash, "%s%s", base, len > 0 && base[len - 1] == '/' ? "" : "/") >= 0) {
      n = asprintf(&page, PAGE_FORMAT, with_slash);
      free(with_slash);
    }
  } else {
    n = asprintf(&page, HELP_FORMAT, why);
  }
  if (n < 0)
    page = NULL; /* answered 500, as out of memory */
  else
    page_len = (size_t)n;
}

const char *
ops_docs_configure(const struct config *cfg)
{
  const char *setting = cfg ? cfg->docs_assets_dir : NULL; /* NULL: unset */
  const char *url = cfg && cfg->docs_assets_url && cfg->docs_assets_url[0]
                        ? cfg->docs_assets_url : NULL;
  const char *dir = NULL, *why;
  bool usable = false;
  char looked[1024] = "It looked for npm's swagger-ui-dist in";
  if (setting == NULL) {
    for (const char *const *d = docs_assets_search_path; *d; d++) {
      size_t used = strlen(looked);
      snprintf(looked + used, sizeof looked - used, "%s <code>%s</code>",
               d == docs_assets_search_path ? "" : ",", *d);
    }
    strncat(looked, ".", sizeof looked - strlen(looked) - 1);
    why = looked;
    dir = ops_docs_assets_find(docs_assets_search_path);
    usable = dir != NULL;
  } else if (setting[0] == '\0') {
    why = "<code>DOCS_ASSETS_DIR</code> is set empty, which turns the local copy off.";
  } else {
    /* Served as configured; the page uses it only when it is complete. */
    why = "The folder that <code>DOCS_ASSETS_DIR</code> names lacks swagger-ui-bundle.js "
          "or swagger-ui.css, or holds a Swagger UI older than 5.";
    dir = setting;
    usable = ops_docs_assets_find((const char *const[]){setting, NULL}) != NULL;
  }
  free(assets_dir);
  assets_dir = dir ? strdup(dir) : NULL;
  build_page(url ? url : usable ? "/static/docs/" : NULL, why);
  if (url)
    log_info("docs: /api/docs/ loads Swagger UI from %s", url);
  else if (usable)
    log_info("docs: /api/docs/ serves Swagger UI from %s", dir);
  else if (setting && setting[0])
    log_warn("docs: DOCS_ASSETS_DIR=%s holds no Swagger UI 5 (swagger-ui-bundle.js and "
             "swagger-ui.css): /api/docs/ says how to install it", setting);
  else if (setting == NULL)
    log_warn("docs: no copy of Swagger UI found (scripts/install-deps installs one): "
             "/api/docs/ says how to install it");
  return assets_dir;
}

void
ops_docs_page_view(struct http_request *req)
{
  char *copy = page ? malloc(page_len) : NULL;
  if (copy == NULL) {
    http_reply_internal(req, "docs: out of memory");
    return;
  }
  memcpy(copy, page, page_len);
  http_add_header(req, "Cache-Control", "no-cache");
  http_reply_bytes(req, 200, "text/html; charset=utf-8", copy, page_len);
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
ops_docs_asset_view(struct http_request *req)
{
  const char *name = req->nparams > 0 ? req->params[0] : NULL;
  const char *type = asset_type(name);
  const char *dir = assets_dir;
  if (type == NULL || dir == NULL) {
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
