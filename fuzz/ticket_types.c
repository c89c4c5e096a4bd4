/*
 * ticket_types.c - a ticket type's body (ticket_types_validate, its price
 * read by money_parse), as a create and as a partial update.
 *
 * Input: the Content-Type line, then the body.
 */
#include <string.h>

#include "core/jsonutil.h"
#include "core/text.h"
#include "events/serializers.h"
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
  arena_t arena = {0};
  json_t *body = fuzz_body(data, size, &arena);
  if (body == NULL) {
    arena_free(&arena);
    return 0;
  }
  for (int partial = 0; partial < 2; partial++) {
    struct ticket_type t = {.id = 4, .event_id = 3};
    if (partial) {
      t.name = "General";
      t.price_cents = 4900;
      t.quantity = 250;
    }
    json_t *errors = json_object();
    ticket_types_validate(body, partial, &arena, &t, errors);
    fuzz_check_errors(errors);
    if (!json_errors_any(errors)) {
      FUZZ_CHECK(t.name != NULL && text_valid_utf8(t.name, strlen(t.name)));
      FUZZ_CHECK(t.price_cents >= 0 && t.price_cents <= TICKET_PRICE_MAX);
      FUZZ_CHECK(t.quantity >= 0);
      /* The price as the API shows it reads back as the same cents. */
      char shown[24];
      money_format(t.price_cents, shown, sizeof shown);
      json_t *again = json_string(shown);
      int64_t cents = -1;
      char message[DECIMAL_MESSAGE_MAX];
      FUZZ_CHECK(money_parse(again, &cents, message) == 0 && cents == t.price_cents);
      json_decref(again);
    }
    json_decref(errors);
  }
  json_decref(body);
  arena_free(&arena);
  return 0;
}
