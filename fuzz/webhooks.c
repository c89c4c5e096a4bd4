/*
 * webhooks.c - the webhook body (webhooks_validate): url, events, event
 * (looked up in a database holding one event of the caller's and one of
 * another organizer's), description and is_active, as a create and as a
 * partial update.
 *
 * Input: the Content-Type line, then the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "delivery/webhook.h"
#include "webhooks/serializers.h"
#include "support.h"

static db_t *db;

/* The caller: organizer 2, whose event is 1; event 2 is organizer 3's. */
static const struct principal caller = {.id = 2, .role = ROLE_ORGANIZER};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  db = fuzz_database("webhooks", FUZZ_TWO_ORGANIZERS);
  return 0;
}

/* What passed validation is what the database will store and send to. */
static void
check_webhook(const struct webhook *w, bool creating)
{
  char why[256];
  FUZZ_CHECK(w->url != NULL && delivery_webhook_url_check(config, w->url, why,
                                                           sizeof why) == 0);
  FUZZ_CHECK(strlen(w->url) <= WEBHOOKS_URL_MAX);
  FUZZ_CHECK(w->events != 0 && (w->events & ~(WEBHOOKS_BIT(WEBHOOKS_NTYPES) - 1)) == 0);
  FUZZ_CHECK(w->event_id == 0 || (creating && w->event_id == 1));
  FUZZ_CHECK(w->description != NULL &&
             text_valid_utf8(w->description, strlen(w->description)) &&
             text_utf8_length(w->description) <= WEBHOOKS_DESCRIPTION_MAX);
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
  for (int creating = 1; creating >= 0; creating--) {
    /* A create starts from the defaults; an update from a stored webhook. */
    struct webhook w = {
      .owner_id = caller.id, .description = "", .is_active = true,
      .url = creating ? NULL : "https://hooks.example.com/in",
      .events = creating ? 0 : WEBHOOKS_BIT(WEBHOOKS_PING),
    };
    json_t *errors = json_object();
    int rc = webhooks_validate(body, creating, db, &caller, &arena, &w, errors);
    FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
    FUZZ_CHECK((rc == 0) == !json_errors_any(errors));
    if (rc == 0)
      check_webhook(&w, creating);
    fuzz_check_errors(errors);
    json_decref(errors);
  }
  json_decref(body);
  arena_free(&arena);
  return 0;
}
