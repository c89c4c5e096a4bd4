/*
 * tmpdir.c - the test's temporary folder and the files in it (see tmpdir.h).
 */
#include "support/tmpdir.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char folder_path[128];

void tmpdir_create(void)
{
  const char *suite = criterion_current_suite ? criterion_current_suite->name : NULL;
  cr_assert(folder_path[0] == '\0', "the test's folder %s is made already", folder_path);
  int n = snprintf(folder_path, sizeof folder_path, "/tmp/eventapi-%s-XXXXXX",
                   suite ? suite : "test");
  cr_assert(n > 0 && (size_t)n < sizeof folder_path, "the suite's name is too long: %s", suite);
  if (mkdtemp(folder_path) == NULL) {
    folder_path[0] = '\0';
    cr_assert_fail("mkdtemp: %s", strerror(errno));
  }
}

const char *tmpdir_path(void)
{
  return folder_path;
}

void tmpdir_remove(void)
{
  if (folder_path[0] == '\0')
    return;
  int rc = tmpdir_remove_tree(folder_path);
  cr_expect_eq(rc, 0, "%s is not all removed", folder_path);
  folder_path[0] = '\0';
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  /* Carries on past a failure, so that as much goes as can: whether all
   * went is seen at the end. */
  remove(path);
  return 0;
}

int tmpdir_remove_tree(const char *path)
{
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  struct stat st;
  return lstat(path, &st) == 0 ? -1 : 0;
}

void tmpdir_write(const char *name, const char *text)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", folder_path, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "cannot write %s", path);
  fputs(text, f);
  cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

char *tmpdir_read(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot read %s", path);
  char *data = malloc(1 << 20);
  cr_assert_not_null(data);
  size_t n = fread(data, 1, (1 << 20) - 1, f);
  fclose(f);
  data[n] = '\0';
  if (len)
    *len = n;
  return data;
}

size_t tmpdir_list(const char *folder, char names[][256], size_t max)
{
  DIR *d = opendir(folder);
  if (d == NULL)
    return 0;
  size_t count = 0;
  struct dirent *entry;
  while ((entry = readdir(d)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
      continue;
    cr_assert_lt(count, max, "too many files in %s", folder);
    snprintf(names[count++], 256, "%s", entry->d_name);
  }
  closedir(d);
  qsort(names, count, 256, (int (*)(const void *, const void *))strcmp);
  return count;
}
