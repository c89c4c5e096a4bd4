/*
 * docs.h - GET /api/docs/: an interactive reference of /api/schema/
 * (Swagger UI), and Swagger UI's own files served at /static/docs/<name>
 * from a local copy, so that the page works offline.
 *
 * Where the page takes Swagger UI from is decided once at start-up
 * (ops_docs_configure):
 *
 *   1. DOCS_ASSETS_URL, when set: the page loads swagger-ui.css and
 *      swagger-ui-bundle.js from there (a CDN, say); nothing else needed.
 *   2. Else a local copy of npm's swagger-ui-dist, served at /static/docs/:
 *      the folder DOCS_ASSETS_DIR names when it is set (set empty: none),
 *      else the first of docs_assets_search_path that holds one.
 *   3. Else none: the page says what to install or set, rather than being
 *      blank.
 */
#ifndef EVENTAPI_OPS_DOCS_H
#define EVENTAPI_OPS_DOCS_H

#include "core/config.h"
#include "http/http.h"

/*
 * Where a local copy is looked for when DOCS_ASSETS_DIR is unset, in order
 * (NULL-terminated): where scripts/install-deps puts it
 * (/usr/local/share/eventapi/docs/node_modules/swagger-ui-dist), the
 * working directory's node_modules, npm's global folders (/usr/local/lib
 * and /usr/lib) and Debian's for Node.js modules (/usr/share/nodejs).
 */
extern const char *const docs_assets_search_path[];

/*
 * The first folder of dirs (NULL-terminated) that holds a usable Swagger
 * UI: swagger-ui-bundle.js and swagger-ui.css, and, when it has a
 * package.json, a version of 5 or later (the first to read OpenAPI 3.1).
 * NULL when none does. The result is one of dirs' strings.
 */
const char *ops_docs_assets_find(const char *const *dirs);

/*
 * Decides where the page takes Swagger UI from (see above) for cfg, logs
 * it, and returns the folder to serve at /static/docs/, or NULL when none
 * is to be served. Call at start-up, before the server's threads; the
 * module keeps its own copy of what it needs.
 */
const char *ops_docs_configure(const struct config *cfg);

/* GET /api/docs/: the HTML page (text/html), anyone. */
void ops_docs_page_view(struct http_request *req);

/*
 * GET /static/docs/<str:name>/ (params[0]): the file name under the folder
 * ops_docs_configure chose, with its type, an ETag (304 on If-None-Match) and a
 * day of caching. Only a plain file name of letters, digits, '.', '-' and
 * '_', not starting with '.', with an extension of a web asset (css, js,
 * map, png, html) is looked up, and never through a symbolic link;
 * anything else is 404.
 */
void ops_docs_asset_view(struct http_request *req);

#endif
