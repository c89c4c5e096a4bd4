/*
 * views.c - tickets: the holder's list and detail, the check-in at the
 * door, and the QR codes that carry the ticket's code.
 */
#include "tickets/views.h"

#include <string.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "events/rules.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"
#include "tickets/models.h"
#include "tickets/qr.h"
#include "tickets/serializers.h"

static const char NO_TICKET[] = "No Ticket matches the given query.";

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

/*
 * Loads the ticket of the path for its holder (unless organizer_only), the
 * event's organizer or an admin. Others get 404, except a holder asking for
 * an organizer's action, who gets 403.
 */
static bool
ticket_or_404(struct http_request *req, bool organizer_only, struct ticket *t)
{
  db_t *db = database_or_reply(req);
  if (db == NULL || !authenticated_or_reply(req))
    return false;
  int rc = tickets_get(db, req->params[0], &req->arena, t);
  if (rc < 0 && rc != EVENTAPI_ENOTFOUND)
    return ok_or_reply(req, rc, NULL, NULL);
  bool owner = rc == 0 && events_may_change(req->user, t->organizer_id);
  bool holder = rc == 0 && t->user_id == req->user->id;
  if (owner || (holder && !organizer_only))
    return true;
  if (holder)
    http_reply_forbidden(req);
  else
    http_reply_detail(req, 404, NO_TICKET);
  return false;
}

void
tickets_detail_view(struct http_request *req)
{
  struct ticket t;
  if (ticket_or_404(req, false, &t))
    http_reply_json(req, 200, tickets_serialize(&t));
}

/* A check-in, as a unit of work: counted once, whoever scans at once. */
struct check_in_unit {
  struct ticket t;
  int64_t now;
  int64_t first;   /* when it was checked in: now, or the earlier scan's time */
};

static int
check_in_unit(db_t *db, void *arg)
{
  struct check_in_unit *unit = arg;
  return tickets_check_in(db, unit->t.id, unit->now, &unit->first);
}

static void
check_in_reply(struct http_request *req, int rc, void *arg)
{
  struct check_in_unit *unit = arg;
  if (rc == EVENTAPI_ECONFLICT) {
    /* API.md: counted once; the second scanner learns when it was. */
    char when[TIME_ISO_MAX];
    time_format_iso(unit->first, when);
    http_reply_json(req, 409, json_pack("{s:s, s:s}", "detail", "Ticket already checked in.",
                                        "checked_in_at", when));
  } else if (object_or_404(req, rc, NO_TICKET)) {
    unit->t.checked_in_at = unit->first;
    http_reply_json(req, 200, tickets_serialize(&unit->t));
  }
}

void
tickets_check_in_view(struct http_request *req)
{
  struct check_in_unit unit = {.now = time_now_us()};
  if (ticket_or_404(req, true, &unit.t))
    write_or_reply(req, check_in_unit, &unit, sizeof unit, check_in_reply);
}

static void
reply_qr(struct http_request *req, bool png)
{
  struct ticket t;
  if (!ticket_or_404(req, false, &t))
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

