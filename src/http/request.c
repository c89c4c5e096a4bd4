/*
 * request.c - reading a request: query, headers, client address, body.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

const char *
http_query(struct http_request *req, const char *name)
{
  return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_header(struct http_request *req, const char *name)
{
  return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *
http_client_ip(struct http_request *req)
{
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  char *buf = arena_alloc(&req->arena, INET6_ADDRSTRLEN);
  if (buf == NULL)
    return "unknown";
  if (info == NULL || info->client_addr == NULL)
    return strcpy(buf, "unknown");
  const struct sockaddr *sa = info->client_addr;
  const void *addr = sa->sa_family == AF_INET6
                         ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
                         : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
  if (inet_ntop(sa->sa_family, addr, buf, INET6_ADDRSTRLEN) == NULL)
    return strcpy(buf, "unknown");
  return buf;
}

/* True for application/json and any application/...+json, with parameters. */
static bool
is_json_type(const char *type)
{
  size_t len = strcspn(type, ";");
  while (len > 0 && (type[len - 1] == ' ' || type[len - 1] == '\t'))
    len--;
  if (len == 16 && strncasecmp(type, "application/json", 16) == 0)
    return true;
  return len > 17 && strncasecmp(type, "application/", 12) == 0 &&
         strncasecmp(type + len - 5, "+json", 5) == 0;
}

/* Python's name for a JSON value's type, as DRF's message shows it. */
static const char *
python_type(const json_t *value)
{
  switch (json_typeof(value)) {
  case JSON_ARRAY: return "list";
  case JSON_STRING: return "str";
  case JSON_INTEGER: return "int";
  case JSON_REAL: return "float";
  case JSON_TRUE:
  case JSON_FALSE: return "bool";
  case JSON_NULL: return "NoneType";
  default: return "dict";
  }
}

json_t *
http_json_body(struct http_request *req)
{
  if (req->json_body)
    return req->json_body;
  if (req->body_len == 0)
    return req->json_body = json_object();
  const char *type = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (type == NULL || !is_json_type(type)) {
    const char *shown = type ? type : "";
    size_t n = strcspn(shown, ";");
    http_reply_detail(req, 415,
                      arena_printf(&req->arena, "Unsupported media type \"%.*s\" in request.",
                                   (int)(n > 200 ? 200 : n), shown));
    return NULL;
  }
  json_error_t error;
  json_t *value = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &error);
  if (value == NULL) {
    http_reply_detail(req, 400,
                      arena_printf(&req->arena, "JSON parse error - %s: line %d column %d (char %d)",
                                   error.text, error.line, error.column, error.position));
    return NULL;
  }
  if (!json_is_object(value)) {
    json_t *errors = json_pack("{s:[s]}", "non_field_errors",
        arena_printf(&req->arena, "Invalid data. Expected a dictionary, but got %s.",
                     python_type(value)));
    json_decref(value);
    http_reply_json(req, 400, errors);
    return NULL;
  }
  return req->json_body = value;
}
