/*
 * door.c - a batch of scans made offline (tickets_scans_read): the list,
 * each scan's code, time and device, as a device at the door sends them.
 *
 * Input: the Content-Type line, then the body.
 */
#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "tickets/serializers.h"
#include "support.h"

/* The request's time, and its X-Device. */
#define NOW INT64_C(1800000000000000)
static const char DEVICE[] = "door-1";

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
  struct tickets_scan *scans;
  size_t count;
  json_t *errors;
  int rc = tickets_scans_read(body, DEVICE, NOW, &arena, &scans, &count, &errors);
  FUZZ_CHECK(rc == 0 || rc == EVENTAPI_EINVAL);
  FUZZ_CHECK((rc == 0) == (errors == NULL));
  if (rc == 0) {
    /* What passed is what the unit of work reads: every scan whole. */
    FUZZ_CHECK(count >= 1 && count <= TICKETS_SYNC_MAX);
    for (size_t i = 0; i < count; i++) {
      FUZZ_CHECK(scans[i].code != NULL && text_valid_utf8(scans[i].code, strlen(scans[i].code)));
      FUZZ_CHECK(text_utf8_length(scans[i].code) <= 100);
      FUZZ_CHECK(scans[i].scanned_at <= NOW);
      FUZZ_CHECK(scans[i].device != NULL &&
                 text_utf8_length(scans[i].device) <= TICKETS_DEVICE_MAX);
    }
  } else {
    /* {"scans": [message]} or {"scans": [{...}, ...]}, one per scan. */
    FUZZ_CHECK(json_is_object(errors) && json_object_size(errors) == 1);
    fuzz_check_errors(errors);
    json_decref(errors);
  }
  json_decref(body);
  arena_free(&arena);
  return 0;
}
