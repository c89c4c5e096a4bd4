#include "tickets/signals.h"

#include <assert.h>
#include <stddef.h>

#define RECEIVERS_MAX 4

static tickets_checked_in_fn checked_in[RECEIVERS_MAX];
static size_t nchecked_in;

void
tickets_checked_in_connect(tickets_checked_in_fn fn)
{
  for (size_t i = 0; i < nchecked_in; i++)
    if (checked_in[i] == fn)
      return; /* connected again by a second route registration */
  assert(nchecked_in < RECEIVERS_MAX);
  if (nchecked_in < RECEIVERS_MAX)
    checked_in[nchecked_in++] = fn;
}

int
tickets_checked_in_send(db_t *db, int64_t ticket_id, int64_t now)
{
  for (size_t i = 0; i < nchecked_in; i++) {
    int rc = checked_in[i](db, ticket_id, now);
    if (rc < 0)
      return rc;
  }
  return 0;
}
