/*
 * decimal.c - decimal parsing (decimal_parse, as DRF's DecimalField reads a
 * price) under several field rules, and Python's repr of a float
 * (decimal_repr), which must read back as the same double.
 *
 * Input: the text; its first eight bytes are also read as a double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/error.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

static const struct decimal_rules rules[] = {
  {.max_digits = 8, .decimal_places = 2}, /* a ticket type's price */
  {.max_digits = 18, .decimal_places = 0},
  {.max_digits = 18, .decimal_places = 18},
  {.max_digits = 5, .decimal_places = 5},
  {.max_digits = 1, .decimal_places = 0},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
    int64_t scaled = 0;
    char message[DECIMAL_MESSAGE_MAX] = "";
    int rc = decimal_parse(text, &rules[i], &scaled, message);
    FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
    if (rc == 0) {
      /* At most max_digits digits: |scaled| < 10^max_digits. */
      int64_t limit = 1;
      for (int d = 0; d < rules[i].max_digits; d++)
        limit *= 10;
      FUZZ_CHECK(scaled > -limit && scaled < limit);
    } else {
      FUZZ_CHECK(message[0] != '\0' && strlen(message) < DECIMAL_MESSAGE_MAX);
    }
  }
  if (size >= sizeof(double)) {
    double value;
    memcpy(&value, data, sizeof value);
    char repr[DECIMAL_REPR_MAX];
    size_t len = decimal_repr(value, repr);
    FUZZ_CHECK(len > 0 && len < DECIMAL_REPR_MAX && strlen(repr) == len);
    if (isfinite(value)) {
      FUZZ_CHECK(strtod(repr, NULL) == value);
      /* What a client sends as that number, DRF reads from that text. */
      int64_t scaled;
      char message[DECIMAL_MESSAGE_MAX];
      int rc = decimal_parse(repr, &rules[1], &scaled, message);
      FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
    }
  }
  free(text);
  return 0;
}
