/*
 * filters.c - the event list's query parameters, and the queries they make.
 *
 * The SQL is assembled from fixed fragments for the filters present (user
 * input is only ever bound), so each combination is one plain statement
 * that the database layer prepares once and caches by its text. What an
 * anonymous caller may see, the public events, is read from indexes of the
 * public events alone (migration 0008), one per ordering; on SQLite the
 * statement names the index (INDEXED BY), so that the plan is the one
 * designed here and a statement whose index cannot serve it fails to
 * prepare rather than scanning. Substring terms of three characters or
 * more go through the trigram index: on SQLite a phrase of the term in the
 * FTS5 table, which matches exactly where LIKE '%term%' would; on
 * PostgreSQL LIKE itself, which pg_trgm's GIN index serves. Shorter terms
 * have no trigram and are matched by LIKE alone (reading the rows in the
 * list's order until the page is full).
 *
 * Counts are cached by the catalogue's version and the filter (without the
 * page and the ordering): a page among the first results then reads a few
 * index entries, whatever the catalogue holds.
 */
#include "events/filters.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "events/cache.h"
#include "events/rules.h"

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

/* The folded form of value as a term (in arena memory); false when value
 * is not valid UTF-8 or memory ran out. */
static bool
folded_term(arena_t *arena, const char *value, struct event_term *out)
{
  char *folded = text_fold(value);
  if (folded == NULL)
    return false;
  out->pattern = like_pattern(arena, folded);
  out->text = arena_strdup(arena, folded);
  out->chars = 0;
  for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
    out->chars += (*p & 0xC0) != 0x80; /* not a continuation byte */
  free(folded);
  return out->pattern && out->text;
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
      if (!folded_term(arena, term, &f->terms[f->nterms])) {
        json_error_add(errors, "search", "Enter valid UTF-8 text.");
        break;
      }
      f->nterms++;
    }
  }
  if ((value = param(req, "location"))) {
    if (!folded_term(arena, value, &f->location)) {
      f->location.pattern = NULL;
      json_error_add(errors, "location", "Enter valid UTF-8 text.");
    }
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
    json_int_text(value, "organizer", 1, INT64_MAX, errors, &f->organizer);
  if ((value = param(req, "visibility"))) {
    enum visibility v;
    if (events_visibility_parse(value, &v) == 0)
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
    f->paginate = json_int_text(value, "limit", 1, EVENTS_LIMIT_MAX, errors, &f->limit);
  /* DRF: without a limit there is no pagination, and offset means nothing. */
  if ((value = param(req, "offset")) && json_int_text(value, "offset", 0, INT64_MAX / 2, errors,
                                                   &f->offset) && !f->paginate)
    f->offset = 0;
}

/* ---- the queries ---- */

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

static bool
on_sqlite(void)
{
  return strcmp(db_backend_name(), "sqlite") == 0;
}

/* Whether the trigram index can serve term: three characters at least. */
static bool
trigram_term(const struct event_term *term)
{
  return term->pattern && term->chars >= 3;
}

/* Appends text to out as an FTS5 string: in double quotes, doubled inside. */
static void
fts_string(struct strbuf *out, const char *column, const char *text)
{
  strbuf_puts(out, out->len ? " AND " : "");
  strbuf_puts(out, column);
  strbuf_puts(out, " : \"");
  for (const char *p = text; *p; p++) {
    if (*p == '"')
      strbuf_puts(out, "\"\"");
    else
      strbuf_append(out, p, 1);
  }
  strbuf_puts(out, "\"");
}

/*
 * The FTS5 query of f's trigram terms (SQLite), each a phrase in its
 * column: every trigram of the term in a row, one after the other, is
 * exactly the term occurring there. NULL when f has none. Arena memory.
 */
static const char *
fts_query(const struct event_filter *f, arena_t *arena, bool *failed)
{
  struct strbuf expr = {0};
  for (int i = 0; i < f->nterms; i++)
    if (trigram_term(&f->terms[i]))
      fts_string(&expr, "search_text", f->terms[i].text);
  if (trigram_term(&f->location))
    fts_string(&expr, "location_key", f->location.text);
  const char *out = expr.len && !expr.failed ? arena_strndup(arena, expr.data, expr.len) : NULL;
  *failed = expr.failed || (expr.len && out == NULL);
  strbuf_free(&expr);
  return out;
}

static bool
by_category(const struct event_filter *f)
{
  return f->category_id || f->category_slug;
}

/*
 * The index of the public events that serves f on SQLite: for a page, the
 * one of its ordering, unless a filter picks a narrower range (then its
 * rows are sorted); for a count, the narrowest range.
 */
static const char *
public_index(const struct event_filter *f, bool fts, enum event_query_kind kind)
{
  static const char *const by_ordering[] = {
    [ORDER_DATE_TIME] = "events_public_date_time", [ORDER_CREATED_AT] = "events_public_created_at",
    [ORDER_TITLE] = "events_public_title", [ORDER_CAPACITY] = "events_public_capacity",
    [ORDER_ID] = "events_public_id",
  };
  if (fts)
    return "events_public_id"; /* the matches' ids, looked up */
  if (by_category(f))
    return "events_public_category";
  if (f->organizer)
    return "events_public_organizer";
  if (kind != EVENT_QUERY_PAGE || (f->has_start && f->has_end))
    return "events_public_date_time";
  return by_ordering[f->ordering];
}

/*
 * Assembles the query of kind for f and who: SELECT columns (a page) or
 * count(*), FROM events, then the part of the events who may see that kind
 * reads (the visibility rule, events/rules.h): a page all of them, the
 * cached count the public ones, a user's own part of the count the private
 * ones; then every filter of f.
 */
static int
build(struct query *q, const struct event_filter *f, const struct principal *who,
      enum event_query_kind kind, const char *columns, arena_t *arena)
{
  enum events_visible_part part = kind == EVENT_QUERY_COUNT ? EVENTS_VISIBLE_PUBLIC
                                : kind == EVENT_QUERY_COUNT_PRIVATE ? EVENTS_VISIBLE_PRIVATE
                                : EVENTS_VISIBLE_ALL;
  int visible_params;
  const char *visible = events_visible_sql(who, &part, &visible_params);
  bool sqlite = on_sqlite();
  bool failed = false;
  const char *fts = sqlite ? fts_query(f, arena, &failed) : NULL;
  if (failed)
    return EVENTAPI_ENOMEM;
  add(q, "SELECT ");
  add(q, kind == EVENT_QUERY_PAGE ? columns : "count(*)");
  /* The trigram index's matches drive: each is looked up in events. */
  add(q, fts ? " FROM events_fts CROSS JOIN events" : " FROM events");
  if (sqlite && part == EVENTS_VISIBLE_PUBLIC) {
    add(q, " INDEXED BY ");
    add(q, public_index(f, fts != NULL, kind));
  }
  if (fts)
    add(q, " ON events.id = events_fts.rowid");
  add(q, " WHERE ");
  add(q, visible);
  for (int i = 0; i < visible_params; i++)
    add_int(q, "", who->id);
  if (fts)
    add_text(q, " AND events_fts MATCH ?", fts);
  for (int i = 0; i < f->nterms; i++)
    if (!fts || !trigram_term(&f->terms[i]))
      add_text(q, " AND events.search_text LIKE ? ESCAPE '\\'", f->terms[i].pattern);
  if (f->location.pattern && (!fts || !trigram_term(&f->location)))
    add_text(q, " AND events.location_key LIKE ? ESCAPE '\\'", f->location.pattern);
  if (f->category_id)
    add_int(q, " AND category_id = ?", f->category_id);
  if (f->category_slug)
    add_text(q, " AND category_id = (SELECT id FROM categories WHERE slug = ?)", f->category_slug);
  /* One lower bound, the later one: an index range starts there. */
  if (f->upcoming || f->has_start)
    add_int(q, " AND date_time >= ?", !f->has_start ? f->now
                                      : !f->upcoming ? f->start
                                      : f->start > f->now ? f->start : f->now);
  if (f->has_end)
    add_int(q, " AND date_time <= ?", f->end);
  if (f->organizer)
    add_int(q, " AND organizer_id = ?", f->organizer);
  if (f->visibility >= 0)
    add_text(q, " AND visibility = ?", events_visibility_name((enum visibility)f->visibility));
  if (kind == EVENT_QUERY_PAGE) {
    static const char *const columns_of[] = {
      [ORDER_DATE_TIME] = "date_time", [ORDER_CREATED_AT] = "created_at",
      [ORDER_TITLE] = "title", [ORDER_CAPACITY] = "capacity", [ORDER_ID] = "id",
    };
    const char *dir = f->descending ? " DESC" : "";
    add(q, " ORDER BY ");
    add(q, columns_of[f->ordering]);
    add(q, dir);
    if (f->ordering != ORDER_ID) {
      add(q, ", id");
      add(q, dir);
    }
    add_int(q, " LIMIT ?", f->limit);
    add_int(q, " OFFSET ?", f->offset);
  }
  return q->len < sizeof q->sql - 1 ? 0 : EVENTAPI_EINTERNAL;
}

static db_stmt_t *
prepare_bound(db_t *db, const struct query *q)
{
  db_stmt_t *st = db_prepare_assembled(db, q->sql);
  for (int i = 0; st && i < q->nparams; i++) {
    if (q->params[i].text)
      db_bind_text(st, i + 1, q->params[i].string);
    else
      db_bind_int(st, i + 1, q->params[i].number);
  }
  return st;
}

int
events_filter_sql(const struct event_filter *f, const struct principal *who,
                  enum event_query_kind kind, arena_t *arena, struct event_query_sql *out)
{
  struct query q = {0};
  int rc = build(&q, f, who, kind, "id, version", arena);
  if (rc < 0)
    return rc;
  memset(out, 0, sizeof *out);
  if ((out->sql = arena_strdup(arena, q.sql)) == NULL)
    return EVENTAPI_ENOMEM;
  out->nparams = q.nparams;
  for (int i = 0; i < q.nparams; i++) {
    out->texts[i] = q.params[i].text ? q.params[i].string : NULL;
    out->numbers[i] = q.params[i].number;
  }
  return 0;
}

/* ---- counts, cached by the catalogue's version ---- */

static void matches_clear(void);

#define COUNT_SLOTS 4096        /* direct-mapped: a new key takes its slot */
#define COUNT_LOCKS 64
#define COUNT_KEY_MAX 2048      /* longer filters are counted every time */

struct count_entry {
  uint64_t hash, version;
  int64_t count, valid_until;
  char *key;                    /* malloc'd; NULL: free slot */
};

static struct count_entry count_slots[COUNT_SLOTS];
static pthread_mutex_t count_locks[COUNT_LOCKS];
static pthread_once_t count_once = PTHREAD_ONCE_INIT;

static void
count_init(void)
{
  for (int i = 0; i < COUNT_LOCKS; i++)
    pthread_mutex_init(&count_locks[i], NULL);
}

void
events_filter_counts_clear(void)
{
  pthread_once(&count_once, count_init);
  for (size_t i = 0; i < COUNT_SLOTS; i++) {
    pthread_mutex_lock(&count_locks[i % COUNT_LOCKS]);
    free(count_slots[i].key);
    count_slots[i] = (struct count_entry){0};
    pthread_mutex_unlock(&count_locks[i % COUNT_LOCKS]);
  }
  matches_clear();
}

static void
key_part(struct strbuf *key, char tag, const char *value)
{
  char head[32];
  snprintf(head, sizeof head, "%c%zu:", tag, strlen(value));
  strbuf_puts(key, head);
  strbuf_puts(key, value);
}

static void
key_int(struct strbuf *key, char tag, int64_t value)
{
  char text[32];
  snprintf(text, sizeof text, "%lld", (long long)value);
  key_part(key, tag, text);
}

/* What a count depends on: the scope and every filter (the upcoming one
 * without its time, which valid_until covers), not the page or the order. */
static void
count_key(struct strbuf *key, const struct event_filter *f, bool all)
{
  key_part(key, 'S', all ? "all" : "public");
  key_int(key, 'c', f->category_id);
  if (f->category_slug)
    key_part(key, 'g', f->category_slug);
  for (int i = 0; i < f->nterms; i++)
    key_part(key, 't', f->terms[i].text);
  if (f->location.pattern)
    key_part(key, 'l', f->location.text);
  if (f->has_start)
    key_int(key, 'a', f->start);
  if (f->has_end)
    key_int(key, 'b', f->end);
  key_int(key, 'u', f->upcoming);
  key_int(key, 'o', f->organizer);
  key_int(key, 'v', f->visibility);
}

static uint64_t
hash_bytes(const char *data, size_t len)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)data[i]) * 1099511628211ull;
  return h;
}

static bool
count_lookup(const struct strbuf *key, uint64_t hash, uint64_t version, int64_t now,
             int64_t *count, int64_t *valid_until)
{
  size_t slot = hash % COUNT_SLOTS;
  bool hit = false;
  pthread_mutex_lock(&count_locks[slot % COUNT_LOCKS]);
  struct count_entry *e = &count_slots[slot];
  if (e->key && e->hash == hash && e->version == version && now <= e->valid_until &&
      strcmp(e->key, key->data) == 0) {
    *count = e->count;
    *valid_until = e->valid_until;
    hit = true;
  }
  pthread_mutex_unlock(&count_locks[slot % COUNT_LOCKS]);
  return hit;
}

static void
count_store(const struct strbuf *key, uint64_t hash, uint64_t version, int64_t count,
            int64_t valid_until)
{
  char *copy = strdup(key->data);
  if (copy == NULL)
    return;
  size_t slot = hash % COUNT_SLOTS;
  pthread_mutex_lock(&count_locks[slot % COUNT_LOCKS]);
  struct count_entry *e = &count_slots[slot];
  free(e->key);
  *e = (struct count_entry){hash, version, count, valid_until, copy};
  pthread_mutex_unlock(&count_locks[slot % COUNT_LOCKS]);
}

static int
run_count(db_t *db, const struct event_filter *f, const struct principal *who,
          enum event_query_kind kind, arena_t *arena, int64_t *total)
{
  struct query q = {0};
  int rc = build(&q, f, who, kind, NULL, arena);
  if (rc < 0)
    return rc;
  db_stmt_t *st = prepare_bound(db, &q);
  if (st == NULL)
    return EVENTAPI_EDB;
  rc = db_step(st);
  if (rc == DB_ROW)
    *total = db_column_int(st, 0);
  db_reset(st);
  return rc < 0 ? rc : 0;
}

/*
 * When the next event starts (at or after now): until then the events
 * that are upcoming stay the same. INT64_MAX when none is ahead.
 */
static int
next_start(db_t *db, int64_t now, int64_t *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT date_time FROM events WHERE date_time >= ?"
                                 " ORDER BY date_time LIMIT 1");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, now);
  int rc = db_step(st);
  *out = rc == DB_ROW ? db_column_int(st, 0) : INT64_MAX;
  db_reset(st);
  return rc < 0 ? rc : 0;
}

/*
 * The number of events who may see that match f, and until when it holds.
 * The part that is the same for everyone in who's class (the public events;
 * every event for an admin) is cached by the catalogue's version; a user's
 * own private events are counted each time, since registrations (which do
 * not move the catalogue's version) change them.
 */
static int
count_matches(db_t *db, const struct event_filter *f, const struct principal *who,
              uint64_t version, arena_t *arena, int64_t *total, int64_t *valid_until)
{
  pthread_once(&count_once, count_init);
  /* The cached part: the public events, or every event for an admin. */
  enum events_visible_part cached = EVENTS_VISIBLE_PUBLIC;
  int nparams;
  events_visible_sql(who, &cached, &nparams);
  struct strbuf key = {0};
  count_key(&key, f, cached == EVENTS_VISIBLE_ALL);
  bool cacheable = events_cache_enabled() && !key.failed && key.len <= COUNT_KEY_MAX;
  uint64_t hash = cacheable ? hash_bytes(key.data, key.len) : 0;
  int rc = 0;
  if (!cacheable || !count_lookup(&key, hash, version, f->now, total, valid_until)) {
    rc = run_count(db, f, who, EVENT_QUERY_COUNT, arena, total);
    *valid_until = INT64_MAX;
    if (rc == 0 && f->upcoming)
      rc = next_start(db, f->now, valid_until);
    if (rc == 0 && cacheable)
      count_store(&key, hash, version, *total, *valid_until);
  }
  strbuf_free(&key);
  if (rc == 0 && who && cached == EVENTS_VISIBLE_PUBLIC && f->visibility != VISIBILITY_PUBLIC) {
    int64_t own = 0;
    rc = run_count(db, f, who, EVENT_QUERY_COUNT_PRIVATE, arena, &own);
    *total += own;
  }
  return rc;
}

/* ---- the ordered matches of a substring filter, cached by the catalogue's version ---- */

/*
 * A substring filter (`search`, `location`) finds its matches through a
 * trigram index, which cannot give them in the list's order: each page
 * would find and sort every match again, and a city that one event in
 * forty names is thousands of them. So the matches such a filter gives the
 * public (or, for admins, every event), in the list's order, are kept as
 * (id, version) pairs beside the counts, under the catalogue's version and
 * until the next event starts, as counts are: a page is a slice of them,
 * and a change to the catalogue makes them old. A filter matching more
 * than MATCHES_MAX events is paged by the database each time (and is
 * remembered as such). MATCHES_BUDGET bounds the memory of all lists.
 */

#define MATCHES_SLOTS 256          /* direct-mapped, as counts are */
#define MATCHES_MAX 8192
#define MATCHES_BUDGET (8u << 20)  /* bytes of (id, version) pairs */

struct matches {
  uint64_t hash, version;
  int64_t valid_until;
  char *key;                       /* malloc'd; NULL: free slot */
  bool too_many;                   /* paged by the database instead */
  size_t n;
  int64_t *pairs;                  /* malloc'd: n (id, version) pairs */
};

static struct matches matches_slots[MATCHES_SLOTS];
static size_t matches_bytes;       /* under matches_lock */
static pthread_mutex_t matches_lock = PTHREAD_MUTEX_INITIALIZER;

static void
matches_free(struct matches *m)
{
  matches_bytes -= m->n * 2 * sizeof *m->pairs;
  free(m->key);
  free(m->pairs);
  *m = (struct matches){0};
}

static void
matches_clear(void)
{
  pthread_mutex_lock(&matches_lock);
  for (size_t i = 0; i < MATCHES_SLOTS; i++)
    if (matches_slots[i].key)
      matches_free(&matches_slots[i]);
  pthread_mutex_unlock(&matches_lock);
}

/* Whether the page who reads of f is the part of the events that lists are
 * kept for: the public events for anyone not signed in (or asking for the
 * public ones only), every event for an admin. */
static bool
matches_apply(const struct event_filter *f, const struct principal *who)
{
  if (f->nterms == 0 && f->location.pattern == NULL)
    return false;
  enum events_visible_part part = EVENTS_VISIBLE_ALL;
  int nparams;
  events_visible_sql(who, &part, &nparams);
  return nparams == 0 || f->visibility == VISIBILITY_PUBLIC;
}

/* The page of f from list, into ids and versions. */
static void
matches_slice(const int64_t *pairs, size_t n, const struct event_filter *f, int64_t *ids,
              int64_t *versions, size_t *count)
{
  for (size_t i = (size_t)f->offset; i < n && *count < (size_t)f->limit; i++) {
    ids[*count] = pairs[2 * i];
    versions[(*count)++] = pairs[2 * i + 1];
  }
}

/* 1: the page of f came from a kept list; -1: f is known to have too many
 * matches to keep; 0: no list kept. */
static int
matches_lookup(const struct strbuf *key, uint64_t hash, uint64_t version,
               const struct event_filter *f, int64_t *ids, int64_t *versions, size_t *count,
               int64_t *total, int64_t *valid_until)
{
  struct matches *m = &matches_slots[hash % MATCHES_SLOTS];
  int found = 0;
  pthread_mutex_lock(&matches_lock);
  if (m->key && m->hash == hash && m->version == version && f->now <= m->valid_until &&
      strcmp(m->key, key->data) == 0) {
    found = m->too_many ? -1 : 1;
    if (found == 1) {
      *total = (int64_t)m->n;
      *valid_until = m->valid_until;
      matches_slice(m->pairs, m->n, f, ids, versions, count);
    }
  }
  pthread_mutex_unlock(&matches_lock);
  return found;
}

static void
matches_store(const struct strbuf *key, uint64_t hash, uint64_t version, int64_t valid_until,
              int64_t *pairs, size_t n, bool too_many)
{
  char *copy = strdup(key->data);
  pthread_mutex_lock(&matches_lock);
  struct matches *m = &matches_slots[hash % MATCHES_SLOTS];
  if (m->key)
    matches_free(m);
  size_t bytes = n * 2 * sizeof *pairs;
  if (copy && matches_bytes + bytes <= MATCHES_BUDGET) {
    *m = (struct matches){hash, version, valid_until, copy, too_many, n, pairs};
    matches_bytes += bytes;
    copy = NULL;
    pairs = NULL;
  }
  pthread_mutex_unlock(&matches_lock);
  free(copy);
  free(pairs);
}

/*
 * Every match of f in order, from the database, kept for the next page;
 * then the page. 0 with *found false when there are too many to keep.
 */
static int
matches_fill(db_t *db, const struct event_filter *f, const struct principal *who,
             const struct strbuf *key, uint64_t hash, uint64_t version, arena_t *arena,
             int64_t *ids, int64_t *versions, size_t *count, int64_t *total,
             int64_t *valid_until, bool *found)
{
  struct event_filter all = *f;
  all.offset = 0;
  all.limit = MATCHES_MAX + 1;
  struct query q = {0};
  int rc = build(&q, &all, who, EVENT_QUERY_PAGE, "id, version", arena);
  if (rc < 0)
    return rc;
  db_stmt_t *st = prepare_bound(db, &q);
  if (st == NULL)
    return EVENTAPI_EDB;
  size_t n = 0, cap = 64;
  int64_t *pairs = malloc(cap * 2 * sizeof *pairs);
  rc = pairs ? 0 : EVENTAPI_ENOMEM;
  while (rc == 0 && (rc = db_step(st)) == DB_ROW) {
    if (n == cap) {
      int64_t *more = realloc(pairs, cap * 4 * sizeof *pairs);
      if (more == NULL) {
        rc = EVENTAPI_ENOMEM;
        break;
      }
      pairs = more;
      cap *= 2;
    }
    pairs[2 * n] = db_column_int(st, 0);
    pairs[2 * n + 1] = db_column_int(st, 1);
    n++;
    rc = 0;
  }
  db_reset(st);
  *valid_until = INT64_MAX;
  if (rc >= 0 && f->upcoming)
    rc = next_start(db, f->now, valid_until);
  if (rc < 0) {
    free(pairs);
    return rc;
  }
  *found = n <= MATCHES_MAX;
  if (*found) {
    *total = (int64_t)n;
    matches_slice(pairs, n, f, ids, versions, count);
  } else {
    free(pairs);
    pairs = NULL;
    n = 0;
  }
  matches_store(key, hash, version, *valid_until, pairs, n, !*found);
  return 0;
}

/* The page of f from a kept list of its matches, made if need be. 0 with
 * *found false when f is paged by the database. */
static int
matches_page(db_t *db, const struct event_filter *f, const struct principal *who,
             uint64_t version, arena_t *arena, int64_t *ids, int64_t *versions, size_t *count,
             int64_t *total, int64_t *valid_until, bool *found)
{
  *found = false;
  if (!events_cache_enabled() || !matches_apply(f, who))
    return 0;
  enum events_visible_part cached = EVENTS_VISIBLE_PUBLIC;
  int nparams;
  events_visible_sql(who, &cached, &nparams);
  struct strbuf key = {0};
  count_key(&key, f, cached == EVENTS_VISIBLE_ALL);
  key_int(&key, 'O', (int64_t)f->ordering * 2 + f->descending);
  int rc = 0;
  if (!key.failed && key.len <= COUNT_KEY_MAX) {
    uint64_t hash = hash_bytes(key.data, key.len);
    int hit = matches_lookup(&key, hash, version, f, ids, versions, count, total, valid_until);
    if (hit == 1)
      *found = true;
    else if (hit == 0)
      rc = matches_fill(db, f, who, &key, hash, version, arena, ids, versions, count, total,
                        valid_until, found);
  }
  strbuf_free(&key);
  return rc;
}

int
events_list_versions(db_t *db, const struct event_filter *f, const struct principal *who,
                     uint64_t version, arena_t *arena, int64_t **ids, int64_t **versions,
                     size_t *count, int64_t *total, int64_t *valid_until)
{
  *count = 0;
  size_t cap = (size_t)f->limit;
  *ids = arena_alloc(arena, cap * sizeof **ids);
  *versions = arena_alloc(arena, cap * sizeof **versions);
  if (*ids == NULL || *versions == NULL)
    return EVENTAPI_ENOMEM;
  bool found;
  int rc = matches_page(db, f, who, version, arena, *ids, *versions, count, total, valid_until,
                        &found);
  if (rc < 0 || found)
    return rc;
  rc = count_matches(db, f, who, version, arena, total, valid_until);
  if (rc < 0 || *total <= f->offset)
    return rc;
  struct query q = {0};
  if ((rc = build(&q, f, who, EVENT_QUERY_PAGE, "id, version", arena)) < 0)
    return rc;
  db_stmt_t *st = prepare_bound(db, &q);
  if (st == NULL)
    return EVENTAPI_EDB;
  while (*count < cap && (rc = db_step(st)) == DB_ROW) {
    (*ids)[*count] = db_column_int(st, 0);
    (*versions)[(*count)++] = db_column_int(st, 1);
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

static int
list_page(db_t *db, const struct event_filter *f, const struct principal *who,
          uint64_t version, arena_t *arena, struct event **out, size_t *count, int64_t *total)
{
  int64_t valid_until;
  int rc = count_matches(db, f, who, version, arena, total, &valid_until);
  if (rc < 0)
    return rc;
  *out = NULL;
  *count = 0;
  if (*total <= f->offset)
    return 0;
  struct query q = {0};
  if ((rc = build(&q, f, who, EVENT_QUERY_PAGE, EVENTS_COLUMNS, arena)) < 0)
    return rc;
  db_stmt_t *st = prepare_bound(db, &q);
  if (st == NULL)
    return EVENTAPI_EDB;
  int64_t expected = *total - f->offset < f->limit ? *total - f->offset : f->limit;
  struct event *list = arena_calloc(arena, (size_t)expected + 1, sizeof *list);
  size_t n = 0;
  if (list == NULL)
    rc = EVENTAPI_ENOMEM;
  while (list && n <= (size_t)expected && (rc = db_step(st)) == DB_ROW)
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
  uint64_t version;
  int rc = db_catalogue_version(db, &version);
  if (rc < 0)
    return rc;
  /* One read transaction: the count and the page see the same snapshot. */
  if ((rc = db_begin(db, DB_READ)) < 0)
    return rc;
  rc = list_page(db, f, who, version, arena, out, count, total);
  if (rc < 0)
    db_rollback(db);
  else
    rc = db_commit(db);
  return rc;
}

int
events_get_row(db_t *db, int64_t id, arena_t *arena, struct event *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " EVENTS_COLUMNS " FROM events WHERE id = ?");
  if (st)
    db_bind_int(st, 1, id);
  return db_row(st, events_read_row, arena, out);
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
