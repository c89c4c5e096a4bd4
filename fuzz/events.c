/*
 * events.c - the event body (events_validate): the event's fields, its
 * category (looked up in a database of two categories), and its nested
 * sessions and ticket types, as a create and as a partial update.
 *
 * Input: the Content-Type line, then the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "events/serializers.h"
#include "support.h"

static db_t *db;

/* 2030-01-01T00:00:00Z: a fixed "now", so that a run can be replayed. */
#define NOW_US INT64_C(1893456000000000)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  db = fuzz_database("events", "INSERT INTO categories (id, name, name_key, slug) VALUES"
                                " (1, 'Conferences', 'conferences', 'conferences'),"
                                " (2, 'Meetups', 'meetups', 'meetups');");
  return 0;
}

static void
check_text(const char *s)
{
  FUZZ_CHECK(s == NULL || text_valid_utf8(s, strlen(s)));
}

/* What passed validation is what the database will store. */
static void
check_event(const struct event *e, const struct event_nested *nested)
{
  check_text(e->title);
  check_text(e->description);
  check_text(e->location);
  FUZZ_CHECK(e->capacity >= 0);
  FUZZ_CHECK(e->category_id == 0 || e->category_id == 1 || e->category_id == 2);
  FUZZ_CHECK(nested->nsessions <= EVENT_NESTED_MAX && nested->nticket_types <= EVENT_NESTED_MAX);
  for (size_t i = 0; i < nested->nsessions; i++) {
    check_text(nested->sessions[i].title);
    check_text(nested->sessions[i].speaker);
    FUZZ_CHECK(nested->sessions[i].start_time < nested->sessions[i].end_time);
  }
  for (size_t i = 0; i < nested->nticket_types; i++) {
    check_text(nested->ticket_types[i].name);
    FUZZ_CHECK(nested->ticket_types[i].price_cents >= 0 &&
               nested->ticket_types[i].price_cents <= TICKET_PRICE_MAX);
    FUZZ_CHECK(nested->ticket_types[i].quantity >= 0);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  arena_t arena = {0};
  json_t *body = fuzz_body(data, size, &arena);
  if (body == NULL) {
    arena_free(&arena);
    return 0;
  }
  for (int partial = 0; partial < 2; partial++) {
    struct event e = {.id = 3, .organizer_id = 7, .visibility = VISIBILITY_PUBLIC,
                      .description = ""};
    if (partial) {
      e.title = "Systems Programming Day";
      e.location = "Berlin";
      e.date_time = NOW_US + INT64_C(86400000000);
      e.capacity = 300;
      e.category_id = 1;
    }
    struct event_nested nested;
    json_t *errors = json_object();
    int rc = events_validate(body, partial, !partial, db, NOW_US, &arena, &e, &nested, errors);
    FUZZ_CHECK(rc == (json_errors_any(errors) ? EVENTAPI_EINVAL : 0));
    if (!json_errors_any(errors))
      check_event(&e, &nested);
    fuzz_check_errors(errors);
    json_decref(errors);
  }
  json_decref(body);
  arena_free(&arena);
  return 0;
}
