/*
 * body.c - a view's request body (see body.h).
 */
#include "shortcuts/body.h"

#include "http/form.h"

json_t *
body_or_reply(struct http_request *req, const char *const *form_optional)
{
  json_t *body = http_json_body(req);
  if (body && form_optional)
    form_blank_as_absent(req, body, form_optional);
  return body;
}
