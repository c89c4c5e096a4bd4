/*
 * docs.c - where the API reference page finds Swagger UI: the first folder
 * that holds swagger-ui-bundle.js and swagger-ui.css of a Swagger UI 5 or
 * later, in the order given; and the search path's order itself.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/docs.h"
#include "support/tmpdir.h"

TestSuite(docs, .init = tmpdir_create, .fini = tmpdir_remove);

/* The test's folder/name, made, holding files (NULL-terminated name, text pairs). */
static const char *folder(const char *name, const char *const *files)
{
  static char paths[8][128];
  static int next;
  char *dir = paths[next++ % 8];
  snprintf(dir, 128, "%s/%s", tmpdir_path(), name);
  cr_assert_eq(mkdir(dir, 0700), 0);
  for (const char *const *f = files; f && f[0]; f += 2) {
    char path[192];
    snprintf(path, sizeof path, "%s/%s", dir, f[0]);
    FILE *out = fopen(path, "w");
    cr_assert(out != NULL && fputs(f[1], out) >= 0 && fclose(out) == 0);
  }
  return dir;
}

#define BOTH "swagger-ui-bundle.js", "x", "swagger-ui.css", "x"

Test(docs, the_first_complete_folder_of_the_list_wins)
{
  const char *missing = "/nonexistent/swagger-ui-dist";
  const char *css_only = folder("css-only", (const char *const[]){"swagger-ui.css", "x", NULL});
  const char *old = folder("old", (const char *const[]){BOTH, "package.json",
                                                        "{\"version\": \"3.52.5\"}", NULL});
  const char *good = folder("good", (const char *const[]){BOTH, "package.json",
                                                         "{\"version\": \"5.35.0\"}", NULL});
  const char *also = folder("also", (const char *const[]){BOTH, NULL});
  const char *list[] = {missing, css_only, old, good, also, NULL};
  cr_assert_eq(ops_docs_assets_find(list), good);
  const char *rest[] = {missing, css_only, old, also, good, NULL};
  /* A copy without package.json (copied by hand) is taken as it is. */
  cr_assert_eq(ops_docs_assets_find(rest), also);
}

Test(docs, nothing_usable_is_null)
{
  const char *old = folder("old", (const char *const[]){BOTH, "package.json",
                                                        "{\"version\": \"4.19.1\"}", NULL});
  const char *folder_as_file = folder("weird", (const char *const[]){"swagger-ui.css", "x", NULL});
  char inner[160];
  snprintf(inner, sizeof inner, "%s/swagger-ui-bundle.js", folder_as_file);
  cr_assert_eq(mkdir(inner, 0700), 0); /* a folder of that name is no file */
  const char *list[] = {"/nonexistent", old, folder_as_file, NULL};
  cr_assert_null(ops_docs_assets_find(list));
  const char *none[] = {NULL};
  cr_assert_null(ops_docs_assets_find(none));
}

Test(docs, the_install_location_is_searched_first)
{
  cr_assert_str_eq(docs_assets_search_path[0],
                   "/usr/local/share/eventapi/docs/node_modules/swagger-ui-dist");
  size_t count = 0;
  for (const char *const *d = docs_assets_search_path; *d; d++) {
    cr_assert(strstr(*d, "swagger-ui-dist") != NULL, "%s", *d);
    count++;
  }
  cr_assert_geq(count, 4);
}
