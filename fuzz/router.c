/*
 * router.c - request paths against the application's route table
 * (router_match), after the target is decoded as the server decodes it.
 *
 * Input: the method, one space, then the request target ("GET /api/events/3/").
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http/router.h"
#include "support.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  if (app_routes_register() < 0)
    abort();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *line = fuzz_text(data, size);
  char *space = strchr(line, ' ');
  const char *method = line, *target = "/";
  if (space) {
    *space = '\0';
    target = space + 1;
  }
  struct http_request req;
  fuzz_request_init(&req, target);
  if (req.path == NULL)
    req.path = "/"; /* as the server does when the target cannot be read */
  req.method = router_method(method);
  req.method_name = method;
  unsigned allowed = 0;
  enum router_result routed = router_match(&req, &allowed);
  switch (routed) {
  case ROUTER_FOUND:
    FUZZ_CHECK(req.route != NULL && req.route->handler != NULL);
    FUZZ_CHECK(req.nparams >= 0 && req.nparams <= HTTP_MAX_PARAMS);
    for (int i = 0; i < req.nparams; i++)
      FUZZ_CHECK(req.params[i] != NULL && req.params[i][0] != '\0' && req.ids[i] >= 0);
    FUZZ_CHECK(router_index(req.route) < router_count());
    break;
  case ROUTER_NO_METHOD: {
    FUZZ_CHECK(req.route != NULL && allowed != 0 && (allowed & HTTP_OPTIONS));
    char header[128];
    router_allow_header(allowed, header, sizeof header);
    FUZZ_CHECK(header[0] != '\0');
    break;
  }
  case ROUTER_NO_PATH:
    FUZZ_CHECK(allowed == 0);
    break;
  default:
    FUZZ_CHECK(!"a router result");
  }
  fuzz_request_free(&req);
  free(line);
  return 0;
}
