/*
 * timefmt.c - date-time and date parsing (time_parse_iso, time_parse_date),
 * as the DateTimeFields of bodies and the date filters of lists read them,
 * and the text the API writes back (time_format_iso), which must read back
 * as the same instant.
 *
 * Input: the text.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "support.h"

/* 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z in microseconds. */
#define FIRST_US INT64_C(-62135596800000000)
#define END_US INT64_C(253402300800000000)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

static void
check_round_trip(int64_t us)
{
  FUZZ_CHECK(us >= FIRST_US && us < END_US);
  char text[TIME_ISO_MAX];
  size_t len = time_format_iso(us, text);
  FUZZ_CHECK(len > 0 && len < TIME_ISO_MAX && strlen(text) == len);
  int64_t again = 0;
  FUZZ_CHECK(time_parse_iso(text, &again) == 0 && again == us);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  int64_t us = 0;
  int rc = time_parse_iso(text, &us);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  if (rc == 0)
    check_round_trip(us);
  rc = time_parse_date(text, &us);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  if (rc == 0) {
    check_round_trip(us);
    FUZZ_CHECK(us % INT64_C(86400000000) == 0); /* midnight */
  }
  /* Any instant the API can hold, from the first eight bytes. */
  if (size >= 8) {
    uint64_t raw;
    memcpy(&raw, data, sizeof raw);
    check_round_trip(FIRST_US + (int64_t)(raw % (uint64_t)(END_US - FIRST_US)));
  }
  free(text);
  return 0;
}
