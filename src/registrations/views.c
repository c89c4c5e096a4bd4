/*
 * views.c - registering, the waitlist, cancelling, and the organizer's list
 * of an event's registrations (JSON or CSV).
 */
#include "registrations/views.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/strbuf.h"
#include "core/timefmt.h"
#include "events/models.h"
#include "events/permissions.h"
#include "events/signals.h"
#include "registrations/models.h"
#include "registrations/serializers.h"
#include "shortcuts/pagination.h"
#include "shortcuts/write.h"
#include "users/permissions.h"
#include "users/signals.h"

static const char NO_EVENT[] = "No Event matches the given query.";
static const char NO_REGISTRATION[] = "No Registration matches the given query.";

static void
invalid_pk(json_t *errors, const char *name, int64_t id, arena_t *arena)
{
  json_error_add(errors, name, arena_printf(arena, "Invalid pk \"%lld\" - object does not exist.",
                                            (long long)id));
}

/* A registration, as a unit of work: in, the user, event and ticket type;
 * out, the registration made (confirmed or waitlisted). */
struct register_unit {
  struct registration r;
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
  return registrations_create(db, &u->r, u->now, u->arena);
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
    invalid_pk(errors, "event", u->r.event_id, &req->arena);
    http_reply_json(req, 400, errors);
  } else if (rc == EVENTAPI_ENOTFOUND) {
    http_reply_detail(req, 404, NO_EVENT);
  } else if (rc < 0) {
    http_reply_db_error(req, rc);
  } else {
    /* API.md: 200 (CREATE_STATUS=201 as the original). */
    http_reply_json(req, config->create_status, registrations_serialize(&u->r));
  }
}

/* What the view reads of the event before it registers, in one snapshot. */
struct target_read {
  int64_t event_id, ticket_type_id, user_id;
  struct registration_target target;
};

static int
read_target(db_t *db, void *arg)
{
  struct target_read *r = arg;
  return registrations_target(db, r->event_id, r->ticket_type_id, r->user_id, &r->target);
}

/* API.md: the organizer, admins and registrants see a private event. */
static bool
target_visible(const struct registration_target *t, const struct principal *who)
{
  return t->visibility == VISIBILITY_PUBLIC || who->role == ROLE_ADMIN ||
         who->id == t->organizer_id || t->registered;
}

/*
 * The registration of API.md. Checked first, outside the write lock and in
 * one read: the event visible to the caller and not started, the ticket
 * type given when the event has any and of this event, no active
 * registration yet. Then one unit of work registers, confirmed or
 * waitlisted by the database.
 */
static void
register_for(struct http_request *req, int64_t event_id, bool event_in_body, json_t *body)
{
  json_t *errors = json_object();
  int64_t ticket_type_id = 0;
  enum field_result got = registrations_pk_field(body, "ticket_type", errors, &req->arena,
                                                &ticket_type_id);
  struct target_read read = {event_id, got == FIELD_SET ? ticket_type_id : 0, req->user->id,
                             {0}};
  int rc = db_read(read_target, &read);
  const struct registration_target *t = &read.target;
  if (rc == EVENTAPI_ENOTFOUND || (rc == 0 && !target_visible(t, req->user))) {
    if (event_in_body) {
      invalid_pk(errors, "event", event_id, &req->arena);
      http_reply_json(req, 400, json_incref(errors));
    } else {
      http_reply_detail(req, 404, NO_EVENT);
    }
    goto out;
  }
  if (rc < 0) {
    http_reply_db_error(req, rc);
    goto out;
  }
  int64_t now = time_now_us();
  if (got == FIELD_SET && t->ticket_type_event != event_id) {
    /* Another event's ticket type, or none at all. */
    if (t->ticket_type_event != 0)
      json_error_add(errors, "non_field_errors",
                     "This ticket type does not belong to the selected event.");
    else
      invalid_pk(errors, "ticket_type", ticket_type_id, &req->arena);
  } else if (got == FIELD_ABSENT && t->has_ticket_types) {
    /* API.md: required when the event has ticket types. */
    json_error_add(errors, "ticket_type", "This field is required.");
  }
  if (!json_errors_any(errors)) {
    if (t->date_time <= now)
      json_error_add(errors, "non_field_errors", "This event has already started.");
    else if (t->registered)
      json_error_add(errors, "non_field_errors", "You are already registered for this event.");
  }
  if (json_errors_any(errors)) {
    http_reply_json(req, 400, json_incref(errors));
    goto out;
  }
  struct register_unit *u = arena_calloc(&req->arena, 1, sizeof *u);
  if (u == NULL) {
    http_reply_internal(req, "out of memory");
    goto out;
  }
  u->r = (struct registration){.user_id = req->user->id, .event_id = event_id,
                               .ticket_type_id = got == FIELD_SET ? ticket_type_id : 0};
  u->now = now;
  u->event_in_body = event_in_body;
  u->arena = &req->arena;
  write_and_reply(req, register_unit, u, register_reply);
out:
  json_decref(errors);
}

void
registrations_register_view(struct http_request *req)
{
  if (!permission_authenticated(req))
    return;
  json_t *body = http_json_body(req);
  if (body)
    register_for(req, req->ids[0], false, body);
}

void
registrations_register_body_view(struct http_request *req)
{
  if (!permission_authenticated(req))
    return;
  json_t *body = http_json_body(req);
  if (body == NULL)
    return;
  json_t *errors = json_object();
  int64_t event_id = 0;
  enum field_result got = registrations_pk_field(body, "event", errors, &req->arena, &event_id);
  if (got == FIELD_ABSENT)
    json_error_add(errors, "event", json_object_get(body, "event") ? "This field may not be null."
                                                                   : "This field is required.");
  if (json_errors_any(errors))
    http_reply_json(req, 400, json_incref(errors));
  else
    register_for(req, event_id, true, body);
  json_decref(errors);
}

/* A page of the caller's registrations and their count, read together. */
struct page_read {
  int64_t user_id;
  const struct page *page;
  arena_t *arena;
  struct registration *list;
  size_t count;
  int64_t total;
};

static int
read_page(db_t *db, void *arg)
{
  struct page_read *r = arg;
  return registrations_list_user(db, r->user_id, r->page->limit, r->page->offset, r->arena,
                                 &r->list, &r->count, &r->total);
}

void
registrations_me_view(struct http_request *req)
{
  struct page page;
  if (!permission_authenticated(req) || !pagination_params_or_reply(req, &page))
    return;
  struct page_read read = {req->user->id, &page, &req->arena, NULL, 0, 0};
  /* One read transaction: the count and the page agree. */
  int rc = db_read(read_page, &read);
  if (rc < 0) {
    http_reply_db_error(req, rc);
    return;
  }
  json_t *results = json_array();
  for (size_t i = 0; i < read.count; i++)
    json_array_append_new(results, registrations_serialize_short(&read.list[i]));
  pagination_reply(req, &page, read.total, results);
}

/*
 * Loads the active registration of the path for its user, the event's
 * organizer or an admin; 404 for everyone else (no hint that it exists).
 */
static bool
load_registration(struct http_request *req, db_t *db, struct registration *r)
{
  int rc = registrations_get(db, req->ids[0], &req->arena, r);
  if (rc == 0 && r->cancelled_at == 0 &&
      (r->user_id == req->user->id || r->organizer_id == req->user->id ||
       req->user->role == ROLE_ADMIN))
    return true;
  if (rc < 0 && rc != EVENTAPI_ENOTFOUND)
    http_reply_db_error(req, rc);
  else
    http_reply_detail(req, 404, NO_REGISTRATION);
  return false;
}

void
registrations_detail_view(struct http_request *req)
{
  if (!permission_authenticated(req))
    return;
  db_t *db = http_database(req);
  struct registration r;
  if (db && load_registration(req, db, &r))
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
  if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, NO_REGISTRATION);
  else if (rc < 0)
    http_reply_db_error(req, rc);
  else
    http_reply_empty(req, 204);
}

void
registrations_cancel_view(struct http_request *req)
{
  if (!permission_authenticated(req))
    return;
  db_t *db = http_database(req);
  struct cancel_unit *u = arena_calloc(&req->arena, 1, sizeof *u);
  if (db == NULL || u == NULL) {
    if (db)
      http_reply_internal(req, "out of memory");
    return;
  }
  /* Who may cancel is read here; whether it still holds a place, and whom
   * that place promotes, the unit reads from the rows as it changes them. */
  if (!load_registration(req, db, &u->r))
    return;
  u->now = time_now_us();
  u->arena = &req->arena;
  write_and_reply(req, cancel_unit, u, cancel_reply);
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
      ticket_type_name(e, r->ticket_type_id), r->is_waitlisted ? "waitlisted" : "confirmed",
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

void
registrations_event_list_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  if (db == NULL || !events_load_for_change(req, db, req->ids[0], &e))
    return;
  const char *format = http_query(req, "format");
  if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
    http_reply_detail(req, 404, "Not found."); /* DRF: an unknown format suffix */
    return;
  }
  struct registration *list;
  size_t count;
  int rc = registrations_list_event(db, e.id, &req->arena, &list, &count);
  if (rc < 0) {
    http_reply_db_error(req, rc);
    return;
  }
  if (format && strcmp(format, "csv") == 0) {
    reply_csv(req, &e, list, count);
    return;
  }
  json_t *body = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(body, registrations_serialize_for_organizer(&list[i]));
  http_reply_json(req, 200, body);
}

/* ---- signals ---- */

static int
promote_on_places_opened(db_t *db, int64_t event_id, arena_t *arena)
{
  return registrations_promote(db, event_id, time_now_us(), arena, NULL);
}

/*
 * users_deleting: the user's registrations are cancelled as by the user, so
 * that their places go to the waitlist before the rows go with the user.
 */
static int
cancel_on_user_deleting(db_t *db, int64_t user_id, int64_t now, arena_t *arena)
{
  int64_t *ids;
  size_t count;
  int rc = db_ints(db, "SELECT id FROM registrations WHERE user_id = ? AND cancelled_at IS NULL"
                       " ORDER BY id",
                   user_id, arena, &ids, &count);
  for (size_t i = 0; rc == 0 && i < count; i++) {
    struct registration r;
    if ((rc = registrations_get(db, ids[i], arena, &r)) == 0)
      rc = registrations_cancel(db, &r, now, arena);
    if (rc == EVENTAPI_ENOTFOUND)
      rc = 0; /* cancelled meanwhile */
  }
  return rc;
}

void
registrations_signals_connect(void)
{
  events_places_opened = promote_on_places_opened;
  users_deleting_connect(cancel_on_user_deleting);
}
