/*
 * views.c - tickets: the holder's list and detail, the check-in at the
 * door and its undoing (by the event's organizer, an admin or its staff),
 * the check-in audit, and the QR codes that carry the ticket's code.
 */
#include "tickets/views.h"

#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "events/permissions.h"
#include "events/rules.h"
#include "events/staff.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"
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
  int rc = tickets_list_user(db, r->user_id, r->page.limit, r->page.offset, r->arena, &list,
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
  int64_t first;   /* when it was checked in: now, or the earlier scan's time */
};

static int
check_in_unit(db_t *db, void *arg)
{
  struct door_unit *unit = arg;
  return tickets_check_in(db, &unit->t, &unit->door, unit->now, &unit->first);
}

static void
check_in_reply(struct http_request *req, int rc, void *arg)
{
  struct door_unit *unit = arg;
  if (rc == EVENTAPI_ECONFLICT) {
    /* API.md: counted once; the second scanner learns when it was. */
    char when[TIME_ISO_MAX];
    time_format_iso(unit->first, when);
    http_reply_json(req, 409, json_pack("{s:s, s:s}", "detail", "Ticket already checked in.",
                                        "checked_in_at", when));
  } else if (object_or_404(req, rc, NO_TICKET)) {
    unit->t.checked_in_at = unit->first;
    http_reply_json(req, 200, tickets_serialize_at_door(&unit->t));
  }
}

void
tickets_check_in_view(struct http_request *req)
{
  struct door_unit unit = {.now = time_now_us()};
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

/* A page of an event's check-in audit, as one read (the count and page agree). */
struct audit_read {
  int64_t event_id;
  struct page page;
  arena_t *arena;
  struct tickets_audit *items;
  size_t count;
  int64_t total;
};

static int
read_audit(db_t *db, void *arg)
{
  struct audit_read *r = arg;
  return tickets_audit_list(db, r->event_id, r->page.limit, r->page.offset, r->arena, &r->items,
                            &r->count, &r->total);
}

void
tickets_audit_view(struct http_request *req)
{
  struct event e;
  if (!event_owned_or_reply(req, req->ids[0], &e))
    return;
  struct audit_read r = {.event_id = e.id, .arena = &req->arena};
  if (!pagination_params_or_reply(req, &r.page) ||
      !ok_or_reply(req, db_read(read_audit, &r), NULL, NULL))
    return;
  json_t *results = json_array();
  for (size_t i = 0; i < r.count; i++)
    json_array_append_new(results, tickets_audit_serialize(&r.items[i]));
  pagination_reply(req, &r.page, r.total, results);
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

