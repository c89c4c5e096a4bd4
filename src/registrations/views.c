/*
 * views.c - registering, the waitlist, cancelling, and the list of an
 * event's registrations (JSON or CSV) for its organizer and its staff.
 */
#include "registrations/views.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "events/models.h"
#include "events/permissions.h"
#include "events/rules.h"
#include "registrations/models.h"
#include "registrations/serializers.h"
#include "shortcuts/body.h"
#include "shortcuts/database.h"
#include "shortcuts/pagination.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"
#include "tickets/models.h"

static const char NO_EVENT[] = "No Event matches the given query.";
static const char NO_REGISTRATION[] = "No Registration matches the given query.";

/* A registration, as a unit of work: in, the user, event and ticket type;
 * out, the registration made (confirmed or waitlisted). */
struct register_unit {
  struct registration r;
  char code[TICKET_CODE_LEN + 1]; /* the ticket's, should it get one */
  int64_t now;
  bool event_in_body;         /* an unknown event is a field error, not 404 */
  arena_t *arena;
};

/*
 * The unit: places taken by the database's conditional updates, the row,
 * its ticket and its notifications, all or nothing. EVENTAPI_ECONSTRAINT
 * when the user already holds an active registration (the unique index
 * decides between racing requests), EVENTAPI_ENOTFOUND when the event or
 * ticket type went away since the view read it.
 */
static int
register_unit(db_t *db, void *arg)
{
  struct register_unit *u = arg;
  return registrations_create(db, &u->r, u->code, u->now, u->arena);
}

static void
register_reply(struct http_request *req, int rc, void *arg)
{
  struct register_unit *u = arg;
  if (rc == EVENTAPI_ECONSTRAINT) {
    http_reply_json(req, 400, json_pack("{s:[s]}", "non_field_errors",
                                        "You are already registered for this event."));
  } else if (rc == EVENTAPI_ENOTFOUND && u->event_in_body) {
    json_t *errors = json_object();
    registrations_invalid_pk(errors, "event", u->r.event_id, &req->arena);
    http_reply_json(req, 400, errors);
  } else if (ok_or_reply(req, rc, NULL, NO_EVENT)) {
    /* API.md: 200 (CREATE_STATUS=201 as the original). */
    http_reply_json(req, config->create_status, registrations_serialize(&u->r));
  }
}

/*
 * The registration of API.md. Checked first, outside the write lock
 * (registrations_check): the event visible to the caller and not started,
 * the ticket type given when the event has any and of this event, no
 * active registration yet. Then one unit of work registers, confirmed or
 * waitlisted by the database.
 */
static void
register_for(struct http_request *req, int64_t event_id, bool event_in_body, json_t *body,
             json_t *errors)
{
  int64_t ticket_type_id = 0, now = time_now_us();
  enum field_result got = registrations_pk_field(body, "ticket_type", errors, &req->arena,
                                                &ticket_type_id);
  db_t *db = database_or_reply(req);
  if (db == NULL)
    return;
  int rc = registrations_check(db, req->user, event_id, got, ticket_type_id, now, errors,
                               &req->arena);
  if (rc == EVENTAPI_ENOTFOUND && event_in_body) {
    registrations_invalid_pk(errors, "event", event_id, &req->arena);
    rc = EVENTAPI_EINVAL;
  }
  if (!ok_or_reply(req, rc, errors, NO_EVENT))
    return;
  struct register_unit u = {
    .r = {.user_id = req->user->id, .event_id = event_id,
          .ticket_type_id = got == FIELD_SET ? ticket_type_id : 0},
    .now = now, .event_in_body = event_in_body, .arena = &req->arena,
  };
  tickets_draw_code(u.code);
  write_or_reply(req, register_unit, &u, sizeof u, register_reply);
}

/* The body of a registration, and an errors object, or NULL after replying. */
static json_t *
register_body_or_reply(struct http_request *req, json_t **errors)
{
  json_t *body = authenticated_or_reply(req) ? body_or_reply(req, NULL) : NULL;
  *errors = body ? errors_or_reply(req) : NULL;
  return *errors ? body : NULL;
}

void
registrations_register_view(struct http_request *req)
{
  json_t *errors, *body = register_body_or_reply(req, &errors);
  if (body)
    register_for(req, req->ids[0], false, body, errors);
}

void
registrations_register_body_view(struct http_request *req)
{
  json_t *errors, *body = register_body_or_reply(req, &errors);
  if (body == NULL)
    return;
  int64_t event_id = 0;
  enum field_result got = registrations_pk_field(body, "event", errors, &req->arena, &event_id);
  if (got == FIELD_ABSENT)
    json_error_add(errors, "event", json_object_get(body, "event") ? "This field may not be null."
                                                                   : "This field is required.");
  if (valid_or_400(req, errors))
    register_for(req, event_id, true, body, errors);
}

/* The caller's page of registrations (struct page_read). */
static int
read_page(db_t *db, void *arg)
{
  struct page_read *r = arg;
  struct registration *list = NULL;
  int rc = registrations_list_user(db, r->of, r->page.limit, r->page.offset, r->arena,
                                   &list, &r->count, &r->total);
  r->items = list;
  return rc;
}

static json_t *
page_item(const void *items, size_t i)
{
  return registrations_serialize_short(&((const struct registration *)items)[i]);
}

void
registrations_me_view(struct http_request *req)
{
  pagination_user_list(req, read_page, page_item);
}

/*
 * Loads the active registration of the path for its user, the event's
 * organizer or an admin; 404 for everyone else (no hint that it exists).
 */
static bool
registration_or_404(struct http_request *req, struct registration *r)
{
  db_t *db = authenticated_or_reply(req) ? database_or_reply(req) : NULL;
  if (db == NULL)
    return false;
  int rc = registrations_get(db, req->ids[0], &req->arena, r);
  if (rc == 0 && !(r->cancelled_at == 0 &&
                   (r->user_id == req->user->id || events_may_change(req->user, r->organizer_id))))
    rc = EVENTAPI_ENOTFOUND;
  return object_or_404(req, rc, NO_REGISTRATION);
}

void
registrations_detail_view(struct http_request *req)
{
  struct registration r;
  if (registration_or_404(req, &r))
    http_reply_json(req, 200, registrations_serialize(&r));
}

/* A cancellation, as a unit of work. */
struct cancel_unit {
  struct registration r;
  int64_t now;
  arena_t *arena;
};

/* EVENTAPI_ENOTFOUND when it was cancelled meanwhile. */
static int
cancel_unit(db_t *db, void *arg)
{
  struct cancel_unit *u = arg;
  return registrations_cancel(db, &u->r, u->now, u->arena);
}

static void
cancel_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  if (object_or_404(req, rc, NO_REGISTRATION))
    http_reply_empty(req, 204);
}

void
registrations_cancel_view(struct http_request *req)
{
  struct cancel_unit u = {.now = time_now_us(), .arena = &req->arena};
  /* Who may cancel is read here; whether it still holds a place, and whom
   * that place promotes, the unit reads from the rows as it changes them. */
  if (registration_or_404(req, &u.r))
    write_or_reply(req, cancel_unit, &u, sizeof u, cancel_reply);
}

/* ---- waitlist offers ---- */

static const char NO_OFFER[] = "This registration holds no offer.";
static const char OFFER_EXPIRED[] = "This offer has expired.";

/* An answer to an offer (accept or decline), as a unit of work. */
struct offer_unit {
  struct registration r;
  int64_t now;
  arena_t *arena;
};

static int
accept_unit(db_t *db, void *arg)
{
  struct offer_unit *u = arg;
  return registrations_accept(db, &u->r, u->now, u->arena);
}

static int
decline_unit(db_t *db, void *arg)
{
  struct offer_unit *u = arg;
  return registrations_decline(db, &u->r, u->now, u->arena);
}

/* EVENTAPI_ECONFLICT: the offer ran out, or there was none (r as read
 * before the unit says which). */
static bool
offer_done_or_reply(struct http_request *req, int rc, const struct offer_unit *u)
{
  if (rc == EVENTAPI_ECONFLICT) {
    bool ran_out = u->r.is_waitlisted && u->r.offer_expires_at && u->r.offer_expires_at <= u->now;
    http_reply_json(req, 400, json_pack("{s:[s]}", "non_field_errors",
                                        ran_out ? OFFER_EXPIRED : NO_OFFER));
    return false;
  }
  return object_or_404(req, rc, NO_REGISTRATION);
}

static void
accept_reply(struct http_request *req, int rc, void *arg)
{
  struct offer_unit *u = arg;
  if (offer_done_or_reply(req, rc, u))
    http_reply_json(req, 200, registrations_serialize(&u->r));
}

static void
decline_reply(struct http_request *req, int rc, void *arg)
{
  struct offer_unit *u = arg;
  if (offer_done_or_reply(req, rc, u))
    http_reply_empty(req, 204);
}

/*
 * Loads the registration of the path for an answer to its offer: only its
 * holder answers, even once it is cancelled (a decline that won a race:
 * the answer is then "no offer"). 403 for the event's organizer and admins,
 * who may see it; 404 for everyone else.
 */
static bool
offer_of_caller_or_reply(struct http_request *req, struct offer_unit *u)
{
  u->now = time_now_us();
  u->arena = &req->arena;
  db_t *db = authenticated_or_reply(req) ? database_or_reply(req) : NULL;
  if (db == NULL)
    return false;
  struct registration *r = &u->r;
  int rc = registrations_get(db, req->ids[0], &req->arena, r);
  bool holder = rc == 0 && r->user_id == req->user->id;
  if (rc == 0 && !holder && r->cancelled_at == 0 && events_may_change(req->user, r->organizer_id)) {
    http_reply_forbidden(req);
    return false;
  }
  if (rc == 0 && !holder)
    rc = EVENTAPI_ENOTFOUND;
  return object_or_404(req, rc, NO_REGISTRATION);
}

void
registrations_accept_view(struct http_request *req)
{
  struct offer_unit u;
  if (offer_of_caller_or_reply(req, &u))
    write_or_reply(req, accept_unit, &u, sizeof u, accept_reply);
}

void
registrations_decline_view(struct http_request *req)
{
  struct offer_unit u;
  if (offer_of_caller_or_reply(req, &u))
    write_or_reply(req, decline_unit, &u, sizeof u, decline_reply);
}

/* ---- the organizer's list ---- */

/*
 * Appends one CSV cell: quoted when it holds a comma, quote or line break,
 * and defused when a spreadsheet would read it as a formula (=, +, -, @, and
 * tab or carriage return first).
 */
static void
csv_cell(struct strbuf *out, const char *value, bool last)
{
  bool formula = strchr("=+-@\t\r", value[0]) != NULL && value[0] != '\0';
  bool quote = formula || strpbrk(value, ",\"\r\n") != NULL;
  if (quote)
    strbuf_puts(out, "\"");
  if (formula)
    strbuf_puts(out, "'");
  for (const char *p = value; *p; p++) {
    if (*p == '"')
      strbuf_puts(out, "\"\"");
    else
      strbuf_append(out, p, 1);
  }
  if (quote)
    strbuf_puts(out, "\"");
  strbuf_puts(out, last ? "\r\n" : ",");
}

static const char *
ticket_type_name(const struct event *e, int64_t id)
{
  for (size_t i = 0; i < e->nticket_types; i++)
    if (e->ticket_types[i].id == id)
      return e->ticket_types[i].name;
  return "";
}

static void
reply_csv(struct http_request *req, const struct event *e, const struct registration *list,
          size_t count)
{
  struct strbuf out = {0};
  static const char *const header[] = {
    "registration_id", "username", "email", "first_name", "last_name", "ticket_type",
    "status", "registered_at", "ticket_code", "checked_in_at",
  };
  for (size_t i = 0; i < 10; i++)
    csv_cell(&out, header[i], i == 9);
  for (size_t i = 0; i < count; i++) {
    const struct registration *r = &list[i];
    char id[24], registered[TIME_ISO_MAX], checked[TIME_ISO_MAX] = "";
    snprintf(id, sizeof id, "%lld", (long long)r->id);
    time_format_iso(r->registered_at, registered);
    if (r->has_ticket && r->ticket.checked_in_at)
      time_format_iso(r->ticket.checked_in_at, checked);
    const char *row[] = {
      id, r->username, r->email, r->first_name, r->last_name,
      ticket_type_name(e, r->ticket_type_id),
      !r->is_waitlisted ? "confirmed" : r->offer_expires_at ? "offered" : "waitlisted",
      registered, r->has_ticket ? r->ticket.code : "", checked,
    };
    for (size_t j = 0; j < 10; j++)
      csv_cell(&out, row[j], j == 9);
  }
  if (out.failed) {
    strbuf_free(&out);
    http_reply_internal(req, "out of memory");
    return;
  }
  http_add_header(req, "Content-Disposition",
                  arena_printf(&req->arena, "attachment; filename=\"event-%lld-registrations.csv\"",
                               (long long)e->id));
  size_t len;
  char *data = strbuf_take(&out, &len);
  http_reply_bytes(req, 200, "text/csv; charset=utf-8", data, len);
}

/* Whether the folded form of s has term in it, or (prefix) begins with it. */
static bool
folded_has(const char *s, const char *term, bool prefix)
{
  char *folded = text_fold(s ? s : "");
  bool has = folded && (prefix ? strncmp(folded, term, strlen(term)) == 0
                               : strstr(folded, term) != NULL);
  free(folded);
  return has;
}

static bool
matches(const struct registration *r, const char *term)
{
  return folded_has(r->username, term, false) || folded_has(r->first_name, term, false) ||
         folded_has(r->last_name, term, false) || folded_has(r->email, term, false) ||
         (r->has_ticket && folded_has(r->ticket.code, term, true));
}

/*
 * Keeps the registrations of list[0..*count) that the door's search finds
 * (docs/api.md): every term of search, split on spaces and commas and
 * compared without case, in the holder's username, first or last name or
 * email, or the start of the ticket's code. search is UTF-8, as every
 * query parameter (http/query.h). False after replying 500.
 */
static bool
search_or_reply(struct http_request *req, const char *search, struct registration *list,
                size_t *count)
{
  char *folded = text_fold(search);
  /* At most one term in every two bytes ("a b c"). */
  const char **terms =
      folded ? arena_alloc(&req->arena, (strlen(folded) / 2 + 1) * sizeof *terms) : NULL;
  if (folded == NULL || terms == NULL) {
    free(folded);
    http_reply_internal(req, "out of memory reading a search");
    return false;
  }
  size_t nterms = 0;
  char *save = NULL;
  for (char *term = strtok_r(folded, " ,", &save); term; term = strtok_r(NULL, " ,", &save))
    terms[nterms++] = term;
  size_t kept = 0;
  for (size_t i = 0; i < *count; i++) {
    bool all = true;
    for (size_t t = 0; all && t < nterms; t++)
      all = matches(&list[i], terms[t]);
    if (all)
      list[kept++] = list[i];
  }
  free(folded);
  *count = kept;
  return true;
}

void
registrations_event_list_view(struct http_request *req)
{
  struct event e;
  db_t *db;
  bool can_export = false;
  if (!event_door_or_reply(req, req->ids[0], &e, &can_export) ||
      (db = database_or_reply(req)) == NULL)
    return;
  const char *format = http_query(req, "format");
  if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
    http_reply_detail(req, 404, "Not found."); /* DRF: an unknown format suffix */
    return;
  }
  /* docs/api.md: staff download the CSV only when let to (can_export). */
  if (format && strcmp(format, "csv") == 0 && !can_export) {
    http_reply_forbidden(req);
    return;
  }
  struct registration *list;
  size_t count;
  const char *search = http_query(req, "search");
  if (!ok_or_reply(req, registrations_list_event(db, e.id, &req->arena, &list, &count),
                   NULL, NULL) ||
      (search && !search_or_reply(req, search, list, &count)))
    return;
  if (format && strcmp(format, "csv") == 0) {
    reply_csv(req, &e, list, count);
    return;
  }
  json_t *body = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(body, registrations_serialize_for_organizer(&list[i]));
  http_reply_json(req, 200, body);
}
