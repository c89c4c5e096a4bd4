/*
 * catalogue.c - the catalogue's read path (docs/design.md): whole answers
 * cached by the catalogue's version never change an answer's bytes, never
 * outlive a write on any node or the start of an event they list, and are
 * shared only where the visibility rule gives everyone the same answer;
 * substring search through the trigram index finds what LIKE found; every
 * filter and ordering is served by an index (EXPLAIN, on the backend the
 * suite runs on).
 *
 * Two nodes share the database: this process's server, with the caches on,
 * and a child `eventapi serve` with EVENT_CACHE_MB=0, the reference.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "events/filters.h"
#include "http/query.h"
#include "support/api.h"
#include "support/process.h"

#define EVENTS "/api/events/"
#define PUBLIC_URL "http://catalogue.test"

static struct api_process uncached;
static struct api_user olga, ada, root;
static long long private_id, quoted_id, short_id, registration_id;

static long long
create(const char *token, const char *title, const char *description, const char *location,
       int day, const char *extra)
{
  json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:i}", "title", title, "description",
                           description, "date_time",
                           api_printf("2031-05-%02dT10:00:00Z", day), "location", location,
                           "capacity", 0);
  cr_assert_not_null(body);
  if (extra) {
    json_t *more = json_loads(extra, 0, NULL);
    cr_assert_not_null(more, "extra fields: %s", extra);
    json_object_update(body, more);
    json_decref(more);
  }
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  api_keep(text, free);
  struct api_resp *r = api_post(EVENTS "create/", token, text);
  expect_status(r, 200);
  return api_id(r);
}

static void
start(void)
{
  const char *env[] = {"PUBLIC_URL", PUBLIC_URL, NULL};
  api_server_start_with(env);
  olga = api_signup("olga", "organizer");
  ada = api_signup("ada", "attendee");
  root = api_admin("root");
  expect_status(api_post(EVENTS "categories/", root.access, api_json("{'name':'Jazz'}")), 201);
  expect_status(api_post(EVENTS "categories/", root.access, api_json("{'name':'Talks'}")), 201);
  create(olga.access, "Rock im Park", "Loud guitars all night", "Zeppelinfeld, Nürnberg", 1,
         "{\"category\": 1, \"ticket_types\": [{\"name\": \"General\", \"price\": \"39.00\", "
         "\"quantity\": 100}], \"sessions\": [{\"title\": \"Opening\", \"speaker\": \"Band\", "
         "\"start_time\": \"2031-05-01T10:00:00Z\", \"end_time\": \"2031-05-01T11:00:00Z\"}]}");
  create(olga.access, "Jazz Brunch", "Smooth ÜBER-cool trio", "Blue Note, Berlin", 2,
         "{\"category\": 1}");
  create(olga.access, "Systems Day", "Kernels, compilers and databases", "Congress Center, Berlin",
         3, "{\"category\": 2}");
  create(olga.access, "C Meetup", "Pointers: the good parts", "Café Einstein, Berlin", 4, NULL);
  quoted_id = create(olga.access, "The \"Best\" Quiz", "Questions * answers: (50% off) AND more",
                     "Pub \"Anchor\", Hamburg", 5, NULL);
  short_id = create(olga.access, "Go", "A talk on Go", "Room B, Köln", 6, "{\"category\": 2}");
  create(olga.access, "σοφία evening", "Greek philosophy", "Athens", 7, NULL);
  create(olga.access, "snake_case rally", "underscores_everywhere", "Munich", 8, NULL);
  /* Made private once ada registered (nobody registers for an event they
   * may not see). */
  private_id = create(olga.access, "Secret rehearsal", "Berlin jazz, members only", "Berlin", 9,
                      NULL);
  struct api_resp *r = api_post(api_printf("/api/registrations/%lld/register/", private_id),
                                ada.access, "{}");
  expect_status(r, 200);
  registration_id = api_id(r);
  expect_status(api_patch(api_printf(EVENTS "%lld/update/", private_id), olga.access,
                          api_json("{'visibility':'private'}")), 200);
  for (int day = 10; day < 22; day++)
    create(olga.access, api_printf("Series night %d", day), "Weekly jam session", "Berlin",
           day, day % 2 ? "{\"category\": 1}" : NULL);
  const char *serve[] = {"serve", NULL};
  const char *off[] = {"EVENT_CACHE_MB", "0", NULL};
  api_process_start(&uncached, serve, off);
}

static void
stop(void)
{
  api_process_kill(&uncached, SIGTERM);
  api_server_stop();
}

TestSuite(catalogue, .init = start, .fini = stop, .timeout = 120);

/* path on the uncached node. */
static const char *
reference(const char *path)
{
  return api_printf("http://127.0.0.1:%u%s", uncached.port, path);
}

static const char *const queries[] = {
  "", "?limit=3", "?limit=3&offset=3", "?limit=2&offset=40", "?offset=2",
  "?search=berlin", "?search=BERLIN", "?search=er", "?search=o", "?search=go",
  "?search=jazz,berlin", "?search=jazz%20night", "?search=%22best%22",
  "?search=%22", "?search=*", "?search=50%25", "?search=(50%25", "?search=AND",
  "?search=answers:", "?search=%C3%BCber-cool", "?search=%CF%83%CE%BF%CF%86",
  "?search=snake_case", "?search=_", "?search=night&ordering=-title&limit=4",
  "?search=ber&search=rlin", "?search=b%22e", "?search=zzz",
  "?location=berlin", "?location=BERL", "?location=n", "?location=%22anchor",
  "?location=k%C3%B6ln", "?location=berlin&ordering=-date_time&limit=5&offset=1",
  "?category=1", "?category=jazz", "?category=talks&ordering=-title", "?category=nope",
  "?ordering=title", "?ordering=-title", "?ordering=created_at", "?ordering=-created_at",
  "?ordering=capacity", "?ordering=-capacity", "?ordering=id", "?ordering=-id",
  "?ordering=-date_time&limit=5&offset=5",
  "?start_date=2031-05-03&end_date=2031-05-12", "?start_date=2031-05-15",
  "?end_date=2031-05-04&ordering=-title", "?upcoming=false", "?visibility=private",
  "?visibility=public&limit=1", "?organizer=1", "?search=jazz&location=berlin&category=jazz",
  "?search=night&start_date=2031-05-12&end_date=2031-05-20&ordering=-id&limit=3",
};

/* The same request on both nodes: the same status, bytes and headers. */
static void
expect_same(const char *path, const char *token)
{
  struct api_resp *cached = api_get(path, token);
  api_get(path, token); /* an answer is stored the second time it is made */
  struct api_resp *again = api_get(path, token); /* from the answer cache, if any */
  struct api_resp *plain = api_get(reference(path), token);
  expect_status(plain, cached->status);
  expect_status(again, cached->status);
  cr_expect(plain->len == cached->len && memcmp(plain->body, cached->body, plain->len) == 0,
            "%s %s: cached %s, uncached %s", path, token ? "(user)" : "", cached->body,
            plain->body);
  cr_expect(again->len == cached->len && memcmp(again->body, cached->body, again->len) == 0,
            "%s: second answer %s", path, again->body);
  const char *const headers[] = {"ETag", "X-Total-Count", "Content-Type"};
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
    const char *a = api_header(cached, headers[i]), *b = api_header(plain, headers[i]);
    const char *c = api_header(again, headers[i]);
    cr_expect((a == NULL && b == NULL && c == NULL) ||
              (a && b && c && strcmp(a, b) == 0 && strcmp(a, c) == 0),
              "%s: %s %s / %s / %s", path, headers[i], a ? a : "-", c ? c : "-", b ? b : "-");
  }
}

Test(catalogue, answers_are_the_same_bytes_with_the_caches_off)
{
  struct api_user bob = api_signup("bob", NULL);
  const char *const callers[] = {NULL, ada.access, bob.access, olga.access, root.access};
  for (size_t c = 0; c < sizeof callers / sizeof callers[0]; c++)
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++)
      expect_same(api_printf(EVENTS "%s", queries[q]), callers[c]);
  for (long long id = 1; id <= private_id + 2; id++)
    for (size_t c = 0; c < sizeof callers / sizeof callers[0]; c++)
      expect_same(api_printf(EVENTS "%lld/", id), callers[c]);
}

/* The ids of a list answer (a plain array), in order, as "1,2,3". */
static const char *
ids(struct api_resp *r)
{
  expect_status(r, 200);
  char *out = api_strdup("");
  size_t i;
  json_t *item;
  json_array_foreach(r->json, i, item)
    out = api_printf("%s%s%lld", out, i ? "," : "", (long long)json_integer_value(
        json_object_get(item, "id")));
  return out;
}

Test(catalogue, search_matches_substrings_as_like_did)
{
  /* Quotes and FTS5's operators are plain characters of a term. */
  cr_expect_str_eq(ids(api_get(EVENTS "?search=%22best%22", NULL)), api_printf("%lld", quoted_id));
  cr_expect_str_eq(ids(api_get(EVENTS "?search=(50%25", NULL)), api_printf("%lld", quoted_id));
  cr_expect_str_eq(ids(api_get(EVENTS "?search=*", NULL)), api_printf("%lld", quoted_id));
  cr_expect_str_eq(ids(api_get(EVENTS "?search=answers:%20AND", NULL)),
                   api_printf("%lld", quoted_id));
  cr_expect_str_eq(ids(api_get(EVENTS "?location=%22anchor%22", NULL)),
                   api_printf("%lld", quoted_id));
  /* Inside words, across case, and short terms (no trigram: LIKE alone). */
  cr_expect_str_eq(ids(api_get(EVENTS "?search=ompiler", NULL)), "3");
  cr_expect_str_eq(ids(api_get(EVENTS "?search=%C3%BCBER-COOL", NULL)), "2");
  cr_expect_str_eq(ids(api_get(EVENTS "?search=go&location=K%C3%96", NULL)),
                   api_printf("%lld", short_id));
  cr_expect_str_eq(ids(api_get(EVENTS "?search=cafe", NULL)), "");
  cr_expect_str_eq(ids(api_get(EVENTS "?search=caf%C3%A9", NULL)), "4");
  /* Every term, anywhere in title, description or location. */
  cr_expect_str_eq(ids(api_get(EVENTS "?search=kernels,congress", NULL)), "3");
  cr_expect_str_eq(ids(api_get(EVENTS "?search=kernels%20hamburg", NULL)), "");
  /* The private event is found by those who may see it only. */
  cr_expect_str_eq(ids(api_get(EVENTS "?search=rehearsal", NULL)), "");
  cr_expect_str_eq(ids(api_get(EVENTS "?search=rehearsal", olga.access)),
                   api_printf("%lld", private_id));
}

/* term percent-encoded for a query string. */
static const char *
encoded(const char *term)
{
  char *out = api_printf("%*s", (int)(3 * strlen(term)), ""), *p = out;
  for (const unsigned char *c = (const unsigned char *)term; *c; c++)
    p += sprintf(p, "%%%02X", *c);
  *p = '\0';
  return out;
}

/* The number of public events whose column holds every folded term, by LIKE
 * itself: what the list counted before the trigram index. */
static long long
like_count(const char *column, const char *const *terms)
{
  db_t *db;
  cr_assert(db_open(&db) == 0);
  char *sql = api_printf("SELECT count(*) FROM events WHERE visibility = 'public'");
  for (size_t i = 0; terms[i]; i++)
    sql = api_printf("%s AND %s LIKE ? ESCAPE '\\'", sql, column);
  db_stmt_t *st = db_prepare(db, sql);
  cr_assert_not_null(st, "%s", sql);
  for (size_t i = 0; terms[i]; i++) {
    char *pattern = api_printf("%*s", (int)(2 * strlen(terms[i]) + 2), ""), *p = pattern;
    *p++ = '%';
    for (const char *c = terms[i]; *c; c++) {
      if (*c == '%' || *c == '_' || *c == '\\')
        *p++ = '\\';
      *p++ = *c;
    }
    *p++ = '%';
    *p = '\0';
    db_bind_text(st, (int)i + 1, pattern);
  }
  cr_assert(db_step(st) == DB_ROW);
  long long count = (long long)db_column_int(st, 0);
  db_reset(st);
  db_close(db);
  return count;
}

Test(catalogue, search_counts_what_like_counted)
{
  /* Folded terms (lower case): short ones, whole and partial words, quotes,
   * FTS5's operators and LIKE's wildcards as plain characters. */
  static const char *const terms[] = {
    "b", "er", "ber", "berl", "berlin", "erlin", "night", "ight", "jazz", "jam", "zzz",
    "\"", "\"best\"", "(50%", "%", "_", "snake_case", "*", "and", "answers:", "or",
    "\xc3\xbc" "ber", "\xcf\x83\xce\xbf\xcf\x86", "caf\xc3\xa9", "k\xc3\xb6" "ln", "a", "e",
    "1", "2031", "hall", "e\n",
  };
  for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
    const char *one[] = {terms[i], NULL};
    const char *path = api_printf(EVENTS "?upcoming=false&search=%s", encoded(terms[i]));
    cr_expect_str_eq(api_header(api_get(path, NULL), "X-Total-Count"),
                     api_printf("%lld", like_count("search_text", one)), "search %s", terms[i]);
    path = api_printf(EVENTS "?upcoming=false&location=%s", encoded(terms[i]));
    cr_expect_str_eq(api_header(api_get(path, NULL), "X-Total-Count"),
                     api_printf("%lld", like_count("location_key", one)), "location %s", terms[i]);
    const char *two[] = {terms[i], "n", NULL};
    path = api_printf(EVENTS "?upcoming=false&search=%s,n", encoded(terms[i]));
    cr_expect_str_eq(api_header(api_get(path, NULL), "X-Total-Count"),
                     api_printf("%lld", like_count("search_text", two)), "search %s,n", terms[i]);
  }
}

/* The first event of a list answer's "title". */
static const char *
first_title(struct api_resp *r)
{
  expect_status(r, 200);
  return json_string_value(json_object_get(json_array_get(r->json, 0), "title"));
}

Test(catalogue, a_write_on_another_node_is_seen_at_once)
{
  const char *detail = EVENTS "3/";
  for (int round = 0; round < 3; round++) {
    /* Cached here (asked three times), then changed on the other node. */
    for (int i = 0; i < 2; i++) {
      api_get(EVENTS "?ordering=id&search=systems", NULL);
      api_get(detail, NULL);
    }
    cr_assert_str_eq(first_title(api_get(EVENTS "?ordering=id", NULL)), "Rock im Park");
    const char *title = api_printf("Systems Day %d", round);
    expect_status(api_patch(reference(api_printf(EVENTS "3/update/")), olga.access,
                            api_jsonf("{\"title\": \"%s\"}", title)), 200);
    expect_str(api_get(detail, NULL), "title", title);
    struct api_resp *list = api_get(EVENTS "?ordering=id&search=systems", NULL);
    expect_str(json_array_get(list->json, 0), "title", title);
    /* A nested change, and a category's slug, are changes of the catalogue too. */
    expect_status(api_post(reference(api_printf(EVENTS "3/sessions/")), olga.access, api_jsonf(
        "{\"title\": \"Talk %d\", \"start_time\": \"2031-05-03T12:00:00Z\","
        " \"end_time\": \"2031-05-03T13:00:00Z\"}", round)), 201);
    json_t *sessions = json_object_get(api_get(detail, NULL)->json, "sessions");
    cr_expect(json_array_size(sessions) == (size_t)round + 1, "sessions: %zu",
              json_array_size(sessions));
  }
  cr_expect_str_eq(ids(api_get(EVENTS "?category=talks&ordering=id", NULL)),
                   api_printf("3,%lld", short_id));
  expect_status(api_patch(reference(EVENTS "categories/2/"), root.access,
                          api_json("{'slug':'lectures'}")), 200);
  cr_expect_str_eq(ids(api_get(EVENTS "?category=talks&ordering=id", NULL)), "");
  cr_expect_str_eq(ids(api_get(EVENTS "?category=lectures&ordering=id", NULL)),
                   api_printf("3,%lld", short_id));
  /* A deletion: gone from the list and the detail at once. */
  api_get(api_printf(EVENTS "%lld/", short_id), NULL);
  expect_status(api_delete(reference(api_printf(EVENTS "%lld/delete/", short_id)), olga.access),
                204);
  expect_status(api_get(api_printf(EVENTS "%lld/", short_id), NULL), 404);
  cr_expect_str_eq(ids(api_get(EVENTS "?category=lectures&ordering=id", NULL)), "3");
}

Test(catalogue, an_answer_ends_when_an_event_it_lists_starts)
{
  /* Starts in ten minutes: listed (upcoming) now, not once it started. */
  struct api_resp *r = api_post(EVENTS "create/", olga.access, api_jsonf(
      "{\"title\": \"Starting soon\", \"date_time\": \"%s\", \"location\": \"Here\","
      " \"capacity\": 0}", api_iso_from_now(600)));
  expect_status(r, 200);
  long long soon_id = api_id(r);
  struct api_resp *before = api_get(EVENTS "?limit=1", NULL);
  api_get(EVENTS "?limit=1", NULL);
  api_get(EVENTS "?limit=1", NULL); /* from the answer cache */
  expect_int(json_array_get(json_object_get(before->json, "results"), 0), "id", soon_id);
  long long count = (long long)json_integer_value(json_object_get(before->json, "count"));

  api_clock_advance(601); /* this node's clock; the uncached node keeps its own */

  struct api_resp *after = api_get(EVENTS "?limit=1", NULL);
  expect_int(after, "count", count - 1);
  cr_expect(json_integer_value(json_object_get(
                json_array_get(json_object_get(after->json, "results"), 0), "id")) != soon_id,
            "the started event is no longer listed: %s", after->body);
  /* Stored again, and served as the database gives it now. */
  for (int i = 0; i < 2; i++) {
    struct api_resp *again = api_get(EVENTS "?limit=1", NULL);
    cr_expect(again->len == after->len && memcmp(again->body, after->body, after->len) == 0,
              "answer %d after the start: %s, first %s", i, again->body, after->body);
  }
}

/* ---- the kept matches of a substring filter, filled by many readers at once ---- */

#define READERS 4
#define PAGES 7

static const char *const substring_pages[] = {
  "?search=berlin&limit=2", "?location=berlin&ordering=-date_time&limit=3",
  "?search=night&ordering=-title&limit=2",
};
#define NPAGES (sizeof substring_pages / sizeof substring_pages[0] * PAGES * 2)

struct reader {
  pthread_barrier_t *start;
  size_t first;                        /* where in the page list it begins */
  struct api_resp *got[NPAGES];
  long long started_us, ended_us;      /* monotonic */
};

static long long
monotonic_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Page i of the list: a filter, an offset, anonymous or olga. */
static const char *
page_path(size_t i)
{
  size_t filter = i / (PAGES * 2), offset = i / 2 % PAGES;
  return api_printf(EVENTS "%s&offset=%zu", substring_pages[filter], offset * 2);
}

static const char *
page_token(size_t i)
{
  return i % 2 ? olga.access : NULL;
}

/* Reads every page, from its own place in the list on (never asserts). */
static void *
read_pages(void *arg)
{
  struct reader *r = arg;
  pthread_barrier_wait(r->start);
  r->started_us = monotonic_us();
  for (size_t k = 0; k < NPAGES; k++) {
    size_t i = (r->first + k) % NPAGES;
    r->got[i] = api_get(page_path(i), page_token(i));
  }
  r->ended_us = monotonic_us();
  return NULL;
}

Test(catalogue, readers_filling_the_same_matches_at_once_get_the_plain_answers)
{
  static struct reader readers[READERS];
  bool overlapped = false;
  for (int round = 0; round < 5 && !overlapped; round++) {
    /* A write: every kept list is stale, so the readers fill them anew. */
    expect_status(api_patch(EVENTS "4/update/", olga.access,
                            api_jsonf("{\"description\": \"Pointers, round %d\"}", round)), 200);
    pthread_barrier_t start;
    cr_assert_eq(pthread_barrier_init(&start, NULL, READERS), 0);
    pthread_t threads[READERS];
    for (size_t t = 0; t < READERS; t++) {
      readers[t] = (struct reader){.start = &start, .first = t * NPAGES / READERS};
      cr_assert_eq(pthread_create(&threads[t], NULL, read_pages, &readers[t]), 0);
    }
    for (size_t t = 0; t < READERS; t++)
      pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);
    long long last_start = 0, first_end = LLONG_MAX;
    for (size_t t = 0; t < READERS; t++) {
      last_start = readers[t].started_us > last_start ? readers[t].started_us : last_start;
      first_end = readers[t].ended_us < first_end ? readers[t].ended_us : first_end;
    }
    overlapped = last_start < first_end; /* every reader was reading at one moment */
  }
  cr_assert(overlapped, "the readers never read at the same time in 5 rounds");
  for (size_t i = 0; i < NPAGES; i++) {
    struct api_resp *plain = api_get(reference(page_path(i)), page_token(i));
    expect_status(plain, 200);
    for (size_t t = 0; t < READERS; t++) {
      struct api_resp *got = readers[t].got[i];
      cr_assert_not_null(got);
      expect_status(got, 200);
      cr_expect(got->len == plain->len && memcmp(got->body, plain->body, plain->len) == 0,
                "%s %s, reader %zu: %s, uncached %s", page_path(i), i % 2 ? "(olga)" : "", t,
                got->body, plain->body);
    }
  }
}

Test(catalogue, private_answers_are_never_shared)
{
  const char *path = api_printf(EVENTS "%lld/", private_id);
  struct api_user bob = api_signup("bob", NULL);
  /* Its organizer and its registrant read it first: nobody else gets that
   * answer. */
  expect_status(api_get(path, olga.access), 200);
  expect_status(api_get(path, ada.access), 200);
  expect_status(api_get(path, NULL), 404);
  expect_status(api_get(path, bob.access), 404);
  expect_status(api_delete(api_printf("/api/registrations/%lld/", registration_id), ada.access),
                204);
  expect_status(api_get(path, ada.access), 404);
  expect_status(api_get(path, olga.access), 200);
  /* A public event's detail, cached for an anonymous caller, is the same
   * for a user. */
  api_get(EVENTS "2/", NULL);
  struct api_resp *anonymous = api_get(EVENTS "2/", NULL);
  struct api_resp *user = api_get(EVENTS "2/", ada.access);
  cr_expect_str_eq(user->body, anonymous->body);
  expect_header(user, "ETag", api_header(anonymous, "ETag"));
  /* The list: the organizer's private event is theirs alone. */
  const char *mine = ids(api_get(EVENTS "?search=rehearsal", olga.access));
  cr_expect_str_eq(mine, api_printf("%lld", private_id));
  cr_expect_str_eq(ids(api_get(EVENTS "?search=rehearsal", NULL)), "");
}

Test(catalogue, counts_follow_registrations_for_private_events)
{
  /* Registrations do not move the catalogue's version, yet a user's count
   * includes the private events they are registered for. */
  long long everyone = atoll(api_header(api_get(EVENTS, NULL), "X-Total-Count"));
  struct api_user bob = api_signup("bob", NULL);
  cr_expect_str_eq(api_header(api_get(EVENTS, bob.access), "X-Total-Count"),
                   api_printf("%lld", everyone));
  cr_expect_str_eq(api_header(api_get(EVENTS, ada.access), "X-Total-Count"),
                   api_printf("%lld", everyone + 1));
  cr_expect_str_eq(api_header(api_get(EVENTS "?search=jazz", ada.access), "X-Total-Count"), "2");
  expect_status(api_delete(api_printf("/api/registrations/%lld/", registration_id), ada.access),
                204);
  cr_expect_str_eq(api_header(api_get(EVENTS, ada.access), "X-Total-Count"),
                   api_printf("%lld", everyone));
  cr_expect_str_eq(api_header(api_get(EVENTS "?search=jazz", ada.access), "X-Total-Count"), "1");
  cr_expect_str_eq(api_header(api_get(EVENTS, NULL), "X-Total-Count"),
                   api_printf("%lld", everyone));
}

Test(catalogue, entity_tags_of_a_detail_answer_not_modified)
{
  struct api_resp *r = api_get(EVENTS "2/", NULL);
  const char *etag = api_header(r, "ETag");
  cr_assert(etag && strncmp(etag, "W/\"", 3) == 0, "weak ETag: %s", etag ? etag : "(none)");
  const char *const if_none_match[] = {api_printf("If-None-Match: %s", etag), NULL};
  struct api_resp *again = api_request("GET", EVENTS "2/", NULL, NULL, NULL, 0, if_none_match);
  expect_status(again, 304);
  expect_header(again, "ETag", etag);
  expect_status(api_patch(EVENTS "2/update/", olga.access, api_json("{'capacity':7}")), 200);
  struct api_resp *changed = api_request("GET", EVENTS "2/", NULL, NULL, NULL, 0, if_none_match);
  expect_status(changed, 200);
  expect_int(changed, "capacity", 7);
  cr_expect(strcmp(api_header(changed, "ETag"), etag) != 0, "a new tag after a change");
}

/* ---- EXPLAIN ---------------------------------------------------------- */

/* The filter a list request's query string makes. */
static void
parse_query(const char *query, arena_t *arena, struct event_filter *f)
{
  struct http_request req = {.arena = *arena};
  const char *path;
  http_target_parse(&req.arena, api_printf(EVENTS "?%s", query), &path, &req.query_params,
                    &req.nquery_params);
  json_t *errors = json_object();
  events_filter_parse(&req, f, errors);
  cr_assert(json_object_size(errors) == 0, "%s: %s", query, json_dumps(errors, 0));
  json_decref(errors);
  *arena = req.arena; /* what the parse allocated is the caller's */
}

/* The plan of sql, one line per step. */
static const char *
plan_of(db_t *db, const struct event_query_sql *q, bool sqlite)
{
  db_stmt_t *st = db_prepare(db, api_printf("%s%s", sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ",
                                            q->sql));
  cr_assert_not_null(st, "cannot prepare %s", q->sql);
  for (int i = 0; i < q->nparams; i++) {
    if (q->texts[i])
      db_bind_text(st, i + 1, q->texts[i]);
    else
      db_bind_int(st, i + 1, q->numbers[i]);
  }
  char *plan = api_strdup("");
  int rc;
  while ((rc = db_step(st)) == DB_ROW)
    plan = api_printf("%s%s\n", plan, db_column_text(st, sqlite ? 3 : 0));
  db_reset(st);
  cr_assert(rc == DB_DONE, "EXPLAIN %s: %d", q->sql, rc);
  return plan;
}

/*
 * Whether plan reads a whole table: PostgreSQL's "Seq Scan"; SQLite's
 * "SCAN t" without an index, except the events table read in the order of
 * its key for a page ordered by id (the table is that index: the walk stops
 * when the page is full).
 */
static bool
scans_a_table(const char *plan, const char *sql)
{
  bool by_key = strstr(sql, "ORDER BY id") && strstr(sql, "LIMIT");
  for (const char *line = plan; *line; line = strchr(line, '\n') + 1) {
    size_t len = strcspn(line, "\n");
    const char *scan = strstr(line, "SCAN ");
    if (scan && scan < line + len && !memmem(line, len, "INDEX", 5) &&
        !memmem(line, len, "SUBQUERY", 8) && !memmem(line, len, "CONSTANT ROW", 12) &&
        !(by_key && len == strlen("SCAN events") && strncmp(line, "SCAN events", len) == 0))
      return true;
    if (memmem(line, len, "Seq Scan", 8))
      return true;
  }
  return false;
}

struct planned {
  const char *query;
  bool sorted_by_index;   /* the page comes in order from an index (no sort) */
  const char *index;      /* an index the plan uses, or NULL */
};

Test(catalogue, every_filter_and_ordering_is_served_by_an_index)
{
  bool sqlite = strcmp(db_backend_name(), "sqlite") == 0;
  db_t *db;
  cr_assert(db_open(&db) == 0);
  /* A catalogue of some thousands, and its statistics: the planners choose
   * as they would in use, not as for a table of twenty rows (PostgreSQL
   * weighs a trigram index against the rest by the rows it expects: it
   * needs more of them to prefer it). */
  const char *bulk = sqlite
      ? "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) "
        "INSERT INTO events (title, description, date_time, location, capacity, created_at,"
        " organizer_id, visibility, category_id, search_text, location_key) "
        "SELECT 'Bulk ' || i, 'Filler text', 1950000000000000 + i * 60000000, 'Hall ' || i,"
        " i % 7, i, 1, CASE WHEN i % 20 = 0 THEN 'private' ELSE 'public' END,"
        " CASE WHEN i % 3 = 0 THEN 1 ELSE NULL END,"
        " 'bulk ' || i || char(10) || 'filler text' || char(10) || 'hall ' || i, 'hall ' || i"
        " FROM n; ANALYZE events;"
      : "INSERT INTO events (title, description, date_time, location, capacity, created_at,"
        " organizer_id, visibility, category_id, search_text, location_key) "
        "SELECT 'Bulk ' || i, 'Filler text', 1950000000000000 + i * 60000000::bigint,"
        " 'Hall ' || i, i % 7, i, 1, CASE WHEN i % 20 = 0 THEN 'private' ELSE 'public' END,"
        " CASE WHEN i % 3 = 0 THEN 1 ELSE NULL END,"
        " 'bulk ' || i || chr(10) || 'filler text' || chr(10) || 'hall ' || i, 'hall ' || i"
        " FROM generate_series(1, 40000) AS i; ANALYZE events;";
  cr_assert(db_exec_script(db, bulk) == 0);
  if (!sqlite) /* with sequential scans off, one remains only where no index serves */
    cr_assert(db_exec(db, "SET enable_seqscan = off", NULL, NULL) == 0);
  const char *search_index = sqlite ? "events_fts" : "events_search_trgm";
  const char *location_index = sqlite ? "events_fts" : "events_location_trgm";
  const struct planned planned[] = {
    {"", true, "events_public_date_time"},
    {"limit=20&offset=900", true, "events_public_date_time"},
    {"ordering=-date_time", true, "events_public_date_time"},
    {"ordering=title", true, "events_public_title"},
    {"ordering=-title", true, "events_public_title"},
    {"ordering=created_at", true, "events_public_created_at"},
    {"ordering=-capacity", true, "events_public_capacity"},
    {"ordering=id", true, "events_public_id"},
    {"ordering=-id", true, "events_public_id"},
    {"upcoming=false", true, "events_public_date_time"},
    {"start_date=2031-05-03&end_date=2031-05-12", true, "events_public_date_time"},
    {"start_date=2031-05-03", true, "events_public_date_time"},
    {"category=1", true, "events_public_category"},
    {"category=jazz", true, "events_public_category"},
    {"organizer=1", true, "events_public_organizer"},
    {"search=berlin", false, search_index},
    {"search=berlin,jazz&ordering=-title", false, search_index},
    {"location=berlin", false, location_index},
    {"location=berlin&ordering=-date_time", false, location_index},
    {"search=jazz&location=berlin&category=jazz", false, NULL},
    {"visibility=public", false, NULL},
    {"ordering=title&category=1", false, NULL},
  };
  const struct principal user = {.id = ada.id, .role = ROLE_ATTENDEE};
  const struct principal admin = {.id = root.id, .role = ROLE_ADMIN};
  const struct principal *const callers[] = {NULL, &user, &admin};
  const enum event_query_kind kinds[] = {EVENT_QUERY_PAGE, EVENT_QUERY_COUNT,
                                         EVENT_QUERY_COUNT_PRIVATE};
  arena_t arena = {0};
  for (size_t i = 0; i < sizeof planned / sizeof planned[0]; i++) {
    struct event_filter f;
    parse_query(planned[i].query, &arena, &f);
    for (size_t c = 0; c < sizeof callers / sizeof callers[0]; c++) {
      for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (kinds[k] == EVENT_QUERY_COUNT_PRIVATE && callers[c] != &user)
          continue;
        struct event_query_sql q;
        cr_assert(events_filter_sql(&f, callers[c], kinds[k], &arena, &q) == 0);
        /* PostgreSQL: a page that an index gives in order must be planned so
         * when sorting is off too. */
        if (!sqlite)
          cr_assert(db_exec(db, planned[i].sorted_by_index && kinds[k] == EVENT_QUERY_PAGE
                                    ? "SET enable_sort = off" : "SET enable_sort = on",
                            NULL, NULL) == 0);
        const char *plan = plan_of(db, &q, sqlite);
        cr_expect(!scans_a_table(plan, q.sql), "?%s (caller %zu, query %d) reads a whole table:\n%s\n%s",
                  planned[i].query, c, (int)kinds[k], q.sql, plan);
        /* What anyone may see: on SQLite the plan designed for it (the
         * statement names its index); on PostgreSQL, whose planner picks
         * among the ordered indexes by cost, the trigram index for
         * substrings: the one it takes, or once plain index scans are off
         * (a GIN index is read by bitmap scans only). */
        bool designed = planned[i].index && (sqlite || strstr(planned[i].index, "trgm"));
        if (callers[c] == NULL && kinds[k] == EVENT_QUERY_PAGE && designed) {
          if (!sqlite && !strstr(plan, planned[i].index) && strstr(planned[i].index, "trgm")) {
            cr_assert(db_exec(db, "SET enable_indexscan = off", NULL, NULL) == 0);
            plan = plan_of(db, &q, sqlite);
            cr_assert(db_exec(db, "SET enable_indexscan = on", NULL, NULL) == 0);
          }
          cr_expect(strstr(plan, planned[i].index) != NULL, "?%s: not through %s:\n%s\n%s",
                    planned[i].query, planned[i].index, q.sql, plan);
        }
        if (callers[c] == NULL && kinds[k] == EVENT_QUERY_PAGE && planned[i].sorted_by_index)
          cr_expect(!strstr(plan, "TEMP B-TREE") && !strstr(plan, "Sort"),
                    "?%s: sorted rather than read in order:\n%s\n%s", planned[i].query, q.sql,
                    plan);
      }
    }
  }
  arena_free(&arena);
  db_close(db);
}
