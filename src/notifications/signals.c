#include "notifications/signals.h"

#include "core/timefmt.h"
#include "events/signals.h"
#include "notifications/models.h"
#include "registrations/signals.h"

/* A registration holding a place now, or waiting for one: told so, by
 * notification and email (its reminders are written by the outbox
 * worker's tick when they fall due). */
int
notifications_on_confirmed(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  return notifications_add_for_registration(db, NOTIFY_CONFIRMED, change->registration_id,
                                            change->now);
}

int
notifications_on_promoted(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  return notifications_add_for_registration(db, NOTIFY_PROMOTED, change->registration_id,
                                            change->now);
}

int
notifications_on_waitlisted(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  return notifications_add_for_registration(db, NOTIFY_WAITLISTED, change->registration_id,
                                            change->now);
}

/* A place held for a waitlisted registration until a deadline, and the
 * end of that hold when it ran out. */
int
notifications_on_offered(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  return notifications_add_for_registration(db, NOTIFY_OFFERED, change->registration_id,
                                            change->now);
}

int
notifications_on_offer_expired(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  return notifications_add_for_registration(db, NOTIFY_OFFER_EXPIRED, change->registration_id,
                                            change->now);
}

int
notifications_on_cancelled(db_t *db, const void *payload)
{
  const struct registrations_change *change = payload;
  return notifications_drop_reminders(db, change->registration_id, change->now);
}

int
notifications_on_event_changed(db_t *db, const void *payload)
{
  const struct events_change *change = payload;
  return notifications_event_changed(db, change->old, change->now, time_now_us());
}

int
notifications_on_event_deleting(db_t *db, const void *payload)
{
  const struct event *e = ((const struct events_deletion *)payload)->event;
  return notifications_event_deleted(db, e, time_now_us());
}
