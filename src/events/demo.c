/*
 * demo.c - demo data for `eventapi demo`.
 *
 * The events are templates placed relative to today (midnight UTC plus a
 * number of days and a start time), so the data is always upcoming; session
 * times are minutes after the event's start and stay within its day.
 */
#include "events/demo.h"

#include <assert.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/error.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "events/filters.h"
#include "events/models.h"
#include "users/models.h"
#include "users/validators.h"

#define DEMO_USERNAME "demo"
#define DEMO_EMAIL "demo@example.com"
#define DEMO_PASSWORD_LEN 20
#define MINUTE_US (INT64_C(60) * 1000000)
#define DAY_US (24 * 60 * MINUTE_US)
#define MAX_NESTED 3

enum demo_category { CONFERENCES, WORKSHOPS, MEETUPS, CONCERTS, SPORTS, NCATEGORIES };

static const struct { const char *name, *slug; } categories[NCATEGORIES] = {
  [CONFERENCES] = {"Conferences", "conferences"},
  [WORKSHOPS] = {"Workshops", "workshops"},
  [MEETUPS] = {"Meetups", "meetups"},
  [CONCERTS] = {"Concerts", "concerts"},
  [SPORTS] = {"Sports", "sports"},
};

struct demo_session {
  const char *title, *speaker;
  int start, end; /* minutes after the event's start */
  const char *description;
};

struct demo_ticket {
  const char *name;
  int64_t price_cents;
  int64_t quantity; /* 0: unlimited */
};

struct demo_event {
  const char *title, *description, *location;
  int day;            /* days from today */
  int hour, minute;   /* start, UTC */
  int64_t capacity;   /* 0: unlimited */
  bool private;
  enum demo_category category;
  struct demo_session sessions[MAX_NESTED];  /* up to the first without title */
  struct demo_ticket tickets[MAX_NESTED];    /* up to the first without name */
};

static const struct demo_event events[] = {
  {"Open Source Infrastructure Summit",
   "A day of talks on running open source systems in production: databases, "
   "observability and the people who maintain them.",
   "Lisbon Congress Centre, Lisbon", 9, 8, 30, 300, false, CONFERENCES,
   {{"Keynote: The Next Decade of Open Infrastructure", "Maria Santos", 0, 60,
     "Where the stack is heading and what it asks of maintainers."},
    {"Scaling SQLite in Production", "Tom Becker", 75, 135,
     "WAL, checkpoints and backups for a single-node service."},
    {"Panel: Maintainer Sustainability", "Ana Ribeiro, Jonas Weber, Li Wei", 150, 240,
     "Funding, burnout and succession in open source projects."}},
   {{"General", 14900, 250}, {"VIP", 34900, 30}, {"Student", 4900, 20}}},
  {"Hands-on Workshop: Modern C",
   "Bring a laptop: sanitizers, fuzzing and clean ownership rules in C11.",
   "Factory Campus, Room 3, Berlin", 16, 9, 0, 24, false, WORKSHOPS,
   {{"Tooling: sanitizers and fuzzers", "Katrin Vogel", 0, 180,
     "AddressSanitizer, UBSan and libFuzzer on a real code base."},
    {"Memory ownership in practice", "Katrin Vogel", 240, 420,
     "Arenas, reference counting and documenting who frees what."}},
   {{"General", 19900, 20}, {"Student", 7900, 4}}},
  {"Data Engineering Meetup #42",
   "Two short talks and pizza. Everyone is welcome, no experience needed.",
   "Impact Hub, Amsterdam", 20, 17, 30, 0, false, MEETUPS,
   {{"Streaming joins without tears", "Priya Nair", 30, 75,
     "Windowing and late data, explained with examples."}},
   {{"General", 0, 0}}},
  {"Jazz Night at the Riverside",
   "The Riverside Quartet plays standards and originals. Doors open 30 minutes "
   "before the first set.",
   "Riverside Hall, Porto", 23, 19, 0, 180, false, CONCERTS,
   {{"First set", "The Riverside Quartet", 30, 90, ""},
    {"Second set", "The Riverside Quartet", 110, 180, ""}},
   {{"General", 3500, 150}, {"VIP", 8000, 30}}},
  {"Leadership Offsite: Planning Day",
   "Internal planning for the next two quarters. Invitation only.",
   "Quinta da Serra, Sintra", 27, 9, 0, 12, true, MEETUPS,
   {{"Roadmap review", "Demo Organizer", 0, 180, "Goals, risks and staffing."}},
   {{"General", 0, 12}}},
  {"City Half Marathon",
   "21.1 km through the old town and along the river. Chip timing, medal and "
   "refreshments for every finisher.",
   "Praça do Comércio, Lisbon", 34, 7, 30, 2000, false, SPORTS,
   {{"Wave A start", "", 30, 180, "Expected finish under 1:45."},
    {"Wave B start", "", 45, 225, "Everyone else."}},
   {{"General", 4500, 1800}, {"Student", 2500, 200}}},
  {"Design Systems Conference",
   "Tokens, components and documentation that teams actually use.",
   "Kulturbrauerei, Berlin", 41, 9, 0, 400, false, CONFERENCES,
   {{"Opening keynote: Systems, not libraries", "Sofia Marques", 0, 45,
     "Why design systems fail and how the good ones last."},
    {"Design tokens across platforms", "Daniel Kim", 60, 120,
     "One source of truth for web, iOS and Android."},
    {"Accessible components by default", "Grace Okafor", 135, 195,
     "Building accessibility into the primitives."}},
   {{"General", 22900, 350}, {"VIP", 44900, 40}, {"Student", 6900, 10}}},
  {"Introduction to Machine Learning",
   "A practical, math-light introduction with Python notebooks. Beginners welcome.",
   "Startup Lisboa, Lisbon", 48, 10, 0, 30, false, WORKSHOPS,
   {{"Models, data and evaluation", "Rui Costa", 0, 150,
     "From a CSV file to a validated model."},
    {"Lab: your first classifier", "Rui Costa", 180, 330,
     "Hands-on exercises with scikit-learn."}},
   {{"General", 12900, 26}, {"Student", 4900, 4}}},
  {"Investor Preview",
   "A private preview of the product roadmap for our investors.",
   "Boardroom, 5th floor, Avenida da Liberdade 110, Lisbon", 55, 15, 0, 20, true,
   CONFERENCES,
   {{"Product demo", "Demo Organizer", 0, 60, ""},
    {"Q&A", "Demo Organizer", 60, 90, ""}},
   {{"General", 0, 20}}},
  {"String Quartet: Beethoven Cycle, Part I",
   "Quartets Op. 18 No. 1 and Op. 59 No. 1 performed by the Aurora Quartet.",
   "Casa da Música, Porto", 62, 19, 30, 250, false, CONCERTS,
   {{"Op. 18 No. 1", "Aurora Quartet", 0, 35, ""},
    {"Op. 59 No. 1 \"Razumovsky\"", "Aurora Quartet", 55, 100, ""}},
   {{"General", 2800, 200}, {"VIP", 6500, 30}, {"Student", 1000, 20}}},
  {"Five-a-side Football Tournament",
   "Teams of five, 15-minute games, a trophy for the winners. Sign up as a team "
   "or on your own and we will place you.",
   "Estádio Universitário, Lisbon", 76, 9, 0, 0, false, SPORTS,
   {{"Group stage", "", 0, 240, ""},
    {"Knock-out rounds and final", "", 270, 420, ""}},
   {{"General", 1500, 0}}},
  {"Quarterly Team Celebration",
   "Food, music and a look back at the quarter. Staff and partners only.",
   "Rooftop Terrace, Lisbon", 86, 18, 0, 80, true, CONCERTS,
   {{"DJ set", "DJ Marta", 60, 240, ""}},
   {{0, 0, 0}}},
};

#define NEVENTS (sizeof events / sizeof events[0])

/*
 * A random password of letters and digits, without look-alikes, that
 * passes the validators sign-up uses for the demo organizer (as every
 * password a command sets must). Returns 0 or EVENTAPI_ENOMEM.
 */
static int
random_password(char out[DEMO_PASSWORD_LEN + 1])
{
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  for (;;) {
    for (int i = 0; i < DEMO_PASSWORD_LEN; i++)
      out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
    out[DEMO_PASSWORD_LEN] = '\0';
    json_t *messages = json_array();
    int problems = messages ? users_password_validate(out, DEMO_USERNAME, DEMO_EMAIL, "Demo",
                                                      "Organizer", messages)
                            : EVENTAPI_ENOMEM;
    json_decref(messages);
    if (problems <= 0)
      return problems;
  }
}

/* Whether two category names are one, as their uniqueness compares them. */
static bool
same_name(const char *a, const char *b)
{
  char *fa = text_fold(a), *fb = text_fold(b);
  bool same = fa && fb && strcmp(fa, fb) == 0;
  free(fa);
  free(fb);
  return same;
}

/*
 * The category's id: one that exists with its slug, else with its name
 * (an organizer may have made "Concerts" with a slug of their own), else a
 * new one. *created says which.
 */
static int
ensure_category(db_t *db, arena_t *arena, int index, int64_t *id, bool *created)
{
  struct category c;
  *created = false;
  int rc = events_categories_get_by_slug(db, categories[index].slug, arena, &c);
  if (rc == EVENTAPI_ENOTFOUND) {
    struct category *all;
    size_t count;
    if ((rc = events_categories_list(db, arena, &all, &count)) < 0)
      return rc;
    rc = EVENTAPI_ENOTFOUND;
    for (size_t i = 0; i < count && rc == EVENTAPI_ENOTFOUND; i++) {
      if (same_name(all[i].name, categories[index].name)) {
        c = all[i];
        rc = 0;
      }
    }
  }
  if (rc == EVENTAPI_ENOTFOUND) {
    c = (struct category){.name = categories[index].name, .slug = categories[index].slug};
    rc = events_categories_insert(db, &c);
    *created = rc == 0;
  }
  if (rc == 0)
    *id = c.id;
  return rc;
}

static int
insert_event(db_t *db, const struct demo_event *d, int64_t today, int64_t now,
             int64_t organizer_id, const int64_t category_ids[NCATEGORIES])
{
  struct session sessions[MAX_NESTED];
  struct ticket_type tickets[MAX_NESTED];
  struct event e = {
    .title = d->title, .description = d->description, .location = d->location,
    .date_time = today + d->day * DAY_US + (d->hour * 60 + d->minute) * MINUTE_US,
    .capacity = d->capacity, .created_at = now, .organizer_id = organizer_id,
    .visibility = d->private ? VISIBILITY_PRIVATE : VISIBILITY_PUBLIC,
    .category_id = category_ids[d->category],
    .sessions = sessions, .ticket_types = tickets,
  };
  for (size_t i = 0; i < MAX_NESTED && d->sessions[i].title; i++) {
    const struct demo_session *s = &d->sessions[i];
    /* The templates' promise: start < end, within the event's day. */
    assert(s->start < s->end && d->hour * 60 + d->minute + s->end < 24 * 60);
    sessions[e.nsessions++] = (struct session){
      .title = s->title, .speaker = s->speaker, .description = s->description,
      .start_time = e.date_time + s->start * MINUTE_US,
      .end_time = e.date_time + s->end * MINUTE_US,
    };
  }
  for (size_t i = 0; i < MAX_NESTED && d->tickets[i].name; i++)
    tickets[e.nticket_types++] = (struct ticket_type){
      .name = d->tickets[i].name, .price_cents = d->tickets[i].price_cents,
      .quantity = d->tickets[i].quantity,
    };
  return events_insert(db, &e);
}

/*
 * The events organizer_id already has, past ones too (inside the caller's
 * write transaction): the demo events an earlier run made are not made
 * again.
 */
static int
existing_events(db_t *db, int64_t organizer_id, arena_t *arena, struct event **list,
                size_t *count)
{
  int64_t *ids;
  size_t nids;
  int rc = db_ints(db, "SELECT id FROM events WHERE organizer_id = ? ORDER BY id", organizer_id,
                   arena, &ids, &nids);
  *count = 0;
  if (rc == 0 && nids > 0)
    rc = events_get_many(db, ids, nids, arena, list, count);
  return rc;
}

static bool
has_title(const struct event *list, size_t count, const char *title)
{
  for (size_t i = 0; i < count; i++)
    if (strcmp(list[i].title, title) == 0)
      return true;
  return false;
}

/*
 * The demo organizer: the user named demo with the email demo@example.com
 * when it exists (an earlier run made it; *created false), else a new one
 * with hash. Anyone else holding that name or email is a conflict, told on
 * stderr.
 */
static int
ensure_organizer(db_t *db, const char *hash, int64_t now, arena_t *arena, struct user *out,
                 bool *created)
{
  *created = false;
  int rc = users_get_by_username(db, DEMO_USERNAME, arena, out);
  if (rc == 0 && strcmp(out->email, DEMO_EMAIL) == 0)
    return 0;
  if (rc == 0) {
    fprintf(stderr, "eventapi: demo: a user named \"" DEMO_USERNAME "\" (%s) already exists "
                    "and is not the demo organizer (" DEMO_EMAIL "); nothing was changed\n",
            out->email);
    return EVENTAPI_ECONFLICT;
  }
  if (rc != EVENTAPI_ENOTFOUND)
    return rc;
  bool taken = false;
  if ((rc = users_email_taken(db, DEMO_EMAIL, 0, &taken)) < 0)
    return rc;
  if (taken) {
    fprintf(stderr, "eventapi: demo: another user already has the email " DEMO_EMAIL
                    "; nothing was changed\n");
    return EVENTAPI_ECONFLICT;
  }
  *out = (struct user){
    .username = DEMO_USERNAME, .email = DEMO_EMAIL, .first_name = "Demo",
    .last_name = "Organizer", .password = hash, .role = ROLE_ORGANIZER,
    .is_active = true, .date_joined = now,
  };
  rc = users_insert(db, out);
  *created = rc == 0;
  return rc;
}

/* What one run did, for the report. */
struct demo_result {
  int64_t organizer_id;
  bool organizer_created;
  int categories_created;
  int events_created, private_created;
};

/* The demo's rows, as one unit of work beside the data already there. */
struct demo_unit {
  const char *hash;
  int64_t now;
  struct demo_result result;
};

static int
insert_all(db_t *db, void *arg)
{
  struct demo_unit *unit = arg;
  const char *hash = unit->hash;
  int64_t now = unit->now;
  struct demo_result *result = &unit->result;
  *result = (struct demo_result){0}; /* a unit may run again */
  arena_t arena = {0};
  struct user organizer;
  int64_t category_ids[NCATEGORIES];
  int64_t today = now - now % DAY_US; /* midnight UTC */
  struct event *mine = NULL;
  size_t nmine = 0;
  int rc = ensure_organizer(db, hash, now, &arena, &organizer, &result->organizer_created);
  if (rc == 0 && !result->organizer_created)
    rc = existing_events(db, organizer.id, &arena, &mine, &nmine);
  bool have_categories = false;
  for (size_t i = 0; rc == 0 && i < NEVENTS; i++) {
    if (has_title(mine, nmine, events[i].title))
      continue;
    for (int c = 0; rc == 0 && !have_categories && c < NCATEGORIES; c++) {
      bool created;
      rc = ensure_category(db, &arena, c, &category_ids[c], &created);
      result->categories_created += created;
    }
    have_categories = true;
    if (rc == 0)
      rc = insert_event(db, &events[i], today, now, organizer.id, category_ids);
    if (rc == 0) {
      result->events_created++;
      result->private_created += events[i].private;
    }
  }
  if (rc == 0)
    result->organizer_id = organizer.id;
  arena_free(&arena);
  return rc;
}

/* Where the server answers, for the curl lines: PUBLIC_URL, else BIND and PORT. */
static void
print_base_url(FILE *out)
{
  if (config && config->public_url && config->public_url[0]) {
    size_t len = strlen(config->public_url);
    while (len > 0 && config->public_url[len - 1] == '/')
      len--;
    fprintf(out, "%.*s", (int)len, config->public_url);
    return;
  }
  const char *host = config && config->bind ? config->bind : "127.0.0.1";
  if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
    host = "127.0.0.1";
  else if (strcmp(host, "::") == 0)
    host = "::1";
  bool ipv6 = strchr(host, ':') != NULL;
  unsigned port = config && config->port ? config->port : 8000;
  fprintf(out, "http://%s%s%s:%u", ipv6 ? "[" : "", host, ipv6 ? "]" : "", port);
}

int
events_demo(FILE *out)
{
  db_t *db = db_thread();
  if (db == NULL) {
    fprintf(stderr, "eventapi: demo: cannot open the database\n");
    return EVENTAPI_EUNAVAILABLE;
  }
  char password[DEMO_PASSWORD_LEN + 1], hash[PASSWORD_HASH_MAX];
  if (sodium_init() < 0)
    return EVENTAPI_EINTERNAL;
  int rc = random_password(password);
  if (rc == 0)
    rc = password_hash(password, hash);
  if (rc < 0) {
    fprintf(stderr, "eventapi: demo: cannot hash the password: %s\n", eventapi_strerror(rc));
    sodium_memzero(password, sizeof password);
    return rc;
  }
  struct demo_unit unit = {hash, time_now_us(), {0}};
  rc = db_write(insert_all, &unit);
  struct demo_result result = unit.result;
  if (rc < 0) {
    if (rc != EVENTAPI_ECONFLICT)
      fprintf(stderr, "eventapi: demo: %s; nothing was changed\n", eventapi_strerror(rc));
    sodium_memzero(password, sizeof password);
    return rc;
  }

  if (result.events_created == 0)
    fprintf(out, "The demo data is already in the database: nothing was added.\n");
  else
    fprintf(out, "Demo data added beside what the database holds: %d event%s (%d private) over "
                 "the next three months, %d new categor%s.\n",
            result.events_created, result.events_created == 1 ? "" : "s",
            result.private_created, result.categories_created,
            result.categories_created == 1 ? "y" : "ies");
  if (!result.organizer_created) {
    fprintf(out, "\nThe organizer \"" DEMO_USERNAME "\" (user id %lld) is the one made before, "
                 "with its password;\n`eventapi changepassword " DEMO_USERNAME "` sets a new "
                 "one.\n", (long long)result.organizer_id);
    sodium_memzero(password, sizeof password);
    fflush(out);
    return 0;
  }
  fprintf(out,
          "\nOrganizer account (user id %lld); the password is shown only now:\n"
          "  username: " DEMO_USERNAME "\n"
          "  password: %s\n\n"
          "Try it, with the server running (eventapi serve):\n"
          "  curl -s ",
          (long long)result.organizer_id, password);
  print_base_url(out);
  fprintf(out, "/api/events/\n  curl -s -X POST ");
  print_base_url(out);
  fprintf(out, "/auth/token/ -H 'Content-Type: application/json' \\\n"
               "       -d '{\"username\":\"" DEMO_USERNAME "\",\"password\":\"%s\"}'\n"
               "  curl -s ",
          password);
  print_base_url(out);
  fprintf(out, "/api/events/calendar.ics\n");
  fflush(out);
  sodium_memzero(password, sizeof password);
  return 0;
}
