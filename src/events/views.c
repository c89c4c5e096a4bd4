/*
 * views.c - the events app: categories, the event catalogue, and the
 * sessions and ticket types of an event.
 */
#include "events/views.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/timefmt.h"
#include "events/cache.h"
#include "events/changes.h"
#include "events/filters.h"
#include "events/permissions.h"
#include "events/serializers.h"
#include "shortcuts/body.h"
#include "shortcuts/database.h"
#include "shortcuts/permissions.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"

static const char NO_CATEGORY[] = "No Category matches the given query.";
static const char NO_EVENT[] = "No Event matches the given query.";
static const char NO_TICKET_TYPE[] = "No TicketType matches the given query.";
static const char NO_SESSION[] = "No Session matches the given query.";

/* 204 once deleted; 404 with missing when it was gone already. */
static void
reply_deleted(struct http_request *req, int rc, const char *missing)
{
  if (object_or_404(req, rc, missing))
    http_reply_empty(req, 204);
}

/* ---- categories ---- */

void
events_categories_list_view(struct http_request *req)
{
  db_t *db = database_or_reply(req);
  struct category *list;
  size_t count;
  if (db == NULL ||
      !ok_or_reply(req, events_categories_list(db, &req->arena, &list, &count), NULL, NULL))
    return;
  json_t *body = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(body, events_categories_serialize(&list[i]));
  http_reply_json(req, 200, body);
}

void
events_categories_detail_view(struct http_request *req)
{
  db_t *db = database_or_reply(req);
  struct category c;
  if (db && object_or_404(req, events_categories_get(db, req->ids[0], &req->arena, &c),
                          NO_CATEGORY))
    http_reply_json(req, 200, events_categories_serialize(&c));
}

/*
 * The optional fields that take neither a blank nor null: in a form, where
 * every input is sent, blank means not given (DRF's html input rule).
 */
static const char *const CATEGORY_FORM_OPTIONAL[] = {"slug", NULL};
static const char *const EVENT_FORM_OPTIONAL[] = {"visibility", NULL};

/* A category written, as a unit of work (inserted when c.id is 0). */
struct category_unit {
  struct category c;
  const char *wanted;   /* the slug asked for, or made from the name */
  bool slug_made;
  unsigned status;
  json_t *errors;
  arena_t *arena;
};

static int
category_unit(db_t *db, void *arg)
{
  struct category_unit *unit = arg;
  return events_categories_save(db, &unit->c, unit->wanted, unit->slug_made, unit->errors,
                                unit->arena);
}

static void
category_reply(struct http_request *req, int rc, void *arg)
{
  struct category_unit *unit = arg;
  if (ok_or_reply(req, rc, unit->errors, NO_CATEGORY))
    http_reply_json(req, unit->status, events_categories_serialize(&unit->c));
}

/* Validates c and writes it as a unit of work (inserting when c->id is 0). */
static void
save_category(struct http_request *req, struct category *c, bool partial, unsigned status)
{
  json_t *body = body_or_reply(req, CATEGORY_FORM_OPTIONAL);
  json_t *errors = body ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  const char *old_slug = c->slug;
  c->slug = NULL;
  int rc = events_categories_validate(body, partial, &req->arena, c, errors);
  bool slug_made = false;
  if (c->slug == NULL && c->id && old_slug) {
    c->slug = old_slug; /* an update without a slug keeps it */
  } else if (c->slug == NULL && c->name) {
    c->slug = events_categories_slugify(&req->arena, c->name);
    if (c->slug && c->slug[0] == '\0')
      c->slug = "category";
    slug_made = true;
  }
  if (!ok_or_reply(req, rc, errors, NULL))
    return;
  struct category_unit unit = {*c, c->slug, slug_made, status, errors, &req->arena};
  write_or_reply(req, category_unit, &unit, sizeof unit, category_reply);
}

void
events_categories_create_view(struct http_request *req)
{
  struct category c = {0};
  if (organizer_or_reply(req))
    save_category(req, &c, false, 201);
}

void
events_categories_update_view(struct http_request *req)
{
  db_t *db = admin_or_reply(req) ? database_or_reply(req) : NULL;
  struct category c;
  if (db && object_or_404(req, events_categories_get(db, req->ids[0], &req->arena, &c),
                          NO_CATEGORY))
    save_category(req, &c, req->method == HTTP_PATCH, 200);
}

static int
category_delete_unit(db_t *db, void *arg)
{
  return events_categories_delete(db, *(int64_t *)arg);
}

static void
category_deleted_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  reply_deleted(req, rc, NO_CATEGORY);
}

void
events_categories_delete_view(struct http_request *req)
{
  if (admin_or_reply(req))
    write_or_reply(req, category_delete_unit, &req->ids[0], sizeof req->ids[0],
                   category_deleted_reply);
}

/* ---- events ---- */

/* Reloads event id and answers it with status. */
static void
reply_event(struct http_request *req, int64_t id, unsigned status)
{
  db_t *db = database_or_reply(req);
  struct event e;
  if (db && ok_or_reply(req, events_get(db, id, &req->arena, &e), NULL, NULL))
    http_reply_json(req, status, events_serialize(&e, http_base_url(req)));
}

/* An event created, as a unit of work, with its sessions and ticket types. */
struct create_unit {
  struct event e;
  arena_t *arena;
};

static int
create_unit(db_t *db, void *arg)
{
  struct create_unit *unit = arg;
  return events_create(db, &unit->e, unit->arena);
}

static void
create_reply(struct http_request *req, int rc, void *arg)
{
  struct create_unit *unit = arg;
  /* API.md: the create answer is 200 (CREATE_STATUS=201 as the original). */
  if (ok_or_reply(req, rc, NULL, NULL))
    reply_event(req, unit->e.id, config->create_status);
}

void
events_create_view(struct http_request *req)
{
  json_t *body = organizer_or_reply(req) ? body_or_reply(req, EVENT_FORM_OPTIONAL) : NULL;
  db_t *db = body ? database_or_reply(req) : NULL;
  json_t *errors = db ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  int64_t now = time_now_us();
  struct create_unit unit = {.e = {
    .description = "", .visibility = VISIBILITY_PUBLIC,
    .organizer_id = req->user->id, .created_at = now,
  }, .arena = &req->arena};
  struct event *e = &unit.e;
  struct event_nested nested;
  int rc = events_validate(body, false, true, db, now, &req->arena, e, &nested, errors);
  if (!ok_or_reply(req, rc, errors, NULL))
    return;
  e->sessions = nested.sessions;
  e->nsessions = nested.nsessions;
  e->ticket_types = nested.ticket_types;
  e->nticket_types = nested.nticket_types;
  write_or_reply(req, create_unit, &unit, sizeof unit, create_reply);
}

/* FNV-1a over a value's bytes, continuing from h. */
static uint64_t
fnv(uint64_t h, const void *data, size_t len)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
  return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "", 1);
}

#define FNV_START 1469598103934665603ull
#define JSON_TYPE "application/json; charset=utf-8"

/*
 * Answers a (holding a reference, which this takes): its headers, then
 * 304 when the client has it (If-None-Match), else its bytes, sent from
 * where they are.
 */
static void
reply_answer(struct http_request *req, const struct events_answer *a)
{
  if (a->total >= 0)
    http_add_header(req, "X-Total-Count", arena_printf(&req->arena, "%lld", (long long)a->total));
  const char *etag = arena_strdup(&req->arena, a->etag);
  if (etag)
    http_add_header(req, "ETag", etag);
  const char *match = http_header(req, "If-None-Match");
  if (match && etag && strcmp(match, etag) == 0) {
    http_reply_not_modified(req, a->len);
    events_answer_release((void *)a);
    return;
  }
  http_reply_shared(req, 200, JSON_TYPE, a->body, a->len, events_answer_release, (void *)a);
}

/* The database and the catalogue's version, or NULL after replying. */
static db_t *
catalogue_or_reply(struct http_request *req, uint64_t *version)
{
  db_t *db = database_or_reply(req);
  if (db && !ok_or_reply(req, db_catalogue_version(db, version), NULL, NULL))
    db = NULL;
  return db;
}

/* An event's detail, read in one transaction (read_detail). */
struct detail_read {
  int64_t id;
  const struct principal *who;
  const char *base;
  arena_t *arena;
  struct event e;
  bool visible;
  struct strbuf body;
};

/*
 * The event's row, who may see it, then its JSON from the cache of events'
 * JSON (or serialised, with its sessions and ticket types, and cached).
 */
static int
read_detail(db_t *db, void *arg)
{
  struct detail_read *r = arg;
  int rc = events_get_row(db, r->id, r->arena, &r->e);
  if (rc == 0)
    rc = events_can_see(db, &r->e, r->who, &r->visible);
  if (rc < 0 || !r->visible || events_cache_append(r->e.id, r->e.version, r->base, &r->body))
    return rc;
  if ((rc = events_attach_nested(db, &r->e, 1, r->arena)) == 0 &&
      !events_cache_render(&r->e, r->base, &r->body))
    rc = EVENTAPI_ENOMEM;
  return rc;
}

/*
 * An event's detail from the database, in one read transaction. A public
 * event's answer is the same for every caller: it is stored under key.
 */
static void
detail_from_database(struct http_request *req, uint64_t version, const char *key,
                     const char *base)
{
  struct detail_read r = {.id = req->ids[0], .who = req->user, .base = base,
                          .arena = &req->arena};
  int rc = db_read(read_detail, &r);
  if (rc == 0 && !r.visible)
    rc = EVENTAPI_ENOTFOUND; /* API.md: private events are 404 to others. */
  if (rc == 0 && r.body.failed)
    rc = EVENTAPI_ENOMEM;
  if (rc < 0) {
    strbuf_free(&r.body);
    object_or_404(req, rc, NO_EVENT);
    return;
  }
  const struct event *e = &r.e;
  /* The answer is a function of these: its entity tag. */
  uint64_t tag = fnv_str(FNV_START, base);
  tag = fnv(fnv(tag, &e->id, sizeof e->id), &e->version, sizeof e->version);
  char etag[24];
  snprintf(etag, sizeof etag, "W/\"%016llx\"", (unsigned long long)tag);
  size_t len;
  char *data = strbuf_take(&r.body, &len);
  bool shared = e->visibility == VISIBILITY_PUBLIC;
  const struct events_answer *a =
      events_answer_make(version, key, shared, data, len, etag, -1, INT64_MAX, shared);
  if (a == NULL)
    http_reply_internal(req, "out of memory");
  else
    reply_answer(req, a);
}

void
events_detail_view(struct http_request *req)
{
  uint64_t version;
  if (catalogue_or_reply(req, &version) == NULL)
    return;
  const char *base = http_base_url(req);
  const char *key = arena_printf(&req->arena, "D%lld %s", (long long)req->ids[0], base);
  if (key == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  /* A stored detail is a public event's: the same for whoever asks. */
  const struct events_answer *a = events_answer_get(version, key, 0);
  if (a && a->public_event) {
    reply_answer(req, a);
    return;
  }
  if (a)
    events_answer_release((void *)a);
  detail_from_database(req, version, key, base);
}

/*
 * Appends the JSON array of the events ids/versions to out, from the cache
 * where it can, serialising (and caching) the rest, fetched in one go. Runs
 * in the caller's read transaction, so every listed event can be fetched.
 */
static int
render_page(struct http_request *req, db_t *db, const int64_t *ids, const int64_t *versions,
            size_t count, const char *base, struct strbuf *out)
{
  int64_t *missing = arena_alloc(&req->arena, (count + 1) * sizeof *missing);
  if (missing == NULL)
    return EVENTAPI_ENOMEM;
  size_t nmissing = 0;
  for (size_t i = 0; i < count; i++)
    if (!events_cache_has(ids[i], versions[i]))
      missing[nmissing++] = ids[i];
  struct event *fetched = NULL;
  size_t nfetched = 0;
  int rc = events_get_many(db, missing, nmissing, &req->arena, &fetched, &nfetched);
  if (rc < 0)
    return rc;
  strbuf_puts(out, "[");
  for (size_t i = 0; i < count && rc == 0; i++) {
    if (i > 0)
      strbuf_puts(out, ",");
    if (events_cache_append(ids[i], versions[i], base, out))
      continue;
    struct event *e = NULL, one;
    for (size_t j = 0; e == NULL && j < nfetched; j++)
      if (fetched[j].id == ids[i])
        e = &fetched[j];
    if (e == NULL && (rc = events_get(db, ids[i], &req->arena, &one)) == 0)
      e = &one; /* evicted between the check and now */
    if (e && !events_cache_render(e, base, out))
      rc = EVENTAPI_ENOMEM;
  }
  strbuf_puts(out, "]");
  return rc < 0 ? rc : out->failed ? EVENTAPI_ENOMEM : 0;
}

/* A list answer, read in one transaction (read_list). */
struct list_read {
  struct http_request *req;
  const struct event_filter *f;
  uint64_t version;
  const char *base;
  int64_t total, valid_until;
  char etag[24];
  struct strbuf body;
};

/*
 * The count (cached by the catalogue's version), the page's ids and
 * versions, and the page's JSON from the cache of events' JSON, with its
 * entity tag.
 */
static int
read_list(db_t *db, void *arg)
{
  struct list_read *r = arg;
  struct http_request *req = r->req;
  const struct event_filter *f = r->f;
  int64_t *ids = NULL, *versions = NULL;
  size_t count = 0;
  int rc = events_list_versions(db, f, req->user, r->version, &req->arena, &ids, &versions,
                                &count, &r->total, &r->valid_until);
  if (rc < 0)
    return rc;
  const char *next = NULL, *previous = NULL;
  if (f->paginate) {
    if (f->offset + f->limit < r->total)
      next = http_page_url(req, f->limit, f->offset + f->limit);
    if (f->offset > 0)
      previous = http_page_url(req, f->limit, f->offset > f->limit ? f->offset - f->limit : 0);
  }
  /* The answer is a function of these: its entity tag. */
  uint64_t tag = fnv_str(FNV_START, r->base);
  tag = fnv(tag, &f->paginate, sizeof f->paginate);
  tag = fnv(tag, &r->total, sizeof r->total);
  tag = fnv_str(fnv_str(tag, next), previous);
  for (size_t i = 0; i < count; i++)
    tag = fnv(fnv(tag, &ids[i], sizeof ids[i]), &versions[i], sizeof versions[i]);
  snprintf(r->etag, sizeof r->etag, "W/\"%016llx\"", (unsigned long long)tag);
  if (f->paginate) {
    json_t *head = json_object();
    json_object_set_new(head, "count", json_integer(r->total));
    json_set_string(head, "next", next);
    json_set_string(head, "previous", previous);
    char *text = json_dumps(head, JSON_COMPACT);
    json_decref(head);
    if (text) /* {"count":..,"next":..,"previous":..  then ,"results":[...]} */
      strbuf_append(&r->body, text, strlen(text) - 1);
    else
      r->body.failed = true;
    free(text);
    strbuf_puts(&r->body, ",\"results\":");
  }
  rc = render_page(req, db, ids, versions, count, r->base, &r->body);
  if (f->paginate)
    strbuf_puts(&r->body, "}");
  return rc;
}

/*
 * The list from the database, in one read transaction. The answer of an
 * anonymous caller is the same for every anonymous caller: it is stored
 * under key.
 */
static void
list_from_database(struct http_request *req, const struct event_filter *f, uint64_t version,
                   const char *key, const char *base)
{
  struct list_read r = {.req = req, .f = f, .version = version, .base = base,
                        .valid_until = INT64_MAX};
  int rc = db_read(read_list, &r);
  if (rc == 0 && r.body.failed)
    rc = EVENTAPI_ENOMEM;
  if (rc < 0) {
    strbuf_free(&r.body);
    http_reply_error(req, rc);
    return;
  }
  size_t len;
  char *data = strbuf_take(&r.body, &len);
  const struct events_answer *a = events_answer_make(version, key, req->user == NULL, data, len,
                                                     r.etag, r.total, r.valid_until, false);
  if (a == NULL)
    http_reply_internal(req, "out of memory");
  else
    reply_answer(req, a);
}

void
events_list_view(struct http_request *req)
{
  json_t *errors = errors_or_reply(req);
  struct event_filter f;
  if (errors == NULL)
    return;
  events_filter_parse(req, &f, errors);
  uint64_t version;
  if (!valid_or_400(req, errors) ||
      catalogue_or_reply(req, &version) == NULL)
    return;
  const char *base = http_base_url(req);
  /* The answer depends on the query as sent (its links repeat it). */
  const char *key = arena_printf(&req->arena, "L%s %s", base, req->query);
  if (key == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  /* The visibility rule decides per caller: only anonymous answers are
   * shared, a user's may hold private events. */
  if (req->user == NULL) {
    const struct events_answer *a = events_answer_get(version, key, f.now);
    if (a) {
      reply_answer(req, a);
      return;
    }
  }
  list_from_database(req, &f, version, key, base);
}
/* An event updated, as a unit of work, nested sessions and ticket types too. */
struct update_unit {
  struct event e;              /* the new values */
  struct event_nested nested;
  json_t *errors;
  const char *in_use;          /* a ticket type left out that holds registrations */
  arena_t *arena;
};

static int
update_unit(db_t *db, void *arg)
{
  struct update_unit *unit = arg;
  return events_save(db, &unit->e, &unit->nested, unit->errors, unit->arena, &unit->in_use);
}

/* API.md: a ticket type that holds registrations cannot be deleted (409). */
static void
reply_in_use(struct http_request *req, const char *name)
{
  http_reply_detail(req, 409, arena_printf(&req->arena,
      "Ticket type \"%s\" holds registrations and cannot be deleted.", name));
}

static void
update_reply(struct http_request *req, int rc, void *arg)
{
  struct update_unit *unit = arg;
  if (rc == EVENTAPI_ECONFLICT)
    reply_in_use(req, unit->in_use);
  else if (ok_or_reply(req, rc, unit->errors, NO_EVENT))
    reply_event(req, unit->e.id, 200);
}

void
events_update_view(struct http_request *req)
{
  struct update_unit unit = {.arena = &req->arena};
  if (!event_owned_or_reply(req, req->ids[0], &unit.e))
    return;
  json_t *body = body_or_reply(req, EVENT_FORM_OPTIONAL);
  db_t *db = body ? database_or_reply(req) : NULL;
  unit.errors = db ? errors_or_reply(req) : NULL;
  if (unit.errors == NULL)
    return;
  int rc = events_validate(body, req->method == HTTP_PATCH, false, db, time_now_us(),
                           &req->arena, &unit.e, &unit.nested, unit.errors);
  if (ok_or_reply(req, rc, unit.errors, NULL))
    write_or_reply(req, update_unit, &unit, sizeof unit, update_reply);
}

/* An event deleted, as a unit of work. */
struct delete_unit {
  int64_t id;
  arena_t *arena;
};

static int
delete_unit(db_t *db, void *arg)
{
  struct delete_unit *unit = arg;
  return events_delete(db, unit->id, unit->arena);
}

static void
event_deleted_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  reply_deleted(req, rc, NO_EVENT);
}

void
events_delete_view(struct http_request *req)
{
  struct event e;
  if (!event_owned_or_reply(req, req->ids[0], &e))
    return;
  struct delete_unit unit = {e.id, &req->arena};
  write_or_reply(req, delete_unit, &unit, sizeof unit, event_deleted_reply);
}

/* ---- ticket types and sessions of one event ---- */

/*
 * The event of the path for a change, and its ticket type or session of
 * the path (*found, or NULL when the caller wants neither); false after
 * replying.
 */
static bool
nested_or_404(struct http_request *req, struct event *e, bool session, void **found)
{
  if (!event_owned_or_reply(req, req->ids[0], e))
    return false;
  if (found == NULL)
    return true;
  *found = NULL;
  for (size_t i = 0; session && i < e->nsessions; i++)
    if (e->sessions[i].id == req->ids[1])
      *found = &e->sessions[i];
  for (size_t i = 0; !session && i < e->nticket_types; i++)
    if (e->ticket_types[i].id == req->ids[1])
      *found = &e->ticket_types[i];
  if (*found == NULL)
    http_reply_detail(req, 404, session ? NO_SESSION : NO_TICKET_TYPE);
  return *found != NULL;
}

/* One ticket type written (t.id 0: a new one), as a unit of work. */
struct ticket_type_unit {
  struct ticket_type t;
  int64_t old_quantity;
  unsigned status;
  json_t *errors;
  arena_t *arena;
};

static int
ticket_type_unit(db_t *db, void *arg)
{
  struct ticket_type_unit *unit = arg;
  return events_ticket_types_save(db, &unit->t, unit->old_quantity, unit->errors, unit->arena);
}

static void
ticket_type_reply(struct http_request *req, int rc, void *arg)
{
  struct ticket_type_unit *unit = arg;
  if (ok_or_reply(req, rc, unit->errors, NO_TICKET_TYPE))
    http_reply_json(req, unit->status, events_ticket_types_serialize(&unit->t));
}

/* Validates one ticket type of event e and writes it. Replies in every case. */
static void
save_ticket_type(struct http_request *req, struct ticket_type *t, unsigned status)
{
  json_t *body = body_or_reply(req, NULL);
  json_t *errors = body ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  int64_t old_quantity = t->quantity;
  int rc = events_ticket_types_validate(body, req->method == HTTP_PATCH, &req->arena, t, errors);
  struct ticket_type_unit unit = {*t, old_quantity, status, errors, &req->arena};
  if (ok_or_reply(req, rc, errors, NULL))
    write_or_reply(req, ticket_type_unit, &unit, sizeof unit, ticket_type_reply);
}

void
events_ticket_types_create_view(struct http_request *req)
{
  struct event e;
  if (!nested_or_404(req, &e, false, NULL))
    return;
  struct ticket_type t = {.event_id = e.id};
  save_ticket_type(req, &t, 201);
}

void
events_ticket_types_update_view(struct http_request *req)
{
  struct event e;
  void *t;
  if (nested_or_404(req, &e, false, &t))
    save_ticket_type(req, t, 200);
}

/* A ticket type deleted, as a unit of work; not while it holds registrations. */
struct ticket_type_delete {
  int64_t event_id, id;
  const char *name;
  arena_t *arena;
};

static int
ticket_type_delete_unit(db_t *db, void *arg)
{
  struct ticket_type_delete *unit = arg;
  return events_ticket_types_remove(db, unit->event_id, unit->id, unit->arena);
}

static void
ticket_type_deleted_reply(struct http_request *req, int rc, void *arg)
{
  struct ticket_type_delete *unit = arg;
  if (rc == EVENTAPI_ECONFLICT)
    reply_in_use(req, unit->name);
  else
    reply_deleted(req, rc, NO_TICKET_TYPE);
}

void
events_ticket_types_delete_view(struct http_request *req)
{
  struct event e;
  void *found;
  if (!nested_or_404(req, &e, false, &found))
    return;
  const struct ticket_type *t = found;
  struct ticket_type_delete unit = {e.id, t->id, t->name, &req->arena};
  write_or_reply(req, ticket_type_delete_unit, &unit, sizeof unit, ticket_type_deleted_reply);
}

/* One session written (s.id 0: a new one), as a unit of work. */
struct session_unit {
  struct session s;
  unsigned status;
  arena_t *arena;
};

static int
session_unit(db_t *db, void *arg)
{
  struct session_unit *unit = arg;
  return events_sessions_save(db, &unit->s, unit->arena);
}

static void
session_reply(struct http_request *req, int rc, void *arg)
{
  struct session_unit *unit = arg;
  if (object_or_404(req, rc, NO_SESSION))
    http_reply_json(req, unit->status, events_sessions_serialize(&unit->s));
}

static void
save_session(struct http_request *req, struct session *s, unsigned status)
{
  json_t *body = body_or_reply(req, NULL);
  json_t *errors = body ? errors_or_reply(req) : NULL;
  if (errors == NULL)
    return;
  int rc = events_sessions_validate(body, req->method == HTTP_PATCH, &req->arena, s, errors);
  struct session_unit unit = {*s, status, &req->arena};
  if (ok_or_reply(req, rc, errors, NULL))
    write_or_reply(req, session_unit, &unit, sizeof unit, session_reply);
}

void
events_sessions_create_view(struct http_request *req)
{
  struct event e;
  if (!nested_or_404(req, &e, true, NULL))
    return;
  struct session s = {.event_id = e.id, .speaker = "", .description = ""};
  save_session(req, &s, 201);
}

void
events_sessions_update_view(struct http_request *req)
{
  struct event e;
  void *s;
  if (nested_or_404(req, &e, true, &s))
    save_session(req, s, 200);
}

/* A session deleted, as a unit of work. */
struct session_delete {
  int64_t event_id, id;
  arena_t *arena;
};

static int
session_delete_unit(db_t *db, void *arg)
{
  struct session_delete *unit = arg;
  return events_sessions_remove(db, unit->event_id, unit->id, unit->arena);
}

static void
session_deleted_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  reply_deleted(req, rc, NO_SESSION);
}

void
events_sessions_delete_view(struct http_request *req)
{
  struct event e;
  void *found;
  if (!nested_or_404(req, &e, true, &found))
    return;
  struct session_delete unit = {e.id, ((const struct session *)found)->id, &req->arena};
  write_or_reply(req, session_delete_unit, &unit, sizeof unit, session_deleted_reply);
}
