/*
 * schema_check.c - a small JSON Schema validator and the OpenAPI response
 * lookup (see schema_check.h).
 */
#include "support/schema_check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64
#define POINTER_MAX 512

struct check {
  const json_t *root;
  char *err;
  size_t errlen;
  char where[POINTER_MAX]; /* JSON pointer of the instance being checked */
  int depth;
};

static bool __attribute__((format(printf, 2, 3)))
fail(struct check *c, const char *fmt, ...)
{
  char why[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen, "%s: %s", c->where[0] ? c->where : "(body)", why);
  return false;
}

const json_t *
schema_check_resolve(const json_t *root, const char *ref)
{
  if (ref == NULL || ref[0] != '#')
    return NULL;
  const json_t *at = root;
  const char *p = ref + 1;
  while (at != NULL && *p == '/') {
    p++;
    char token[256];
    size_t n = 0;
    while (*p && *p != '/' && n + 1 < sizeof token) {
      if (p[0] == '~' && p[1] == '1') {
        token[n++] = '/';
        p += 2;
      } else if (p[0] == '~' && p[1] == '0') {
        token[n++] = '~';
        p += 2;
      } else {
        token[n++] = *p++;
      }
    }
    token[n] = '\0';
    if (json_is_object(at)) {
      at = json_object_get(at, token);
    } else if (json_is_array(at)) {
      char *end;
      unsigned long i = strtoul(token, &end, 10);
      at = *end == '\0' ? json_array_get(at, i) : NULL;
    } else {
      at = NULL;
    }
  }
  return *p == '\0' ? at : NULL;
}

static bool validate(struct check *c, const json_t *schema, const json_t *inst);

static bool
type_is(const char *type, const json_t *inst)
{
  if (strcmp(type, "object") == 0)
    return json_is_object(inst);
  if (strcmp(type, "array") == 0)
    return json_is_array(inst);
  if (strcmp(type, "string") == 0)
    return json_is_string(inst);
  if (strcmp(type, "boolean") == 0)
    return json_is_boolean(inst);
  if (strcmp(type, "null") == 0)
    return json_is_null(inst);
  if (strcmp(type, "number") == 0)
    return json_is_number(inst);
  if (strcmp(type, "integer") == 0)
    return json_is_integer(inst) ||
           (json_is_real(inst) && json_real_value(inst) == (double)(long long)json_real_value(inst));
  return false;
}

static const char *
type_name(const json_t *inst)
{
  switch (json_typeof(inst)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "number";
  case JSON_TRUE:
  case JSON_FALSE: return "boolean";
  case JSON_NULL: return "null";
  }
  return "?";
}

/* Validates inst as the member key (or item index) of the current one. */
static bool
validate_child(struct check *c, const json_t *schema, const json_t *inst,
               const char *key, size_t index)
{
  size_t len = strlen(c->where);
  if (key != NULL)
    snprintf(c->where + len, sizeof c->where - len, "/%s", key);
  else
    snprintf(c->where + len, sizeof c->where - len, "/%zu", index);
  bool ok = validate(c, schema, inst);
  c->where[len] = '\0';
  return ok;
}

/* The number of subschemas of list that inst matches (stops at stop). */
static size_t
count_matches(struct check *c, const json_t *list, const json_t *inst, size_t stop,
              char *first_err, size_t first_len)
{
  size_t matches = 0, i;
  const json_t *sub;
  first_err[0] = '\0';
  json_array_foreach(list, i, sub) {
    if (validate(c, sub, inst)) {
      if (++matches >= stop)
        break;
    } else if (first_err[0] == '\0') {
      snprintf(first_err, first_len, "%s", c->err);
    }
  }
  return matches;
}

static size_t
utf8_length(const char *s, size_t bytes)
{
  size_t n = 0;
  for (size_t i = 0; i < bytes; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

static bool
validate(struct check *c, const json_t *schema, const json_t *inst)
{
  if (json_is_true(schema))
    return true;
  if (json_is_false(schema))
    return fail(c, "no value is allowed here");
  if (!json_is_object(schema))
    return fail(c, "the schema is not an object");
  if (++c->depth > MAX_DEPTH) {
    c->depth--;
    return fail(c, "schema nesting too deep");
  }
  bool ok = true;
  const json_t *v;

  if ((v = json_object_get(schema, "$ref")) != NULL) {
    const json_t *target = schema_check_resolve(c->root, json_string_value(v));
    if (target == NULL)
      ok = fail(c, "unresolved $ref %s", json_string_value(v));
    else
      ok = validate(c, target, inst);
  }
  if (ok && (v = json_object_get(schema, "type")) != NULL) {
    bool any = false;
    if (json_is_string(v)) {
      any = type_is(json_string_value(v), inst);
    } else {
      size_t i;
      const json_t *t;
      json_array_foreach(v, i, t) any = any || type_is(json_string_value(t), inst);
    }
    if (!any) {
      char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      ok = fail(c, "expected type %s, got %s", want ? want : "?", type_name(inst));
      free(want);
    }
  }
  if (ok && (v = json_object_get(schema, "const")) != NULL && !json_equal(v, inst))
    ok = fail(c, "not the constant value");
  if (ok && (v = json_object_get(schema, "enum")) != NULL) {
    bool found = false;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) found = found || json_equal(e, inst);
    if (!found) {
      char *text = json_dumps(inst, JSON_COMPACT | JSON_ENCODE_ANY);
      ok = fail(c, "%.100s is not one of the enum", text ? text : "?");
      free(text);
    }
  }
  if (ok && json_is_number(inst)) {
    double x = json_number_value(inst);
    if ((v = json_object_get(schema, "minimum")) != NULL && x < json_number_value(v))
      ok = fail(c, "%g is below the minimum %g", x, json_number_value(v));
    else if ((v = json_object_get(schema, "maximum")) != NULL && x > json_number_value(v))
      ok = fail(c, "%g is above the maximum %g", x, json_number_value(v));
  }
  if (ok && json_is_string(inst)) {
    size_t n = utf8_length(json_string_value(inst), json_string_length(inst));
    if ((v = json_object_get(schema, "minLength")) != NULL && n < (size_t)json_integer_value(v))
      ok = fail(c, "string shorter than %lld", (long long)json_integer_value(v));
    else if ((v = json_object_get(schema, "maxLength")) != NULL && n > (size_t)json_integer_value(v))
      ok = fail(c, "string longer than %lld", (long long)json_integer_value(v));
  }
  if (ok && json_is_object(inst)) {
    const json_t *props = json_object_get(schema, "properties");
    const json_t *extra = json_object_get(schema, "additionalProperties");
    size_t count = json_object_size(inst);
    if ((v = json_object_get(schema, "minProperties")) != NULL && count < (size_t)json_integer_value(v))
      ok = fail(c, "fewer than %lld members", (long long)json_integer_value(v));
    if (ok && (v = json_object_get(schema, "maxProperties")) != NULL && count > (size_t)json_integer_value(v))
      ok = fail(c, "more than %lld members", (long long)json_integer_value(v));
    if (ok && (v = json_object_get(schema, "required")) != NULL) {
      size_t i;
      const json_t *name;
      json_array_foreach(v, i, name) {
        if (json_object_get(inst, json_string_value(name)) == NULL) {
          ok = fail(c, "missing required member \"%s\"", json_string_value(name));
          break;
        }
      }
    }
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)inst, key, member) {
      if (!ok)
        break;
      const json_t *sub = props ? json_object_get(props, key) : NULL;
      if (sub != NULL)
        ok = validate_child(c, sub, member, key, 0);
      else if (json_is_false(extra))
        ok = fail(c, "unexpected member \"%s\"", key);
      else if (extra != NULL)
        ok = validate_child(c, extra, member, key, 0);
    }
  }
  if (ok && json_is_array(inst)) {
    size_t n = json_array_size(inst);
    if ((v = json_object_get(schema, "minItems")) != NULL && n < (size_t)json_integer_value(v))
      ok = fail(c, "fewer than %lld items", (long long)json_integer_value(v));
    if (ok && (v = json_object_get(schema, "maxItems")) != NULL && n > (size_t)json_integer_value(v))
      ok = fail(c, "more than %lld items", (long long)json_integer_value(v));
    if (ok && (v = json_object_get(schema, "items")) != NULL) {
      size_t i;
      const json_t *item;
      json_array_foreach(inst, i, item) {
        if (!(ok = validate_child(c, v, item, NULL, i)))
          break;
      }
    }
  }
  char first[sizeof c->where + 400];
  if (ok && (v = json_object_get(schema, "allOf")) != NULL) {
    size_t i;
    const json_t *sub;
    json_array_foreach(v, i, sub) {
      if (!(ok = validate(c, sub, inst)))
        break;
    }
  }
  if (ok && (v = json_object_get(schema, "anyOf")) != NULL &&
      count_matches(c, v, inst, 1, first, sizeof first) == 0)
    ok = fail(c, "matches none of anyOf (first: %.300s)", first);
  if (ok && (v = json_object_get(schema, "oneOf")) != NULL) {
    size_t matches = count_matches(c, v, inst, 2, first, sizeof first);
    if (matches == 0)
      ok = fail(c, "matches none of oneOf (first: %.300s)", first);
    else if (matches > 1)
      ok = fail(c, "matches more than one of oneOf");
  }
  if (ok && (v = json_object_get(schema, "not")) != NULL) {
    if (validate(c, v, inst))
      ok = fail(c, "matches a \"not\" schema");
  }
  c->depth--;
  return ok;
}

bool
schema_check_value(const json_t *root, const json_t *schema, const json_t *instance,
                   char *err, size_t errlen)
{
  struct check c = { .root = root, .err = err, .errlen = errlen };
  err[0] = '\0';
  return validate(&c, schema, instance);
}

/* ---- OpenAPI ------------------------------------------------------------ */

/* Whether the path item's parameter name is an integer. */
static bool
param_is_integer(const json_t *doc, const json_t *item, const char *name)
{
  const json_t *lists[8];
  size_t nlists = 0;
  lists[nlists++] = json_object_get(item, "parameters");
  const char *method;
  const json_t *op;
  json_object_foreach((json_t *)item, method, op) {
    if (nlists < 8 && json_is_object(op))
      lists[nlists++] = json_object_get(op, "parameters");
  }
  for (size_t l = 0; l < nlists; l++) {
    size_t i;
    const json_t *p;
    json_array_foreach(lists[l], i, p) {
      const json_t *ref = json_object_get(p, "$ref");
      if (ref)
        p = schema_check_resolve(doc, json_string_value(ref));
      const char *pname = json_string_value(json_object_get(p, "name"));
      if (pname && strcmp(pname, name) == 0) {
        const char *type = json_string_value(json_object_get(json_object_get(p, "schema"), "type"));
        return type && strcmp(type, "integer") == 0;
      }
    }
  }
  return false;
}

/* Splits "/a/b/" into segments (pointers into buf); returns how many. Empty
 * segments ("/a//b") count, as the router does not skip them; the trailing
 * slash is optional. */
static size_t
split(const char *path, size_t len, char *buf, size_t bufsize, const char **segs, size_t max)
{
  if (len >= bufsize)
    len = bufsize - 1;
  memcpy(buf, path, len);
  buf[len] = '\0';
  if (len > 1 && buf[len - 1] == '/')
    buf[--len] = '\0';
  size_t n = 0;
  char *s = buf[0] == '/' ? buf + 1 : buf;
  while (n < max) {
    segs[n++] = s;
    char *slash = strchr(s, '/');
    if (slash == NULL)
      break;
    *slash = '\0';
    s = slash + 1;
  }
  return n;
}

const char *
schema_check_template(const json_t *doc, const char *path)
{
  char pbuf[1024], tbuf[1024];
  const char *psegs[32], *tsegs[32];
  size_t plen = strcspn(path, "?#");
  size_t np = split(path, plen, pbuf, sizeof pbuf, psegs, 32);
  const char *best = NULL;
  int best_literals = -1;
  const char *template;
  const json_t *item;
  json_object_foreach(json_object_get(doc, "paths"), template, item) {
    size_t nt = split(template, strlen(template), tbuf, sizeof tbuf, tsegs, 32);
    if (nt != np)
      continue;
    int literals = 0;
    bool match = true;
    for (size_t i = 0; i < nt && match; i++) {
      size_t tl = strlen(tsegs[i]);
      if (tsegs[i][0] == '{' && tsegs[i][tl - 1] == '}') {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(tl - 2), tsegs[i] + 1);
        if (param_is_integer(doc, item, name))
          match = psegs[i][0] != '\0' && strspn(psegs[i], "0123456789") == strlen(psegs[i]);
      } else {
        match = strcmp(tsegs[i], psegs[i]) == 0;
        literals++;
      }
    }
    if (match && literals > best_literals) {
      best = template;
      best_literals = literals;
    }
  }
  return best;
}

/* The object itself, or what its $ref names. */
static const json_t *
deref(const json_t *doc, const json_t *obj)
{
  const json_t *ref = json_object_get(obj, "$ref");
  return ref ? schema_check_resolve(doc, json_string_value(ref)) : obj;
}

/* "application/json; charset=utf-8" -> "application/json" into buf. */
static const char *
base_type(const char *type, char *buf, size_t len)
{
  size_t n = strcspn(type, ";");
  while (n > 0 && isspace((unsigned char)type[n - 1]))
    n--;
  snprintf(buf, len, "%.*s", (int)n, type);
  return buf;
}

static bool
check_json_body(const json_t *doc, const json_t *schema, const json_t *json,
                size_t body_len, const char *what, char *err, size_t errlen)
{
  if (json == NULL) {
    snprintf(err, errlen, "%s: a JSON body was expected (%zu bytes that do not parse)", what, body_len);
    return false;
  }
  char why[768];
  if (!schema_check_value(doc, schema, json, why, sizeof why)) {
    snprintf(err, errlen, "%s: %s", what, why);
    return false;
  }
  return true;
}

bool
schema_check_response(const json_t *doc, const char *method, const char *path, long status,
                      const char *content_type, const json_t *json, size_t body_len,
                      char *err, size_t errlen)
{
  err[0] = '\0';
  if (status == 0 || strcmp(method, "OPTIONS") == 0)
    return true;
  const char *template = schema_check_template(doc, path);
  if (template == NULL)
    return true; /* not a path of the API: nothing to hold it to */
  const json_t *item = json_object_get(json_object_get(doc, "paths"), template);
  bool head = strcmp(method, "HEAD") == 0;
  char lower[16];
  size_t i;
  for (i = 0; method[i] && i + 1 < sizeof lower; i++)
    lower[i] = (char)tolower((unsigned char)method[i]);
  lower[i] = '\0';
  const json_t *op = json_object_get(item, head ? "get" : lower);
  char what[1280];
  snprintf(what, sizeof what, "%s %s (%s %s) answered %ld", method, path,
           head ? "GET" : method, template, status);
  const json_t *detail = schema_check_resolve(doc, "#/components/schemas/Detail");

  /* The HTTP layer's refusals, on any path (the document's description):
   * slow (408), too large (413, 431), or framing it cannot read (501, 505). */
  bool any_path = status == 408 || status == 413 || status == 431 || status == 501 ||
                  status == 505;
  if (op == NULL || !json_is_object(op)) {
    /* Not served: the router's 405, or a refusal of the HTTP layer. */
    if (status != 405 && !any_path) {
      snprintf(err, errlen, "%s, but the schema has no such operation", what);
      return false;
    }
    return head || detail == NULL || check_json_body(doc, detail, json, body_len, what, err, errlen);
  }
  char code[16];
  snprintf(code, sizeof code, "%ld", status);
  const json_t *responses = json_object_get(op, "responses");
  const json_t *response = json_object_get(responses, code);
  /* Also 400 from the HTTP layer (a Host not allowed, a NUL in the query,
   * duplicate Content-Length) where the operation has no 400 of its own. */
  if (response == NULL && (any_path || status == 400) && detail != NULL)
    return head || check_json_body(doc, detail, json, body_len, what, err, errlen);
  /* The HTTP layer's own 400s are {"detail"} on any path, whatever the
   * operation's 400 says of its validation errors. */
  if (response != NULL && status == 400 && detail != NULL && json_is_object(json) &&
      json_is_string(json_object_get(json, "detail")) && json_object_size(json) == 1)
    return check_json_body(doc, detail, json, body_len, what, err, errlen);
  if (response == NULL)
    response = json_object_get(responses, "default");
  if (response == NULL) {
    snprintf(err, errlen, "%s: status not in the schema's responses", what);
    return false;
  }
  response = deref(doc, response);
  if (response == NULL) {
    snprintf(err, errlen, "%s: the response's $ref does not resolve", what);
    return false;
  }
  const json_t *content = json_object_get(response, "content");
  if (head)
    return true;
  if (content == NULL || json_object_size(content) == 0) {
    if (body_len > 0) {
      snprintf(err, errlen, "%s with a %zu-byte body, but the schema gives it none", what, body_len);
      return false;
    }
    return true;
  }
  if (body_len == 0 && content_type == NULL) {
    snprintf(err, errlen, "%s with no body, but the schema gives it content", what);
    return false;
  }
  char have[128], want[128];
  base_type(content_type ? content_type : "", have, sizeof have);
  const char *key;
  const json_t *media;
  json_object_foreach((json_t *)content, key, media) {
    if (strcasecmp(base_type(key, want, sizeof want), have) != 0)
      continue;
    const json_t *schema = json_object_get(media, "schema");
    if (strcasecmp(have, "application/json") != 0 || schema == NULL)
      return true; /* CSV, images, calendars, HTML, text: type only */
    return check_json_body(doc, schema, json, body_len, what, err, errlen);
  }
  snprintf(err, errlen, "%s with Content-Type \"%s\", which the schema does not list", what,
           content_type ? content_type : "(none)");
  return false;
}
