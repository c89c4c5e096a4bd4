/*
 * signals.c - the webhooks a change writes (see signals.h).
 */
#include "webhooks/signals.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "delivery/webhook.h"
#include "events/serializers.h"
#include "events/signals.h"
#include "registrations/models.h"
#include "registrations/serializers.h"
#include "registrations/signals.h"
#include "tickets/models.h"
#include "tickets/serializers.h"
#include "tickets/signals.h"
#include "webhooks/models.h"
#include "webhooks/payload.h"

/* What changed, as the API shows it: one of these. */
struct subject {
  const struct event *event;
  const struct registration *registration;
  const struct ticket *ticket;
};

/* The subject's JSON for a webhook whose links start with base_url. */
static json_t *
subject_serialize(const struct subject *s, const char *base_url)
{
  if (s->event)
    return events_serialize(s->event, base_url);
  if (s->registration)
    return registrations_serialize(s->registration);
  return tickets_serialize(s->ticket);
}

/*
 * Writes a webhook of type about s, which happened at now, to every active
 * endpoint that wants it for event_id of organizer_id. One body is made
 * for all of them, unless their links differ (webhooks_base_url).
 */
static int
dispatch(db_t *db, enum webhooks_type type, int64_t event_id, int64_t organizer_id,
         int64_t now, const struct subject *s, arena_t *arena)
{
  struct webhook *hooks;
  size_t count;
  int rc = webhooks_matching(db, type, event_id, organizer_id, arena, &hooks, &count);
  char *body = NULL;
  const char *body_base = NULL;
  for (size_t i = 0; rc == 0 && i < count; i++) {
    const char *base = webhooks_base_url(&hooks[i], arena);
    if (body == NULL || strcmp(base, body_base) != 0) {
      free(body);
      body = webhooks_payload(type, now, subject_serialize(s, base));
      body_base = base;
      if (body == NULL) {
        rc = EVENTAPI_ENOMEM;
        break;
      }
    }
    struct delivery_webhook w = {
      .url = hooks[i].url,
      .type = webhooks_type_name(type),
      .body = body,
      .ref = hooks[i].id,
    };
    rc = delivery_webhook_enqueue(db, &w, now, NULL);
  }
  free(body);
  return rc;
}

/* Whether any webhook wants type: 0 with *any, else a negative code. */
static int
wanted(db_t *db, enum webhooks_type type, bool *any)
{
  *any = false;
  return webhooks_any_wanting(db, type, any);
}

/* ---- registrations and tickets -------------------------------------------- */

static int
on_registration(db_t *db, enum webhooks_type type, const void *payload)
{
  const struct registrations_change *change = payload;
  bool any;
  int rc = wanted(db, type, &any);
  if (rc < 0 || !any)
    return rc;
  arena_t arena = {0};
  struct registration r;
  rc = registrations_get(db, change->registration_id, &arena, &r);
  if (rc == 0) {
    /* Cancelled: its ticket is void, whether or not it is deleted yet. */
    if (type == WEBHOOKS_REGISTRATION_CANCELLED)
      r.has_ticket = false;
    rc = dispatch(db, type, r.event_id, r.organizer_id, change->now,
                  &(struct subject){.registration = &r}, &arena);
  }
  arena_free(&arena);
  return rc;
}

int
webhooks_on_registration_confirmed(db_t *db, const void *payload)
{
  return on_registration(db, WEBHOOKS_REGISTRATION_CREATED, payload);
}

int
webhooks_on_registration_waitlisted(db_t *db, const void *payload)
{
  return on_registration(db, WEBHOOKS_REGISTRATION_WAITLISTED, payload);
}

int
webhooks_on_registration_promoted(db_t *db, const void *payload)
{
  return on_registration(db, WEBHOOKS_REGISTRATION_PROMOTED, payload);
}

int
webhooks_on_registration_cancelled(db_t *db, const void *payload)
{
  return on_registration(db, WEBHOOKS_REGISTRATION_CANCELLED, payload);
}

int
webhooks_on_registration_offered(db_t *db, const void *payload)
{
  return on_registration(db, WEBHOOKS_REGISTRATION_OFFERED, payload);
}

/* A ticket's check-in, or its undoing: the ticket as it is now. */
static int
on_ticket(db_t *db, enum webhooks_type type, const struct tickets_check_in *check_in)
{
  bool any;
  int rc = wanted(db, type, &any);
  if (rc < 0 || !any)
    return rc;
  arena_t arena = {0};
  struct ticket t;
  rc = tickets_get_id(db, check_in->ticket_id, &arena, &t);
  if (rc == 0)
    rc = dispatch(db, type, t.event_id, t.organizer_id, check_in->now,
                  &(struct subject){.ticket = &t}, &arena);
  arena_free(&arena);
  return rc;
}

int
webhooks_on_ticket_checked_in(db_t *db, const void *payload)
{
  return on_ticket(db, WEBHOOKS_TICKET_CHECKED_IN, payload);
}

int
webhooks_on_ticket_check_in_undone(db_t *db, const void *payload)
{
  return on_ticket(db, WEBHOOKS_TICKET_CHECK_IN_UNDONE, payload);
}

/* ---- events ---------------------------------------------------------------- */

static int
on_event(db_t *db, enum webhooks_type type, int64_t event_id)
{
  bool any;
  int rc = wanted(db, type, &any);
  if (rc < 0 || !any)
    return rc;
  arena_t arena = {0};
  struct event e;
  rc = events_get(db, event_id, &arena, &e); /* as it is now, nested rows and all */
  if (rc == 0)
    rc = dispatch(db, type, e.id, e.organizer_id, time_now_us(),
                  &(struct subject){.event = &e}, &arena);
  arena_free(&arena);
  return rc;
}

int
webhooks_on_event_created(db_t *db, const void *payload)
{
  return on_event(db, WEBHOOKS_EVENT_CREATED, ((const struct events_touched *)payload)->event_id);
}

int
webhooks_on_event_updated(db_t *db, const void *payload)
{
  return on_event(db, WEBHOOKS_EVENT_UPDATED, ((const struct events_touched *)payload)->event_id);
}

int
webhooks_on_event_deleting(db_t *db, const void *payload)
{
  const struct event *e = ((const struct events_deletion *)payload)->event;
  bool any;
  int rc = wanted(db, WEBHOOKS_EVENT_DELETED, &any);
  if (rc < 0 || !any)
    return rc;
  arena_t arena = {0};
  rc = dispatch(db, WEBHOOKS_EVENT_DELETED, e->id, e->organizer_id, time_now_us(),
                &(struct subject){.event = e}, &arena);
  arena_free(&arena);
  return rc;
}
