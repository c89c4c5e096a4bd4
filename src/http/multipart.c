/*
 * multipart.c - a strict multipart/form-data reader over an in-memory body.
 *
 * The body is walked once from delimiter to delimiter with memmem (linear in
 * glibc); each part's header lines are read one by one, bounded by
 * MULTIPART_LINE_MAX, and only Content-Disposition, Content-Type and
 * Content-Transfer-Encoding are looked at. Parameter values are not copied
 * while parsing: a span remembers where they are and whether they were
 * quoted, and only the chosen part's strings go to the arena.
 */
#include "http/multipart.h"

#include <string.h>
#include <strings.h>

#include "core/error.h"

/* A parameter value inside the body or the header. */
struct span {
  const char *p;
  size_t len;
  bool quoted; /* a quoted-string's inside, escapes not yet undone */
};

struct part_head {
  bool disposition, has_name, has_filename, has_type;
  struct span name, filename, type;
};

static bool
is_tchar(unsigned char c)
{
  /* RFC 9110 token characters. */
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars (space included; it may not come last). */
static bool
is_bchar(unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

static const char *
skip_ows(const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

/*
 * Undoes a quoted-string's escapes the way Django does (\\ and \" only;
 * browsers send other backslashes as they are). Returns the next byte of the
 * value at *i, advancing *i.
 */
static char
span_next(const struct span *s, size_t *i)
{
  char c = s->p[(*i)++];
  if (s->quoted && c == '\\' && *i < s->len && (s->p[*i] == '\\' || s->p[*i] == '"'))
    c = s->p[(*i)++];
  return c;
}

/* The value's length once unescaped. */
static size_t
span_length(const struct span *s)
{
  size_t n = 0;
  for (size_t i = 0; i < s->len; n++)
    span_next(s, &i);
  return n;
}

static bool
span_equals(const struct span *s, const char *text)
{
  size_t i = 0;
  while (i < s->len) {
    if (*text == '\0' || span_next(s, &i) != *text)
      return false;
    text++;
  }
  return *text == '\0';
}

/* Unescapes s into out, which holds span_length(s) + 1 bytes. */
static void
span_copy(const struct span *s, char *out)
{
  size_t n = 0;
  for (size_t i = 0; i < s->len;)
    out[n++] = span_next(s, &i);
  out[n] = '\0';
}

static const char *
span_dup(const struct span *s, arena_t *arena)
{
  char *out = arena_alloc(arena, span_length(s) + 1);
  if (out)
    span_copy(s, out);
  return out;
}

/*
 * Reads the next `; name=value` parameter at *pos (value a token or a
 * quoted-string). Returns 0 with *found true and name and value set, or
 * with *found false at the end of the text; EVENTAPI_EINVAL when what
 * follows is not a parameter.
 */
static int
param_next(const char **pos, const char *end, struct span *name, struct span *value,
           bool *found)
{
  *found = false;
  const char *p = skip_ows(*pos, end);
  if (p == end)
    return 0;
  if (*p != ';')
    return EVENTAPI_EINVAL;
  p = skip_ows(p + 1, end);
  if (p == end) { /* a trailing ";" */
    *pos = p;
    return 0;
  }
  const char *start = p;
  while (p < end && is_tchar((unsigned char)*p))
    p++;
  if (p == start || p == end || *p != '=')
    return EVENTAPI_EINVAL;
  *name = (struct span){start, (size_t)(p - start), false};
  p++;
  if (p < end && *p == '"') {
    start = ++p;
    while (p < end && *p != '"') {
      if (*p == '\\' && ++p == end)
        return EVENTAPI_EINVAL;
      p++;
    }
    if (p == end)
      return EVENTAPI_EINVAL; /* unterminated */
    *value = (struct span){start, (size_t)(p - start), true};
    p++;
  } else {
    start = p;
    while (p < end && is_tchar((unsigned char)*p))
      p++;
    if (p == start)
      return EVENTAPI_EINVAL;
    *value = (struct span){start, (size_t)(p - start), false};
  }
  *pos = p;
  *found = true;
  return 0;
}

static bool
span_is(const struct span *s, const char *lower)
{
  return s->len == strlen(lower) && strncasecmp(s->p, lower, s->len) == 0;
}

/* Where the parameters of a header value start, after its leading token. */
static const char *
after_type(const char *value, const char *end, const char *type)
{
  const char *p = skip_ows(value, end);
  size_t len = strlen(type);
  if ((size_t)(end - p) < len || strncasecmp(p, type, len) != 0)
    return NULL;
  p += len;
  if (p < end && *p != ';' && *p != ' ' && *p != '\t')
    return NULL;
  return p;
}

bool
multipart_is_form_data(const char *content_type)
{
  return content_type &&
         after_type(content_type, content_type + strlen(content_type),
                    "multipart/form-data") != NULL;
}

int
multipart_boundary(const char *content_type, char out[MULTIPART_BOUNDARY_MAX + 1])
{
  if (content_type == NULL)
    return EVENTAPI_EINVAL;
  const char *end = content_type + strlen(content_type);
  const char *p = after_type(content_type, end, "multipart/form-data");
  if (p == NULL)
    return EVENTAPI_EINVAL;
  struct span name, value, boundary = {0};
  bool found = false, more;
  int rc;
  while ((rc = param_next(&p, end, &name, &value, &more)) == 0 && more) {
    if (!span_is(&name, "boundary"))
      continue;
    if (found)
      return EVENTAPI_EINVAL; /* two boundaries: which one? */
    found = true;
    boundary = value;
  }
  if (rc < 0 || !found)
    return EVENTAPI_EINVAL;
  size_t len = span_length(&boundary);
  if (len == 0 || len > MULTIPART_BOUNDARY_MAX)
    return EVENTAPI_EINVAL;
  span_copy(&boundary, out);
  for (size_t i = 0; i < len; i++)
    if (!is_bchar((unsigned char)out[i]))
      return EVENTAPI_EINVAL;
  if (out[len - 1] == ' ')
    return EVENTAPI_EINVAL;
  return 0;
}

/* Content-Disposition: form-data; name="..."; filename="..." */
static int
parse_disposition(const char *value, const char *end, struct part_head *h)
{
  const char *p = after_type(value, end, "form-data");
  if (p == NULL)
    return EVENTAPI_EINVAL;
  struct span name, param;
  bool more;
  int rc;
  while ((rc = param_next(&p, end, &name, &param, &more)) == 0 && more) {
    if (span_is(&name, "name")) {
      if (h->has_name)
        return EVENTAPI_EINVAL;
      h->has_name = true;
      h->name = param;
    } else if (span_is(&name, "filename")) {
      if (h->has_filename)
        return EVENTAPI_EINVAL;
      h->has_filename = true;
      h->filename = param;
    }
    /* filename* and anything else: ignored. */
  }
  return rc < 0 || !h->has_name ? EVENTAPI_EINVAL : 0;
}

/*
 * Reads a part's header lines from *pos up to and including the blank line
 * that ends them, leaving *pos at the part's content.
 */
static int
part_headers(const char **pos, const char *end, struct part_head *h, const char **why)
{
  const char *p = *pos;
  *h = (struct part_head){0};
  for (int lines = 0;; lines++) {
    /* Find the line's CRLF, refusing control characters on the way. */
    const char *line = p;
    size_t len = 0;
    for (;;) {
      if (line + len == end) {
        *why = "Part headers do not end with a blank line.";
        return EVENTAPI_EINVAL;
      }
      unsigned char c = (unsigned char)line[len];
      if (c == '\r') {
        if (line + len + 1 == end || line[len + 1] != '\n') {
          *why = "Part header line with a bare CR.";
          return EVENTAPI_EINVAL;
        }
        break;
      }
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        *why = "Control character in a part header.";
        return EVENTAPI_EINVAL;
      }
      if (++len > MULTIPART_LINE_MAX) {
        *why = "Part header line too long.";
        return EVENTAPI_EINVAL;
      }
    }
    p = line + len + 2;
    if (len == 0)
      break; /* the blank line */
    if (lines >= MULTIPART_HEADERS_MAX) {
      *why = "Too many part headers.";
      return EVENTAPI_EINVAL;
    }
    const char *line_end = line + len;
    const char *colon = line;
    while (colon < line_end && is_tchar((unsigned char)*colon))
      colon++;
    if (colon == line || colon == line_end || *colon != ':') {
      *why = "Malformed part header.";
      return EVENTAPI_EINVAL; /* also a folded line (it starts with a space) */
    }
    struct span name = {line, (size_t)(colon - line), false};
    const char *value = skip_ows(colon + 1, line_end);
    while (line_end > value && (line_end[-1] == ' ' || line_end[-1] == '\t'))
      line_end--;
    if (span_is(&name, "content-disposition")) {
      if (h->disposition || parse_disposition(value, line_end, h) < 0) {
        *why = "Malformed Content-Disposition in a part.";
        return EVENTAPI_EINVAL;
      }
      h->disposition = true;
    } else if (span_is(&name, "content-type")) {
      if (h->has_type) {
        *why = "Two Content-Type headers in a part.";
        return EVENTAPI_EINVAL;
      }
      h->has_type = true;
      h->type = (struct span){value, (size_t)(line_end - value), false};
    } else if (span_is(&name, "content-transfer-encoding")) {
      struct span encoding = {value, (size_t)(line_end - value), false};
      if (!span_is(&encoding, "binary") && !span_is(&encoding, "8bit") &&
          !span_is(&encoding, "7bit")) {
        *why = "Unsupported Content-Transfer-Encoding in a part.";
        return EVENTAPI_EINVAL;
      }
    }
  }
  if (!h->disposition) {
    *why = "A part has no Content-Disposition form-data name.";
    return EVENTAPI_EINVAL;
  }
  *pos = p;
  return 0;
}

/*
 * Walks the whole body, calling visit(ctx, head, data, len) for each part
 * in order; stops at the first nonzero result of visit and returns it.
 * Otherwise 0, or EVENTAPI_EINVAL with *why for a malformed body.
 */
typedef int (*part_visit)(void *ctx, const struct part_head *head, const char *data,
                          size_t len, const char **why);

static int
walk(const char *content_type, const char *body, size_t body_len, part_visit visit, void *ctx,
     const char **why)
{
  char boundary[MULTIPART_BOUNDARY_MAX + 1];
  if (multipart_boundary(content_type, boundary) < 0) {
    *why = "Invalid boundary in multipart: None"; /* DRF's words */
    return EVENTAPI_EINVAL;
  }
  /* delimiter = CRLF "--" boundary; the first may open the body without CRLF. */
  char delimiter[MULTIPART_BOUNDARY_MAX + 5];
  size_t delimiter_len = strlen(boundary) + 4;
  memcpy(delimiter, "\r\n--", 4);
  memcpy(delimiter + 4, boundary, delimiter_len - 4);

  const char *end = body + body_len, *p;
  if (body_len >= delimiter_len - 2 && memcmp(body, delimiter + 2, delimiter_len - 2) == 0) {
    p = body + delimiter_len - 2;
  } else {
    const char *first = body_len ? memmem(body, body_len, delimiter, delimiter_len) : NULL;
    if (first == NULL) {
      *why = "The body has no boundary.";
      return EVENTAPI_EINVAL;
    }
    p = first + delimiter_len; /* after a preamble */
  }

  for (int parts = 0;; parts++) {
    if (end - p >= 2 && p[0] == '-' && p[1] == '-')
      return 0; /* the close delimiter; the epilogue is ignored */
    p = skip_ows(p, end); /* transport padding */
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
      *why = "Malformed boundary line.";
      return EVENTAPI_EINVAL;
    }
    p += 2;
    if (parts >= MULTIPART_PARTS_MAX) {
      *why = "Too many parts.";
      return EVENTAPI_EINVAL;
    }
    struct part_head head;
    int rc = part_headers(&p, end, &head, why);
    if (rc < 0)
      return rc;
    const char *next = memmem(p, (size_t)(end - p), delimiter, delimiter_len);
    if (next == NULL) {
      *why = "The body has no closing boundary.";
      return EVENTAPI_EINVAL;
    }
    if ((rc = visit(ctx, &head, p, (size_t)(next - p), why)) != 0)
      return rc;
    p = next + delimiter_len;
  }
}

/* A part as the caller sees it, its declared strings copied to arena. */
static int
part_of(const struct part_head *head, const char *data, size_t len, arena_t *arena,
        struct multipart_part *out, const char **why)
{
  *out = (struct multipart_part){.data = data, .len = len};
  if ((out->name = span_dup(&head->name, arena)) == NULL ||
      (head->has_filename && (out->filename = span_dup(&head->filename, arena)) == NULL) ||
      (head->has_type && (out->content_type = span_dup(&head->type, arena)) == NULL)) {
    *why = "out of memory";
    return EVENTAPI_ENOMEM;
  }
  return 0;
}

struct find {
  const char *field;
  bool found;
  struct part_head last; /* of the last match; its spans point into the body */
  const char *data;
  size_t len;
};

static int
find_visit(void *ctx, const struct part_head *head, const char *data, size_t len,
           const char **why)
{
  (void)why;
  struct find *f = ctx;
  if (span_equals(&head->name, f->field)) {
    f->found = true;
    f->last = *head;
    f->data = data;
    f->len = len;
  }
  return 0;
}

int
multipart_find(const char *content_type, const char *body, size_t body_len,
               const char *field, arena_t *arena, struct multipart_part *out,
               const char **why)
{
  const char *ignored;
  if (why == NULL)
    why = &ignored;
  *out = (struct multipart_part){0};
  struct find f = {.field = field};
  int rc = walk(content_type, body, body_len, find_visit, &f, why);
  if (rc < 0)
    return rc;
  if (!f.found) {
    *why = "No such field.";
    return EVENTAPI_ENOTFOUND;
  }
  return part_of(&f.last, f.data, f.len, arena, out, why);
}

struct each {
  multipart_visit visit;
  void *ctx;
  arena_t *arena;
};

static int
each_visit(void *ctx, const struct part_head *head, const char *data, size_t len,
           const char **why)
{
  struct each *e = ctx;
  struct multipart_part part;
  int rc = part_of(head, data, len, e->arena, &part, why);
  return rc < 0 ? rc : e->visit(e->ctx, &part);
}

int
multipart_each(const char *content_type, const char *body, size_t body_len, arena_t *arena,
               multipart_visit visit, void *ctx, const char **why)
{
  const char *ignored;
  if (why == NULL)
    why = &ignored;
  struct each e = {.visit = visit, .ctx = ctx, .arena = arena};
  return walk(content_type, body, body_len, each_visit, &e, why);
}
