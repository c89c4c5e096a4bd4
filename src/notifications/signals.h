/*
 * signals.h - the notifications app's receivers of the events and
 * registrations apps' signals (db/signal.h; app.c connects them): each
 * change writes its notifications in its own transaction, and wakes this
 * process's worker.
 */
#ifndef EVENTAPI_NOTIFICATIONS_SIGNALS_H
#define EVENTAPI_NOTIFICATIONS_SIGNALS_H

#include "db/db.h"

/* registrations_*: payload a struct registrations_change. */
int notifications_on_confirmed(db_t *db, const void *payload);
int notifications_on_promoted(db_t *db, const void *payload);
int notifications_on_waitlisted(db_t *db, const void *payload);
int notifications_on_cancelled(db_t *db, const void *payload);
int notifications_on_offered(db_t *db, const void *payload);
int notifications_on_offer_expired(db_t *db, const void *payload);

/* events_changed (struct events_change), events_deleting (struct events_deletion). */
int notifications_on_event_changed(db_t *db, const void *payload);
int notifications_on_event_deleting(db_t *db, const void *payload);

#endif
