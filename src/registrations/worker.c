/*
 * worker.c - the registrations app's tick (see worker.h).
 */
#include "registrations/worker.h"

#include "core/arena.h"
#include "core/error.h"
#include "db/db.h"
#include "registrations/models.h"

/* A beat's look, and its unit of work (run again from the start if replayed). */
struct beat {
  int64_t now;
  bool due, more;
};

static int
look_unit(db_t *db, void *arg)
{
  struct beat *b = arg;
  db_stmt_t *st = db_prepare(db, "SELECT 1 FROM registrations WHERE offer_expires_at <= ?"
                                 " AND cancelled_at IS NULL AND is_waitlisted = 1"
                                 " AND offer_expires_at IS NOT NULL LIMIT 1");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, b->now);
  int rc = db_step(st);
  b->due = rc == DB_ROW;
  db_reset(st);
  return rc < 0 ? rc : 0;
}

static int
expire_unit(db_t *db, void *arg)
{
  struct beat *b = arg;
  arena_t arena = {0};
  int rc = registrations_expire_offers(db, b->now, &arena, &b->more);
  arena_free(&arena);
  return rc;
}

int
registrations_worker_tick(const struct config *cfg, int64_t now, bool *more)
{
  (void)cfg;
  struct beat b = {.now = now};
  *more = false;
  int rc = db_read(look_unit, &b);
  if (rc == 0 && b.due)
    rc = db_write(expire_unit, &b);
  *more = rc == 0 && b.more;
  return rc;
}
