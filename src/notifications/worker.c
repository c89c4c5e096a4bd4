/*
 * worker.c - the notifications app's tick (see worker.h).
 */
#include "notifications/worker.h"

#include <stdatomic.h>

#include "db/db.h"
#include "notifications/mail.h"
#include "notifications/models.h"

/*
 * Only migration 0009 fills notifications_unsent: once this process has
 * carried it all over, it stays empty, and beats no longer look.
 */
static atomic_bool carried_all;

/* A beat, as one unit of work (run again from the start if replayed). */
struct beat {
  const struct config *cfg;
  int64_t now;
  bool carry;
  bool carried_more, due_more;
};

static int
beat_unit(db_t *db, void *arg)
{
  struct beat *b = arg;
  b->carried_more = b->due_more = false;
  int rc = b->carry ? notifications_mail_carry_over(db, b->now, &b->carried_more) : 0;
  if (rc == 0)
    rc = notifications_write_due_reminders(db, b->cfg->reminder_offsets,
                                           b->cfg->nreminder_offsets, b->now, &b->due_more);
  return rc;
}

int
notifications_worker_tick(const struct config *cfg, int64_t now, bool *more)
{
  struct beat b = {.cfg = cfg, .now = now, .carry = !atomic_load(&carried_all)};
  *more = false;
  if (!b.carry && cfg->nreminder_offsets == 0)
    return 0;
  int rc = db_write(beat_unit, &b);
  if (rc == 0 && b.carry && !b.carried_more)
    atomic_store(&carried_all, true); /* committed: nothing is left */
  *more = rc == 0 && (b.carried_more || b.due_more);
  return rc;
}
