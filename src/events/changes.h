/*
 * changes.h - the events app's changes, as its units of work run them:
 * each re-reads what it checks under the write lock, keeps API.md's rules
 * (capacity and quantities never below the confirmed registrations, names
 * unique, ticket types holding registrations kept), writes, and sends the
 * events app's signals (events/signals.h) inside the same transaction.
 *
 * They never answer a request: each returns 0 or a code, with field errors
 * added to errors (EVENTAPI_EINVAL) for the view to answer. A unit may run
 * more than once (db.h): each starts from its arguments and leaves them as
 * they came when it fails, but clears errors itself.
 */
#ifndef EVENTAPI_EVENTS_CHANGES_H
#define EVENTAPI_EVENTS_CHANGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "events/models.h"
#include "events/serializers.h"

/*
 * Writes category c (inserted when c->id is 0) with the slug wanted: name
 * and slug unique among the categories, a slug made from the name
 * (slug_made) numbered "-2", "-3"... until it is. Sets c->slug (and c->id).
 * EVENTAPI_EINVAL with errors; EVENTAPI_EBUSY when another node took the
 * slug just made (the unit runs again and numbers anew).
 */
int events_categories_save(db_t *db, struct category *c, const char *wanted, bool slug_made,
                           json_t *errors, arena_t *arena);

/*
 * Updates event e->id to e's own fields and nested's lists (API.md's
 * synchronisation: items matched by id, else ticket types by name, are
 * updated, the others created, existing ones left out deleted), after
 * checking the new limits against the counts as they are now. Sends
 * events_changed, events_updated, and events_places_opened (any raised limit may let the
 * waitlist in). EVENTAPI_EINVAL with errors; EVENTAPI_ECONFLICT with the
 * name of a ticket type left out that holds registrations in *in_use;
 * EVENTAPI_ENOTFOUND when the event is gone.
 */
int events_save(db_t *db, const struct event *e, struct event_nested *nested, json_t *errors,
                arena_t *arena, const char **in_use);

/*
 * Inserts event e with its sessions and ticket types (events_insert; sets
 * the ids) and sends events_created.
 */
int events_create(db_t *db, struct event *e, arena_t *arena);

/*
 * Deletes event id as it is now, after sending events_deleting (its
 * registrations still there); its image file is removed once the deletion
 * commits. EVENTAPI_ENOTFOUND when it is gone.
 */
int events_delete(db_t *db, int64_t id, arena_t *arena);

/*
 * Sets event_id's image file name to image (NULL: none), sends
 * events_updated when it changed, and reads the event back into *updated. The name it replaces is read here, under the
 * write lock, so two racing uploads each remove the file the other
 * replaced, never one still referenced; that file is removed once the
 * change commits.
 */
int events_image_swap(db_t *db, int64_t event_id, const char *image, arena_t *arena,
                      struct event *updated);

/*
 * Writes ticket type t (inserted when t->id is 0) and bumps its event's
 * version: its quantity never below its confirmed registrations, its name
 * unique within the event. Sends events_updated, and, for a quantity
 * raised from old_quantity, events_places_opened. EVENTAPI_EINVAL with errors; EVENTAPI_ENOTFOUND.
 */
int events_ticket_types_save(db_t *db, struct ticket_type *t, int64_t old_quantity,
                             json_t *errors, arena_t *arena);

/* Deletes ticket type id of event_id: EVENTAPI_ECONFLICT while it holds registrations. */
int events_ticket_types_remove(db_t *db, int64_t event_id, int64_t id, arena_t *arena);

/* Writes session s (inserted when s->id is 0), bumps its event's version
 * and sends events_updated (so do the removals). */
int events_sessions_save(db_t *db, struct session *s, arena_t *arena);

/* Deletes session id of event_id and bumps the event's version. */
int events_sessions_remove(db_t *db, int64_t event_id, int64_t id, arena_t *arena);

/*
 * users_deleting's receiver (db/signal.h; app.c connects it): an
 * organizer's events go as if deleted one by one, so that their
 * registrants hear of it and the image files go too.
 */
int events_on_user_deleting(db_t *db, const void *payload);

#endif
