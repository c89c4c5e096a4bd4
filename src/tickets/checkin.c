/*
 * checkin.c - the door's web page and its files (see checkin.h).
 */
#include "tickets/checkin.h"

#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "http/media.h"

#define JSQR_SIZE_MAX (1024 * 1024) /* jsQR.js 1.4 is ~ 250 KiB */

const char *const tickets_checkin_jsqr_search_path[] = {
  "/usr/local/share/eventapi/docs/node_modules/jsqr/dist/jsQR.js", /* scripts/install-deps */
  "node_modules/jsqr/dist/jsQR.js",                   /* npm install in the working directory */
  "/usr/local/lib/node_modules/jsqr/dist/jsQR.js",    /* npm install -g, Debian's npm */
  "/usr/lib/node_modules/jsqr/dist/jsQR.js",          /* npm install -g, NodeSource's Node.js */
  "/usr/share/nodejs/jsqr/dist/jsQR.js",              /* Debian's place for Node.js modules */
  NULL,
};

/*
 * The page loads nothing from elsewhere and runs no inline script: what
 * it may do, the browser enforces. The camera's picture is a MediaStream,
 * which needs no media-src.
 */
static const char PAGE_POLICY[] =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  "connect-src 'self'; worker-src 'self'; manifest-src 'self'; media-src 'self' blob:; "
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/* Set by tickets_checkin_configure before the server's threads, read-only after. */
static const char *jsqr_path; /* NULL: none found */

void
tickets_checkin_configure(void)
{
  struct stat st;
  jsqr_path = NULL;
  for (const char *const *p = tickets_checkin_jsqr_search_path; *p; p++)
    if (stat(*p, &st) == 0 && S_ISREG(st.st_mode)) {
      jsqr_path = *p;
      break;
    }
  if (jsqr_path)
    log_info("checkin: /checkin/ reads QR codes with %s", jsqr_path);
  else
    log_warn("checkin: no copy of npm's jsqr found (scripts/install-deps installs one): "
             "/checkin/ reads QR codes only where the browser has BarcodeDetector");
}

static void
keep(void *unused)
{
  (void)unused; /* the embedded bytes live as long as the program */
}

static void
send_embedded(struct http_request *req, const struct embedded_file *f)
{
  http_add_header(req, "ETag", f->etag);
  /* Always asked again (cheaply, 304): a new server's page is used at once. */
  http_add_header(req, "Cache-Control", "no-cache");
  http_add_header(req, "X-Content-Type-Options", "nosniff");
  if (strcmp(f->name, "index.html") == 0) {
    http_add_header(req, "Content-Security-Policy", PAGE_POLICY);
    http_add_header(req, "Referrer-Policy", "no-referrer");
  }
  const char *if_none_match = http_header(req, "If-None-Match");
  if (if_none_match && media_etag_listed(if_none_match, f->etag)) {
    http_reply_not_modified(req, f->len);
    return;
  }
  http_reply_shared(req, 200, f->type, (const char *)f->data, f->len, keep, NULL);
}

static const struct embedded_file *
embedded(const char *name)
{
  for (const struct embedded_file *f = tickets_checkin_files; name && f->name; f++)
    if (strcmp(f->name, name) == 0)
      return f;
  return NULL;
}

void
tickets_checkin_page_view(struct http_request *req)
{
  const struct embedded_file *page = embedded("index.html");
  if (page == NULL)
    http_reply_internal(req, "checkin: the page is not embedded");
  else
    send_embedded(req, page);
}

void
tickets_checkin_file_view(struct http_request *req)
{
  const char *name = req->nparams > 0 ? req->params[0] : NULL;
  if (name && strcmp(name, "jsQR.js") == 0) {
    if (jsqr_path == NULL)
      http_reply_not_found(req);
    else
      media_send_file(req, jsqr_path, "text/javascript; charset=utf-8", NULL, "no-cache",
                      JSQR_SIZE_MAX);
    return;
  }
  const struct embedded_file *f = embedded(name);
  if (f == NULL || strcmp(f->name, "index.html") == 0)
    http_reply_not_found(req); /* the page is /checkin/ */
  else
    send_embedded(req, f);
}
