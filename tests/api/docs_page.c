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

/* The Chromium binary on PATH, or NULL. */
static const char *chromium(void)
{
  const char *names[] = {"chromium", "chromium-browser", "google-chrome"};
  const char *path = getenv("PATH");
  if (path == NULL)
    return NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char *dirs = api_strdup(path), *save = NULL;
    for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
      char *candidate = api_printf("%s/%s", dir, names[i]);
      if (access(candidate, X_OK) == 0)
        return candidate;
    }
  }
  return NULL;
}

/* Runs command and returns its standard output (harness-owned). */
static const char *run(const char *command)
{
  FILE *p = popen(command, "r");
  cr_assert(p != NULL, "popen %s", command);
  size_t len = 0, cap = 1 << 16;
  char *out = malloc(cap);
  cr_assert(out != NULL);
  size_t n;
  while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len - 1 == 0) {
      char *grown = realloc(out, cap *= 2);
      cr_assert(grown != NULL);
      out = grown;
    }
  }
  out[len] = '\0';
  int status = pclose(p);
  api_keep(out, free);
  cr_assert(status == 0, "%s exited with %d; its output:\n%.2000s", command, status, out);
  return out;
}

Test(docs_page, chromium_renders_every_operation_of_the_schema, .timeout = 300)
{
  const char *browser = chromium();
  if (browser == NULL) {
    /* CI installs it: there, its absence is a failure, never a skip. */
    cr_assert(getenv("CI") == NULL, "chromium is missing although CI installs it");
    cr_skip("chromium is not installed (scripts/install-deps --test installs it)");
  }
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
  const char *dom = run(api_printf(
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
