/*
 * hosts.c - ALLOWED_HOSTS (http_hosts_configure) and the Host header
 * checked against it (http_hosts_allow), whose refusal the server sends as
 * a JSON 400.
 *
 * Input: two lines: ALLOWED_HOSTS, then the Host header's value.
 */
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "http/hosts.h"
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
  char *text = fuzz_text(data, size);
  char *fields[2];
  fuzz_fields(text, fields, 2);
  FUZZ_CHECK(http_hosts_configure(fields[0]) == 0);
  char why[512];
  if (!http_hosts_allow(fields[1], why, sizeof why)) {
    /* The reason goes out as {"detail": why}: it must be text JSON can hold. */
    FUZZ_CHECK(why[0] != '\0' && text_valid_utf8(why, strlen(why)));
  }
  http_hosts_free();
  free(text);
  return 0;
}
