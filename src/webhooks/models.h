/*
 * models.h - webhooks: the endpoints that organizers and admins connect,
 * which event types each wants, and every SQL statement for them.
 *
 * A webhook belongs to its owner (an organizer or an admin) and hears of
 * the events its owner may change (events/rules.h): an organizer's own,
 * every event for an admin; or of one of them only (event_id). What is
 * sent to it goes through the outbox's webhook channel (delivery/webhook.h)
 * keyed by the webhook's id, so its deliveries are the outbox's rows of
 * that key, and its signing secrets are asked for by the worker when it
 * sends (webhooks_keys), never copied into the outbox.
 *
 * Strings of structs read from the database live in the arena passed to
 * the reading function. Writing functions run inside the caller's unit of
 * work.
 */
#ifndef EVENTAPI_WEBHOOKS_MODELS_H
#define EVENTAPI_WEBHOOKS_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "delivery/webhook.h"

/*
 * The event types, in the order the API lists them: X(NAME, "name").
 * registration.created is a registration that took a place (with its
 * ticket), registration.waitlisted one that went on the waitlist: each new
 * registration is one or the other. ping is sent only when asked for.
 */
#define WEBHOOKS_TYPES(X)                                 \
  X(REGISTRATION_CREATED, "registration.created")         \
  X(REGISTRATION_WAITLISTED, "registration.waitlisted")   \
  X(REGISTRATION_PROMOTED, "registration.promoted")       \
  X(REGISTRATION_CANCELLED, "registration.cancelled")     \
  X(TICKET_CHECKED_IN, "ticket.checked_in")               \
  X(EVENT_CREATED, "event.created")                       \
  X(EVENT_UPDATED, "event.updated")                       \
  X(EVENT_DELETED, "event.deleted")                       \
  X(PING, "ping")                                         \
  X(TICKET_CHECK_IN_UNDONE, "ticket.check_in_undone")      \
  X(REGISTRATION_OFFERED, "registration.offered")

enum webhooks_type {
#define X(name, text) WEBHOOKS_##name,
  WEBHOOKS_TYPES(X)
#undef X
  WEBHOOKS_NTYPES
};

/* A set of event types, as the events column stores it. */
#define WEBHOOKS_BIT(type) (INT64_C(1) << (type))

/* "registration.created" for WEBHOOKS_REGISTRATION_CREATED. */
const char *webhooks_type_name(enum webhooks_type type);

/* The type called name: 0, or EVENTAPI_EINVAL. */
int webhooks_type_parse(const char *name, enum webhooks_type *out);

#define WEBHOOKS_URL_MAX DELIVERY_WEBHOOK_URL_MAX
#define WEBHOOKS_DESCRIPTION_MAX 255
/* "whsec_" and the base64 of 24 random bytes: 6 + 32 characters. */
#define WEBHOOKS_SECRET_BYTES 24
#define WEBHOOKS_SECRET_LEN 38
/* How long the secret a rotation replaced keeps signing beside the new one. */
#define WEBHOOKS_ROTATION_US (INT64_C(24) * 3600 * 1000000)

struct webhook {
  int64_t id;
  int64_t owner_id;
  const char *url;
  int64_t events;          /* WEBHOOKS_BIT()s */
  int64_t event_id;        /* 0: every event of the owner's */
  const char *description;
  bool is_active;
  const char *base_url;    /* links in payloads when PUBLIC_URL is unset */
  int64_t created_at, updated_at;
  int64_t active_since;    /* created, or last turned active again */
  int64_t failing_since;   /* 0: not failing */
  int64_t disabled_at;     /* 0: not disabled for failing */
};

/* Writes a new random secret ("whsec_..."), NUL-terminated, into out. */
void webhooks_secret_new(char out[WEBHOOKS_SECRET_LEN + 1]);

/* How many webhooks one user may have: each is a row written beside every
 * change it wants, inside that change's unit of work. */
#define WEBHOOKS_PER_USER_MAX 20

/* Inserts w (its id set) with secret: 0, EVENTAPI_ECONFLICT when its owner
 * has WEBHOOKS_PER_USER_MAX already, or another negative code. */
int webhooks_insert(db_t *db, struct webhook *w, const char *secret);

/* Webhook id. 0 or EVENTAPI_ENOTFOUND. */
int webhooks_get(db_t *db, int64_t id, arena_t *arena, struct webhook *out);

/*
 * One page of the webhooks of owner_id (0: everyone's), oldest first: at
 * most limit from offset into *out (arena memory, *count of them), and the
 * number of all of them in *total. Run it in a read transaction for the
 * two to agree.
 */
int webhooks_list(db_t *db, int64_t owner_id, int64_t limit, int64_t offset, arena_t *arena,
                  struct webhook **out, size_t *count, int64_t *total);

/*
 * Writes what the API changes of w: url, events, description, is_active,
 * updated_at. A webhook turned active again starts afresh: active since
 * updated_at, neither failing nor disabled. EVENTAPI_ENOTFOUND when it is
 * gone.
 */
int webhooks_update(db_t *db, const struct webhook *w);

/* Sets the failing_since of webhook id while it is active (0: not failing). */
int webhooks_set_failing(db_t *db, int64_t id, int64_t failing_since);

/*
 * Turns webhook id off at now for failing since failing_since, unless it
 * is off already: *disabled tells whether this call did it (so that one
 * worker of many tells its owner).
 */
int webhooks_disable(db_t *db, int64_t id, int64_t failing_since, int64_t now, bool *disabled);

/*
 * Deletes webhook id; what is unsent of it goes too (the migration's
 * trigger, which also follows an owner's deletion). EVENTAPI_ENOTFOUND
 * when it is gone.
 */
int webhooks_delete(db_t *db, int64_t id);

/*
 * Makes secret webhook id's secret at now; the one it replaces signs
 * beside it until now + WEBHOOKS_ROTATION_US (one before that is dropped).
 * EVENTAPI_ENOTFOUND when it is gone.
 */
int webhooks_rotate(db_t *db, int64_t id, const char *secret, int64_t now);

/*
 * The signing secrets of webhook ref now: the key resolver of the webhook
 * channel (delivery_webhook_keys_fn, registered in app.c), run by a worker
 * in a read transaction. EVENTAPI_ENOTFOUND, with the reason, when the
 * webhook is gone or not active.
 */
int webhooks_keys(db_t *db, int64_t ref, arena_t *arena, struct delivery_webhook_keys *keys,
                  char *err, size_t errlen);

/*
 * Whether any active webhook wants type at all (*any): one small look
 * before a change reads what a webhook would carry, so that a server
 * without webhooks does no more per change than this.
 */
int webhooks_any_wanting(db_t *db, enum webhooks_type type, bool *any);

/*
 * The active webhooks that want type for event_id, whose organizer is
 * organizer_id: those of its organizer and of admins (active users both),
 * for every event or for this one. Into *out (arena memory, *count of
 * them), by id. Inside the unit of work of the change.
 */
int webhooks_matching(db_t *db, enum webhooks_type type, int64_t event_id,
                      int64_t organizer_id, arena_t *arena, struct webhook **out,
                      size_t *count);

/*
 * The active webhooks, by id, at most limit from after_id on (their ids
 * greater), into *out (arena memory, *count of them): what the worker's
 * beat looks over.
 */
int webhooks_list_active(db_t *db, int64_t after_id, int64_t limit, arena_t *arena,
                         struct webhook **out, size_t *count);

#endif
