/*
 * image.c - PNGs made to measure (see image.h).
 */
#include "support/image.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void image_put_be32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

size_t image_png_chunk(unsigned char *out, const char *type, const unsigned char *data,
                       size_t len)
{
  image_put_be32(out, (uint32_t)len);
  memcpy(out + 4, type, 4);
  if (data && len)
    memcpy(out + 8, data, len);
  image_put_be32(out + 8 + len, (uint32_t)crc32(0L, out + 4, (uInt)len + 4));
  return 12 + len;
}

unsigned char *image_png(size_t size, uint32_t width, uint32_t height, size_t *len)
{
  static const unsigned char raw[2] = {0, 0x80}; /* filter none, one grey pixel */
  unsigned char idat[64];
  uLongf idat_len = sizeof idat;
  cr_assert_eq(compress(idat, &idat_len, raw, sizeof raw), Z_OK);
  unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
  image_put_be32(ihdr, width);
  image_put_be32(ihdr + 4, height);
  size_t minimal = 8 + 25 + 12 + idat_len + 12;
  cr_assert(size == 0 || size >= minimal + 12, "a PNG takes %zu bytes at least", minimal + 12);
  unsigned char *png = calloc(1, size ? size : minimal);
  cr_assert(png != NULL);
  memcpy(png, "\x89PNG\r\n\x1a\n", 8);
  size_t n = 8;
  n += image_png_chunk(png + n, "IHDR", ihdr, sizeof ihdr);
  n += image_png_chunk(png + n, "IDAT", idat, idat_len);
  if (size)
    n += image_png_chunk(png + n, "skIp", NULL, size - minimal - 12);
  n += image_png_chunk(png + n, "IEND", NULL, 0);
  *len = n;
  return png;
}
