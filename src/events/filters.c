/*
 * filters.c - the event list's query parameters, and the query they make.
 *
 * The SQL is assembled from the filters present, so each combination is
 * one plain statement that SQLite plans with the right index; the database
 * layer caches statements by their text.
 */
#include "events/filters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "core/timefmt.h"

static const struct {
  const char *name;
  enum event_ordering ordering;
  const char *column;
} orderings[] = {
  {"date_time", ORDER_DATE_TIME, "date_time"},
  {"created_at", ORDER_CREATED_AT, "created_at"},
  {"title", ORDER_TITLE, "title"},
  {"capacity", ORDER_CAPACITY, "capacity"},
  {"id", ORDER_ID, "id"},
};

static void
invalid_choice(json_t *errors, const char *param, const char *value, arena_t *arena)
{
  /* At most 100 bytes of the value, never half a character. */
  json_error_add(errors, param, arena_printf(arena,
      "Select a valid choice. %.*s is not one of the available choices.",
      (int)text_utf8_prefix(value, 100), value));
}

/* A query parameter as a bounded integer; false (error added) otherwise. */
static bool
int_param(const char *value, const char *param, int64_t min, int64_t max, json_t *errors,
          int64_t *out)
{
  char *end;
  long long n = strtoll(value, &end, 10);
  if (end == value || *end || value[0] == ' ' || value[0] == '+') {
    json_error_add(errors, param, "A valid integer is required.");
    return false;
  }
  char msg[96];
  if (n < min) {
    snprintf(msg, sizeof msg, "Ensure this value is greater than or equal to %lld.", (long long)min);
    json_error_add(errors, param, msg);
    return false;
  }
  if (n > max) {
    snprintf(msg, sizeof msg, "Ensure this value is less than or equal to %lld.", (long long)max);
    json_error_add(errors, param, msg);
    return false;
  }
  *out = n;
  return true;
}

/* A date (midnight UTC) or a date-time. */
static bool
date_param(const char *value, const char *param, json_t *errors, int64_t *out)
{
  if (time_parse_date(value, out) == 0 || time_parse_iso(value, out) == 0)
    return true;
  json_error_add(errors, param, "Enter a valid date/time.");
  return false;
}

/* Escapes LIKE's wildcards in a folded term and wraps it in %...%. */
static const char *
like_pattern(arena_t *arena, const char *term)
{
  size_t len = strlen(term);
  char *out = arena_alloc(arena, 2 * len + 3);
  if (out == NULL)
    return NULL;
  size_t n = 0;
  out[n++] = '%';
  for (const char *p = term; *p; p++) {
    if (*p == '%' || *p == '_' || *p == '\\')
      out[n++] = '\\';
    out[n++] = *p;
  }
  out[n++] = '%';
  out[n] = '\0';
  return out;
}

/* The folded form of value as a LIKE pattern, in arena memory. */
static const char *
folded_pattern(arena_t *arena, const char *value)
{
  char *folded = text_fold(value);
  if (folded == NULL)
    return NULL;
  const char *pattern = like_pattern(arena, folded);
  free(folded);
  return pattern;
}

/* A query parameter, or NULL when absent or empty (django-filter ignores those). */
static const char *
param(struct http_request *req, const char *name)
{
  const char *value = http_query(req, name);
  return value && *value ? value : NULL;
}

void
events_filter_parse(struct http_request *req, struct event_filter *f, json_t *errors)
{
  arena_t *arena = &req->arena;
  memset(f, 0, sizeof *f);
  f->upcoming = true;
  f->visibility = -1;
  f->limit = EVENTS_LIMIT_MAX;
  f->now = time_now_us();
  const char *value;
  if ((value = param(req, "category"))) {
    int64_t id;
    char *end;
    id = strtoll(value, &end, 10);
    if (*end == '\0' && id > 0)
      f->category_id = id;
    else
      f->category_slug = value;
  }
  if ((value = param(req, "search"))) {
    char *copy = arena_strdup(arena, value);
    for (char *save = NULL, *term = copy ? strtok_r(copy, " ,\t", &save) : NULL; term;
         term = strtok_r(NULL, " ,\t", &save)) {
      if (f->nterms == EVENTS_SEARCH_TERMS_MAX) {
        json_error_add(errors, "search", "Use at most 16 search terms.");
        break;
      }
      const char *pattern = folded_pattern(arena, term);
      if (pattern == NULL) {
        json_error_add(errors, "search", "Enter valid UTF-8 text.");
        break;
      }
      f->terms[f->nterms++] = pattern;
    }
  }
  if ((value = param(req, "location"))) {
    f->location = folded_pattern(arena, value);
    if (f->location == NULL)
      json_error_add(errors, "location", "Enter valid UTF-8 text.");
  }
  if ((value = param(req, "start_date")))
    f->has_start = date_param(value, "start_date", errors, &f->start);
  if ((value = param(req, "end_date")))
    f->has_end = date_param(value, "end_date", errors, &f->end);
  if ((value = param(req, "upcoming"))) {
    if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
      f->upcoming = true;
    else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
      f->upcoming = false;
    else
      json_error_add(errors, "upcoming", "Must be a valid boolean.");
  }
  if ((value = param(req, "organizer")))
    int_param(value, "organizer", 1, INT64_MAX, errors, &f->organizer);
  if ((value = param(req, "visibility"))) {
    enum visibility v;
    if (visibility_parse(value, &v) == 0)
      f->visibility = (int)v;
    else
      invalid_choice(errors, "visibility", value, arena);
  }
  if ((value = param(req, "ordering"))) {
    const char *name = value[0] == '-' ? value + 1 : value;
    size_t i;
    for (i = 0; i < sizeof orderings / sizeof orderings[0]; i++)
      if (strcmp(name, orderings[i].name) == 0)
        break;
    if (i == sizeof orderings / sizeof orderings[0]) {
      invalid_choice(errors, "ordering", value, arena);
    } else {
      f->ordering = orderings[i].ordering;
      f->descending = value[0] == '-';
    }
  }
  if ((value = param(req, "limit")))
    f->paginate = int_param(value, "limit", 1, EVENTS_LIMIT_MAX, errors, &f->limit);
  /* DRF: without a limit there is no pagination, and offset means nothing. */
  if ((value = param(req, "offset")) && int_param(value, "offset", 0, INT64_MAX / 2, errors,
                                                   &f->offset) && !f->paginate)
    f->offset = 0;
}

/* ---- the query ---- */

struct param {
  bool text;
  int64_t number;
  const char *string;
};

struct query {
  char sql[2048];
  size_t len;
  struct param params[EVENTS_SEARCH_TERMS_MAX + 16];
  int nparams;
};

static void
add(struct query *q, const char *sql)
{
  int n = snprintf(q->sql + q->len, sizeof q->sql - q->len, "%s", sql);
  if (n > 0)
    q->len += (size_t)n;
}

static void
add_int(struct query *q, const char *sql, int64_t value)
{
  add(q, sql);
  q->params[q->nparams++] = (struct param){.number = value};
}

static void
add_text(struct query *q, const char *sql, const char *value)
{
  add(q, sql);
  q->params[q->nparams++] = (struct param){.text = true, .string = value};
}

/* The WHERE clause: what who may see, then every filter of f. */
static void
where(struct query *q, const struct event_filter *f, const struct principal *who)
{
  add(q, " WHERE 1 = 1");
  if (who == NULL)
    add(q, " AND visibility = 'public'");
  else if (who->role != ROLE_ADMIN) {
    add_int(q, " AND (visibility = 'public' OR organizer_id = ?", who->id);
    add_int(q, " OR id IN (SELECT event_id FROM registrations"
               " WHERE user_id = ? AND cancelled_at IS NULL))", who->id);
  }
  if (f->category_id)
    add_int(q, " AND category_id = ?", f->category_id);
  if (f->category_slug)
    add_text(q, " AND category_id = (SELECT id FROM categories WHERE slug = ?)", f->category_slug);
  for (int i = 0; i < f->nterms; i++)
    add_text(q, " AND search_text LIKE ? ESCAPE '\\'", f->terms[i]);
  if (f->location)
    add_text(q, " AND location_key LIKE ? ESCAPE '\\'", f->location);
  if (f->upcoming)
    add_int(q, " AND date_time >= ?", f->now);
  if (f->has_start)
    add_int(q, " AND date_time >= ?", f->start);
  if (f->has_end)
    add_int(q, " AND date_time <= ?", f->end);
  if (f->organizer)
    add_int(q, " AND organizer_id = ?", f->organizer);
  if (f->visibility >= 0)
    add_text(q, " AND visibility = ?", visibility_name((enum visibility)f->visibility));
}

static void
bind_all(db_stmt_t *st, const struct query *q)
{
  for (int i = 0; i < q->nparams; i++) {
    if (q->params[i].text)
      db_bind_text(st, i + 1, q->params[i].string);
    else
      db_bind_int(st, i + 1, q->params[i].number);
  }
}

static int
count_matches(db_t *db, const struct event_filter *f, const struct principal *who, int64_t *total)
{
  struct query q = {0};
  add(&q, "SELECT count(*) FROM events");
  where(&q, f, who);
  db_stmt_t *st = db_prepare_assembled(db, q.sql);
  if (st == NULL)
    return EVENTAPI_EDB;
  bind_all(st, &q);
  int rc = db_step(st);
  if (rc == DB_ROW)
    *total = db_column_int(st, 0);
  db_reset(st);
  return rc < 0 ? rc : 0;
}

static int
list_page(db_t *db, const struct event_filter *f, const struct principal *who,
          arena_t *arena, struct event **out, size_t *count, int64_t *total)
{
  int rc = count_matches(db, f, who, total);
  if (rc < 0)
    return rc;
  *out = NULL;
  *count = 0;
  if (*total <= f->offset)
    return 0;
  struct query q = {0};
  add(&q, "SELECT " EVENTS_COLUMNS " FROM events");
  where(&q, f, who);
  const char *dir = f->descending ? " DESC" : "";
  char order[96];
  snprintf(order, sizeof order, " ORDER BY %s%s, id%s LIMIT ? OFFSET ?",
           orderings[f->ordering].column, dir, dir);
  add(&q, order);
  q.params[q.nparams++] = (struct param){.number = f->limit};
  q.params[q.nparams++] = (struct param){.number = f->offset};
  db_stmt_t *st = db_prepare_assembled(db, q.sql);
  if (st == NULL)
    return EVENTAPI_EDB;
  bind_all(st, &q);
  int64_t expected = *total - f->offset < f->limit ? *total - f->offset : f->limit;
  struct event *list = arena_calloc(arena, (size_t)expected + 1, sizeof *list);
  size_t n = 0;
  if (list == NULL)
    rc = EVENTAPI_ENOMEM;
  while (list && (rc = db_step(st)) == DB_ROW && n <= (size_t)expected)
    if ((rc = events_read_row(st, arena, &list[n++])) < 0)
      break;
  db_reset(st);
  if (rc < 0)
    return rc;
  if ((rc = events_attach_nested(db, list, n, arena)) < 0)
    return rc;
  *out = list;
  *count = n;
  return 0;
}

int
events_list(db_t *db, const struct event_filter *f, const struct principal *who,
            arena_t *arena, struct event **out, size_t *count, int64_t *total)
{
  /* One read transaction: the count and the page see the same snapshot. */
  int rc = db_begin(db, DB_READ);
  if (rc < 0)
    return rc;
  rc = list_page(db, f, who, arena, out, count, total);
  if (rc < 0)
    db_rollback(db);
  else
    rc = db_commit(db);
  return rc;
}

int
events_list_versions(db_t *db, const struct event_filter *f, const struct principal *who,
                     arena_t *arena, int64_t **ids, int64_t **versions, size_t *count,
                     int64_t *total)
{
  int rc = count_matches(db, f, who, total);
  *count = 0;
  if (rc < 0 || *total <= f->offset)
    return rc;
  struct query q = {0};
  add(&q, "SELECT id, version FROM events");
  where(&q, f, who);
  const char *dir = f->descending ? " DESC" : "";
  char order[96];
  snprintf(order, sizeof order, " ORDER BY %s%s, id%s LIMIT ? OFFSET ?",
           orderings[f->ordering].column, dir, dir);
  add(&q, order);
  q.params[q.nparams++] = (struct param){.number = f->limit};
  q.params[q.nparams++] = (struct param){.number = f->offset};
  db_stmt_t *st = db_prepare_assembled(db, q.sql);
  if (st == NULL)
    return EVENTAPI_EDB;
  bind_all(st, &q);
  size_t cap = (size_t)f->limit;
  *ids = arena_alloc(arena, cap * sizeof **ids);
  *versions = arena_alloc(arena, cap * sizeof **versions);
  if (*ids == NULL || *versions == NULL) {
    db_reset(st);
    return EVENTAPI_ENOMEM;
  }
  while (*count < cap && (rc = db_step(st)) == DB_ROW) {
    (*ids)[*count] = db_column_int(st, 0);
    (*versions)[(*count)++] = db_column_int(st, 1);
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
events_get_many(db_t *db, const int64_t *ids, size_t n, arena_t *arena,
                struct event **out, size_t *count)
{
  *count = 0;
  if (n == 0)
    return 0;
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(list, json_integer(ids[i]));
  char *text = json_dumps(list, JSON_COMPACT);
  json_decref(list);
  struct event *events = arena_calloc(arena, n, sizeof *events);
  if (text == NULL || events == NULL) {
    free(text);
    return EVENTAPI_ENOMEM;
  }
  db_stmt_t *st = db_prepare(db, "SELECT " EVENTS_COLUMNS " FROM events WHERE id IN " DB_ID_LIST);
  int rc = EVENTAPI_EDB;
  if (st) {
    db_bind_text(st, 1, text);
    size_t got = 0;
    while (got < n && (rc = db_step(st)) == DB_ROW)
      if ((rc = events_read_row(st, arena, &events[got++])) < 0)
        break;
    db_reset(st);
    *count = got;
  }
  free(text);
  if (rc < 0)
    return rc;
  *out = events;
  return events_attach_nested(db, events, *count, arena);
}
