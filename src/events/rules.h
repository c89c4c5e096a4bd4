/*
 * rules.h - the rules about an event, each written once: who may
 * change it, who may see it, and who may work at its door.
 *
 *   ownership:  its organizer and admins may change an event;
 *   visibility: everyone may see a public event; a private one, whoever
 *               may change it and its registrants (an active registration),
 *               and its staff one event at a time (not in the lists: the
 *               door they work is not their catalogue);
 *   the door:   whoever may change an event, and its staff (events/staff.h),
 *               may list its registrations, check its tickets in and undo
 *               a check-in.
 *
 * Each rule has two forms built from the same clauses here: a predicate
 * over one event's facts, for the checks of single objects (an event, a
 * registration, a ticket), and SQL over the events table, for the lists
 * (events/filters.c) and for the one fact a single check must query, the
 * registrant's (and, for one event, the staff's). Change a rule here and
 * both change. The door has its
 * predicate only, as no list is filtered by it yet; its one fact, whether
 * who is staff, is read by events_staff_door() (events/staff.h).
 */
#ifndef EVENTAPI_EVENTS_RULES_H
#define EVENTAPI_EVENTS_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "events/models.h"

/* Ownership: whether who (NULL: anonymous) may change an event of organizer_id. */
bool events_may_change(const struct principal *who, int64_t organizer_id);

/*
 * Visibility: whether who (NULL: anonymous) may see an event of visibility
 * and organizer_id, insider telling whether who holds an active
 * registration for it (or, for one event seen alone, is on its staff).
 */
bool events_may_see(const struct principal *who, enum visibility visibility,
                    int64_t organizer_id, bool insider);

/*
 * The registrant clause, over a row of events: true when the user bound
 * to its one ? holds an active registration for the event.
 */
#define EVENTS_SQL_REGISTRANT \
  "id IN (SELECT event_id FROM registrations WHERE user_id = ? AND cancelled_at IS NULL)"

/*
 * The same clause for one known event, the row of events named alias: a
 * lookup in the index of active registrations, where the IN list above
 * would first collect every event the user is registered for.
 */
#define EVENTS_SQL_REGISTRANT_OF(alias)                                              \
  "EXISTS (SELECT 1 FROM registrations reg WHERE reg.user_id = ? AND reg.event_id = " \
  alias ".id AND reg.cancelled_at IS NULL)"

/* The staff clause, over a row of events: the user bound to its one ? is
 * on the event's staff (events/staff.h). */
#define EVENTS_SQL_STAFF "id IN (SELECT event_id FROM event_staff WHERE user_id = ?)"

/*
 * The door: whether who (NULL: anonymous) may do the work at the door of
 * an event of organizer_id, staff telling whether who is its staff.
 */
bool events_may_check_in(const struct principal *who, int64_t organizer_id, bool staff);

/* Which of the events who may see a list reads. */
enum events_visible_part {
  EVENTS_VISIBLE_ALL,      /* all of them */
  EVENTS_VISIBLE_PUBLIC,   /* the public ones: the part that is the same for every user */
  EVENTS_VISIBLE_PRIVATE,  /* the private ones: the part that is who's own */
};

/*
 * Visibility as a condition over a row of events, for the lists: *part of
 * the events who may see. Anonymous callers see the public events whatever
 * the part asked, admins every event: *part becomes what the condition
 * reads (EVENTS_VISIBLE_PUBLIC for anonymous callers, EVENTS_VISIBLE_ALL
 * for admins). Each ? stands for who->id; *nparams says how many. Static
 * text.
 */
const char *events_visible_sql(const struct principal *who, enum events_visible_part *part,
                               int *nparams);

#endif
