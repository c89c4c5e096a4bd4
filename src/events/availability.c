/*
 * availability.c - an event's places left (see availability.h).
 */
#include "events/availability.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "events/filters.h"
#include "events/models.h"
#include "http/media.h"
#include "shortcuts/reply.h"

static const char NO_EVENT[] = "No Event matches the given query.";

/* What the read transaction gives back. */
struct availability_read {
  int64_t id;
  const struct principal *who;
  bool anyone;                /* whoever asks: no visibility rule */
  arena_t *arena;
  struct availability *out;
};

static int
read_counts(db_t *db, struct availability *a)
{
  db_stmt_t *st = db_prepare(db,
      "SELECT e.capacity, e.confirmed_count, e.version + e.seats_version,"
      " (SELECT count(*) FROM registrations r WHERE r.event_id = e.id"
      " AND r.cancelled_at IS NULL AND r.is_waitlisted = 1 AND r.offer_expires_at IS NULL)"
      " FROM events e WHERE e.id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, a->event);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    a->capacity = db_column_int(st, 0);
    a->confirmed = db_column_int(st, 1);
    a->version = db_column_int(st, 2);
    a->waitlisted = db_column_int(st, 3);
    rc = 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_ENOTFOUND;
  }
  db_reset(st);
  return rc;
}

static int
read_type(db_stmt_t *st, arena_t *arena, void *out)
{
  (void)arena;
  struct availability_type *t = out;
  t->id = db_column_int(st, 0);
  t->quantity = db_column_int(st, 1);
  t->confirmed = db_column_int(st, 2);
  return 0;
}

static int
read_unit(db_t *db, void *arg)
{
  struct availability_read *r = arg;
  struct event e;
  bool visible = false;
  int rc = events_get_row(db, r->id, r->arena, &e);
  if (rc == 0 && !r->anyone)
    rc = events_can_see(db, &e, r->who, &visible);
  else if (rc == 0)
    visible = true;
  if (rc == 0 && !visible)
    rc = EVENTAPI_ENOTFOUND; /* API.md: private events are 404 to others */
  if (rc < 0)
    return rc;
  memset(r->out, 0, sizeof *r->out);
  r->out->event = e.id;
  if ((rc = read_counts(db, r->out)) < 0)
    return rc;
  db_stmt_t *st = db_prepare(db, "SELECT id, quantity, confirmed_count FROM ticket_types"
                                 " WHERE event_id = ? ORDER BY id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, e.id);
  void *types;
  rc = db_rows(st, read_type, sizeof(struct availability_type), 0, r->arena, &types,
               &r->out->ntypes);
  r->out->types = types;
  return rc;
}

int
events_availability_read(int64_t id, const struct principal *who, arena_t *arena,
                         struct availability *out)
{
  struct availability_read r = {.id = id, .who = who, .arena = arena, .out = out};
  return db_read(read_unit, &r);
}

int
events_availability_read_any(int64_t id, arena_t *arena, struct availability *out)
{
  struct availability_read r = {.id = id, .anyone = true, .arena = arena, .out = out};
  return db_read(read_unit, &r);
}

/* What is left of limit with taken gone; null for unlimited (0). */
static json_t *
remaining(int64_t limit, int64_t taken)
{
  return limit ? json_integer(limit > taken ? limit - taken : 0) : json_null();
}

json_t *
events_availability_serialize(const struct availability *a)
{
  json_t *types = json_array();
  for (size_t i = 0; i < a->ntypes; i++) {
    const struct availability_type *t = &a->types[i];
    json_array_append_new(types, json_pack("{s:I, s:I, s:I, s:o}",
                                           "id", (json_int_t)t->id,
                                           "quantity", (json_int_t)t->quantity,
                                           "confirmed", (json_int_t)t->confirmed,
                                           "remaining", remaining(t->quantity, t->confirmed)));
  }
  return json_pack("{s:I, s:I, s:I, s:o, s:I, s:o, s:I}",
                   "event", (json_int_t)a->event,
                   "capacity", (json_int_t)a->capacity,
                   "confirmed", (json_int_t)a->confirmed,
                   "remaining", remaining(a->capacity, a->confirmed),
                   "waitlisted", (json_int_t)a->waitlisted,
                   "ticket_types", types,
                   "version", (json_int_t)a->version);
}

void
events_availability_etag(const struct availability *a, char out[48])
{
  snprintf(out, 48, "\"a%lld-%lld\"", (long long)a->event, (long long)a->version);
}

void
events_availability_view(struct http_request *req)
{
  struct availability a;
  int rc = events_availability_read(req->ids[0], req->user, &req->arena, &a);
  if (!object_or_404(req, rc, NO_EVENT))
    return;
  char etag[48];
  events_availability_etag(&a, etag);
  http_add_header(req, "ETag", arena_strdup(&req->arena, etag));
  /* Seconds old at most, and never from a shared cache: a private event's
   * counts are its viewers' alone. */
  http_add_header(req, "Cache-Control", "private, no-cache");
  json_t *body = events_availability_serialize(&a);
  const char *match = http_header(req, "If-None-Match");
  if (body && match && media_etag_listed(match, etag)) {
    http_reply_not_modified(req, json_dumpb(body, NULL, 0, JSON_COMPACT));
    json_decref(body);
    return;
  }
  http_reply_json(req, 200, body);
}
