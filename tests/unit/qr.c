/*
 * qr.c - ticket QR codes decode back to exactly their text: the PNG with
 * zbar (zbarimg, Debian's zbar-tools), the SVG after rasterising it with
 * librsvg (rsvg-convert, Debian's librsvg2-bin). Both images are also
 * compared pixel by pixel with the symbol libqrencode makes, so the quiet
 * zone and the module size are checked, not only readability.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <png.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/tmpdir.h"
#include "tickets/qr.h"

#define QUIET 4
#define SCALE 8

/* Each test is its own process, with a temporary folder of its own. */
TestSuite(qr, .init = tmpdir_create, .fini = tmpdir_remove);

/* ---- helpers ---- */

/* Ticket codes and the like; none holds a newline or a quote for the shell. */
static const char *const codes[] = {
  "3dc4f8e4-b678-47b6-ae3d-352cf7fdabc1",
  "00000000-0000-4000-8000-000000000000",
  "f54f24da-d3c2-4715-bd4a-24e9731aefa3",
  "A",
  "TCK-2024-000123",
  "<svg onload=\"alert(1)\">&amp;</svg>",
};
#define CODES (sizeof codes / sizeof codes[0])

/* A string of exactly len bytes (at most 4096) of printable ASCII, in a
 * static buffer. */
static char *
long_text(size_t len)
{
  static char text[4097];
  cr_assert_leq(len, sizeof text - 1);
  for (size_t i = 0; i < len; i++)
    text[i] = (char)('!' + (i * 7) % 90);
  text[len] = '\0';
  return text;
}

static void
save(const char *path, const char *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

/* Runs command and returns its exit status, its stdout in out. */
static int
run(const char *command, char *out, size_t size)
{
  FILE *p = popen(command, "r");
  cr_assert_not_null(p, "cannot run %s", command);
  size_t n = fread(out, 1, size - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* zbarimg must read exactly one symbol holding exactly text. */
static void
expect_decodes_to(const char *path, const char *text)
{
  char command[512], out[1024], want[1024];
  snprintf(command, sizeof command, "zbarimg --raw -q '%s' 2>/dev/null", path);
  int status = run(command, out, sizeof out);
  cr_assert_eq(status, 0, "zbarimg found no code in %s (%d): %s", path, status, out);
  snprintf(want, sizeof want, "%s\n", text);
  cr_assert_str_eq(out, want, "decoded %s", path);
}

struct gray_image {
  unsigned width, height;
  unsigned char *pixels; /* 8-bit gray, one byte a pixel */
};

/* A PNG from memory (data) or from a file (path), as 8-bit gray. */
static struct gray_image
read_png(const char *data, size_t len, const char *path)
{
  png_image image = {.version = PNG_IMAGE_VERSION};
  int ok = path ? png_image_begin_read_from_file(&image, path)
                : png_image_begin_read_from_memory(&image, data, len);
  cr_assert(ok, "not a PNG: %s", image.message);
  image.format = PNG_FORMAT_GRAY;
  struct gray_image gray = {image.width, image.height, malloc(PNG_IMAGE_SIZE(image))};
  cr_assert_not_null(gray.pixels);
  cr_assert(png_image_finish_read(&image, NULL, gray.pixels, 0, NULL), "%s", image.message);
  return gray;
}

/* The number of modules on a side of text's symbol (without quiet zone). */
static int
symbol_width(const char *text)
{
  QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  cr_assert_not_null(qr);
  int width = qr->width;
  QRcode_free(qr);
  return width;
}

/* Every pixel is pure black or white as text's symbol says, 8 px a module,
 * with 4 white modules all round. */
static void
expect_symbol(struct gray_image image, const char *text, const char *what)
{
  QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  cr_assert_not_null(qr);
  unsigned side = (unsigned)(qr->width + 2 * QUIET) * SCALE;
  cr_assert_eq(image.width, side, "%s: width %u, want %u", what, image.width, side);
  cr_assert_eq(image.height, side, "%s: height %u, want %u", what, image.height, side);
  for (unsigned py = 0; py < side; py++) {
    for (unsigned px = 0; px < side; px++) {
      int x = (int)(px / SCALE) - QUIET, y = (int)(py / SCALE) - QUIET;
      int inside = x >= 0 && y >= 0 && x < qr->width && y < qr->width;
      unsigned char want = inside && (qr->data[y * qr->width + x] & 1) ? 0 : 255;
      unsigned char got = image.pixels[py * side + px];
      if (got != want)
        cr_assert_fail("%s: pixel (%u, %u) is %u, want %u", what, px, py, got, want);
    }
  }
  QRcode_free(qr);
}

static unsigned
be32(const unsigned char *p)
{
  return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* The PNG's signature and IHDR: square, (modules + 8) * 8 px, 1-bit gray. */
static void
expect_png_header(const char *png, size_t len, int modules)
{
  const unsigned char *p = (const unsigned char *)png;
  cr_assert_gt(len, 33);
  cr_assert_eq(memcmp(p, "\x89PNG\r\n\x1a\n", 8), 0);
  cr_assert_eq(memcmp(p + 12, "IHDR", 4), 0);
  cr_assert_eq(be32(p + 16), (unsigned)(modules + 2 * QUIET) * SCALE);
  cr_assert_eq(be32(p + 20), (unsigned)(modules + 2 * QUIET) * SCALE);
  cr_assert_eq(p[24], 1, "bit depth");
  cr_assert_eq(p[25], 0, "colour type: gray");
}

/* The SVG's frame: quiet zone in the viewBox, 8 px a module, one path. */
static void
expect_svg_frame(const char *svg, size_t len, int modules)
{
  char want[160];
  cr_assert_eq(strlen(svg), len, "length and NUL agree");
  cr_assert(strncmp(svg, "<?xml", 5) == 0);
  snprintf(want, sizeof want, "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"",
           (modules + 2 * QUIET) * SCALE, (modules + 2 * QUIET) * SCALE,
           modules + 2 * QUIET, modules + 2 * QUIET);
  cr_assert_not_null(strstr(svg, want), "want %s in %.300s", want, svg);
  cr_assert_not_null(strstr(svg, "shape-rendering=\"crispEdges\""));
  snprintf(want, sizeof want, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>",
           modules + 2 * QUIET, modules + 2 * QUIET);
  cr_assert_not_null(strstr(svg, want), "a white background");
  const char *path = strstr(svg, "<path");
  cr_assert_not_null(path);
  cr_assert_null(strstr(path + 1, "<path"), "one path");
  cr_assert_str_eq(svg + len - 7, "</svg>\n");
}

/* The PNG of text: header, pixels, and zbar reads text back. */
static void
check_png(const char *text, const char *name)
{
  size_t len = 0;
  char *png = tickets_qr_png(text, &len);
  cr_assert_not_null(png, "no PNG for %s", text);
  expect_png_header(png, len, symbol_width(text));
  struct gray_image image = read_png(png, len, NULL);
  expect_symbol(image, text, name);
  free(image.pixels);
  char path[128];
  snprintf(path, sizeof path, "%s/%s.png", tmpdir_path(), name);
  save(path, png, len);
  free(png);
  expect_decodes_to(path, text);
}

/* The SVG of text: frame, text not embedded, and once rasterised by
 * librsvg the same pixels as the PNG, which zbar reads back as text. */
static void
check_svg(const char *text, const char *name)
{
  size_t len = 0;
  char *svg = tickets_qr_svg(text, &len);
  cr_assert_not_null(svg, "no SVG for %s", text);
  expect_svg_frame(svg, len, symbol_width(text));
  if (strlen(text) > 3)
    cr_assert_null(strstr(svg, text), "the text is not embedded");
  char path[128], raster[128], command[512], out[512];
  snprintf(path, sizeof path, "%s/%s.svg", tmpdir_path(), name);
  snprintf(raster, sizeof raster, "%s/%s.svg.png", tmpdir_path(), name);
  save(path, svg, len);
  free(svg);
  snprintf(command, sizeof command, "rsvg-convert -o '%s' '%s' 2>&1", raster, path);
  cr_assert_eq(run(command, out, sizeof out), 0, "rsvg-convert: %s", out);
  struct gray_image image = read_png(NULL, 0, raster);
  expect_symbol(image, text, raster);
  free(image.pixels);
  expect_decodes_to(raster, text);
}

/* ---- tests ---- */

Test(qr, png_decodes_to_each_code)
{
  for (size_t i = 0; i < CODES; i++) {
    char name[32];
    snprintf(name, sizeof name, "code%zu", i);
    check_png(codes[i], name);
  }
}

Test(qr, svg_decodes_to_each_code)
{
  for (size_t i = 0; i < CODES; i++) {
    char name[32];
    snprintf(name, sizeof name, "code%zu", i);
    check_svg(codes[i], name);
  }
}

Test(qr, longest_text_decodes)
{
  char *text = long_text(TICKETS_QR_TEXT_MAX);
  check_png(text, "longest");
  check_svg(text, "longest");
}

Test(qr, a_uuid_is_29_modules_in_a_37_module_frame)
{
  /* 36 bytes at level M need version 3 (29 modules); 4 quiet on each side. */
  size_t len;
  char *png = tickets_qr_png(codes[0], &len);
  cr_assert_not_null(png);
  const unsigned char *p = (const unsigned char *)png;
  cr_assert_eq(be32(p + 16), 37 * 8);
  cr_assert_eq(be32(p + 20), 37 * 8);
  free(png);
  char *svg = tickets_qr_svg(codes[0], &len);
  cr_assert_not_null(svg);
  cr_assert_not_null(strstr(svg, "width=\"296\" height=\"296\" viewBox=\"0 0 37 37\""), "%.300s", svg);
  /* The top-left finder pattern's first row: 7 dark modules at (4, 4). */
  cr_assert_not_null(strstr(svg, "d=\"M4 4h7v1h-7z"), "%.400s", svg);
  free(svg);
}

Test(qr, different_codes_draw_different_images)
{
  size_t len0, len1;
  char *first = tickets_qr_png(codes[0], &len0), *second = tickets_qr_png(codes[2], &len1);
  cr_assert(first && second);
  cr_assert(len0 != len1 || memcmp(first, second, len0) != 0);
  free(first);
  free(second);
}

Test(qr, refuses_text_it_cannot_draw)
{
  size_t len = 12345;
  char *text = long_text(TICKETS_QR_TEXT_MAX + 1);
  cr_assert_null(tickets_qr_png(text, &len));
  cr_assert_null(tickets_qr_svg(text, &len));
  text = long_text(4096);
  cr_assert_null(tickets_qr_png(text, &len));
  cr_assert_null(tickets_qr_svg(text, &len));
  cr_assert_null(tickets_qr_png("", &len));
  cr_assert_null(tickets_qr_svg("", &len));
  cr_assert_null(tickets_qr_png(NULL, &len));
  cr_assert_null(tickets_qr_svg(NULL, &len));
  cr_assert_eq(len, 12345, "len untouched on failure");
}

/* ---- concurrency: the same bytes from many threads at once ---- */

#define THREADS 8

struct drawing {
  char *png[CODES], *svg[CODES];
  size_t png_len[CODES], svg_len[CODES];
  int failed;
};

static pthread_barrier_t start;

/* Draws every code 20 times, from the first call in the process on (so
 * libqrencode's lazily built tables are raced for too); keeps the first
 * drawing and fails if a later one differs. */
static void *
draw_all(void *arg)
{
  struct drawing *mine = arg;
  pthread_barrier_wait(&start);
  for (int round = 0; round < 20; round++) {
    for (size_t i = 0; i < CODES; i++) {
      size_t png_len = 0, svg_len = 0;
      char *png = tickets_qr_png(codes[i], &png_len);
      char *svg = tickets_qr_svg(codes[i], &svg_len);
      if (png == NULL || svg == NULL) {
        mine->failed = 1;
      } else if (round == 0) {
        mine->png[i] = png, mine->png_len[i] = png_len;
        mine->svg[i] = svg, mine->svg_len[i] = svg_len;
        continue;
      } else if (png_len != mine->png_len[i] || memcmp(png, mine->png[i], png_len) != 0 ||
                 svg_len != mine->svg_len[i] || memcmp(svg, mine->svg[i], svg_len) != 0) {
        mine->failed = 1;
      }
      free(png);
      free(svg);
    }
  }
  return NULL;
}

Test(qr, concurrent_drawing)
{
  static struct drawing drawings[THREADS];
  pthread_t threads[THREADS];
  cr_assert_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
  for (size_t t = 0; t < THREADS; t++)
    cr_assert_eq(pthread_create(&threads[t], NULL, draw_all, &drawings[t]), 0);
  for (size_t t = 0; t < THREADS; t++)
    cr_assert_eq(pthread_join(threads[t], NULL), 0);
  pthread_barrier_destroy(&start);
  for (size_t i = 0; i < CODES; i++) {
    size_t png_len, svg_len;
    char *png = tickets_qr_png(codes[i], &png_len), *svg = tickets_qr_svg(codes[i], &svg_len);
    cr_assert(png && svg);
    for (size_t t = 0; t < THREADS; t++) {
      cr_assert_not(drawings[t].failed, "thread %zu failed or drew different bytes", t);
      cr_assert_eq(drawings[t].png_len[i], png_len);
      cr_assert_eq(memcmp(drawings[t].png[i], png, png_len), 0, "thread %zu, code %zu", t, i);
      cr_assert_eq(drawings[t].svg_len[i], svg_len);
      cr_assert_eq(memcmp(drawings[t].svg[i], svg, svg_len), 0, "thread %zu, code %zu", t, i);
      free(drawings[t].png[i]);
      free(drawings[t].svg[i]);
    }
    free(png);
    free(svg);
  }
}
