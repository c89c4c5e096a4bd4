/*
 * qr.c - QR codes of ticket codes (libqrencode), drawn as SVG or PNG
 * (libpng) with the quiet zone and module size a phone camera needs.
 */
#include "tickets/qr.h"

#include <png.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

#define QUIET 4       /* modules of white around the code */
#define SCALE 8       /* pixels per module */
#define TEXT_MAX 256

static QRcode *
encode(const char *text)
{
  if (text == NULL || strlen(text) > TEXT_MAX)
    return NULL;
  /* QRcode_encodeString keeps no global state: safe from any thread. */
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
  QRcode *qr = encode(text);
  if (qr == NULL)
    return NULL;
  int size = qr->width + 2 * QUIET;
  struct strbuf out = {0};
  char chunk[320];
  snprintf(chunk, sizeof chunk,
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\""
           " viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">",
           size * SCALE, size * SCALE, size, size);
  strbuf_puts(&out, chunk);
  snprintf(chunk, sizeof chunk, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path d=\"",
           size, size);
  strbuf_puts(&out, chunk);
  /* One horizontal run of dark modules per path segment. */
  for (int y = 0; y < qr->width; y++) {
    for (int x = 0; x < qr->width;) {
      if (!dark(qr, x, y)) {
        x++;
        continue;
      }
      int run = 1;
      while (x + run < qr->width && dark(qr, x + run, y))
        run++;
      snprintf(chunk, sizeof chunk, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run, run);
      strbuf_puts(&out, chunk);
      x += run;
    }
  }
  strbuf_puts(&out, "\" fill=\"#000\"/></svg>\n");
  QRcode_free(qr);
  if (out.failed) {
    strbuf_free(&out);
    return NULL;
  }
  return strbuf_take(&out, len);
}

static void
png_write(png_structp png, png_bytep data, png_size_t length)
{
  strbuf_append(png_get_io_ptr(png), (const char *)data, length);
}

static void
png_flush(png_structp png)
{
  (void)png;
}

char *
tickets_qr_png(const char *text, size_t *len)
{
  QRcode *qr = encode(text);
  if (qr == NULL)
    return NULL;
  int size = (qr->width + 2 * QUIET) * SCALE;
  /* On the heap: what libpng's longjmp leaves behind must not be a local
   * changed after setjmp. */
  struct strbuf *out = calloc(1, sizeof *out);
  unsigned char *row = malloc((size_t)size);
  png_structp png = out && row ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL)
                               : NULL;
  png_infop info = png ? png_create_info_struct(png) : NULL;
  char *image = NULL;
  if (info && setjmp(png_jmpbuf(png)) == 0) {
    png_set_write_fn(png, out, png_write, png_flush);
    png_set_IHDR(png, info, (png_uint_32)size, (png_uint_32)size, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int py = 0; py < size; py++) {
      int y = py / SCALE - QUIET;
      for (int px = 0; px < size; px++) {
        int x = px / SCALE - QUIET;
        bool inside = x >= 0 && y >= 0 && x < qr->width && y < qr->width;
        row[px] = inside && dark(qr, x, y) ? 0 : 255;
      }
      png_write_row(png, row);
    }
    png_write_end(png, NULL);
    if (!out->failed)
      image = strbuf_take(out, len);
  }
  png_destroy_write_struct(&png, info ? &info : NULL);
  if (out)
    strbuf_free(out);
  free(out);
  free(row);
  QRcode_free(qr);
  return image;
}
