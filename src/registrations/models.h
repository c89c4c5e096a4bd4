/*
 * models.h - registrations, the waitlist, and the capacity counters.
 *
 * API.md: confirmed registrations never exceed the event's capacity nor
 * their ticket type's quantity, whatever the concurrency. The counters
 * (confirmed_count on events and ticket types) change only through
 * conditional UPDATEs inside the caller's write transaction, so the
 * database itself refuses an oversell, on one node or many.
 */
#ifndef EVENTAPI_REGISTRATIONS_MODELS_H
#define EVENTAPI_REGISTRATIONS_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/jsonutil.h"
#include "db/db.h"
#include "events/models.h"
#include "tickets/models.h"

struct registration {
  int64_t id;
  int64_t user_id;
  int64_t event_id;
  int64_t ticket_type_id;  /* 0: none */
  int64_t registered_at;
  bool is_waitlisted;
  int64_t cancelled_at;    /* 0: active */
  int64_t offer_expires_at; /* waitlisted with a place held for it until then; 0: none */
  int64_t organizer_id;    /* the event's */
  bool has_ticket;
  struct ticket ticket;
  /* For the organizer's list: */
  const char *username, *email, *first_name, *last_name;
};

/* Registration id (active or not) with its ticket. 0 or EVENTAPI_ENOTFOUND. */
int registrations_get(db_t *db, int64_t id, arena_t *arena, struct registration *out);

/*
 * What registering who for event_id checks before the write, in one
 * statement outside the write lock: the event exists and who may see it
 * (the visibility rule, events/rules.h; EVENTAPI_ENOTFOUND otherwise); the
 * ticket type given (ticket_type FIELD_SET, ticket_type_id) of this event,
 * or one given (FIELD_ABSENT: none) when the event has any; then the event
 * not started at now and who not registered yet. Problems go to errors with
 * DRF's messages: 0, EVENTAPI_EINVAL when errors holds any (these or ones
 * added before), EVENTAPI_ENOTFOUND, or a database error.
 */
int registrations_check(db_t *db, const struct principal *who, int64_t event_id,
                        enum field_result ticket_type, int64_t ticket_type_id, int64_t now,
                        json_t *errors, arena_t *arena);

/*
 * Registers r->user_id for r->event_id (r->ticket_type_id, 0 for none):
 * confirmed with a ticket when the event and the ticket type have room,
 * else waitlisted. The ticket's code is drawn_code (tickets_draw_code(),
 * drawn before the unit), or one drawn here when NULL. Sets every field of
 * r. EVENTAPI_ECONSTRAINT when the user already holds an active
 * registration. Run inside a write transaction.
 */
int registrations_create(db_t *db, struct registration *r, const char *drawn_code, int64_t now,
                         arena_t *arena);

/*
 * Cancels r: a confirmed registration frees its place (and its ticket),
 * and the waitlist is promoted in order. Inside a write transaction.
 */
int registrations_cancel(db_t *db, const struct registration *r, int64_t now, arena_t *arena);

/*
 * Moves the waitlist of event_id into the places it has free: the oldest
 * waitlisted registrations that fit (and hold no offer), one by one, while
 * the event has room. Each is confirmed with a ticket, or, when the event
 * sets waitlist_offer_hours, offered the place: the place is held for it
 * (counted as taken) until now plus that many hours, or the event's start
 * if sooner; no offers are made once the event has started. *promoted (if
 * not NULL) counts them. Inside a write transaction.
 */
int registrations_promote(db_t *db, int64_t event_id, int64_t now, arena_t *arena, int *promoted);

/*
 * Takes the place held for r: confirmed, with a ticket (r is updated).
 * EVENTAPI_ECONFLICT when r holds no offer at now (none, or it ran out).
 * Inside a write transaction.
 */
int registrations_accept(db_t *db, struct registration *r, int64_t now, arena_t *arena);

/*
 * Declines the place held for r: r is cancelled and the place passes to
 * the next in line. EVENTAPI_ECONFLICT when r holds no offer at now.
 * Inside a write transaction.
 */
int registrations_decline(db_t *db, const struct registration *r, int64_t now, arena_t *arena);

/*
 * Ends offers that ran out by now, a few a call (*more when there may be
 * more): each registration cancelled, told so, and its place passed down
 * the line. Offers end once, whichever node's worker gets there first.
 * Inside a write transaction.
 */
int registrations_expire_offers(db_t *db, int64_t now, arena_t *arena, bool *more);

/*
 * One page of the user's active registrations, newest first: at most limit
 * from offset into *out (arena memory, *count of them), and the number of
 * all of them in *total. Run it in a read transaction for the two to agree.
 */
int registrations_list_user(db_t *db, int64_t user_id, int64_t limit, int64_t offset,
                            arena_t *arena, struct registration **out, size_t *count,
                            int64_t *total);

/* The event's active registrations with their users and tickets, oldest first. */
int registrations_list_event(db_t *db, int64_t event_id, arena_t *arena,
                             struct registration **out, size_t *count);

/*
 * Receivers (db/signal.h; app.c connects them). events_places_opened: the
 * waitlist is promoted into the places that opened. users_deleting: the
 * user's registrations are cancelled as by the user, so that their places
 * go to the waitlist before the rows go with the user.
 */
int registrations_on_places_opened(db_t *db, const void *payload);
int registrations_on_user_deleting(db_t *db, const void *payload);

#endif
