/*
 * browser.c - a real browser for the tests of the web pages (see browser.h).
 */
#include "browser.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "script.h"

const char *api_chromium(void)
{
  const char *names[] = {"chromium", "chromium-browser", "google-chrome"};
  const char *path = getenv("PATH");
  for (size_t i = 0; path && i < sizeof names / sizeof names[0]; i++) {
    char *dirs = api_strdup(path), *save = NULL;
    for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
      char *candidate = api_printf("%s/%s", dir, names[i]);
      if (access(candidate, X_OK) == 0)
        return candidate;
    }
  }
  /* CI installs it: there, its absence is a failure, never a skip. */
  cr_assert(getenv("CI") == NULL, "chromium is missing although CI installs it");
  cr_skip("chromium is not installed (scripts/install-deps --test installs it)");
  return NULL;
}

const char *api_source_file(const char *relative)
{
  struct script named = {.name = relative};
  char path[PATH_MAX];
  script_path(&named, relative, path);
  return api_strdup(path);
}

const char *api_run(const char *command)
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
  cr_assert(status == 0, "%s exited with %d; its output:\n%.4000s", command, status, out);
  return out;
}

const char *api_artifacts(const char *name)
{
  const char *root = getenv("EVENTAPI_ARTIFACTS");
  const char *dir = api_printf("%s/%s", root && root[0] ? root : "test-artifacts", name);
  api_run(api_printf("rm -rf '%s' && mkdir -p '%s'", dir, dir));
  return dir;
}
