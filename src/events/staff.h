/*
 * staff.h - an event's staff: the users its organizer (or an admin) trusts
 * with the work at the door, and every SQL statement for them.
 *
 * Staff may list the event's registrations (and download them as CSV when
 * can_export), check its tickets in and undo a check-in: nothing else
 * (events/rules.h, events_may_check_in). A user is staff of an event at
 * most once; the rows go with the event and with the user.
 *
 * Strings of structs read from the database live in the arena passed to
 * the reading function. Writing functions run inside the caller's unit of
 * work.
 */
#ifndef EVENTAPI_EVENTS_STAFF_H
#define EVENTAPI_EVENTS_STAFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "db/db.h"

struct event_staff {
  int64_t id;
  int64_t event_id;
  int64_t user_id;
  const char *username;   /* the staff member's */
  const char *email;
  bool can_export;        /* may download the registrations as CSV */
  int64_t added_by;       /* 0: that user is gone */
  int64_t created_at;
};

/*
 * Inserts s (its id set): 0, or EVENTAPI_ECONSTRAINT when s->user_id is
 * staff of s->event_id already (the unique pair decides between racing
 * requests), or another negative code.
 */
int events_staff_insert(db_t *db, struct event_staff *s);

/* The staff entry of user_id for event_id: 0 or EVENTAPI_ENOTFOUND. */
int events_staff_get(db_t *db, int64_t event_id, int64_t user_id, arena_t *arena,
                     struct event_staff *out);

/*
 * The door rule (events/rules.h) for event_id of organizer_id: whether who
 * may do the work at its door (*may), and whether they may also download
 * its registrations as CSV (*can_export: whoever may change the event, and
 * staff with can_export). The one fact that takes a query: is who staff?
 */
int events_staff_door(db_t *db, int64_t event_id, int64_t organizer_id,
                      const struct principal *who, bool *may, bool *can_export);

/* Whether user_id is staff of any event at all (*any). */
int events_staff_of_any(db_t *db, int64_t user_id, bool *any);

/*
 * One page of event_id's staff, first added first: at most limit from
 * offset into *out (arena memory, *count of them), and the number of all
 * of them in *total. Run it in a read transaction for the two to agree.
 */
int events_staff_list(db_t *db, int64_t event_id, int64_t limit, int64_t offset, arena_t *arena,
                      struct event_staff **out, size_t *count, int64_t *total);

/* An event at whose door a user works: one they organize, or are staff of. */
struct event_door {
  int64_t id;
  const char *title;
  const char *location;
  int64_t date_time;
  bool organizer;         /* theirs; else they are its staff */
  bool can_export;        /* may download its registrations as CSV */
};

/*
 * One page of the events at whose door user_id works (only_event alone
 * when it is not 0: an API key's one event), the nearest to now first
 * (then by id): at most limit from offset into *out (arena memory, *count
 * of them), and the number of all of them in *total. Run it in a read
 * transaction for the two to agree.
 */
int events_staff_doors(db_t *db, int64_t user_id, int64_t only_event, int64_t now,
                       int64_t limit, int64_t offset, arena_t *arena, struct event_door **out,
                       size_t *count, int64_t *total);

/* Removes user_id from event_id's staff: 0 or EVENTAPI_ENOTFOUND. */
int events_staff_delete(db_t *db, int64_t event_id, int64_t user_id);

#endif
