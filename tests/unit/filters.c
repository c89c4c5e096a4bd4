/*
 * filters.c - the event list's query parameters (events_filter_parse in
 * src/events/filters.c), read from a request target without a database.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonutil.h"
#include "core/text.h"
#include "events/filters.h"
#include "http/query.h"

static struct http_request req;
static json_t *errors;

static void
teardown(void)
{
  json_decref(errors);
  errors = NULL;
  arena_free(&req.arena);
}

TestSuite(filters, .fini = teardown);

/* Parses target's parameters into *f; the errors are in `errors`. */
static void
parse(const char *target, struct event_filter *f)
{
  arena_free(&req.arena);
  memset(&req, 0, sizeof req);
  cr_assert_eq(http_target_parse(&req.arena, target, &req.path, &req.query_params,
                                 &req.nquery_params), HTTP_TARGET_OK);
  json_decref(errors);
  errors = json_object();
  events_filter_parse(&req, f, errors);
}

/* The one message of field. */
static const char *
message(const char *field)
{
  json_t *list = json_object_get(errors, field);
  cr_assert_eq(json_array_size(list), 1, "%s: one message expected", field);
  return json_string_value(json_array_get(list, 0));
}

Test(filters, the_parameters)
{
  struct event_filter f;
  parse("/api/events/?search=Jazz,%20Blues&category=live&ordering=-title&limit=5&offset=10"
        "&upcoming=false&visibility=private&organizer=7", &f);
  cr_assert_not(json_errors_any(errors));
  cr_assert_eq(f.nterms, 2);
  cr_assert_str_eq(f.terms[0].pattern, "%jazz%");
  cr_assert_str_eq(f.terms[0].text, "jazz");
  cr_assert_str_eq(f.category_slug, "live");
  cr_assert_eq(f.ordering, ORDER_TITLE);
  cr_assert(f.descending && f.paginate && !f.upcoming);
  cr_assert_eq(f.limit, 5);
  cr_assert_eq(f.offset, 10);
  cr_assert_eq(f.organizer, 7);
  parse("/api/events/?ordering=size&limit=0", &f);
  cr_assert_str_eq(message("ordering"),
                   "Select a valid choice. size is not one of the available choices.");
  cr_assert_str_eq(message("limit"), "Ensure this value is greater than or equal to 1.");
}

/*
 * A refused choice is shown to 100 bytes at most, cut between characters:
 * cut inside one, the message was not UTF-8, could not be made a JSON
 * string, and the field's list came back empty. Found by fuzz/filters.c.
 */
Test(filters, a_long_refused_choice_is_cut_between_characters)
{
  static const char *const params[] = {"ordering", "visibility"};
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
    char target[512], expected[256] = "Select a valid choice. a";
    snprintf(target, sizeof target, "/api/events/?%s=a", params[i]);
    for (int n = 0; n < 60; n++)
      strcat(target, "%C3%A9");
    for (int n = 0; n < 49; n++)
      strcat(expected, "\xc3\xa9");
    strcat(expected, " is not one of the available choices.");
    struct event_filter f;
    parse(target, &f);
    cr_assert_str_eq(message(params[i]), expected);
  }
}
