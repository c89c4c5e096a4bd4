/*
 * serializers.h - events, sessions, ticket types and categories between
 * JSON and structs, with DRF's validation messages.
 */
#ifndef EVENTAPI_EVENTS_SERIALIZERS_H
#define EVENTAPI_EVENTS_SERIALIZERS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/decimal.h"
#include "db/db.h"
#include "events/models.h"
#include "events/staff.h"

/*
 * The API's event, with "image" as an absolute URL under base_url/media/
 * (or null) and its nested sessions and ticket types. Caller owns it.
 */
json_t *events_serialize(const struct event *e, const char *base_url);
json_t *events_sessions_serialize(const struct session *s);
json_t *events_ticket_types_serialize(const struct ticket_type *t);
json_t *events_categories_serialize(const struct category *c);

/* "50.00" for 5000 cents, into out (at least 24 bytes). */
void events_money_format(int64_t cents, char *out, size_t len);

/*
 * Parses a price, DRF's DecimalField(max_digits=8, decimal_places=2,
 * min_value=0), from a string or a number (read as the text Python prints
 * for it) into cents, never computing with a float. 0, or EVENTAPI_EINVAL
 * with DRF's message written into message. null is the caller's to refuse.
 */
int events_money_parse(const json_t *value, int64_t *cents, char message[DECIMAL_MESSAGE_MAX]);

/* The nested lists of an event body; *_given when a non-empty list came. */
struct event_nested {
  bool sessions_given, ticket_types_given;
  struct session *sessions;
  size_t nsessions;
  struct ticket_type *ticket_types;
  size_t nticket_types;
};

/*
 * Validates an event body onto e, which holds the current values for an
 * update (partial: PATCH) and defaults for a create. API.md: date_time must
 * be in the future on create, and on update when it changes. The category
 * must exist (a query on db). Nested lists go to *nested, each item's errors
 * at its index. Every problem is added to errors. Returns 0,
 * EVENTAPI_EINVAL when errors holds any, or a database error.
 */
int events_validate(json_t *body, bool partial, bool creating, db_t *db, int64_t now,
                    arena_t *arena, struct event *e, struct event_nested *nested,
                    json_t *errors);

/*
 * One session or ticket type body onto s / t (current values when partial).
 * 0, or EVENTAPI_EINVAL when errors holds any.
 */
int events_sessions_validate(json_t *item, bool partial, arena_t *arena, struct session *s,
                      json_t *errors);
int events_ticket_types_validate(json_t *item, bool partial, arena_t *arena, struct ticket_type *t,
                          json_t *errors);

/*
 * A category body onto c; the slug is made from the name when absent (the
 * unit of work makes it unique). 0, or EVENTAPI_EINVAL when errors holds any.
 */
int events_categories_validate(json_t *body, bool partial, arena_t *arena, struct category *c,
                        json_t *errors);

/* Django's slugify (ASCII): lowercase, runs of other characters to "-". */
char *events_categories_slugify(arena_t *arena, const char *name);

/* An event at the caller's door (GET /api/events/door/). The caller owns it. */
json_t *events_door_serialize(const struct event_door *d);

/* A staff entry as the API shows it. The caller owns the returned object. */
json_t *events_staff_serialize(const struct event_staff *s);

/*
 * Reads a new staff entry of event e from body into *s: the user by "user"
 * (a pk) or by "email" (an existing user's), and "can_export" (optional,
 * false). DRF's messages go into errors: an unknown user, the event's own
 * organizer, a user already on its staff. Returns 0, EVENTAPI_EINVAL with
 * errors, or a database error.
 */
int events_staff_validate(json_t *body, db_t *db, const struct event *e, arena_t *arena,
                          struct event_staff *s, json_t *errors);

/* DRF's UniqueTogetherValidator message for a user on an event's staff twice. */
extern const char EVENTS_STAFF_TWICE[];

#endif
