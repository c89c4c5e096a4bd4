#include "notifications/signals.h"

#include "core/timefmt.h"
#include "events/signals.h"
#include "notifications/models.h"
#include "registrations/signals.h"

/* A registration holding a place now, or waiting for one: told so, by
 * notification and email (its reminders are written by the outbox
 * worker's tick when they fall due). */
static int
on_confirmed(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)arena;
  return notifications_add_for_registration(db, NOTIFY_CONFIRMED, registration_id, now);
}

static int
on_promoted(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)arena;
  return notifications_add_for_registration(db, NOTIFY_PROMOTED, registration_id, now);
}

static int
on_waitlisted(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)arena;
  return notifications_add_for_registration(db, NOTIFY_WAITLISTED, registration_id, now);
}

static int
on_cancelled(db_t *db, int64_t registration_id, int64_t now, arena_t *arena)
{
  (void)arena;
  return notifications_drop_reminders(db, registration_id, now);
}

static int
on_event_changed(db_t *db, const struct event *old, const struct event *now, arena_t *arena)
{
  (void)arena;
  return notifications_event_changed(db, old, now, time_now_us());
}

static int
on_event_deleting(db_t *db, const struct event *e, arena_t *arena)
{
  (void)arena;
  return notifications_event_deleted(db, e, time_now_us());
}

void
notifications_signals_connect(void)
{
  registrations_connect(REGISTRATIONS_CONFIRMED, on_confirmed);
  registrations_connect(REGISTRATIONS_WAITLISTED, on_waitlisted);
  registrations_connect(REGISTRATIONS_PROMOTED, on_promoted);
  registrations_connect(REGISTRATIONS_CANCELLED, on_cancelled);
  events_changed = on_event_changed;
  events_deleting = on_event_deleting;
}
