/*
 * docs.h - GET /api/docs/: an interactive reference of /api/schema/
 * (Swagger UI), and, when DOCS_ASSETS_DIR is set, Swagger UI's own files
 * served at /static/docs/<name> for sites that cannot reach a CDN.
 *
 * The page only references its assets: DOCS_ASSETS_URL (jsDelivr's
 * swagger-ui-dist@5 by default, as drf-spectacular; /static/docs/ when
 * DOCS_ASSETS_DIR is set) + "swagger-ui.css" and "swagger-ui-bundle.js".
 */
#ifndef EVENTAPI_OPS_DOCS_H
#define EVENTAPI_OPS_DOCS_H

#include "http/http.h"

/* GET /api/docs/: the HTML page (text/html), anyone. */
void docs_page_view(struct http_request *req);

/*
 * GET /static/docs/<str:name>/ (params[0]): the file name under
 * config->docs_assets_dir, with its type, an ETag (304 on If-None-Match)
 * and a day of caching. Only a plain file name of letters, digits, '.',
 * '-' and '_', not starting with '.', with an extension of a web asset
 * (css, js, map, png, html) is looked up, and never through a symbolic
 * link; anything else is 404.
 */
void docs_asset_view(struct http_request *req);

#endif
