/*
 * signals.h - the webhooks app's receivers of the other apps' signals
 * (db/signal.h; app.c connects them): a change writes one webhook to the
 * outbox for every active endpoint that wants it, in the change's own unit
 * of work, so a webhook is sent if and only if its change committed.
 *
 * The endpoints a change concerns are those of the event's organizer and
 * of admins, for every event or for this one (webhooks_matching). What
 * each carries is the resource as the API shows it to them, read when the
 * change is made (a registration, a ticket, an event); nothing is read
 * when no active webhook wants the type.
 */
#ifndef EVENTAPI_WEBHOOKS_SIGNALS_H
#define EVENTAPI_WEBHOOKS_SIGNALS_H

#include "db/db.h"

/* registrations_confirmed, _waitlisted, _promoted, _cancelled, _offered:
 * payload a struct registrations_change; registration.created (a place
 * taken), .waitlisted, .promoted, .cancelled, .offered. */
int webhooks_on_registration_confirmed(db_t *db, const void *payload);
int webhooks_on_registration_waitlisted(db_t *db, const void *payload);
int webhooks_on_registration_promoted(db_t *db, const void *payload);
int webhooks_on_registration_cancelled(db_t *db, const void *payload);
int webhooks_on_registration_offered(db_t *db, const void *payload);

/* tickets_checked_in (struct tickets_check_in): ticket.checked_in. */
int webhooks_on_ticket_checked_in(db_t *db, const void *payload);

/* tickets_check_in_undone (struct tickets_check_in): ticket.check_in_undone. */
int webhooks_on_ticket_check_in_undone(db_t *db, const void *payload);

/* events_created, events_updated (struct events_touched), events_deleting
 * (struct events_deletion): event.created, .updated, .deleted. */
int webhooks_on_event_created(db_t *db, const void *payload);
int webhooks_on_event_updated(db_t *db, const void *payload);
int webhooks_on_event_deleting(db_t *db, const void *payload);

#endif
