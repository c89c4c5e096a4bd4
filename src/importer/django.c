/*
 * django.c - `eventapi import-django` (see django.h).
 *
 * First everything is read from the source into memory and checked; then
 * one unit of work writes it with its ids; then the report is printed.
 */
#include "importer/django.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/decimal.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "events/image_format.h"
#include "events/models.h"
#include "http/media.h"

#define IMAGE_MAX (16 * 1024 * 1024) /* an original's image larger than this is not copied */

struct o_user {
  int64_t id, date_joined;
  const char *username, *password, *email, *first_name, *last_name, *role;
  bool superuser, staff, active;
  char *username_key, *email_key; /* as stored here (malloc'd) */
};

struct o_category {
  int64_t id;
  const char *name, *slug;
  char *name_key;
};

struct o_event {
  int64_t id, date_time, capacity, created_at, organizer_id, category_id;
  const char *title, *description, *location, *visibility, *image;
  char image_name[MEDIA_NAME_SIZE]; /* the copy under MEDIA_ROOT, or "" */
  int64_t confirmed;
};

struct o_session {
  int64_t id, event_id, start_time, end_time;
  const char *title, *speaker;
};

struct o_ticket_type {
  int64_t id, event_id, price_cents, quantity, confirmed;
  const char *name;
};

struct o_registration {
  int64_t id, user_id, event_id, ticket_type_id, registered_at;
  bool waitlisted;
};

struct o_ticket {
  int64_t id, registration_id, issued_at;
  bool checked_in;
  char code[37];
};

/* What the original holds, as read. */
struct original {
  arena_t arena;
  bool postgres;
  struct o_user *users;
  size_t nusers;
  struct o_category *categories;
  size_t ncategories;
  struct o_event *events;
  size_t nevents;
  struct o_session *sessions;
  size_t nsessions;
  struct o_ticket_type *types;
  size_t ntypes;
  struct o_registration *registrations;
  size_t nregistrations;
  struct o_ticket *tickets;
  size_t ntickets;
  struct strbuf reported;  /* imported as it is: one line each */
  struct strbuf refused;   /* the schema cannot hold it: one line each */
  size_t nreported, nrefused;
};

static void
say(struct strbuf *b, size_t *count, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(struct strbuf *b, size_t *count, const char *fmt, ...)
{
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  strbuf_puts(b, "  - ");
  strbuf_puts(b, line);
  strbuf_puts(b, "\n");
  (*count)++;
}

/* ---- reading -------------------------------------------------------------- */

/* A time column as text: SQLite's Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]"
 * in UTC; PostgreSQL's timestamptz is asked for in that form. */
static const char *
time_column(struct original *o, const char *column)
{
  if (!o->postgres)
    return column;
  return arena_printf(&o->arena, "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
                      column);
}

/* A boolean column as 0 or 1 on either database. */
static const char *
bool_column(struct original *o, const char *column)
{
  return arena_printf(&o->arena, "CASE WHEN %s THEN 1 ELSE 0 END", column);
}

bool
importer_django_time(const char *text, int64_t *us)
{
  char iso[64];
  size_t len = strlen(text);
  if (len < 19 || len > 40)
    return false;
  memcpy(iso, text, len + 1);
  if (iso[10] == ' ')
    iso[10] = 'T';
  /* No zone: UTC, as Django keeps it with USE_TZ. */
  if (strchr(iso + 19, '+') == NULL && strchr(iso + 19, 'Z') == NULL &&
      strchr(iso + 19, '-') == NULL)
    strcat(iso, "Z");
  return time_parse_iso(iso, us) == 0;
}

bool
importer_django_uuid(const char *text, char out[37])
{
  char hex[33];
  size_t n = 0;
  for (const char *p = text; *p; p++) {
    if (*p == '-')
      continue;
    if (!isxdigit((unsigned char)*p) || n == 32)
      return false;
    hex[n++] = (char)tolower((unsigned char)*p);
  }
  if (n != 32)
    return false;
  snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
  return true;
}

/* Runs sql on src; for each row, read(st, o, row index) fills the row.
 * *rows and *count get the array. */
typedef bool (*row_reader)(db_stmt_t *st, struct original *o, void *row);

static int
read_table(db_t *src, struct original *o, const char *table, const char *sql, size_t size,
           row_reader read, void **rows, size_t *count, FILE *err)
{
  db_stmt_t *st = db_prepare(src, sql);
  if (st == NULL) {
    fprintf(err, "eventapi: import-django: cannot read %s (is this the original's database?)\n",
            table);
    return EVENTAPI_EDB;
  }
  size_t cap = 64, n = 0;
  char *all = malloc(cap * size);
  int rc = EVENTAPI_ENOMEM;
  while (all && (rc = db_step(st)) == DB_ROW) {
    if (n == cap) {
      char *grown = realloc(all, 2 * cap * size);
      if (grown == NULL)
        break;
      all = grown, cap *= 2;
    }
    memset(all + n * size, 0, size);
    if (!read(st, o, all + n * size)) {
      fprintf(err, "eventapi: import-django: a row of %s cannot be read (row %zu)\n", table,
              n + 1);
      db_reset(st);
      free(all);
      return EVENTAPI_EINVAL;
    }
    n++;
  }
  db_reset(st);
  if (all == NULL || rc != DB_DONE) {
    /* Out of memory (rc still DB_ROW when growing failed), or the database's error. */
    int failed = all != NULL && rc < 0 ? rc : EVENTAPI_ENOMEM;
    free(all);
    fprintf(err, "eventapi: import-django: reading %s: %s\n", table, eventapi_strerror(failed));
    return failed;
  }
  /* Kept in the arena: freed with the rest. */
  void *kept = arena_alloc(&o->arena, n ? n * size : 1);
  if (kept && n)
    memcpy(kept, all, n * size);
  free(all);
  if (kept == NULL)
    return EVENTAPI_ENOMEM;
  *rows = kept;
  *count = n;
  return 0;
}

static const char *
text(db_stmt_t *st, struct original *o, int col, bool *failed)
{
  return db_column_text_dup(st, col, &o->arena, failed);
}

static bool
read_user(db_stmt_t *st, struct original *o, void *row)
{
  struct o_user *u = row;
  bool failed = false;
  u->id = db_column_int(st, 0);
  u->username = text(st, o, 1, &failed);
  u->password = text(st, o, 2, &failed);
  u->email = text(st, o, 3, &failed);
  u->first_name = text(st, o, 4, &failed);
  u->last_name = text(st, o, 5, &failed);
  u->superuser = db_column_int(st, 6) != 0;
  u->staff = db_column_int(st, 7) != 0;
  u->active = db_column_int(st, 8) != 0;
  u->role = text(st, o, 10, &failed);
  return !failed && importer_django_time(db_column_text(st, 9), &u->date_joined);
}

static bool
read_category(db_stmt_t *st, struct original *o, void *row)
{
  struct o_category *c = row;
  bool failed = false;
  c->id = db_column_int(st, 0);
  c->name = text(st, o, 1, &failed);
  c->slug = text(st, o, 2, &failed);
  return !failed;
}

static bool
read_event(db_stmt_t *st, struct original *o, void *row)
{
  struct o_event *e = row;
  bool failed = false;
  e->id = db_column_int(st, 0);
  e->title = text(st, o, 1, &failed);
  e->description = text(st, o, 2, &failed);
  e->location = text(st, o, 4, &failed);
  e->capacity = db_column_int(st, 5);
  e->organizer_id = db_column_int(st, 7);
  e->visibility = text(st, o, 8, &failed);
  e->image = db_column_is_null(st, 9) ? "" : text(st, o, 9, &failed);
  e->category_id = db_column_int_or(st, 10, 0);
  return !failed && e->capacity >= 0 &&
         importer_django_time(db_column_text(st, 3), &e->date_time) &&
         importer_django_time(db_column_text(st, 6), &e->created_at);
}

static bool
read_session(db_stmt_t *st, struct original *o, void *row)
{
  struct o_session *s = row;
  bool failed = false;
  s->id = db_column_int(st, 0);
  s->event_id = db_column_int(st, 1);
  s->title = text(st, o, 2, &failed);
  s->speaker = text(st, o, 3, &failed); /* "" for none */
  return !failed && importer_django_time(db_column_text(st, 4), &s->start_time) &&
         importer_django_time(db_column_text(st, 5), &s->end_time);
}

static bool
read_ticket_type(db_stmt_t *st, struct original *o, void *row)
{
  struct o_ticket_type *t = row;
  bool failed = false;
  t->id = db_column_int(st, 0);
  t->event_id = db_column_int(st, 1);
  t->name = text(st, o, 2, &failed);
  t->quantity = db_column_int(st, 4);
  /* decimal(8,2): "49.00" (PostgreSQL), 49 or 199.5 (SQLite's NUMERIC). */
  char message[DECIMAL_MESSAGE_MAX];
  const struct decimal_rules rules = {.max_digits = 8, .decimal_places = 2};
  return !failed && t->quantity >= 0 &&
         decimal_parse(db_column_text(st, 3), &rules, &t->price_cents, message) == 0 &&
         t->price_cents >= 0;
}

static bool
read_registration(db_stmt_t *st, struct original *o, void *row)
{
  (void)o;
  struct o_registration *r = row;
  r->id = db_column_int(st, 0);
  r->user_id = db_column_int(st, 1);
  r->event_id = db_column_int(st, 2);
  r->ticket_type_id = db_column_int_or(st, 3, 0);
  r->waitlisted = db_column_int(st, 5) != 0;
  return importer_django_time(db_column_text(st, 4), &r->registered_at);
}

static bool
read_ticket(db_stmt_t *st, struct original *o, void *row)
{
  (void)o;
  struct o_ticket *t = row;
  t->id = db_column_int(st, 0);
  t->registration_id = db_column_int(st, 1);
  t->checked_in = db_column_int(st, 4) != 0;
  return importer_django_uuid(db_column_text(st, 2), t->code) &&
         importer_django_time(db_column_text(st, 3), &t->issued_at);
}

static int
read_original(db_t *src, struct original *o, FILE *err)
{
  o->postgres = strcmp(db_backend_of(src), "postgres") == 0;
  int rc = read_table(src, o, "users_user",
      arena_printf(&o->arena,
                   "SELECT id, username, password, email, first_name, last_name, %s, %s, %s, %s,"
                   " role FROM users_user ORDER BY id",
                   bool_column(o, "is_superuser"), bool_column(o, "is_staff"),
                   bool_column(o, "is_active"), time_column(o, "date_joined")),
      sizeof *o->users, read_user, (void **)&o->users, &o->nusers, err);
  if (rc == 0)
    rc = read_table(src, o, "events_category",
                    "SELECT id, name, slug FROM events_category ORDER BY id",
                    sizeof *o->categories, read_category, (void **)&o->categories,
                    &o->ncategories, err);
  if (rc == 0)
    rc = read_table(src, o, "events_event",
        arena_printf(&o->arena,
                     "SELECT id, title, description, %s, location, capacity, %s, organizer_id,"
                     " visibility, image, category_id FROM events_event ORDER BY id",
                     time_column(o, "date_time"), time_column(o, "created_at")),
        sizeof *o->events, read_event, (void **)&o->events, &o->nevents, err);
  if (rc == 0)
    rc = read_table(src, o, "events_session",
        arena_printf(&o->arena,
                     "SELECT s.id, s.event_id, s.title, COALESCE(p.name, ''), %s, %s"
                     " FROM events_session s LEFT JOIN events_speaker p ON p.id = s.speaker_id"
                     " ORDER BY s.id",
                     time_column(o, "s.start_time"), time_column(o, "s.end_time")),
        sizeof *o->sessions, read_session, (void **)&o->sessions, &o->nsessions, err);
  if (rc == 0)
    rc = read_table(src, o, "events_tickettype",
                    "SELECT id, event_id, name, CAST(price AS TEXT), quantity"
                    " FROM events_tickettype ORDER BY id",
                    sizeof *o->types, read_ticket_type, (void **)&o->types, &o->ntypes, err);
  if (rc == 0)
    rc = read_table(src, o, "registrations_registration",
        arena_printf(&o->arena,
                     "SELECT id, user_id, event_id, ticket_type_id, %s, %s"
                     " FROM registrations_registration ORDER BY id",
                     time_column(o, "registered_at"), bool_column(o, "is_waitlisted")),
        sizeof *o->registrations, read_registration, (void **)&o->registrations,
        &o->nregistrations, err);
  if (rc == 0)
    rc = read_table(src, o, "ticket_ticket",
        arena_printf(&o->arena,
                     "SELECT id, registration_id, CAST(code AS TEXT), %s, %s"
                     " FROM ticket_ticket ORDER BY id",
                     time_column(o, "issued_at"), bool_column(o, "is_checked_in")),
        sizeof *o->tickets, read_ticket, (void **)&o->tickets, &o->ntickets, err);
  return rc;
}

/* ---- checking -------------------------------------------------------------- */

static struct o_event *
event_of(struct original *o, int64_t id)
{
  for (size_t i = 0; i < o->nevents; i++)
    if (o->events[i].id == id)
      return &o->events[i];
  return NULL;
}

static struct o_ticket_type *
type_of(struct original *o, int64_t id)
{
  for (size_t i = 0; i < o->ntypes; i++)
    if (o->types[i].id == id)
      return &o->types[i];
  return NULL;
}

/* A key no folded name or email can equal ('#' is in neither), unique by id. */
static char *
placeholder(const char *why, int64_t id)
{
  char text[64];
  snprintf(text, sizeof text, "#%s-%lld", why, (long long)id);
  return strdup(text);
}

/* The users' keys, and what in them eventapi would refuse. */
static int
check_users(struct original *o)
{
  for (size_t i = 0; i < o->nusers; i++) {
    struct o_user *u = &o->users[i];
    u->username_key = text_fold(u->username);
    if (u->username_key == NULL)
      return EVENTAPI_ENOMEM;
    for (size_t j = 0; j < i; j++) {
      if (strcmp(o->users[j].username_key, u->username_key) == 0) {
        say(&o->reported, &o->nreported,
            "user %lld \"%s\" differs from user %lld \"%s\" only in case: each logs in with"
            " the name exactly as written",
            (long long)u->id, u->username, (long long)o->users[j].id, o->users[j].username);
        free(u->username_key);
        if ((u->username_key = placeholder("same-name", u->id)) == NULL)
          return EVENTAPI_ENOMEM;
        break;
      }
    }
    if (u->email[0] == '\0') {
      say(&o->reported, &o->nreported, "user %lld \"%s\" has no email", (long long)u->id,
          u->username);
      u->email_key = placeholder("no-email", u->id);
    } else {
      u->email_key = text_fold(u->email);
      for (size_t j = 0; u->email_key && j < i; j++) {
        if (strcmp(o->users[j].email_key, u->email_key) == 0) {
          say(&o->reported, &o->nreported, "user %lld \"%s\" has the email of user %lld: %s",
              (long long)u->id, u->username, (long long)o->users[j].id, u->email);
          free(u->email_key);
          u->email_key = placeholder("same-email", u->id);
          break;
        }
      }
    }
    if (u->email_key == NULL)
      return EVENTAPI_ENOMEM;
    if (u->password[0] == '!' || u->password[0] == '\0')
      say(&o->reported, &o->nreported, "user %lld \"%s\" has no usable password",
          (long long)u->id, u->username);
    if (!u->superuser && strcmp(u->role, "organizer") != 0 && strcmp(u->role, "attendee") != 0) {
      say(&o->reported, &o->nreported, "user %lld \"%s\" had the role \"%s\": an attendee here",
          (long long)u->id, u->username, u->role);
      u->role = "attendee";
    }
    if (u->staff && !u->superuser)
      say(&o->reported, &o->nreported,
          "user %lld \"%s\" was staff, not a superuser: staff means nothing here",
          (long long)u->id, u->username);
  }
  return 0;
}

static int
check_categories(struct original *o)
{
  for (size_t i = 0; i < o->ncategories; i++) {
    struct o_category *c = &o->categories[i];
    if ((c->name_key = text_fold(c->name)) == NULL)
      return EVENTAPI_ENOMEM;
    for (size_t j = 0; j < i; j++) {
      if (strcmp(o->categories[j].name_key, c->name_key) == 0) {
        say(&o->reported, &o->nreported, "category %lld \"%s\" has the name of category %lld",
            (long long)c->id, c->name, (long long)o->categories[j].id);
        free(c->name_key);
        if ((c->name_key = placeholder("same-name", c->id)) == NULL)
          return EVENTAPI_ENOMEM;
        break;
      }
    }
  }
  return 0;
}

/* Counters from the rows; what eventapi's rules or schema refuse. */
static void
check_events(struct original *o)
{
  for (size_t i = 0; i < o->nevents; i++) {
    struct o_event *e = &o->events[i];
    if (strcmp(e->visibility, "public") != 0 && strcmp(e->visibility, "private") != 0) {
      say(&o->reported, &o->nreported, "event %lld had the visibility \"%s\": private here",
          (long long)e->id, e->visibility);
      e->visibility = "private";
    }
  }
  for (size_t i = 0; i < o->nsessions; i++) {
    const struct o_session *s = &o->sessions[i];
    if (s->start_time >= s->end_time)
      say(&o->refused, &o->nrefused, "session %lld of event %lld does not end after it starts",
          (long long)s->id, (long long)s->event_id);
  }
  for (size_t i = 0; i < o->ntypes; i++)
    for (size_t j = 0; j < i; j++)
      if (o->types[j].event_id == o->types[i].event_id &&
          strcmp(o->types[j].name, o->types[i].name) == 0)
        say(&o->refused, &o->nrefused, "ticket types %lld and %lld of event %lld are both \"%s\"",
            (long long)o->types[j].id, (long long)o->types[i].id,
            (long long)o->types[i].event_id, o->types[i].name);
  for (size_t i = 0; i < o->nregistrations; i++) {
    const struct o_registration *r = &o->registrations[i];
    for (size_t j = 0; j < i; j++)
      if (o->registrations[j].user_id == r->user_id && o->registrations[j].event_id == r->event_id)
        say(&o->refused, &o->nrefused,
            "registrations %lld and %lld are the same user's for the same event",
            (long long)o->registrations[j].id, (long long)r->id);
    if (r->waitlisted)
      continue;
    struct o_event *e = event_of(o, r->event_id);
    struct o_ticket_type *t = r->ticket_type_id ? type_of(o, r->ticket_type_id) : NULL;
    if (e)
      e->confirmed++;
    if (t)
      t->confirmed++;
  }
  for (size_t i = 0; i < o->nevents; i++) {
    const struct o_event *e = &o->events[i];
    if (e->capacity > 0 && e->confirmed > e->capacity)
      say(&o->reported, &o->nreported,
          "event %lld \"%s\" has %lld confirmed registrations for %lld places: oversold",
          (long long)e->id, e->title, (long long)e->confirmed, (long long)e->capacity);
  }
  for (size_t i = 0; i < o->ntypes; i++) {
    const struct o_ticket_type *t = &o->types[i];
    if (t->quantity > 0 && t->confirmed > t->quantity)
      say(&o->reported, &o->nreported,
          "ticket type %lld \"%s\" has %lld confirmed registrations for %lld: oversold",
          (long long)t->id, t->name, (long long)t->confirmed, (long long)t->quantity);
  }
  size_t checked_in = 0;
  for (size_t i = 0; i < o->ntickets; i++)
    checked_in += o->tickets[i].checked_in;
  if (checked_in > 0)
    say(&o->reported, &o->nreported,
        "%zu ticket%s checked in at a time the original did not keep: the ticket's issue time"
        " stands for it",
        checked_in, checked_in == 1 ? " was" : "s were");
}

/* Copies each event's image from the original's media folder under
 * MEDIA_ROOT (a new name, as an upload gets). */
static void
copy_images(struct original *o, const char *media, const char *media_root)
{
  for (size_t i = 0; i < o->nevents; i++) {
    struct o_event *e = &o->events[i];
    if (e->image[0] == '\0')
      continue;
    if (media == NULL) {
      say(&o->reported, &o->nreported, "event %lld's image %s was not copied (no --media)",
          (long long)e->id, e->image);
      continue;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", media, e->image);
    FILE *f = strstr(e->image, "..") ? NULL : fopen(path, "rb");
    unsigned char *data = f ? malloc(IMAGE_MAX) : NULL;
    size_t len = data ? fread(data, 1, IMAGE_MAX, f) : 0;
    struct image_size size;
    enum image_type type = data ? events_image_detect(data, len, &size) : IMAGE_NONE;
    if (f)
      fclose(f);
    if (type == IMAGE_NONE || len == IMAGE_MAX ||
        media_store(media_root, data, len, events_image_extension(type), e->image_name) < 0) {
      say(&o->reported, &o->nreported,
          "event %lld's image %s was not copied (missing, unreadable, or not a PNG, JPEG, GIF"
          " or WebP image)",
          (long long)e->id, e->image);
      e->image_name[0] = '\0';
    }
    free(data);
  }
}

/* ---- writing --------------------------------------------------------------- */

struct import {
  struct original *o;
  bool merge, dry_run;
  char why[512]; /* a refusal found while writing */
};

#define DRY_RUN_DONE EVENTAPI_ECONFLICT /* the unit's way to roll a dry run back */

static int
count_of(db_t *db, const char *sql)
{
  int64_t n = 0;
  db_stmt_t *st = db_prepare(db, sql);
  int rc = st ? db_int(st, &n) : EVENTAPI_ENOMEM;
  return rc < 0 ? rc : (int)(n > 0);
}

/* Whether the target already holds a row of table with one of the ids. */
static int
id_taken(db_t *db, const char *table, int64_t id)
{
  char sql[96];
  snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id = ?", table);
  db_stmt_t *st = db_prepare(db, sql);
  if (st == NULL)
    return EVENTAPI_ENOMEM;
  db_bind_int(st, 1, id);
  bool found = false;
  int rc = db_exists(st, &found);
  return rc < 0 ? rc : found;
}

static int
write_users(db_t *db, struct import *im)
{
  struct original *o = im->o;
  for (size_t i = 0; i < o->nusers; i++) {
    const struct o_user *u = &o->users[i];
    const char *role = u->superuser ? "admin" : u->role;
    int rc = db_exec(db,
        "INSERT INTO users (id, username, username_key, email, email_key, password, first_name,"
        " last_name, role, is_active, date_joined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        NULL, "issssssssii", u->id, u->username, u->username_key, u->email, u->email_key,
        u->password, u->first_name, u->last_name, role, (int64_t)u->active, u->date_joined);
    if (rc == EVENTAPI_ECONSTRAINT)
      snprintf(im->why, sizeof im->why,
               "user %lld \"%s\": the database holds this name or email already", (long long)u->id,
               u->username);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int
write_events(db_t *db, struct import *im)
{
  struct original *o = im->o;
  for (size_t i = 0; i < o->ncategories; i++) {
    const struct o_category *c = &o->categories[i];
    int rc = db_exec(db, "INSERT INTO categories (id, name, name_key, slug) VALUES (?, ?, ?, ?)",
                     NULL, "isss", c->id, c->name, c->name_key, c->slug);
    if (rc == EVENTAPI_ECONSTRAINT)
      snprintf(im->why, sizeof im->why, "category %lld \"%s\": its name or slug is taken",
               (long long)c->id, c->name);
    if (rc < 0)
      return rc;
  }
  for (size_t i = 0; i < o->nevents; i++) {
    const struct o_event *e = &o->events[i];
    const struct event keys = {.title = e->title, .description = e->description,
                               .location = e->location};
    char *search = NULL, *location_key = NULL;
    int rc = events_search_keys(&keys, &search, &location_key);
    if (rc == 0) {
      db_stmt_t *st = db_prepare(db,
          "INSERT INTO events (id, title, description, date_time, location, capacity,"
          " confirmed_count, created_at, organizer_id, visibility, image, category_id,"
          " search_text, location_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      rc = EVENTAPI_ENOMEM;
      if (st) {
        db_bind_int(st, 1, e->id);
        db_bind_text(st, 2, e->title);
        db_bind_text(st, 3, e->description);
        db_bind_int(st, 4, e->date_time);
        db_bind_text(st, 5, e->location);
        db_bind_int(st, 6, e->capacity);
        db_bind_int(st, 7, e->confirmed);
        db_bind_int(st, 8, e->created_at);
        db_bind_int(st, 9, e->organizer_id);
        db_bind_text(st, 10, e->visibility);
        db_bind_text(st, 11, e->image_name[0] ? e->image_name : NULL);
        if (e->category_id)
          db_bind_int(st, 12, e->category_id);
        else
          db_bind_null(st, 12);
        db_bind_text(st, 13, search);
        db_bind_text(st, 14, location_key);
        rc = db_step(st);
        db_reset(st);
        rc = rc == DB_DONE ? 0 : rc < 0 ? rc : EVENTAPI_EDB;
      }
    }
    free(search);
    free(location_key);
    if (rc == EVENTAPI_ECONSTRAINT)
      snprintf(im->why, sizeof im->why, "event %lld \"%s\": its organizer or category is missing",
               (long long)e->id, e->title);
    if (rc < 0)
      return rc;
  }
  for (size_t i = 0; i < o->nsessions; i++) {
    const struct o_session *s = &o->sessions[i];
    int rc = db_exec(db,
        "INSERT INTO event_sessions (id, event_id, title, speaker, start_time, end_time)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        NULL, "iissii", s->id, s->event_id, s->title, s->speaker, s->start_time, s->end_time);
    if (rc < 0)
      return rc;
  }
  for (size_t i = 0; i < o->ntypes; i++) {
    const struct o_ticket_type *t = &o->types[i];
    int rc = db_exec(db,
        "INSERT INTO ticket_types (id, event_id, name, price_cents, quantity, confirmed_count)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        NULL, "iisiii", t->id, t->event_id, t->name, t->price_cents, t->quantity, t->confirmed);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int
write_registrations(db_t *db, struct import *im)
{
  struct original *o = im->o;
  for (size_t i = 0; i < o->nregistrations; i++) {
    const struct o_registration *r = &o->registrations[i];
    db_stmt_t *st = db_prepare(db,
        "INSERT INTO registrations (id, user_id, event_id, ticket_type_id, registered_at,"
        " is_waitlisted) VALUES (?, ?, ?, ?, ?, ?)");
    if (st == NULL)
      return EVENTAPI_ENOMEM;
    db_bind_int(st, 1, r->id);
    db_bind_int(st, 2, r->user_id);
    db_bind_int(st, 3, r->event_id);
    if (r->ticket_type_id)
      db_bind_int(st, 4, r->ticket_type_id);
    else
      db_bind_null(st, 4);
    db_bind_int(st, 5, r->registered_at);
    db_bind_int(st, 6, r->waitlisted);
    int rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
      return rc < 0 ? rc : EVENTAPI_EDB;
  }
  for (size_t i = 0; i < o->ntickets; i++) {
    const struct o_ticket *t = &o->tickets[i];
    db_stmt_t *st = db_prepare(db,
        "INSERT INTO tickets (id, code, registration_id, issued_at, checked_in_at)"
        " VALUES (?, ?, ?, ?, ?)");
    if (st == NULL)
      return EVENTAPI_ENOMEM;
    db_bind_int(st, 1, t->id);
    db_bind_text(st, 2, t->code);
    db_bind_int(st, 3, t->registration_id);
    db_bind_int(st, 4, t->issued_at);
    if (t->checked_in)
      db_bind_int(st, 5, t->issued_at);
    else
      db_bind_null(st, 5);
    int rc = db_step(st);
    db_reset(st);
    if (rc == EVENTAPI_ECONSTRAINT)
      snprintf(im->why, sizeof im->why, "ticket %lld: its code %s is taken", (long long)t->id,
               t->code);
    if (rc != DB_DONE)
      return rc < 0 ? rc : EVENTAPI_EDB;
  }
  return 0;
}

/* PostgreSQL's identity columns go on after the largest id imported. */
static int
advance_ids(db_t *db)
{
  if (strcmp(db_backend_of(db), "postgres") != 0)
    return 0; /* SQLite's AUTOINCREMENT follows the largest id by itself */
  static const char *const tables[] = {"users", "categories", "events", "event_sessions",
                                       "ticket_types", "registrations", "tickets"};
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', 'id'),"
             " GREATEST((SELECT max(id) FROM %s), 1))", tables[i], tables[i]);
    db_stmt_t *st = db_prepare(db, sql);
    int64_t ignored;
    int rc = st ? db_int(st, &ignored) : EVENTAPI_ENOMEM;
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int
import_unit(db_t *db, void *arg)
{
  struct import *im = arg;
  struct original *o = im->o;
  im->why[0] = '\0';
  if (!im->merge) {
    int held = count_of(db, "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM events)"
                            " + (SELECT count(*) FROM categories)");
    if (held != 0) {
      if (held > 0)
        snprintf(im->why, sizeof im->why,
                 "the database holds users, events or categories already (--merge imports"
                 " beside them)");
      return held > 0 ? EVENTAPI_ECONFLICT : held;
    }
  } else {
    /* Ids are kept: none may be taken. */
    for (size_t i = 0; i < o->nusers; i++) {
      int taken = id_taken(db, "users", o->users[i].id);
      if (taken < 0)
        return taken;
      if (taken) {
        snprintf(im->why, sizeof im->why, "user id %lld is taken in this database",
                 (long long)o->users[i].id);
        return EVENTAPI_ECONFLICT;
      }
    }
    for (size_t i = 0; i < o->nevents; i++) {
      int taken = id_taken(db, "events", o->events[i].id);
      if (taken < 0)
        return taken;
      if (taken) {
        snprintf(im->why, sizeof im->why, "event id %lld is taken in this database",
                 (long long)o->events[i].id);
        return EVENTAPI_ECONFLICT;
      }
    }
  }
  int rc = write_users(db, im);
  if (rc == 0)
    rc = write_events(db, im);
  if (rc == 0)
    rc = write_registrations(db, im);
  if (rc == 0)
    rc = advance_ids(db);
  if (rc == 0 && im->dry_run)
    rc = DRY_RUN_DONE;
  return rc;
}

static void
original_free(struct original *o)
{
  for (size_t i = 0; i < o->nusers; i++) {
    free(o->users[i].username_key);
    free(o->users[i].email_key);
  }
  for (size_t i = 0; i < o->ncategories; i++)
    free(o->categories[i].name_key);
  strbuf_free(&o->reported);
  strbuf_free(&o->refused);
  arena_free(&o->arena);
}

int
importer_django_run(const struct importer_options *opt, FILE *out, FILE *err)
{
  char why[512];
  db_t *src;
  struct stat sb;
  bool postgres_url = strncmp(opt->source, "postgres://", 11) == 0 ||
                      strncmp(opt->source, "postgresql://", 13) == 0;
  if (!postgres_url && strchr(opt->source, '=') == NULL && stat(opt->source, &sb) != 0) {
    fprintf(err, "eventapi: import-django: %s: %s\n", opt->source, strerror(errno));
    return 1;
  }
  if (db_connect_url(opt->source, &src, why, sizeof why) < 0) {
    fprintf(err, "eventapi: import-django: %s\n", why);
    return 1;
  }
  struct original o = {0};
  int rc = read_original(src, &o, err);
  db_close(src);
  if (rc == 0)
    rc = check_users(&o);
  if (rc == 0)
    rc = check_categories(&o);
  if (rc < 0) {
    if (rc == EVENTAPI_ENOMEM)
      fprintf(err, "eventapi: import-django: out of memory\n");
    original_free(&o);
    return 1;
  }
  check_events(&o);
  fprintf(out,
          "Read from the original: %zu users, %zu categories, %zu events (%zu sessions, %zu ticket"
          " types), %zu registrations, %zu tickets.\n",
          o.nusers, o.ncategories, o.nevents, o.nsessions, o.ntypes, o.nregistrations,
          o.ntickets);
  if (o.nrefused > 0) {
    fputs("eventapi: import-django: eventapi's database cannot hold these rows as they"
          " are; nothing was imported:\n", err);
    fputs(o.refused.data, err);
    original_free(&o);
    return 1;
  }
  if (!opt->dry_run)
    copy_images(&o, opt->media, opt->media_root);
  if (o.nreported > 0) {
    fprintf(out, "Imported as they are, though eventapi would refuse them today:\n");
    fputs(o.reported.data, out);
  }
  struct import im = {.o = &o, .merge = opt->merge, .dry_run = opt->dry_run};
  rc = db_write(import_unit, &im);
  int status = 0;
  if (opt->dry_run && rc == DRY_RUN_DONE && im.why[0] == '\0') {
    fprintf(out, "Dry run: all of it would be imported; nothing was written.\n");
  } else if (rc < 0) {
    fprintf(err, "eventapi: import-django: %s; nothing was imported\n",
            im.why[0] ? im.why : eventapi_strerror(rc));
    status = 1;
  } else {
    fprintf(out, "Imported. The users log in with their passwords from the original.\n");
  }
  if (rc < 0 || opt->dry_run) /* the copied images have no event */
    for (size_t i = 0; i < o.nevents; i++)
      if (o.events[i].image_name[0])
        media_remove(opt->media_root, o.events[i].image_name);
  original_free(&o);
  return status;
}
