/*
 * request.c - reading a request: query, headers, client address, body.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/error.h"
#include "core/jsonutil.h"
#include "core/text.h"
#include "http/address.h"
#include "http/form.h"
#include "http/http.h"
#include "http/multipart.h"
#include "http/query.h"

const char *
http_query(struct http_request *req, const char *name)
{
  /* Django's QueryDict.get: the last value of a name given more than once. */
  for (size_t i = req->nquery_params; i-- > 0;)
    if (strcmp(req->query_params[i].name, name) == 0)
      return req->query_params[i].value;
  return NULL;
}

const char *
http_header(struct http_request *req, const char *name)
{
  return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

struct joined {
  struct http_request *req;
  char *text;
};

/* Joins every X-Forwarded-For header with commas, as one list. */
static enum MHD_Result
join_forwarded(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  struct joined *j = cls;
  if (strcasecmp(key, "X-Forwarded-For") != 0 || value == NULL)
    return MHD_YES;
  j->text = j->text ? arena_printf(&j->req->arena, "%s,%s", j->text, value)
                    : arena_strdup(&j->req->arena, value);
  return j->text ? MHD_YES : MHD_NO;
}

const char *
http_client_ip(struct http_request *req)
{
  if (req->client_ip)
    return req->client_ip;
  struct http_address peer, client;
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == NULL || !http_address_from_sockaddr(info->client_addr, &peer))
    return "unknown";
  struct joined forwarded = {req, NULL};
  if (http_proxies_trust(&peer))
    MHD_get_connection_values(req->connection, MHD_HEADER_KIND, join_forwarded, &forwarded);
  http_address_client(&peer, forwarded.text, &client);
  char *text = arena_alloc(&req->arena, HTTP_ADDRESS_MAX);
  if (text == NULL)
    return "unknown";
  http_address_format(&client, text);
  return req->client_ip = text;
}

/* A Host header we are willing to echo into URLs: host or host:port. */
static bool
host_sane(const char *host)
{
  size_t len = strlen(host);
  if (len == 0 || len > 255)
    return false;
  for (const char *p = host; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
      return false;
  }
  return true;
}

const char *
http_base_url(struct http_request *req)
{
  if (config->public_url && config->public_url[0]) {
    size_t len = strlen(config->public_url);
    while (len > 0 && config->public_url[len - 1] == '/')
      len--;
    return arena_strndup(&req->arena, config->public_url, len);
  }
  const char *host = http_header(req, "Host");
  if (host && host_sane(host))
    return arena_printf(&req->arena, "http://%s", host);
  return arena_printf(&req->arena, "http://%s:%u", config->bind, config->port);
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

json_t *
http_body_parse(const char *type, const char *body, size_t len, arena_t *arena,
                unsigned *status, json_t **error)
{
  *status = 0;
  *error = NULL;
  if (len == 0)
    return json_object();
  bool multipart = type && multipart_is_form_data(type);
  if (multipart || (type && form_is_urlencoded(type))) {
    /* An HTML form, as DRF's FormParser and MultiPartParser read it. */
    json_t *data = NULL;
    const char *why = NULL;
    int rc = multipart ? form_parse_multipart(type, body, len, arena, &data, &why)
                       : form_parse_urlencoded(body, len, &data, &why);
    if (rc == EVENTAPI_ENOMEM) {
      *status = 500;
    } else if (rc < 0) {
      *status = 400;
      *error = json_pack("{s:s}", "detail",
                         arena_printf(arena, "%s parse error - %s",
                                      multipart ? "Multipart form" : "Form", why));
    }
    return data;
  }
  if (type == NULL || !is_json_type(type)) {
    /* Shown as Django reads a header, ISO-8859-1: any bytes make text. */
    const char *shown = type ? type : "";
    size_t n = strcspn(shown, ";");
    char media_type[2 * 200 + 1];
    text_latin1_to_utf8(shown, n > 200 ? 200 : n, media_type, sizeof media_type);
    *status = 415;
    *error = json_pack("{s:s}", "detail",
                       arena_printf(arena, "Unsupported media type \"%s\" in request.",
                                    media_type));
    return NULL;
  }
  json_error_t parse_error;
  json_t *value = json_loadb(body, len, JSON_DECODE_ANY, &parse_error);
  if (value == NULL) {
    /* jansson's text may quote the body where it broke off, half a
     * character or bytes that are not UTF-8: shown repaired. */
    char reason[3 * sizeof parse_error.text];
    text_utf8_repair(parse_error.text, strlen(parse_error.text), reason, sizeof reason);
    *status = 400;
    *error = json_pack("{s:s}", "detail",
                       arena_printf(arena, "JSON parse error - %s: line %d column %d (char %d)",
                                    reason, parse_error.line, parse_error.column,
                                    parse_error.position));
    return NULL;
  }
  if (!json_is_object(value)) {
    *status = 400;
    *error = json_pack("{s:[s]}", "non_field_errors",
        arena_printf(arena, "Invalid data. Expected a dictionary, but got %s.",
                     json_python_type(value)));
    json_decref(value);
    return NULL;
  }
  return value;
}

json_t *
http_json_body(struct http_request *req)
{
  if (req->json_body)
    return req->json_body;
  unsigned status;
  json_t *error;
  json_t *data = http_body_parse(http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE), req->body,
                                 req->body_len, &req->arena, &status, &error);
  if (status == 500)
    http_reply_internal(req, "out of memory reading a form");
  else if (status != 0)
    http_reply_json(req, status, error);
  return req->json_body = data;
}

struct query_args {
  const char **keys;
  const char **values;
  int count;
};

/* Writes s URL-encoded as Python's quote_plus does; returns the end. */
static char *
write_encoded(char *p, const char *s)
{
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
        *c == '-' || *c == '_' || *c == '.' || *c == '~')
      *p++ = (char)*c;
    else if (*c == ' ')
      *p++ = '+';
    else
      p += sprintf(p, "%%%02X", *c);
  }
  return p;
}

const char *
http_page_url(struct http_request *req, int64_t limit, int64_t offset)
{
  /* Room for every parameter, plus limit and offset. */
  size_t total = req->nquery_params;
  struct query_args args = {
    .keys = arena_calloc(&req->arena, total + 2, sizeof(char *)),
    .values = arena_calloc(&req->arena, total + 2, sizeof(char *)),
  };
  if (args.keys == NULL || args.values == NULL)
    return NULL;
  for (size_t i = 0; i < total; i++) {
    const struct http_param *param = &req->query_params[i];
    if (strcmp(param->name, "limit") == 0 || strcmp(param->name, "offset") == 0)
      continue;
    args.keys[args.count] = param->name;
    args.values[args.count++] = param->value;
  }
  char limit_text[24], offset_text[24];
  snprintf(limit_text, sizeof limit_text, "%lld", (long long)limit);
  snprintf(offset_text, sizeof offset_text, "%lld", (long long)offset);
  args.keys[args.count] = "limit";
  args.values[args.count++] = limit_text;
  if (offset > 0) {
    args.keys[args.count] = "offset";
    args.values[args.count++] = offset_text;
  }
  /* Sorted by name (a stable insertion sort: few parameters). */
  for (int i = 1; i < args.count; i++) {
    for (int j = i; j > 0 && strcmp(args.keys[j - 1], args.keys[j]) > 0; j--) {
      const char *k = args.keys[j], *v = args.values[j];
      args.keys[j] = args.keys[j - 1];
      args.values[j] = args.values[j - 1];
      args.keys[j - 1] = k;
      args.values[j - 1] = v;
    }
  }
  const char *base = http_base_url(req);
  if (base == NULL)
    return NULL;
  size_t size = strlen(base) + strlen(req->path) + 2;
  for (int i = 0; i < args.count; i++)
    size += 3 * (strlen(args.keys[i]) + strlen(args.values[i])) + 2;
  char *url = arena_alloc(&req->arena, size);
  if (url == NULL)
    return NULL;
  char *p = url + sprintf(url, "%s%s?", base, req->path);
  for (int i = 0; i < args.count; i++) {
    if (i > 0)
      *p++ = '&';
    p = write_encoded(p, args.keys[i]);
    *p++ = '=';
    p = write_encoded(p, args.values[i]);
  }
  *p = '\0';
  return url;
}
