/*
 * worker.c - the notifications app's tick (see worker.h).
 */
#include "notifications/worker.h"

#include "db/db.h"
#include "notifications/mail.h"
#include "notifications/models.h"

/* A beat, as one unit of work (run again from the start if replayed). */
struct beat {
  const struct config *cfg;
  int64_t now;
  bool more;
};

static int
beat_unit(db_t *db, void *arg)
{
  struct beat *b = arg;
  bool carried_more = false, due_more = false;
  int rc = notifications_mail_carry_over(db, b->now, &carried_more);
  if (rc == 0)
    rc = notifications_write_due_reminders(db, b->cfg->reminder_offsets,
                                           b->cfg->nreminder_offsets, b->now, &due_more);
  b->more = carried_more || due_more;
  return rc;
}

int
notifications_worker_tick(const struct config *cfg, int64_t now, bool *more)
{
  struct beat b = {cfg, now, false};
  int rc = db_write(beat_unit, &b);
  *more = rc == 0 && b.more;
  return rc;
}
