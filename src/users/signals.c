#include "users/signals.h"

#include <assert.h>
#include <stddef.h>

#define RECEIVERS_MAX 4

static users_deleting_fn deleting[RECEIVERS_MAX];
static size_t ndeleting;

void
users_deleting_connect(users_deleting_fn fn)
{
  for (size_t i = 0; i < ndeleting; i++)
    if (deleting[i] == fn)
      return; /* connected again by a second route registration */
  assert(ndeleting < RECEIVERS_MAX);
  if (ndeleting < RECEIVERS_MAX)
    deleting[ndeleting++] = fn;
}

int
users_deleting_send(db_t *db, int64_t user_id, int64_t now, arena_t *arena)
{
  for (size_t i = 0; i < ndeleting; i++) {
    int rc = deleting[i](db, user_id, now, arena);
    if (rc < 0)
      return rc;
  }
  return 0;
}
