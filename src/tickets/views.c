/*
 * views.c - tickets: the holder's list and detail, the check-in at the
 * door and its undoing (by the event's organizer, an admin or its staff),
 * scans made offline, the door's changes and figures, the check-in audit,
 * and the QR codes that carry the ticket's code.
 */
#include "tickets/views.h"

#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "events/permissions.h"
#include "events/rules.h"
#include "events/staff.h"
#include "shortcuts/body.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"
#include "tickets/door.h"
#include "tickets/models.h"
#include "tickets/qr.h"
#include "tickets/serializers.h"

static const char NO_TICKET[] = "No Ticket matches the given query.";
/* docs/api.md: to staff, a ticket of an event they do not work the door of. */
static const char NOT_YOUR_DOOR[] = "This ticket is not for an event you check in.";

/* The caller's page of tickets (struct page_read). */
static int
read_page(db_t *db, void *arg)
{
  struct page_read *r = arg;
  struct ticket *list = NULL;
  int rc = tickets_list_user(db, r->of, r->page.limit, r->page.offset, r->arena, &list,
                             &r->count, &r->total);
  r->items = list;
  return rc;
}

static json_t *
page_item(const void *items, size_t i)
{
  return tickets_serialize(&((const struct ticket *)items)[i]);
}

void
tickets_list_view(struct http_request *req)
{
  pagination_user_list(req, read_page, page_item);
}

/* Who may load a ticket of the path. */
enum ticket_access {
  TICKET_READ,   /* its holder, the event's organizer, an admin */
  TICKET_DOOR,   /* the event's organizer, an admin, its staff (events/rules.h) */
};

/*
 * Loads the ticket of the path for access. Others get 404 ("No Ticket
 * matches the given query."), except a holder asking for the door's work,
 * who gets 403, and the staff of other events, who get 404 saying that
 * this ticket (one that exists) is not for an event they check in.
 */
static bool
ticket_or_404(struct http_request *req, enum ticket_access access, struct ticket *t)
{
  db_t *db = database_or_reply(req);
  if (db == NULL || !authenticated_or_reply(req))
    return false;
  int rc = tickets_get(db, req->params[0], &req->arena, t);
  if (rc < 0 && rc != EVENTAPI_ENOTFOUND)
    return ok_or_reply(req, rc, NULL, NULL);
  /* An API key limited to one event sees the tickets of that event only. */
  if (rc == 0 && req->user->key_event != 0 && t->event_id != req->user->key_event)
    rc = EVENTAPI_ENOTFOUND;
  bool may = false, can_export, staff_elsewhere = false;
  if (rc == 0 && access == TICKET_DOOR)
    rc = events_staff_door(db, t->event_id, t->organizer_id, req->user, &may, &can_export);
  else if (rc == 0)
    may = events_may_change(req->user, t->organizer_id) || t->user_id == req->user->id;
  if (rc < 0 && rc != EVENTAPI_ENOTFOUND)
    return ok_or_reply(req, rc, NULL, NULL);
  if (rc == 0 && may)
    return true;
  bool holder = rc == 0 && t->user_id == req->user->id;
  if (rc == 0 && !holder && access == TICKET_DOOR &&
      (rc = events_staff_of_any(db, req->user->id, &staff_elsewhere)) < 0)
    return ok_or_reply(req, rc, NULL, NULL);
  if (holder)
    http_reply_forbidden(req);
  else
    http_reply_detail(req, 404, staff_elsewhere ? NOT_YOUR_DOOR : NO_TICKET);
  return false;
}

/*
 * Who is at the door: the caller and the device named by the X-Device
 * header (docs/api.md; at most TICKETS_DEVICE_MAX characters of UTF-8),
 * or false after replying 400.
 */
static bool
door_or_400(struct http_request *req, struct tickets_door *door)
{
  const char *device = http_header(req, "X-Device");
  door->by = req->user->id;
  door->device = device ? device : "";
  const char *problem = NULL;
  if (!text_valid_utf8(door->device, strlen(door->device)))
    problem = "Not a valid string.";
  else if (text_utf8_length(door->device) > TICKETS_DEVICE_MAX)
    problem = "Ensure this field has no more than 100 characters.";
  _Static_assert(TICKETS_DEVICE_MAX == 100, "the message names the limit");
  if (problem == NULL)
    return true;
  http_reply_json(req, 400, json_pack("{s:[s]}", "device", problem));
  return false;
}

void
tickets_detail_view(struct http_request *req)
{
  struct ticket t;
  if (ticket_or_404(req, TICKET_READ, &t))
    http_reply_json(req, 200, tickets_serialize(&t));
}

/* A check-in or its undoing, as a unit of work: counted once, whoever scans at once. */
struct door_unit {
  struct ticket t;
  struct tickets_door door;
  int64_t now;
  int64_t first;              /* when it was checked in: now, or the earlier scan's time */
  const char *first_device;   /* and where, when it was earlier */
  arena_t *arena;
};

static int
check_in_unit(db_t *db, void *arg)
{
  struct door_unit *unit = arg;
  int rc = tickets_check_in(db, &unit->t, &unit->door, unit->now, &unit->first);
  if (rc == EVENTAPI_ECONFLICT) {
    int found = tickets_checked_in_where(db, unit->t.code, unit->arena, &unit->first_device);
    rc = found < 0 ? found : rc;
  }
  return rc;
}

static void
check_in_reply(struct http_request *req, int rc, void *arg)
{
  struct door_unit *unit = arg;
  if (rc == EVENTAPI_ECONFLICT) {
    /* API.md: counted once; the second scanner learns when it was. */
    char when[TIME_ISO_MAX];
    time_format_iso(unit->first, when);
    http_reply_json(req, 409, json_pack("{s:s, s:s, s:s}", "detail", "Ticket already checked in.",
                                        "checked_in_at", when, "device",
                                        unit->first_device ? unit->first_device : ""));
  } else if (object_or_404(req, rc, NO_TICKET)) {
    unit->t.checked_in_at = unit->first;
    http_reply_json(req, 200, tickets_serialize_at_door(&unit->t));
  }
}

void
tickets_check_in_view(struct http_request *req)
{
  struct door_unit unit = {.now = time_now_us(), .arena = &req->arena};
  if (ticket_or_404(req, TICKET_DOOR, &unit.t) && door_or_400(req, &unit.door))
    write_or_reply(req, check_in_unit, &unit, sizeof unit, check_in_reply);
}

static int
undo_unit(db_t *db, void *arg)
{
  struct door_unit *unit = arg;
  return tickets_undo_check_in(db, &unit->t, &unit->door, unit->now);
}

static void
undo_reply(struct http_request *req, int rc, void *arg)
{
  struct door_unit *unit = arg;
  if (rc == EVENTAPI_ECONFLICT) {
    http_reply_detail(req, 409, "Ticket is not checked in.");
  } else if (object_or_404(req, rc, NO_TICKET)) {
    unit->t.checked_in_at = 0;
    http_reply_json(req, 200, tickets_serialize_at_door(&unit->t));
  }
}

void
tickets_undo_check_in_view(struct http_request *req)
{
  struct door_unit unit = {.now = time_now_us()};
  if (ticket_or_404(req, TICKET_DOOR, &unit.t) && door_or_400(req, &unit.door))
    write_or_reply(req, undo_unit, &unit, sizeof unit, undo_reply);
}

/* ---- scans made offline, the door's changes and figures ----------------------- */

/* What tickets_sync() made of each scan, as docs/api.md names it. */
static const char *const SCAN_STATUS[] = {
  [TICKETS_SCAN_OK] = "ok",
  [TICKETS_SCAN_ALREADY] = "already_checked_in",
  [TICKETS_SCAN_UNKNOWN] = "unknown",
  [TICKETS_SCAN_CANCELLED] = "cancelled",
  [TICKETS_SCAN_OTHER_EVENT] = "other_event",
};

/* A batch of scans, as a unit of work. */
struct sync_unit {
  int64_t event_id, by;
  struct tickets_scan *scans;
  size_t count;
  arena_t *arena;
};

static int
sync_unit(db_t *db, void *arg)
{
  struct sync_unit *unit = arg;
  return tickets_sync(db, unit->event_id, unit->by, unit->scans, unit->count, unit->arena);
}

static void
sync_reply(struct http_request *req, int rc, void *arg)
{
  struct sync_unit *unit = arg;
  if (!ok_or_reply(req, rc, NULL, NULL))
    return;
  json_t *results = json_array();
  for (size_t i = 0; i < unit->count; i++) {
    const struct tickets_scan *scan = &unit->scans[i];
    bool in = scan->status == TICKETS_SCAN_OK || scan->status == TICKETS_SCAN_ALREADY;
    json_array_append_new(results, json_pack("{s:s, s:s, s:o, s:o}", "code", scan->code,
        "status", SCAN_STATUS[scan->status],
        "checked_in_at", in ? json_time(scan->checked_in_at) : json_null(),
        "device", in ? json_string(scan->checked_in_by) : json_null()));
  }
  http_reply_json(req, 200, json_pack("{s:o}", "results", results));
}

void
tickets_sync_view(struct http_request *req)
{
  struct event e;
  struct tickets_door door;
  if (!event_door_or_reply(req, req->ids[0], &e, NULL) || !door_or_400(req, &door))
    return;
  json_t *body = body_or_reply(req, NULL);
  if (body == NULL)
    return;
  struct sync_unit unit = {.event_id = e.id, .by = req->user->id, .arena = &req->arena};
  json_t *errors = NULL;
  int rc = tickets_scans_read(body, door.device, time_now_us(), &req->arena, &unit.scans,
                              &unit.count, &errors);
  if (rc == EVENTAPI_EINVAL)
    http_reply_json(req, 400, errors);
  else if (ok_or_reply(req, rc, NULL, NULL))
    write_or_reply(req, sync_unit, &unit, sizeof unit, sync_reply);
}

/* The changes at an event's door after a version, as one read. */
struct feed_read {
  int64_t event_id, since;
  arena_t *arena;
  struct tickets_audit *items;
  size_t count;
  bool more;
  int64_t cursor;
};

static int
read_feed(db_t *db, void *arg)
{
  struct feed_read *r = arg;
  return tickets_feed(db, r->event_id, r->since, r->arena, &r->items, &r->count, &r->more,
                      &r->cursor);
}

void
tickets_feed_view(struct http_request *req)
{
  struct event e;
  if (!event_door_or_reply(req, req->ids[0], &e, NULL))
    return;
  struct feed_read r = {.event_id = e.id, .arena = &req->arena};
  const char *since = http_query(req, "since");
  json_t *errors = errors_or_reply(req);
  if (errors == NULL)
    return;
  if (since)
    json_int_text(since, "since", 0, INT64_MAX, errors, &r.since);
  if (!valid_or_400(req, errors) || !ok_or_reply(req, db_read(read_feed, &r), NULL, NULL))
    return;
  json_t *results = json_array();
  for (size_t i = 0; i < r.count; i++)
    json_array_append_new(results, tickets_audit_serialize(&r.items[i]));
  http_reply_json(req, 200, json_pack("{s:I, s:b, s:o}", "cursor", (json_int_t)r.cursor,
                                      "more", r.more, "results", results));
}

/* An event's check-in figures, as one read. */
struct stats_read {
  int64_t event_id;
  arena_t *arena;
  struct tickets_stats stats;
};

static int
read_stats(db_t *db, void *arg)
{
  struct stats_read *r = arg;
  return tickets_stats(db, r->event_id, r->arena, &r->stats);
}

void
tickets_stats_view(struct http_request *req)
{
  struct event e;
  if (!event_door_or_reply(req, req->ids[0], &e, NULL))
    return;
  struct stats_read r = {.event_id = e.id, .arena = &req->arena};
  if (ok_or_reply(req, db_read(read_stats, &r), NULL, NULL))
    http_reply_json(req, 200, tickets_stats_serialize(e.id, &r.stats));
}

/* A page of an event's check-in audit (struct page_read, of the event). */
static int
read_audit(db_t *db, void *arg)
{
  struct page_read *r = arg;
  struct tickets_audit *list = NULL;
  int rc = tickets_audit_list(db, r->of, r->page.limit, r->page.offset, r->arena, &list,
                              &r->count, &r->total);
  r->items = list;
  return rc;
}

static json_t *
audit_item(const void *items, size_t i)
{
  return tickets_audit_serialize(&((const struct tickets_audit *)items)[i]);
}

void
tickets_audit_view(struct http_request *req)
{
  struct event e;
  if (event_owned_or_reply(req, req->ids[0], &e))
    pagination_list(req, e.id, read_audit, audit_item);
}

static void
reply_qr(struct http_request *req, bool png)
{
  struct ticket t;
  if (!ticket_or_404(req, TICKET_READ, &t))
    return;
  size_t len;
  char *image = png ? tickets_qr_png(t.code, &len) : tickets_qr_svg(t.code, &len);
  if (image == NULL) {
    http_reply_internal(req, "cannot draw a QR code");
    return;
  }
  http_add_header(req, "Cache-Control", "private, max-age=86400");
  http_reply_bytes(req, 200, png ? "image/png" : "image/svg+xml", image, len);
}

void
tickets_qr_svg_view(struct http_request *req)
{
  reply_qr(req, false);
}

void
tickets_qr_png_view(struct http_request *req)
{
  reply_qr(req, true);
}

