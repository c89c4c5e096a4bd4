#include "registrations/signals.h"

#include <assert.h>
#include <stddef.h>

#define RECEIVERS_MAX 4

static registrations_signal_fn receivers[REGISTRATIONS_SIGNALS][RECEIVERS_MAX];
static size_t nreceivers[REGISTRATIONS_SIGNALS];

void
registrations_connect(enum registrations_signal signal, registrations_signal_fn fn)
{
  assert(signal < REGISTRATIONS_SIGNALS);
  for (size_t i = 0; i < nreceivers[signal]; i++)
    if (receivers[signal][i] == fn)
      return; /* connected again by a second route registration */
  assert(nreceivers[signal] < RECEIVERS_MAX);
  if (nreceivers[signal] < RECEIVERS_MAX)
    receivers[signal][nreceivers[signal]++] = fn;
}

int
registrations_send(enum registrations_signal signal, db_t *db, int64_t registration_id,
                   int64_t now, arena_t *arena)
{
  for (size_t i = 0; i < nreceivers[signal]; i++) {
    int rc = receivers[signal][i](db, registration_id, now, arena);
    if (rc < 0)
      return rc;
  }
  return 0;
}
