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
#include "events/filters.h"
#include "events/images.h"
#include "events/permissions.h"
#include "events/serializers.h"
#include "events/signals.h"
#include "http/form.h"
#include "shortcuts/write.h"
#include "users/permissions.h"
#include "users/signals.h"

/* Replies 400 with errors; takes a reference of its own. */
static void
reply_errors(struct http_request *req, json_t *errors)
{
  http_reply_json(req, 400, json_incref(errors));
}

/* ---- categories ---- */

static const char CATEGORY_NAME_TAKEN[] = "category with this name already exists.";
static const char CATEGORY_SLUG_TAKEN[] = "category with this slug already exists.";

void
categories_list_view(struct http_request *req)
{
  db_t *db = http_database(req);
  if (db == NULL)
    return;
  struct category *list;
  size_t count;
  int rc = categories_list(db, &req->arena, &list, &count);
  if (rc < 0) {
    http_reply_db_error(req, rc);
    return;
  }
  json_t *body = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(body, categories_serialize(&list[i]));
  http_reply_json(req, 200, body);
}

static bool
load_category(struct http_request *req, db_t *db, struct category *c)
{
  int rc = categories_get(db, req->ids[0], &req->arena, c);
  if (rc == 0)
    return true;
  if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, "No Category matches the given query.");
  else
    http_reply_db_error(req, rc);
  return false;
}

void
categories_detail_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct category c;
  if (db && load_category(req, db, &c))
    http_reply_json(req, 200, categories_serialize(&c));
}

/*
 * Checks name and slug against the other categories under the write lock;
 * a slug made from the name gets "-2", "-3"... when taken.
 */
static int
category_unique(db_t *db, struct category *c, bool slug_made, json_t *errors, arena_t *arena)
{
  int rc = categories_name_taken(db, c->name, c->id);
  if (rc == 1)
    json_error_add(errors, "name", CATEGORY_NAME_TAKEN);
  if (rc < 0)
    return rc;
  const char *base = c->slug;
  for (int n = 2; (rc = categories_slug_taken(db, c->slug, c->id)) == 1; n++) {
    if (!slug_made) {
      json_error_add(errors, "slug", CATEGORY_SLUG_TAKEN);
      return 0;
    }
    c->slug = arena_printf(arena, "%s-%d", base, n);
    if (c->slug == NULL)
      return EVENTAPI_ENOMEM;
  }
  return rc < 0 ? rc : 0;
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
  if (unit->errors == NULL)
    return EVENTAPI_ENOMEM;
  json_object_clear(unit->errors);
  unit->c.slug = unit->wanted;
  int rc = category_unique(db, &unit->c, unit->slug_made, unit->errors, unit->arena);
  if (rc < 0)
    return rc;
  if (json_errors_any(unit->errors))
    return EVENTAPI_EINVAL;
  rc = unit->c.id ? categories_update(db, &unit->c) : categories_insert(db, &unit->c);
  if (rc == EVENTAPI_ECONSTRAINT && unit->slug_made)
    return EVENTAPI_EBUSY; /* another node took the slug just made: again, numbered anew */
  if (rc == EVENTAPI_ECONSTRAINT) {  /* lost a race with another node */
    json_error_add(unit->errors, "name", CATEGORY_NAME_TAKEN);
    return EVENTAPI_EINVAL;
  }
  return rc;
}

static void
category_reply(struct http_request *req, int rc, void *arg)
{
  struct category_unit *unit = arg;
  if (rc == EVENTAPI_EINVAL)
    reply_errors(req, unit->errors);
  else if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, "No Category matches the given query.");
  else if (rc < 0)
    http_reply_db_error(req, rc);
  else
    http_reply_json(req, unit->status, categories_serialize(&unit->c));
}

/* Validates c and writes it as a unit of work (inserting when c->id is 0). */
static void
save_category(struct http_request *req, struct category *c, bool partial, unsigned status)
{
  json_t *body = http_json_body(req);
  if (body == NULL)
    return;
  json_t *errors = json_object();
  const char *old_slug = c->slug;
  c->slug = NULL;
  form_blank_as_absent(req, body, CATEGORY_FORM_OPTIONAL);
  categories_validate(body, partial, &req->arena, c, errors);
  bool slug_made = false;
  if (c->slug == NULL && c->id && old_slug) {
    c->slug = old_slug; /* an update without a slug keeps it */
  } else if (c->slug == NULL && c->name) {
    c->slug = categories_slugify(&req->arena, c->name);
    if (c->slug && c->slug[0] == '\0')
      c->slug = "category";
    slug_made = true;
  }
  struct category_unit *unit = arena_calloc(&req->arena, 1, sizeof *unit);
  if (json_errors_any(errors)) {
    reply_errors(req, errors);
  } else if (unit == NULL) {
    http_reply_internal(req, "out of memory");
  } else {
    *unit = (struct category_unit){*c, c->slug, slug_made, status, write_errors(req),
                                   &req->arena};
    write_and_reply(req, category_unit, unit, category_reply);
  }
  json_decref(errors);
}

void
categories_create_view(struct http_request *req)
{
  if (!permission_organizer(req))
    return;
  struct category c = {0};
  save_category(req, &c, false, 201);
}

void
categories_update_view(struct http_request *req)
{
  if (!permission_admin(req))
    return;
  db_t *db = http_database(req);
  struct category c;
  if (db && load_category(req, db, &c))
    save_category(req, &c, req->method == HTTP_PATCH, 200);
}

static int
category_delete_unit(db_t *db, void *arg)
{
  return categories_delete(db, *(int64_t *)arg);
}

/* 204 once deleted; 404 with missing when it was gone already. */
static void
reply_deleted(struct http_request *req, int rc, const char *missing)
{
  if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, missing);
  else if (rc < 0)
    http_reply_db_error(req, rc);
  else
    http_reply_empty(req, 204);
}

static void
category_deleted_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  reply_deleted(req, rc, "No Category matches the given query.");
}

void
categories_delete_view(struct http_request *req)
{
  if (!permission_admin(req))
    return;
  write_and_reply(req, category_delete_unit, &req->ids[0], category_deleted_reply);
}

/* ---- events ---- */

/* Tells the other apps that places may have opened (API.md: promotion). */
static int
places_opened(db_t *db, int64_t event_id, arena_t *arena)
{
  return events_places_opened ? events_places_opened(db, event_id, arena) : 0;
}

static bool
more_places(int64_t old_limit, int64_t new_limit)
{
  return old_limit != 0 && (new_limit == 0 || new_limit > old_limit);
}

/* Reloads event id and answers it with status. */
static void
reply_event(struct http_request *req, db_t *db, int64_t id, unsigned status)
{
  struct event e;
  int rc = events_get(db, id, &req->arena, &e);
  if (rc < 0)
    http_reply_db_error(req, rc);
  else
    http_reply_json(req, status, events_serialize(&e, http_base_url(req)));
}

/* An event created, as a unit of work, with its sessions and ticket types. */
struct create_unit {
  struct event e;
};

static int
create_unit(db_t *db, void *arg)
{
  return events_insert(db, &((struct create_unit *)arg)->e);
}

static void
create_reply(struct http_request *req, int rc, void *arg)
{
  struct create_unit *unit = arg;
  db_t *db = rc == 0 ? http_database(req) : NULL;
  if (rc < 0)
    http_reply_db_error(req, rc);
  else if (db) /* API.md: the create answer is 200 (CREATE_STATUS=201 as the original). */
    reply_event(req, db, unit->e.id, config->create_status);
}

void
events_create_view(struct http_request *req)
{
  if (!permission_organizer(req))
    return;
  json_t *body = http_json_body(req);
  db_t *db = body ? http_database(req) : NULL;
  if (db == NULL)
    return;
  json_t *errors = json_object();
  int64_t now = time_now_us();
  struct create_unit *unit = arena_calloc(&req->arena, 1, sizeof *unit);
  if (unit == NULL) {
    http_reply_internal(req, "out of memory");
    json_decref(errors);
    return;
  }
  struct event *e = &unit->e;
  *e = (struct event){
    .description = "", .visibility = VISIBILITY_PUBLIC,
    .organizer_id = req->user->id, .created_at = now,
  };
  struct event_nested nested;
  form_blank_as_absent(req, body, EVENT_FORM_OPTIONAL);
  int rc = events_validate(body, false, true, db, now, &req->arena, e, &nested, errors);
  if (rc < 0) {
    http_reply_db_error(req, rc);
  } else if (json_errors_any(errors)) {
    reply_errors(req, errors);
  } else {
    e->sessions = nested.sessions;
    e->nsessions = nested.nsessions;
    e->ticket_types = nested.ticket_types;
    e->nticket_types = nested.nticket_types;
    write_and_reply(req, create_unit, unit, create_reply);
  }
  json_decref(errors);
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

/* The catalogue's version, or false after replying. */
static bool
catalogue_version(struct http_request *req, db_t *db, uint64_t *version)
{
  int rc = db_catalogue_version(db, version);
  if (rc < 0)
    http_reply_db_error(req, rc);
  return rc == 0;
}

/*
 * An event's detail from the database: its row, who may see it, then its
 * JSON from the cache of events' JSON (or serialised, with its sessions and
 * ticket types, and cached), all in one read transaction. A public event's
 * answer is the same for every caller: it is stored under key.
 */
static void
detail_from_database(struct http_request *req, db_t *db, uint64_t version, const char *key,
                     const char *base)
{
  struct event e;
  struct strbuf body = {0};
  int visible = 0;
  int rc = db_begin(db, DB_READ);
  if (rc == 0)
    rc = events_get_row(db, req->ids[0], &req->arena, &e);
  if (rc == 0 && (rc = visible = events_can_see(db, &e, req->user)) == 1) {
    rc = 0;
    if (!events_cache_append(e.id, e.version, base, &body) &&
        (rc = events_attach_nested(db, &e, 1, &req->arena)) == 0 &&
        !events_cache_render(&e, base, &body))
      rc = EVENTAPI_ENOMEM;
  }
  if (rc < 0)
    db_rollback(db);
  else
    rc = db_commit(db);
  if (rc == EVENTAPI_ENOTFOUND || (rc == 0 && visible == 0)) {
    /* API.md: private events are 404 to others. */
    strbuf_free(&body);
    http_reply_detail(req, 404, "No Event matches the given query.");
    return;
  }
  if (rc == 0 && body.failed)
    rc = EVENTAPI_ENOMEM;
  if (rc < 0) {
    strbuf_free(&body);
    http_reply_db_error(req, rc);
    return;
  }
  /* The answer is a function of these: its entity tag. */
  uint64_t tag = fnv_str(FNV_START, base);
  tag = fnv(fnv(tag, &e.id, sizeof e.id), &e.version, sizeof e.version);
  char etag[24];
  snprintf(etag, sizeof etag, "W/\"%016llx\"", (unsigned long long)tag);
  size_t len;
  char *data = strbuf_take(&body, &len);
  bool shared = e.visibility == VISIBILITY_PUBLIC;
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
  db_t *db = http_database(req);
  uint64_t version;
  if (db == NULL || !catalogue_version(req, db, &version))
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
  detail_from_database(req, db, version, key, base);
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

/*
 * The list from the database, in one read transaction: the count (cached
 * by the catalogue's version), the page's ids and versions, and the page's
 * JSON from the cache of events' JSON. The answer of an anonymous caller is
 * the same for every anonymous caller: it is stored under key.
 */
static void
list_from_database(struct http_request *req, db_t *db, const struct event_filter *f,
                   uint64_t version, const char *key, const char *base)
{
  int64_t *ids = NULL, *versions = NULL, total = 0, valid_until = INT64_MAX;
  size_t count = 0;
  struct strbuf body = {0};
  int rc = db_begin(db, DB_READ);
  if (rc == 0)
    rc = events_list_versions(db, f, req->user, version, &req->arena, &ids, &versions, &count,
                              &total, &valid_until);
  const char *next = NULL, *previous = NULL;
  if (f->paginate) {
    if (f->offset + f->limit < total)
      next = http_page_url(req, f->limit, f->offset + f->limit);
    if (f->offset > 0)
      previous = http_page_url(req, f->limit, f->offset > f->limit ? f->offset - f->limit : 0);
  }
  /* The answer is a function of these: its entity tag. */
  uint64_t tag = fnv_str(FNV_START, base);
  tag = fnv(tag, &f->paginate, sizeof f->paginate);
  tag = fnv(tag, &total, sizeof total);
  tag = fnv_str(fnv_str(tag, next), previous);
  for (size_t i = 0; i < count; i++)
    tag = fnv(fnv(tag, &ids[i], sizeof ids[i]), &versions[i], sizeof versions[i]);
  char etag[24];
  snprintf(etag, sizeof etag, "W/\"%016llx\"", (unsigned long long)tag);
  if (rc == 0) {
    if (f->paginate) {
      json_t *head = json_object();
      json_object_set_new(head, "count", json_integer(total));
      json_set_string(head, "next", next);
      json_set_string(head, "previous", previous);
      char *text = json_dumps(head, JSON_COMPACT);
      json_decref(head);
      if (text) /* {"count":..,"next":..,"previous":..  then ,"results":[...]} */
        strbuf_append(&body, text, strlen(text) - 1);
      else
        body.failed = true;
      free(text);
      strbuf_puts(&body, ",\"results\":");
    }
    rc = render_page(req, db, ids, versions, count, base, &body);
    if (f->paginate)
      strbuf_puts(&body, "}");
  }
  if (rc < 0)
    db_rollback(db);
  else
    rc = db_commit(db);
  if (rc == 0 && body.failed)
    rc = EVENTAPI_ENOMEM;
  if (rc < 0) {
    strbuf_free(&body);
    http_reply_db_error(req, rc);
    return;
  }
  size_t len;
  char *data = strbuf_take(&body, &len);
  const struct events_answer *a = events_answer_make(version, key, req->user == NULL, data, len,
                                                     etag, total, valid_until, false);
  if (a == NULL)
    http_reply_internal(req, "out of memory");
  else
    reply_answer(req, a);
}

void
events_list_view(struct http_request *req)
{
  json_t *errors = json_object();
  struct event_filter f;
  events_filter_parse(req, &f, errors);
  if (json_errors_any(errors)) {
    reply_errors(req, errors);
    json_decref(errors);
    return;
  }
  json_decref(errors);
  db_t *db = http_database(req);
  uint64_t version;
  if (db == NULL || !catalogue_version(req, db, &version))
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
  list_from_database(req, db, &f, version, key, base);
}

/* API.md: lowering capacity below the confirmed registrations is 400. */
static void
check_capacity(const struct event *e, int64_t confirmed, json_t *errors, arena_t *arena)
{
  if (e->capacity != 0 && e->capacity < confirmed)
    json_error_add(errors, "capacity", arena_printf(arena,
        "Capacity cannot be lower than the number of confirmed registrations (%lld).",
        (long long)confirmed));
}

static const struct ticket_type *
find_ticket_type(const struct event *e, int64_t id, const char *name)
{
  for (size_t i = 0; i < e->nticket_types; i++)
    if ((id && e->ticket_types[i].id == id) ||
        (!id && name && strcmp(e->ticket_types[i].name, name) == 0))
      return &e->ticket_types[i];
  return NULL;
}

/*
 * API.md's synchronisation of nested items on update: matched (by id, else
 * ticket types by name) items are updated, unmatched ones created, existing
 * ones left out deleted; a ticket type that holds registrations cannot be
 * deleted (409). Returns 0, a database error, or EVENTAPI_ECONFLICT with the
 * name of the ticket type in *in_use; item errors go to errors.
 */
static int
sync_nested(db_t *db, const struct event *old, struct event_nested *nested, json_t *errors,
            arena_t *arena, const char **in_use)
{
  int rc = 0;
  if (nested->ticket_types_given) {
    bool *kept = arena_calloc(arena, old->nticket_types + 1, sizeof *kept);
    json_t *item_errors = json_array();
    bool any = false;
    /* Matched by id first, then by name among the items left. */
    const struct ticket_type **matches =
        arena_calloc(arena, nested->nticket_types + 1, sizeof *matches);
    for (size_t i = 0; kept && matches && i < nested->nticket_types; i++) {
      const struct ticket_type *match = find_ticket_type(old, nested->ticket_types[i].id, NULL);
      if (match && !kept[match - old->ticket_types]) {
        matches[i] = match;
        kept[match - old->ticket_types] = true;
      }
    }
    for (size_t i = 0; kept && matches && i < nested->nticket_types; i++) {
      for (size_t j = 0; !matches[i] && j < old->nticket_types; j++) {
        if (!kept[j] && strcmp(old->ticket_types[j].name, nested->ticket_types[i].name) == 0) {
          matches[i] = &old->ticket_types[j];
          kept[j] = true;
        }
      }
    }
    for (size_t i = 0; kept && matches && i < nested->nticket_types; i++) {
      struct ticket_type *t = &nested->ticket_types[i];
      const struct ticket_type *match = matches[i];
      json_t *errs = json_object();
      t->event_id = old->id;
      t->id = match ? match->id : 0;
      if (match) {
        if (t->quantity != 0 && t->quantity < match->confirmed_count)
          json_error_add(errs, "quantity", arena_printf(arena,
              "Quantity cannot be lower than the number of confirmed registrations (%lld).",
              (long long)match->confirmed_count));
      }
      any |= json_object_size(errs) > 0;
      json_array_append_new(item_errors, errs);
    }
    if (any)
      json_object_set(errors, "ticket_types", item_errors);
    json_decref(item_errors);
    if (kept == NULL || matches == NULL)
      return EVENTAPI_ENOMEM;
    if (json_errors_any(errors))
      return 0;
    for (size_t i = 0; rc == 0 && i < old->nticket_types; i++) {
      if (kept[i])
        continue;
      rc = ticket_types_in_use(db, old->ticket_types[i].id);
      if (rc == 1) {
        *in_use = old->ticket_types[i].name;
        return EVENTAPI_ECONFLICT;
      }
      if (rc == 0)
        rc = ticket_types_delete(db, old->id, old->ticket_types[i].id);
    }
    for (size_t i = 0; rc == 0 && i < nested->nticket_types; i++) {
      struct ticket_type *t = &nested->ticket_types[i];
      rc = t->id ? ticket_types_update(db, t) : ticket_types_insert(db, t);
    }
    if (rc == EVENTAPI_ECONSTRAINT) {
      json_t *list = json_object();
      json_error_add(list, "non_field_errors", "Ticket type names must be unique within an event.");
      json_object_set_new(errors, "ticket_types", list);
      return 0;
    }
  }
  if (rc == 0 && nested->sessions_given) {
    bool *kept = arena_calloc(arena, old->nsessions + 1, sizeof *kept);
    if (kept == NULL)
      return EVENTAPI_ENOMEM;
    for (size_t i = 0; i < nested->nsessions; i++) {
      struct session *s = &nested->sessions[i];
      s->event_id = old->id;
      size_t j;
      for (j = 0; j < old->nsessions && old->sessions[j].id != s->id; j++)
        ;
      if (s->id && j < old->nsessions)
        kept[j] = true;
      else
        s->id = 0;
    }
    for (size_t i = 0; rc == 0 && i < old->nsessions; i++)
      if (!kept[i])
        rc = sessions_delete(db, old->id, old->sessions[i].id);
    for (size_t i = 0; rc == 0 && i < nested->nsessions; i++) {
      struct session *s = &nested->sessions[i];
      rc = s->id ? sessions_update(db, s) : sessions_insert(db, s);
    }
  }
  return rc;
}

/* An event updated, as a unit of work, nested sessions and ticket types too. */
struct update_unit {
  struct event e;              /* the new values */
  struct event_nested nested;
  json_t *errors;
  const char *in_use;          /* a ticket type left out that holds registrations */
  arena_t *arena;
};

/*
 * Re-reads the event under the write lock (its counts are what they are
 * now), checks the new limits against them, synchronises the nested lists,
 * writes, tells the other apps, and lets the waitlist in if a limit rose.
 */
static int
update_unit(db_t *db, void *arg)
{
  struct update_unit *unit = arg;
  if (unit->errors == NULL)
    return EVENTAPI_ENOMEM;
  json_object_clear(unit->errors);
  unit->in_use = NULL;
  struct event old;
  int rc = events_get(db, unit->e.id, unit->arena, &old);
  if (rc < 0)
    return rc;
  check_capacity(&unit->e, old.confirmed_count, unit->errors, unit->arena);
  if (!json_errors_any(unit->errors))
    rc = sync_nested(db, &old, &unit->nested, unit->errors, unit->arena, &unit->in_use);
  if (rc == 0 && json_errors_any(unit->errors))
    return EVENTAPI_EINVAL;
  if (rc == 0)
    rc = events_update(db, &unit->e);
  if (rc == 0 && events_changed)
    rc = events_changed(db, &old, &unit->e, unit->arena);
  /* Any raised limit (event or ticket type) may let the waitlist in. */
  if (rc == 0)
    rc = places_opened(db, unit->e.id, unit->arena);
  return rc;
}

static void
update_reply(struct http_request *req, int rc, void *arg)
{
  struct update_unit *unit = arg;
  db_t *db = rc == 0 ? http_database(req) : NULL;
  if (rc == EVENTAPI_EINVAL)
    reply_errors(req, unit->errors);
  else if (rc == EVENTAPI_ECONFLICT)
    http_reply_detail(req, 409, arena_printf(&req->arena,
        "Ticket type \"%s\" holds registrations and cannot be deleted.", unit->in_use));
  else if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, "No Event matches the given query.");
  else if (rc < 0)
    http_reply_db_error(req, rc);
  else if (db)
    reply_event(req, db, unit->e.id, 200);
}

void
events_update_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct update_unit *unit = arena_calloc(&req->arena, 1, sizeof *unit);
  if (db == NULL || unit == NULL) {
    if (db)
      http_reply_internal(req, "out of memory");
    return;
  }
  if (!events_load_for_change(req, db, req->ids[0], &unit->e))
    return;
  json_t *body = http_json_body(req);
  if (body == NULL)
    return;
  json_t *errors = json_object();
  form_blank_as_absent(req, body, EVENT_FORM_OPTIONAL);
  int rc = events_validate(body, req->method == HTTP_PATCH, false, db, time_now_us(),
                           &req->arena, &unit->e, &unit->nested, errors);
  if (rc < 0) {
    http_reply_db_error(req, rc);
  } else if (json_errors_any(errors)) {
    reply_errors(req, errors);
  } else {
    unit->errors = write_errors(req);
    unit->arena = &req->arena;
    write_and_reply(req, update_unit, unit, update_reply);
  }
  json_decref(errors);
}

static void
remove_image_file(void *name)
{
  events_image_remove_file(name);
}

/*
 * Deletes e, read as it is now inside the write transaction, telling whoever
 * the deletion concerns; its image file goes once the deletion commits.
 */
static int
delete_event(db_t *db, const struct event *e, arena_t *arena)
{
  int rc = events_deleting ? events_deleting(db, e, arena) : 0;
  const char *image = NULL;
  if (rc == 0)
    rc = events_delete(db, e->id, arena, &image);
  if (rc == 0 && image)
    rc = db_on_commit(db, remove_image_file, (char *)image);
  return rc;
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
  struct event e;
  int rc = events_get(db, unit->id, unit->arena, &e); /* as it is now */
  return rc < 0 ? rc : delete_event(db, &e, unit->arena);
}

static void
event_deleted_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  reply_deleted(req, rc, "No Event matches the given query.");
}

void
events_delete_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  struct delete_unit *unit = arena_alloc(&req->arena, sizeof *unit);
  if (db == NULL || !events_load_for_change(req, db, req->ids[0], &e))
    return;
  if (unit == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  *unit = (struct delete_unit){e.id, &req->arena};
  write_and_reply(req, delete_unit, unit, event_deleted_reply);
}

/*
 * users_deleting: an organizer's events go as if deleted one by one, so
 * that their registrants hear of it and the image files go too.
 */
static int
delete_organized_events(db_t *db, int64_t user_id, int64_t now, arena_t *arena)
{
  (void)now;
  int64_t *ids;
  size_t count;
  int rc = db_ints(db, "SELECT id FROM events WHERE organizer_id = ? ORDER BY id" DB_FOR_WRITE,
                   user_id, arena, &ids, &count);
  for (size_t i = 0; rc == 0 && i < count; i++) {
    struct event e;
    if ((rc = events_get(db, ids[i], arena, &e)) == 0)
      rc = delete_event(db, &e, arena);
    if (rc == EVENTAPI_ENOTFOUND)
      rc = 0; /* gone meanwhile */
  }
  return rc;
}

void
events_signals_connect(void)
{
  users_deleting_connect(delete_organized_events);
}

/* ---- ticket types and sessions of one event ---- */

static struct ticket_type *
path_ticket_type(struct http_request *req, struct event *e)
{
  for (size_t i = 0; i < e->nticket_types; i++)
    if (e->ticket_types[i].id == req->ids[1])
      return &e->ticket_types[i];
  http_reply_detail(req, 404, "No TicketType matches the given query.");
  return NULL;
}

static struct session *
path_session(struct http_request *req, struct event *e)
{
  for (size_t i = 0; i < e->nsessions; i++)
    if (e->sessions[i].id == req->ids[1])
      return &e->sessions[i];
  http_reply_detail(req, 404, "No Session matches the given query.");
  return NULL;
}

/* One ticket type written (t.id 0: a new one), as a unit of work. */
struct ticket_type_unit {
  struct ticket_type t;
  int64_t old_quantity;
  unsigned status;
  json_t *errors;
  arena_t *arena;
};

/*
 * API.md: a quantity never below the ticket type's confirmed registrations,
 * as counted under the write lock; names unique within the event. Bumps
 * the event's version, and lets the waitlist in when the quantity rose.
 */
static int
ticket_type_unit(db_t *db, void *arg)
{
  struct ticket_type_unit *unit = arg;
  struct ticket_type *t = &unit->t;
  if (unit->errors == NULL)
    return EVENTAPI_ENOMEM;
  json_object_clear(unit->errors);
  int rc = 0;
  if (t->id) {
    struct event fresh;
    if ((rc = events_get(db, t->event_id, unit->arena, &fresh)) < 0)
      return rc;
    const struct ticket_type *now = find_ticket_type(&fresh, t->id, NULL);
    if (now == NULL)
      return EVENTAPI_ENOTFOUND;
    if (t->quantity != 0 && t->quantity < now->confirmed_count) {
      json_error_add(unit->errors, "quantity", arena_printf(unit->arena,
          "Quantity cannot be lower than the number of confirmed registrations (%lld).",
          (long long)now->confirmed_count));
      return EVENTAPI_EINVAL;
    }
  }
  int64_t id = t->id;
  rc = id ? ticket_types_update(db, t) : ticket_types_insert(db, t);
  if (rc == EVENTAPI_ECONSTRAINT) {
    json_error_add(unit->errors, "name", "Ticket type names must be unique within an event.");
    t->id = id;
    return EVENTAPI_EINVAL;
  }
  if (rc == 0)
    rc = events_touch(db, t->event_id);
  if (rc == 0 && id && more_places(unit->old_quantity, t->quantity))
    rc = places_opened(db, t->event_id, unit->arena);
  if (rc < 0)
    t->id = id; /* a unit may run again: as it came */
  return rc;
}

static void
ticket_type_reply(struct http_request *req, int rc, void *arg)
{
  struct ticket_type_unit *unit = arg;
  if (rc == EVENTAPI_EINVAL)
    reply_errors(req, unit->errors);
  else if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, "No TicketType matches the given query.");
  else if (rc < 0)
    http_reply_db_error(req, rc);
  else
    http_reply_json(req, unit->status, ticket_types_serialize(&unit->t));
}

/* Validates one ticket type of event e and writes it. Replies in every case. */
static void
save_ticket_type(struct http_request *req, struct ticket_type *t, unsigned status)
{
  json_t *body = http_json_body(req);
  if (body == NULL)
    return;
  json_t *errors = json_object();
  int64_t old_quantity = t->quantity;
  ticket_types_validate(body, req->method == HTTP_PATCH, &req->arena, t, errors);
  struct ticket_type_unit *unit = arena_alloc(&req->arena, sizeof *unit);
  if (json_errors_any(errors)) {
    reply_errors(req, errors);
  } else if (unit == NULL) {
    http_reply_internal(req, "out of memory");
  } else {
    *unit = (struct ticket_type_unit){*t, old_quantity, status, write_errors(req), &req->arena};
    write_and_reply(req, ticket_type_unit, unit, ticket_type_reply);
  }
  json_decref(errors);
}

void
ticket_types_create_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  if (db == NULL || !events_load_for_change(req, db, req->ids[0], &e))
    return;
  struct ticket_type t = {.event_id = e.id};
  save_ticket_type(req, &t, 201);
}

void
ticket_types_update_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  struct ticket_type *t;
  if (db && events_load_for_change(req, db, req->ids[0], &e) && (t = path_ticket_type(req, &e)))
    save_ticket_type(req, t, 200);
}

/* A ticket type deleted, as a unit of work; not while it holds registrations. */
struct ticket_type_delete {
  int64_t event_id, id;
  const char *name;
};

static int
ticket_type_delete_unit(db_t *db, void *arg)
{
  struct ticket_type_delete *unit = arg;
  int rc = ticket_types_in_use(db, unit->id);
  if (rc == 1)
    return EVENTAPI_ECONFLICT;
  if (rc == 0)
    rc = ticket_types_delete(db, unit->event_id, unit->id);
  return rc < 0 ? rc : events_touch(db, unit->event_id);
}

static void
ticket_type_deleted_reply(struct http_request *req, int rc, void *arg)
{
  struct ticket_type_delete *unit = arg;
  if (rc == EVENTAPI_ECONFLICT)
    http_reply_detail(req, 409, arena_printf(&req->arena,
        "Ticket type \"%s\" holds registrations and cannot be deleted.", unit->name));
  else
    reply_deleted(req, rc, "No TicketType matches the given query.");
}

void
ticket_types_delete_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  struct ticket_type *t;
  if (db == NULL || !events_load_for_change(req, db, req->ids[0], &e) ||
      (t = path_ticket_type(req, &e)) == NULL)
    return;
  struct ticket_type_delete *unit = arena_alloc(&req->arena, sizeof *unit);
  if (unit == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  *unit = (struct ticket_type_delete){e.id, t->id, t->name};
  write_and_reply(req, ticket_type_delete_unit, unit, ticket_type_deleted_reply);
}

/* One session written (s.id 0: a new one), as a unit of work. */
struct session_unit {
  struct session s;
  unsigned status;
};

static int
session_unit(db_t *db, void *arg)
{
  struct session *s = &((struct session_unit *)arg)->s;
  int64_t id = s->id;
  int rc = id ? sessions_update(db, s) : sessions_insert(db, s);
  if (rc == 0)
    rc = events_touch(db, s->event_id);
  if (rc < 0)
    s->id = id; /* a unit may run again: as it came */
  return rc;
}

static void
session_reply(struct http_request *req, int rc, void *arg)
{
  struct session_unit *unit = arg;
  if (rc == EVENTAPI_ENOTFOUND)
    http_reply_detail(req, 404, "No Session matches the given query.");
  else if (rc < 0)
    http_reply_db_error(req, rc);
  else
    http_reply_json(req, unit->status, sessions_serialize(&unit->s));
}

static void
save_session(struct http_request *req, struct session *s, unsigned status)
{
  json_t *body = http_json_body(req);
  if (body == NULL)
    return;
  json_t *errors = json_object();
  sessions_validate(body, req->method == HTTP_PATCH, &req->arena, s, errors);
  struct session_unit *unit = arena_alloc(&req->arena, sizeof *unit);
  if (json_errors_any(errors)) {
    reply_errors(req, errors);
  } else if (unit == NULL) {
    http_reply_internal(req, "out of memory");
  } else {
    *unit = (struct session_unit){*s, status};
    write_and_reply(req, session_unit, unit, session_reply);
  }
  json_decref(errors);
}

void
sessions_create_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  if (db == NULL || !events_load_for_change(req, db, req->ids[0], &e))
    return;
  struct session s = {.event_id = e.id, .speaker = "", .description = ""};
  save_session(req, &s, 201);
}

void
sessions_update_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  struct session *s;
  if (db && events_load_for_change(req, db, req->ids[0], &e) && (s = path_session(req, &e)))
    save_session(req, s, 200);
}

/* A session deleted, as a unit of work. */
struct session_delete {
  int64_t event_id, id;
};

static int
session_delete_unit(db_t *db, void *arg)
{
  struct session_delete *unit = arg;
  int rc = sessions_delete(db, unit->event_id, unit->id);
  return rc < 0 ? rc : events_touch(db, unit->event_id);
}

static void
session_deleted_reply(struct http_request *req, int rc, void *arg)
{
  (void)arg;
  reply_deleted(req, rc, "No Session matches the given query.");
}

void
sessions_delete_view(struct http_request *req)
{
  db_t *db = http_database(req);
  struct event e;
  struct session *s;
  if (db == NULL || !events_load_for_change(req, db, req->ids[0], &e) ||
      (s = path_session(req, &e)) == NULL)
    return;
  struct session_delete *unit = arena_alloc(&req->arena, sizeof *unit);
  if (unit == NULL) {
    http_reply_internal(req, "out of memory");
    return;
  }
  *unit = (struct session_delete){e.id, s->id};
  write_and_reply(req, session_delete_unit, unit, session_deleted_reply);
}
