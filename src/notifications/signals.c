#include "notifications/signals.h"

#include "core/config.h"
#include "core/timefmt.h"
#include "events/signals.h"
#include "notifications/models.h"
#include "notifications/worker.h"
#include "registrations/signals.h"

static void
wake(void *unused)
{
  (void)unused;
  worker_wake();
}

/* New mail: the worker is woken once it can see the rows (the commit). */
static int
woken(db_t *db, int rc)
{
  return rc == 0 ? db_on_commit(db, wake, NULL) : rc;
}

/* A registration holding a place now: told so (its reminders are written
 * by the mail worker when they fall due). */
static int
holding_a_place(db_t *db, enum notification_kind kind, int64_t registration_id, int64_t now)
{
  return woken(db, notifications_add_for_registration(db, kind, registration_id, now));
}

int
notifications_on_confirmed(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  int64_t registration_id = change->registration_id, now = change->now;
  return holding_a_place(db, NOTIFY_CONFIRMED, registration_id, now);
}

int
notifications_on_promoted(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  int64_t registration_id = change->registration_id, now = change->now;
  return holding_a_place(db, NOTIFY_PROMOTED, registration_id, now);
}

int
notifications_on_waitlisted(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  int64_t registration_id = change->registration_id, now = change->now;
  int rc = notifications_add_for_registration(db, NOTIFY_WAITLISTED, registration_id, now);
  return woken(db, rc);
}

int
notifications_on_cancelled(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  int64_t registration_id = change->registration_id;
  return notifications_drop_reminders(db, registration_id);
}

int
notifications_on_event_changed(db_t *db, const void *payload)
{
  const struct events_change *change = payload;
  const struct event *old = change->old, *now = change->now;
  return woken(db, notifications_event_changed(db, old, now, config->reminder_offsets,
                                           config->nreminder_offsets, time_now_us()));
}

int
notifications_on_event_deleting(db_t *db, const void *payload)
{
  const struct event *e = ((const struct events_deletion *)payload)->event;
  return woken(db, notifications_event_deleted(db, e, time_now_us()));
}
