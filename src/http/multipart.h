/*
 * multipart.h - a strict multipart/form-data (RFC 7578, RFC 2046) reader over
 * a request body that is already in memory.
 *
 * Nothing is copied but the few declared strings a caller asks for, which go
 * to the arena given; the content of a part points into the body. Every loop
 * is bounded by the body, every header line and the number of parts by the
 * limits below, so hostile bodies cost at most linear time.
 *
 * What a client declares about a part (its filename, its Content-Type) is
 * returned for information only: it must never name a file or decide a type.
 */
#ifndef EVENTAPI_HTTP_MULTIPART_H
#define EVENTAPI_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

#define MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 */
#define MULTIPART_LINE_MAX 8192     /* one part header line, without its CRLF */
#define MULTIPART_HEADERS_MAX 16    /* header lines of one part */
#define MULTIPART_PARTS_MAX 1000    /* Django's DATA_UPLOAD_MAX_NUMBER_FIELDS */

struct multipart_part {
  const char *name;          /* the form-data name (arena) */
  const char *data;          /* the content, inside the body (not NUL-terminated) */
  size_t len;
  const char *filename;      /* declared filename (arena), NULL when none was given */
  const char *content_type;  /* declared Content-Type (arena), or NULL */
};

/*
 * True when content_type (a Content-Type header, may be NULL) names
 * multipart/form-data, with or without parameters.
 */
bool multipart_is_form_data(const char *content_type);

/*
 * Copies the boundary parameter of a multipart/form-data Content-Type
 * (quoted or not, unescaped) into out, which holds MULTIPART_BOUNDARY_MAX + 1
 * bytes. Returns 0, or EVENTAPI_EINVAL for another type, a missing,
 * repeated, empty, too long or ill-formed boundary or malformed parameters.
 */
int multipart_boundary(const char *content_type, char out[MULTIPART_BOUNDARY_MAX + 1]);

/*
 * Parses the whole body (body_len bytes, content_type its header) and finds
 * the part whose Content-Disposition is form-data with name="field"; when
 * several parts have that name the last one wins (as in Django). Returns 0
 * with *out filled, EVENTAPI_ENOTFOUND when the body is well formed but has
 * no such part, EVENTAPI_EINVAL when it is malformed (no boundary, no
 * closing delimiter, a part without its blank line, a header line that is
 * too long or holds control characters, a part without a form-data name,
 * a transfer encoding other than 7bit/8bit/binary, too many parts), or
 * EVENTAPI_ENOMEM when the arena fails. On failure *why (when not NULL)
 * gets a static one-line reason fit for a client.
 */
int multipart_find(const char *content_type, const char *body, size_t body_len,
                   const char *field, arena_t *arena, struct multipart_part *out,
                   const char **why);

/* Called with each part of a body in turn; a nonzero result stops the walk. */
typedef int (*multipart_visit)(void *ctx, const struct multipart_part *part);

/*
 * Walks the whole body (parsed as multipart_find does), calling
 * visit(ctx, part) for every part in order, with its name, filename and
 * content type copied to arena. Returns 0 when the body is well formed and
 * every call returned 0; else the first nonzero result of visit, or
 * EVENTAPI_EINVAL (*why says why) for a malformed body, found before or
 * after parts already visited, or EVENTAPI_ENOMEM.
 */
int multipart_each(const char *content_type, const char *body, size_t body_len, arena_t *arena,
                   multipart_visit visit, void *ctx, const char **why);

#endif
