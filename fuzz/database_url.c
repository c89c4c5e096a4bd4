/*
 * database_url.c - the DATABASE_URL setting (db_configure): sqlite: paths,
 * postgres:// and postgresql:// URIs and libpq's key=value form.
 *
 * Input: the URL.
 */
#include <stdlib.h>

#include "core/error.h"
#include "db/db.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *url = fuzz_text(data, size);
  int rc = db_configure(url, &(struct db_settings){.synchronous_normal = size & 1});
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  free(url);
  return 0;
}
