/*
 * docs_page.c - API.md "Operations": /api/docs/ rendered by a real browser.
 *
 * The server serves Swagger UI as it does by default, from the npm package
 * that scripts/install-deps puts in /usr/local/share/eventapi/docs (or with
 * EVENTAPI_DOCS_ASSETS, from another copy given as DOCS_ASSETS_DIR);
 * headless Chromium loads the page, which fetches /api/schema/ and renders
 * it; every path of the schema must then be in the DOM as an operation.
 * Skipped only when Chromium is not installed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/api.h"
#include "support/browser.h"

#define DEFAULT_ASSETS "/usr/local/share/eventapi/docs/node_modules/swagger-ui-dist"

static const char *assets_dir(void)
{
  const char *dir = getenv("EVENTAPI_DOCS_ASSETS");
  return dir && dir[0] ? dir : DEFAULT_ASSETS;
}

static void start(void)
{
  const char *dir = getenv("EVENTAPI_DOCS_ASSETS");
  if (dir && dir[0])
    api_server_start_with((const char *const[]){"DOCS_ASSETS_DIR", dir, NULL});
  else
    api_server_start(); /* no setting: the copy is found where it is installed */
}

TestSuite(docs_page, .init = start, .fini = api_server_stop);

Test(docs_page, chromium_renders_every_operation_of_the_schema, .timeout = 300)
{
  const char *browser = api_chromium();
  struct stat st;
  const char *bundle = api_printf("%s/swagger-ui-bundle.js", assets_dir());
  cr_assert(stat(bundle, &st) == 0,
            "%s is missing: run scripts/install-deps (npm swagger-ui-dist@5), or set "
            "EVENTAPI_DOCS_ASSETS to a copy of swagger-ui-dist", bundle);

  struct api_resp *schema = api_get("/api/schema/", NULL);
  expect_status(schema, 200);
  json_t *paths = json_object_get(schema->json, "paths");
  cr_assert(json_object_size(paths) > 0, "the schema has no paths: %.500s", schema->body);

  /* --no-sandbox: the tests may run as root (CI containers). */
  const char *dom = api_run(api_printf(
      "timeout 240 '%s' --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
      "--no-first-run --disable-extensions --disable-background-networking "
      "--user-data-dir='%s/chromium' --virtual-time-budget=10000 --dump-dom '%s' 2>/dev/null",
      browser, api_server_dir(), api_url("/api/docs/")));

  cr_assert_not_null(strstr(dom, "swagger-ui"), "no Swagger UI in:\n%.2000s", dom);
  const char *path;
  json_t *item;
  size_t operations = 0;
  json_object_foreach(paths, path, item) {
    cr_expect_not_null(strstr(dom, api_printf("data-path=\"%s\"", path)),
                       "the rendered page lacks the operation %s", path);
    const char *method;
    json_t *op;
    json_object_foreach(item, method, op) {
      if (json_object_get(op, "responses") == NULL)
        continue; /* "parameters" and the like: not an operation */
      const char *summary = json_string_value(json_object_get(op, "summary"));
      if (summary && strpbrk(summary, "&<>\"") == NULL)
        cr_expect_not_null(strstr(dom, summary), "the page lacks \"%s\" (%s %s)", summary,
                           method, path);
      operations++;
    }
  }
  cr_assert_geq(operations, 10);
  cr_assert_not_null(strstr(dom, "data-path=\"/api/events/\""));
  cr_assert_not_null(strstr(dom, "data-path=\"/api/registrations/"));
}
