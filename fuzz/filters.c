/*
 * filters.c - the query parameters of the lists: the event list's filters,
 * ordering and pagination (events_filter_parse), every other list's limit
 * and offset (pagination_params_or_reply), and the page links built from
 * them (http_page_url). No database: only what the parameters parse to.
 *
 * Input: the request target ("/api/events/?search=...").
 */
#include <stdlib.h>
#include <string.h>

#include "core/jsonutil.h"
#include "core/text.h"
#include "events/filters.h"
#include "shortcuts/pagination.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *target = fuzz_text(data, size);
  struct http_request req;
  fuzz_request_init(&req, target);
  if (req.target_error != 0) {
    fuzz_request_free(&req);
    free(target);
    return 0;
  }

  struct event_filter f;
  json_t *errors = json_object();
  events_filter_parse(&req, &f, errors);
  fuzz_check_errors(errors);
  if (!json_errors_any(errors)) {
    FUZZ_CHECK(f.nterms >= 0 && f.nterms <= EVENTS_SEARCH_TERMS_MAX);
    for (int i = 0; i < f.nterms; i++) {
      const struct event_term *t = &f.terms[i];
      FUZZ_CHECK(t->pattern != NULL && text_valid_utf8(t->pattern, strlen(t->pattern)));
      FUZZ_CHECK(t->text != NULL && text_valid_utf8(t->text, strlen(t->text)));
    }
    FUZZ_CHECK(f.limit >= 1 && f.limit <= EVENTS_LIMIT_MAX);
    FUZZ_CHECK(f.offset >= 0);
    FUZZ_CHECK(f.paginate || f.offset == 0);
    FUZZ_CHECK(f.category_id >= 0);
    const char *url = http_page_url(&req, f.limit, f.offset + f.limit);
    FUZZ_CHECK(url != NULL && strncmp(url, "https://events.example.com", 26) == 0);
  }
  json_decref(errors);

  struct page page;
  if (pagination_params_or_reply(&req, &page)) {
    FUZZ_CHECK(!req.replied);
    FUZZ_CHECK(page.limit >= 1 && page.limit <= PAGINATION_MAX && page.offset >= 0);
  } else {
    FUZZ_CHECK(req.replied && req.status == 400);
  }
  fuzz_request_free(&req);
  free(target);
  return 0;
}
