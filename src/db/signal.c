/*
 * signal.c - signals and their receivers (see signal.h).
 */
#include "db/signal.h"

#include <assert.h>

#include "core/log.h"

void
signal_connect(struct signal *sig, signal_receiver receiver)
{
  for (size_t i = 0; i < sig->count; i++)
    if (sig->receivers[i] == receiver)
      return; /* connected again by a second start in one process */
  assert(sig->count < SIGNAL_RECEIVERS_MAX);
  if (sig->count == SIGNAL_RECEIVERS_MAX) {
    log_error("signal %s: more than %d receivers", sig->name, SIGNAL_RECEIVERS_MAX);
    return;
  }
  sig->receivers[sig->count++] = receiver;
}

int
signal_send(const struct signal *sig, db_t *db, const void *payload)
{
  for (size_t i = 0; i < sig->count; i++) {
    int rc = sig->receivers[i](db, payload);
    if (rc < 0)
      return rc;
  }
  return 0;
}
