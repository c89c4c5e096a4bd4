/*
 * qr.c - ticket QR codes decode back to their text: the PNG with zbar, the
 * SVG after rasterising it with librsvg (both Debian tools).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tickets/qr.h"

static char dir[] = "/tmp/qr-test-XXXXXX";

static void
setup(void)
{
  cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
  char command[128];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  cr_assert_eq(system(command), 0);
}

TestSuite(qr, .init = setup, .fini = teardown);

static void
write_file(const char *path, const char *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

/* What zbarimg reads from the image at path ("" when nothing). */
static void
decode(const char *path, char *out, size_t len)
{
  char command[512];
  snprintf(command, sizeof command, "zbarimg --raw -q '%s' 2>/dev/null", path);
  FILE *p = popen(command, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, len - 1, p);
  out[n] = '\0';
  pclose(p);
  out[strcspn(out, "\n")] = '\0';
}

static const char *const codes[] = {
  "3dc4f8e4-b678-47b6-ae3d-352cf7fdabc1",
  "00000000-0000-4000-8000-000000000000",
  "f54f24da-d3c2-4715-bd4a-24e9731aefa3",
};

Test(qr, png_decodes_to_the_code)
{
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    size_t len;
    char *png = tickets_qr_png(codes[i], &len);
    cr_assert_not_null(png);
    cr_assert(len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    char path[256], text[128];
    snprintf(path, sizeof path, "%s/code%zu.png", dir, i);
    write_file(path, png, len);
    free(png);
    decode(path, text, sizeof text);
    cr_assert_str_eq(text, codes[i]);
  }
}

Test(qr, png_has_the_quiet_zone_and_module_size)
{
  size_t len;
  char *png = tickets_qr_png(codes[0], &len);
  cr_assert_not_null(png);
  /* IHDR: width and height, big-endian, right after the signature and header. */
  const unsigned char *p = (const unsigned char *)png;
  unsigned width = (unsigned)p[16] << 24 | (unsigned)p[17] << 16 | (unsigned)p[18] << 8 | p[19];
  unsigned height = (unsigned)p[20] << 24 | (unsigned)p[21] << 16 | (unsigned)p[22] << 8 | p[23];
  /* A 36-character code is a version 3 symbol (29 modules) at level M, plus 2 x 4 quiet. */
  cr_assert_eq(width, (29 + 8) * 8);
  cr_assert_eq(height, width);
  free(png);
}

Test(qr, svg_decodes_to_the_code)
{
  size_t len;
  char *svg = tickets_qr_svg(codes[0], &len);
  cr_assert_not_null(svg);
  cr_assert(strstr(svg, "viewBox=\"0 0 37 37\"") != NULL, "quiet zone in the viewBox: %.200s", svg);
  cr_assert(strstr(svg, codes[0]) == NULL, "the code itself is not embedded");
  char path[256], png_path[256], command[640], text[128];
  snprintf(path, sizeof path, "%s/code.svg", dir);
  snprintf(png_path, sizeof png_path, "%s/code-svg.png", dir);
  write_file(path, svg, len);
  free(svg);
  snprintf(command, sizeof command, "rsvg-convert '%s' -o '%s'", path, png_path);
  cr_assert_eq(system(command), 0);
  decode(png_path, text, sizeof text);
  cr_assert_str_eq(text, codes[0]);
}

Test(qr, refuses_overlong_text)
{
  char text[300];
  memset(text, 'a', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  size_t len = 0;
  cr_assert_null(tickets_qr_png(text, &len));
  cr_assert_null(tickets_qr_svg(text, &len));
}
