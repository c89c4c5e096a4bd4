/*
 * checkin.h - the door's web page, /checkin/: HTML, CSS and plain
 * JavaScript kept in src/tickets/checkin/ and carried in the binary
 * (scripts/embed-files.py), with a service worker that keeps it working
 * offline. The QR reader it falls back on where the browser has no
 * BarcodeDetector, npm's jsqr, is served from where scripts/install-deps
 * puts it; without it, codes are typed.
 */
#ifndef EVENTAPI_TICKETS_CHECKIN_H
#define EVENTAPI_TICKETS_CHECKIN_H

#include <stddef.h>

#include "http/http.h"

/* A file of the page, as the build embeds it. */
struct embedded_file {
  const char *name;             /* its base name: "checkin.js" */
  const char *type;             /* its Content-Type */
  const char *etag;             /* a strong ETag, quoted */
  const unsigned char *data;
  size_t len;
};

/* The page's files; a name NULL ends them. */
extern const struct embedded_file tickets_checkin_files[];

/* Where the QR reader (npm's jsqr, dist/jsQR.js) is looked for, in order. */
extern const char *const tickets_checkin_jsqr_search_path[];

/* Finds the QR reader once, before the server's threads start. */
void tickets_checkin_configure(void);

/* GET /checkin/: the page. */
void tickets_checkin_page_view(struct http_request *req);

/* GET /checkin/<name>: one of its files, or the QR reader (jsQR.js). */
void tickets_checkin_file_view(struct http_request *req);

#endif
