/*
 * media.h - uploaded files under MEDIA_ROOT: storing them under names the
 * server makes up, removing them, and serving them at /media/<name>.
 *
 * A media name is always 32 lowercase hex digits of CSPRNG output, a dot and
 * one of the extensions below ("3f9c...e1.png"). Nothing else is ever
 * created, served or removed, so a name from a client or from the database
 * can never reach another path. Names are never reused, so a file never
 * changes once stored: it is served with a strong ETag made from its name
 * and cached for a year.
 */
#ifndef EVENTAPI_HTTP_MEDIA_H
#define EVENTAPI_HTTP_MEDIA_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

#define MEDIA_NAME_SIZE 40 /* 32 hex + "." + "webp" + NUL, rounded up */

/* True when name has exactly the form media_store() generates. */
bool media_name_valid(const char *name);

/* The Content-Type of a media name's extension, or NULL for another name. */
const char *media_content_type(const char *name);

/*
 * Stores len bytes under root (created 0750 with its parents if missing) as
 * a new file named 32 random hex digits + "." + ext (one of "png", "jpg",
 * "gif", "webp"), written to a temporary file in root, fsynced, renamed into
 * place and the folder fsynced, mode 0640: either the whole file exists
 * under its name or none does. The name goes to name. Returns 0,
 * EVENTAPI_EINVAL for another ext, EVENTAPI_EFULL when the disk has no
 * room (or the quota is spent), or EVENTAPI_EIO (logged).
 */
int media_store(const char *root, const void *data, size_t len, const char *ext,
                char name[MEDIA_NAME_SIZE]);

/*
 * Removes root/name when name is a valid media name (NULL and anything else
 * are ignored). A missing file is fine; other failures are logged. Returns 0
 * or EVENTAPI_EIO.
 */
int media_remove(const char *root, const char *name);

/*
 * GET /media/<str:name>/ (params[0]): the file under config->media_root with
 * its type, ETag and Cache-Control; 304 when If-None-Match names it; 404
 * {"detail":"Not found."} for any other name or a missing file.
 */
void media_view(struct http_request *req);

/*
 * Whether an If-None-Match header names etag (quoted): "*", or a list of
 * entity tags compared weakly (RFC 9110 13.1.2), W/ prefixes ignored.
 */
bool media_etag_listed(const char *header, const char *etag);

/*
 * Answers with the regular file at path (never through a symbolic link), of
 * at most max bytes, as type: with etag (NULL: one made of the file's size
 * and time), cache_control and nosniff; 304 when If-None-Match lists the tag
 * (or `*`); 404 {"detail":"Not found."} when there is no such file.
 */
void media_send_file(struct http_request *req, const char *path, const char *type,
                     const char *etag, const char *cache_control, off_t max);

#endif
