/*
 * qr.c - QR codes of ticket codes (libqrencode), drawn as SVG or as PNG
 * (libpng) with the quiet zone and module size a phone camera needs.
 *
 * Concurrency: QRcode_encodeString keeps its state in the QRcode it returns.
 * libqrencode 4's one piece of shared state, the Reed-Solomon generator
 * tables in rsecc.c, is built lazily under a pthread mutex (Debian builds it
 * with HAVE_LIBPTHREAD: the library imports pthread_mutex_lock). libpng keeps
 * everything in its png_struct. So both functions are safe from any thread;
 * tests/unit/qr.c draws from several threads at once.
 */
#include "tickets/qr.h"

#include <assert.h>
#include <png.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

#define QUIET 4 /* modules of white on every side */
#define SCALE 8 /* pixels per module */

/* The symbol for text, or NULL when text is NULL, empty or too long. */
static QRcode *
encode(const char *text)
{
  if (text == NULL || text[0] == '\0' || strnlen(text, TICKETS_QR_TEXT_MAX + 1) > TICKETS_QR_TEXT_MAX)
    return NULL;
  /* Version 0: the smallest that fits; 8-bit mode so the bytes come back
   * exactly as given; case-sensitive. */
  return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static bool
dark(const QRcode *qr, int x, int y)
{
  return qr->data[y * qr->width + x] & 1;
}

char *
tickets_qr_svg(const char *text, size_t *len)
{
  assert(len != NULL);
  QRcode *qr = encode(text);
  if (qr == NULL)
    return NULL;
  int modules = qr->width + 2 * QUIET;
  struct strbuf out = {0};
  char chunk[400];
  int n = snprintf(chunk, sizeof chunk,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""
                   " width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                   " shape-rendering=\"crispEdges\">"
                   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                   "<path fill=\"#000\" d=\"",
                   modules * SCALE, modules * SCALE, modules, modules, modules, modules);
  strbuf_append(&out, chunk, (size_t)n);
  /* Each horizontal run of dark modules is one closed rectangle. */
  for (int y = 0; y < qr->width; y++) {
    for (int x = 0; x < qr->width;) {
      if (!dark(qr, x, y)) {
        x++;
        continue;
      }
      int run = 1;
      while (x + run < qr->width && dark(qr, x + run, y))
        run++;
      n = snprintf(chunk, sizeof chunk, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run, run);
      strbuf_append(&out, chunk, (size_t)n);
      x += run;
    }
  }
  static const char end[] = "\"/></svg>\n";
  strbuf_append(&out, end, sizeof end - 1);
  QRcode_free(qr);
  if (out.failed) {
    free(out.data);
    return NULL;
  }
  *len = out.len;
  return out.data;
}

static void
png_write(png_structp png, png_bytep data, size_t len)
{
  struct strbuf *out = png_get_io_ptr(png);
  strbuf_append(out, (const char *)data, len);
  if (out->failed)
    png_error(png, "out of memory");
}

static void
png_flush(png_structp png)
{
  (void)png;
}

/* libpng's default handlers print to stderr; a failure is reported by the
 * NULL the caller returns instead. */
static _Noreturn void
png_fail(png_structp png, png_const_charp message)
{
  (void)message;
  png_longjmp(png, 1);
}

static void
png_warn(png_structp png, png_const_charp message)
{
  (void)png;
  (void)message;
}

/*
 * Writes qr as a 1-bit grayscale PNG into out, using row (one row of
 * pixels, packed) as scratch. 0, or -1 when libpng or an allocation fails.
 * Nothing here is changed between setjmp and a longjmp back to it but what
 * png, info and out point to, so no local needs to be volatile.
 */
static int
write_png(const QRcode *qr, struct strbuf *out, unsigned char *row)
{
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_warn);
  if (png == NULL)
    return -1;
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_write_struct(&png, NULL);
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return -1;
  }
  png_uint_32 pixels = (png_uint_32)(qr->width + 2 * QUIET) * SCALE;
  size_t row_bytes = (pixels + 7) / 8;
  png_set_write_fn(png, out, png_write, png_flush);
  png_set_IHDR(png, info, pixels, pixels, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  /* Filters do not help a bilevel image (libpng's own advice). */
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_write_info(png, info);
  /* A gray bit of 1 is white. One module row, repeated SCALE times. */
  for (int y = -QUIET; y < qr->width + QUIET; y++) {
    memset(row, 0xff, row_bytes);
    for (int x = 0; y >= 0 && y < qr->width && x < qr->width; x++) {
      if (!dark(qr, x, y))
        continue;
      for (png_uint_32 px = (png_uint_32)(x + QUIET) * SCALE; px < (png_uint_32)(x + QUIET + 1) * SCALE; px++)
        row[px / 8] &= (unsigned char)~(0x80u >> (px % 8));
    }
    for (int repeat = 0; repeat < SCALE; repeat++)
      png_write_row(png, row);
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return 0;
}

char *
tickets_qr_png(const char *text, size_t *len)
{
  assert(len != NULL);
  QRcode *qr = encode(text);
  if (qr == NULL)
    return NULL;
  struct strbuf out = {0};
  unsigned char *row = malloc(((size_t)(qr->width + 2 * QUIET) * SCALE + 7) / 8);
  int rc = row ? write_png(qr, &out, row) : -1;
  free(row);
  QRcode_free(qr);
  if (rc != 0 || out.failed) {
    free(out.data);
    return NULL;
  }
  *len = out.len;
  return out.data;
}
