/*
 * body.h - a view's request body, or the answer that it cannot be read.
 */
#ifndef EVENTAPI_SHORTCUTS_BODY_H
#define EVENTAPI_SHORTCUTS_BODY_H

#include <jansson.h>

#include "http/http.h"

/*
 * The request body as a JSON object (http_json_body(): JSON, or a form as
 * an object of strings), or NULL after replying 400 or 415. form_optional
 * (a NULL-terminated list, or NULL) names the optional fields that take
 * neither a blank nor null: in a form, where every input is sent, a blank
 * one is removed as not given (form_blank_as_absent()). The object is
 * borrowed: the request owns it.
 */
json_t *body_or_reply(struct http_request *req, const char *const *form_optional);

#endif
