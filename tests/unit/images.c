/*
 * images.c - recognising PNG, JPEG, GIF and WebP by their bytes (valid,
 * truncated, corrupted, garbage), and the media files that hold them
 * (http/media.h: names, atomic storing, removal).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "events/image_format.h"
#include "http/media.h"
#include "support/image.h"
#include "support/tmpdir.h"

TestSuite(images);

/* ---- tiny valid images (the PNGs: support/image.h) ---- */

/* 1x1 grey baseline JPEG, as libjpeg writes it. */
static const unsigned char jpeg[] = {
  0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c, 0x0e, 0x0c,
  0x0a, 0x10, 0x0e, 0x0d, 0x0e, 0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a,
  0x18, 0x16, 0x16, 0x18, 0x31, 0x23, 0x25, 0x1d, 0x28, 0x3a, 0x33, 0x3d,
  0x3c, 0x39, 0x33, 0x38, 0x37, 0x40, 0x48, 0x5c, 0x4e, 0x40, 0x44, 0x57,
  0x45, 0x37, 0x38, 0x50, 0x6d, 0x51, 0x57, 0x5f, 0x62, 0x67, 0x68, 0x67,
  0x3e, 0x4d, 0x71, 0x79, 0x70, 0x64, 0x78, 0x5c, 0x65, 0x67, 0x63, 0xff,
  0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00,
  0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4,
  0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08,
  0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xff, 0xd9,
};

/* The classic 1x1 transparent GIF89a. */
static const unsigned char gif[] = {
  0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00,
  0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00,
  0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
  0x00, 0x02, 0x01, 0x44, 0x00, 0x3b,
};

/* 1x1 lossless WebP (VP8L, odd chunk size with its padding byte). */
static const unsigned char webp_lossless[] = {
  0x52, 0x49, 0x46, 0x46, 0x1a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
  0x56, 0x50, 0x38, 0x4c, 0x0d, 0x00, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x00,
  0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00,
};

/* 1x1 lossy WebP (VP8). */
static const unsigned char webp_lossy[] = {
  0x52, 0x49, 0x46, 0x46, 0x22, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
  0x56, 0x50, 0x38, 0x20, 0x16, 0x00, 0x00, 0x00, 0x30, 0x01, 0x00, 0x9d,
  0x01, 0x2a, 0x01, 0x00, 0x01, 0x00, 0x0e, 0xc0, 0xfe, 0x25, 0xa4, 0x00,
  0x03, 0x70, 0x00, 0x00, 0x00, 0x00,
};

/* events_image_detect over an exact-size heap copy, so ASan sees any over-read. */
static enum image_type
detect(const unsigned char *data, size_t len)
{
  unsigned char *copy = calloc(1, len ? len : 1);
  if (len)
    memcpy(copy, data, len);
  enum image_type type = events_image_detect(copy, len, NULL);
  free(copy);
  return type;
}

/* Every proper prefix of a valid image is refused. */
static void
expect_truncations_refused(const unsigned char *data, size_t len)
{
  for (size_t cut = 0; cut < len; cut++)
    cr_assert_eq(detect(data, cut), IMAGE_NONE, "prefix of %zu/%zu bytes accepted", cut, len);
}

/* Bytes after the end marker are ignored, as Pillow (and so DRF) does. */
static void
expect_trailing_bytes_ignored(const unsigned char *data, size_t len, enum image_type type)
{
  unsigned char *longer = malloc(len + 16);
  memcpy(longer, data, len);
  memset(longer + len, 0x5a, 16);
  cr_assert_eq(detect(longer, len + 16), type);
  free(longer);
}

/* The image with one more byte is refused (its container states its size). */
static void
expect_trailing_byte_refused(const unsigned char *data, size_t len)
{
  unsigned char *longer = malloc(len + 1);
  memcpy(longer, data, len);
  longer[len] = 0;
  cr_assert_eq(detect(longer, len + 1), IMAGE_NONE);
  free(longer);
}

/* ---- each type ---- */

Test(images, png_valid_truncated_and_extended)
{
  size_t len;
  unsigned char *png = image_png(0, 1, 1, &len);
  cr_assert_eq(detect(png, len), IMAGE_PNG);
  expect_truncations_refused(png, len);
  expect_trailing_bytes_ignored(png, len, IMAGE_PNG);
  free(png);
}

Test(images, png_with_any_single_byte_changed_is_refused)
{
  /* Every byte is covered by the signature, a length, a type or a CRC. */
  size_t len;
  unsigned char *png = image_png(0, 1, 1, &len);
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      png[i] ^= (unsigned char)(1 << bit);
      cr_assert_eq(detect(png, len), IMAGE_NONE, "byte %zu bit %d flipped", i, bit);
      png[i] ^= (unsigned char)(1 << bit);
    }
  }
  free(png);
}

Test(images, png_needs_ihdr_first_an_idat_and_iend_last)
{
  unsigned char png[256];
  unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
  unsigned char zero[13] = {0};
  size_t n;

  memcpy(png, "\x89PNG\r\n\x1a\n", 8); /* no IDAT */
  n = 8 + image_png_chunk(png + 8, "IHDR", ihdr, 13);
  n += image_png_chunk(png + n, "IEND", NULL, 0);
  cr_assert_eq(detect(png, n), IMAGE_NONE);

  n = 8 + image_png_chunk(png + 8, "IDAT", ihdr, 13); /* IDAT before IHDR */
  n += image_png_chunk(png + n, "IHDR", ihdr, 13);
  n += image_png_chunk(png + n, "IEND", NULL, 0);
  cr_assert_eq(detect(png, n), IMAGE_NONE);

  n = 8 + image_png_chunk(png + 8, "IHDR", zero, 13); /* zero width and height */
  n += image_png_chunk(png + n, "IDAT", ihdr, 13);
  n += image_png_chunk(png + n, "IEND", NULL, 0);
  cr_assert_eq(detect(png, n), IMAGE_NONE);

  n = 8 + image_png_chunk(png + 8, "IHDR", ihdr, 13); /* IEND with data */
  n += image_png_chunk(png + n, "IDAT", ihdr, 13);
  n += image_png_chunk(png + n, "IEND", ihdr, 1);
  cr_assert_eq(detect(png, n), IMAGE_NONE);

  n = 8 + image_png_chunk(png + 8, "IHDR", ihdr, 13); /* the good order */
  n += image_png_chunk(png + n, "IDAT", ihdr, 13);
  n += image_png_chunk(png + n, "IEND", NULL, 0);
  cr_assert_eq(detect(png, n), IMAGE_PNG);

  image_put_be32(png + 8, 0xfffffff0u); /* a huge IHDR length */
  cr_assert_eq(detect(png, n), IMAGE_NONE);
}

Test(images, jpeg_valid_truncated_and_extended)
{
  cr_assert_eq(detect(jpeg, sizeof jpeg), IMAGE_JPEG);
  expect_truncations_refused(jpeg, sizeof jpeg);
  expect_trailing_bytes_ignored(jpeg, sizeof jpeg, IMAGE_JPEG);
}

Test(images, jpeg_needs_segments_and_a_frame_before_the_scan)
{
  static const unsigned char soi_eoi[] = {0xff, 0xd8, 0xff, 0xd9};
  cr_assert_eq(detect(soi_eoi, sizeof soi_eoi), IMAGE_NONE);
  static const unsigned char garbage[] = {0xff, 0xd8, 0xff, 'h', 'e', 'l', 'l', 'o', 0xff, 0xd9};
  cr_assert_eq(detect(garbage, sizeof garbage), IMAGE_NONE);
  static const unsigned char scan_first[] = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x00, 0xff, 0xd9};
  cr_assert_eq(detect(scan_first, sizeof scan_first), IMAGE_NONE);
  static const unsigned char long_segment[] = {0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0xff, 0xd9};
  cr_assert_eq(detect(long_segment, sizeof long_segment), IMAGE_NONE);
  static const unsigned char short_segment[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0xff, 0xd9};
  cr_assert_eq(detect(short_segment, sizeof short_segment), IMAGE_NONE);

  /* Zero width in the frame header. */
  unsigned char copy[sizeof jpeg];
  memcpy(copy, jpeg, sizeof jpeg);
  size_t sof = 0;
  while (!(copy[sof] == 0xff && copy[sof + 1] == 0xc0))
    sof++;
  copy[sof + 7] = 0;
  copy[sof + 8] = 0;
  cr_assert_eq(detect(copy, sizeof copy), IMAGE_NONE);
}

Test(images, jpeg_survives_every_single_byte_change)
{
  unsigned char copy[sizeof jpeg];
  for (size_t i = 0; i < sizeof jpeg; i++) {
    for (unsigned v = 0; v < 256; v += 17) {
      memcpy(copy, jpeg, sizeof jpeg);
      copy[i] = (unsigned char)v;
      enum image_type type = detect(copy, sizeof copy);
      cr_assert(type == IMAGE_NONE || type == IMAGE_JPEG);
    }
  }
}

Test(images, gif_valid_truncated_and_extended)
{
  cr_assert_eq(detect(gif, sizeof gif), IMAGE_GIF);
  expect_truncations_refused(gif, sizeof gif);
  expect_trailing_bytes_ignored(gif, sizeof gif, IMAGE_GIF);

  unsigned char gif87[sizeof gif];
  memcpy(gif87, gif, sizeof gif);
  memcpy(gif87, "GIF87a", 6);
  cr_assert_eq(detect(gif87, sizeof gif87), IMAGE_GIF);
  memcpy(gif87, "GIF88a", 6);
  cr_assert_eq(detect(gif87, sizeof gif87), IMAGE_NONE);
}

Test(images, gif_needs_an_image_and_sane_blocks)
{
  static const unsigned char no_image[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0, 0x3b};
  cr_assert_eq(detect(no_image, sizeof no_image), IMAGE_NONE);
  static const unsigned char zero_size[] = {'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0, 0, 0, 0,
                                            0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 1, 0x44, 0, 0x3b};
  cr_assert_eq(detect(zero_size, sizeof zero_size), IMAGE_NONE);
  static const unsigned char unknown_block[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0,
                                                0x99, 0x3b};
  cr_assert_eq(detect(unknown_block, sizeof unknown_block), IMAGE_NONE);
  /* A global colour table of 256 entries announced but missing. */
  unsigned char big_table[sizeof gif];
  memcpy(big_table, gif, sizeof gif);
  big_table[10] = 0x87;
  cr_assert_eq(detect(big_table, sizeof big_table), IMAGE_NONE);
}

Test(images, gif_survives_every_single_byte_change)
{
  unsigned char copy[sizeof gif];
  for (size_t i = 0; i < sizeof gif; i++) {
    for (unsigned v = 0; v < 256; v++) {
      memcpy(copy, gif, sizeof gif);
      copy[i] = (unsigned char)v;
      enum image_type type = detect(copy, sizeof copy);
      cr_assert(type == IMAGE_NONE || type == IMAGE_GIF);
    }
  }
}

Test(images, webp_valid_truncated_and_extended)
{
  cr_assert_eq(detect(webp_lossless, sizeof webp_lossless), IMAGE_WEBP);
  cr_assert_eq(detect(webp_lossy, sizeof webp_lossy), IMAGE_WEBP);
  expect_truncations_refused(webp_lossless, sizeof webp_lossless);
  expect_truncations_refused(webp_lossy, sizeof webp_lossy);
  expect_trailing_byte_refused(webp_lossless, sizeof webp_lossless);
  expect_trailing_byte_refused(webp_lossy, sizeof webp_lossy);
}

Test(images, webp_needs_a_matching_riff_size_and_a_bitstream)
{
  unsigned char copy[sizeof webp_lossy];
  memcpy(copy, webp_lossy, sizeof copy);
  copy[4]++; /* RIFF size one more than the file */
  cr_assert_eq(detect(copy, sizeof copy), IMAGE_NONE);

  memcpy(copy, webp_lossy, sizeof copy);
  memcpy(copy + 12, "ABCD", 4); /* an unknown first chunk */
  cr_assert_eq(detect(copy, sizeof copy), IMAGE_NONE);

  memcpy(copy, webp_lossy, sizeof copy);
  copy[23] = 0; /* the VP8 start code broken */
  cr_assert_eq(detect(copy, sizeof copy), IMAGE_NONE);

  memcpy(copy, webp_lossy, sizeof copy);
  memcpy(copy + 8, "WEBQ", 4);
  cr_assert_eq(detect(copy, sizeof copy), IMAGE_NONE);

  unsigned char lossless[sizeof webp_lossless];
  memcpy(lossless, webp_lossless, sizeof lossless);
  lossless[20] = 0x2e; /* the VP8L signature */
  cr_assert_eq(detect(lossless, sizeof lossless), IMAGE_NONE);

  /* VP8X alone: the features chunk without any image. */
  static const unsigned char vp8x_only[] = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P',
                                            'V', 'P', '8', 'X', 10, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  cr_assert_eq(detect(vp8x_only, sizeof vp8x_only), IMAGE_NONE);

  /* A chunk size that runs past the end, with a RIFF size that matches. */
  static const unsigned char overrun[] = {'R', 'I', 'F', 'F', 12, 0, 0, 0, 'W', 'E', 'B', 'P',
                                          'V', 'P', '8', 'L', 0xff, 0xff, 0xff, 0x7f};
  cr_assert_eq(detect(overrun, sizeof overrun), IMAGE_NONE);
}

Test(images, webp_survives_every_single_byte_change)
{
  unsigned char copy[sizeof webp_lossy];
  for (size_t i = 0; i < sizeof webp_lossy; i++) {
    for (unsigned v = 0; v < 256; v++) {
      memcpy(copy, webp_lossy, sizeof copy);
      copy[i] = (unsigned char)v;
      enum image_type type = detect(copy, sizeof copy);
      cr_assert(type == IMAGE_NONE || type == IMAGE_WEBP);
    }
  }
}

Test(images, garbage_is_no_image)
{
  cr_assert_eq(detect(NULL, 0), IMAGE_NONE);
  cr_assert_eq(events_image_detect(NULL, 10, NULL), IMAGE_NONE);
  const char *texts[] = {
    "", "x", "hello world", "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "\x89PNG\r\n\x1a\n", "GIF89a", "RIFF\x04\0\0\0WEBP", "\xff\xd8\xff",
    "%PDF-1.7", "BM6\0\0\0", "#!/bin/sh\nrm -rf /\n",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    cr_assert_eq(detect((const unsigned char *)texts[i], strlen(texts[i])), IMAGE_NONE,
                 "%s", texts[i]);

  srand(4242);
  unsigned char noise[512];
  for (int round = 0; round < 20000; round++) {
    size_t len = (size_t)(rand() % (int)sizeof noise);
    for (size_t i = 0; i < len; i++)
      noise[i] = (unsigned char)rand();
    /* Half the time behind a real signature, to get past the first check. */
    static const char *const heads[] = {"\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "GIF89a", "RIFF"};
    const char *head = heads[round % 4];
    if (round % 2 && len >= strlen(head))
      memcpy(noise, head, strlen(head));
    cr_assert_eq(detect(noise, len), IMAGE_NONE);
  }
}

/* events_image_detect's declared size, over an exact-size heap copy. */
static struct image_size
declared(const unsigned char *data, size_t len, enum image_type expected)
{
  unsigned char *copy = malloc(len);
  memcpy(copy, data, len);
  struct image_size size = {7, 7};
  cr_assert_eq(events_image_detect(copy, len, &size), expected);
  free(copy);
  return size;
}

#define expect_size(data, len, type, w, h)                                        \
  do {                                                                            \
    struct image_size s_ = declared((data), (len), (type));                      \
    cr_assert(s_.width == (w) && s_.height == (h), "%u x %u, expected %u x %u",  \
              s_.width, s_.height, (unsigned)(w), (unsigned)(h));                 \
  } while (0)

Test(images, declared_sizes_are_read_from_the_headers)
{
  size_t len;
  unsigned char *png = image_png(0, 1, 1, &len);
  expect_size(png, len, IMAGE_PNG, 1, 1);
  free(png);
  expect_size(jpeg, sizeof jpeg, IMAGE_JPEG, 1, 1);
  expect_size(gif, sizeof gif, IMAGE_GIF, 1, 1);
  expect_size(webp_lossless, sizeof webp_lossless, IMAGE_WEBP, 1, 1);
  expect_size(webp_lossy, sizeof webp_lossy, IMAGE_WEBP, 1, 1);
  expect_size((const unsigned char *)"not an image", 12, IMAGE_NONE, 0, 0);

  /* JPEG: height, then width, in the frame header. */
  unsigned char big_jpeg[sizeof jpeg];
  memcpy(big_jpeg, jpeg, sizeof jpeg);
  size_t sof = 0;
  while (!(big_jpeg[sof] == 0xff && big_jpeg[sof + 1] == 0xc0))
    sof++;
  big_jpeg[sof + 5] = 0x12; /* height 0x1234 */
  big_jpeg[sof + 6] = 0x34;
  big_jpeg[sof + 7] = 0x56; /* width 0x5678 */
  big_jpeg[sof + 8] = 0x78;
  expect_size(big_jpeg, sizeof big_jpeg, IMAGE_JPEG, 0x5678, 0x1234);

  /* GIF: an image placed at (300, 2) of 5 x 6 reaches past a 10 x 10 screen. */
  unsigned char wide_gif[sizeof gif];
  memcpy(wide_gif, gif, sizeof gif);
  wide_gif[6] = 10;
  wide_gif[8] = 10;
  wide_gif[28] = 300 & 0xff;
  wide_gif[29] = 300 >> 8;
  wide_gif[30] = 2;
  wide_gif[32] = 5;
  wide_gif[34] = 6;
  expect_size(wide_gif, sizeof wide_gif, IMAGE_GIF, 305, 10);

  /* WebP lossless: 14 bits of width - 1 and of height - 1. */
  unsigned char big_webp[sizeof webp_lossless];
  memcpy(big_webp, webp_lossless, sizeof webp_lossless);
  uint32_t bits = 16383u | 9999u << 14 | 1u << 28;
  for (int i = 0; i < 4; i++)
    big_webp[21 + i] = (unsigned char)(bits >> (8 * i));
  expect_size(big_webp, sizeof big_webp, IMAGE_WEBP, 16384, 10000);

  /* WebP lossy: 14-bit width and height after the start code. */
  unsigned char lossy[sizeof webp_lossy];
  memcpy(lossy, webp_lossy, sizeof webp_lossy);
  lossy[26] = 0xff;
  lossy[27] = 0xff; /* the top two bits are a scale, not size */
  lossy[28] = 0x10;
  lossy[29] = 0x00;
  expect_size(lossy, sizeof lossy, IMAGE_WEBP, 16383, 16);
}

Test(images, extensions)
{
  cr_assert_str_eq(events_image_extension(IMAGE_PNG), "png");
  cr_assert_str_eq(events_image_extension(IMAGE_JPEG), "jpg");
  cr_assert_str_eq(events_image_extension(IMAGE_GIF), "gif");
  cr_assert_str_eq(events_image_extension(IMAGE_WEBP), "webp");
  cr_assert_null(events_image_extension(IMAGE_NONE));
}

/* ---- media names and files (http/media.h) ---- */

#define HEX32 "0123456789abcdef0123456789abcdef"

Test(images, media_names_are_exactly_the_generated_form)
{
  cr_assert(media_name_valid(HEX32 ".png"));
  cr_assert(media_name_valid(HEX32 ".jpg"));
  cr_assert(media_name_valid(HEX32 ".gif"));
  cr_assert(media_name_valid(HEX32 ".webp"));
  cr_assert_str_eq(media_content_type(HEX32 ".png"), "image/png");
  cr_assert_str_eq(media_content_type(HEX32 ".jpg"), "image/jpeg");
  cr_assert_str_eq(media_content_type(HEX32 ".gif"), "image/gif");
  cr_assert_str_eq(media_content_type(HEX32 ".webp"), "image/webp");
  const char *bad[] = {
    "", "x.png", ".png", HEX32, HEX32 ".", HEX32 ".PNG", HEX32 ".jpeg", HEX32 ".svg",
    HEX32 ".png/", HEX32 ".png.png", HEX32 "0.png", "0123456789abcdef0123456789abcde.png",
    "0123456789ABCDEF0123456789ABCDEF.png", "../" HEX32 ".png", "0123456789abcdef/../..abcdef.png",
    "..", "../etc/passwd", HEX32 ".pn", HEX32 ".png\n", "g123456789abcdef0123456789abcdef.png",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert(!media_name_valid(bad[i]), "%s", bad[i]);
    cr_assert_null(media_content_type(bad[i]), "%s", bad[i]);
  }
  cr_assert(!media_name_valid(NULL));
}

/* How many entries dir holds, besides . and .. */
static int
count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "%s", dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

Test(images, media_store_writes_a_new_file_atomically_and_remove_takes_it,
     .init = tmpdir_create, .fini = tmpdir_remove)
{
  char root[128], name[MEDIA_NAME_SIZE], other[MEDIA_NAME_SIZE], path[256];
  snprintf(root, sizeof root, "%s/a/media", tmpdir_path()); /* parents missing too */
  cr_assert_eq(media_store(root, gif, sizeof gif, "gif", name), 0);
  cr_assert(media_name_valid(name), "%s", name);
  cr_assert_eq(strlen(name), 36);
  cr_assert_str_eq(name + 32, ".gif");

  struct stat st;
  cr_assert_eq(stat(root, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0750);
  snprintf(path, sizeof path, "%s/%s", root, name);
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0640);
  cr_assert_eq((size_t)st.st_size, sizeof gif);
  FILE *f = fopen(path, "rb");
  unsigned char back[sizeof gif + 1];
  cr_assert_eq(fread(back, 1, sizeof back, f), sizeof gif);
  fclose(f);
  cr_assert(memcmp(back, gif, sizeof gif) == 0);
  cr_assert_eq(count_entries(root), 1, "no temporary file is left behind");

  cr_assert_eq(media_store(root, gif, sizeof gif, "gif", other), 0);
  cr_assert_str_neq(name, other, "names are never reused");
  cr_assert_eq(count_entries(root), 2);

  cr_assert_eq(media_remove(root, name), 0);
  cr_assert_neq(stat(path, &st), 0);
  cr_assert_eq(media_remove(root, name), 0, "a missing file is fine");
  cr_assert_eq(count_entries(root), 1);
}

Test(images, media_store_refuses_other_extensions, .init = tmpdir_create, .fini = tmpdir_remove)
{
  char name[MEDIA_NAME_SIZE];
  const char *bad[] = {"svg", "", "png/../x", "PNG", "jpeg"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(media_store(tmpdir_path(), gif, sizeof gif, bad[i], name), EVENTAPI_EINVAL);
  cr_assert_eq(count_entries(tmpdir_path()), 0);
}

Test(images, media_store_fails_cleanly_when_root_is_a_file,
     .init = tmpdir_create, .fini = tmpdir_remove)
{
  char root[128], name[MEDIA_NAME_SIZE];
  snprintf(root, sizeof root, "%s/file", tmpdir_path());
  FILE *f = fopen(root, "w");
  fclose(f);
  cr_assert_eq(media_store(root, gif, sizeof gif, "gif", name), EVENTAPI_EIO);
}

Test(images, media_remove_ignores_names_it_did_not_make,
     .init = tmpdir_create, .fini = tmpdir_remove)
{
  char root[128], path[256];
  snprintf(root, sizeof root, "%s/media", tmpdir_path());
  cr_assert_eq(mkdir(root, 0750), 0);
  const char *keep[] = {"keep.txt", "0123456789ABCDEF0123456789ABCDEF.png"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", root, keep[i]);
    FILE *f = fopen(path, "w");
    fclose(f);
    cr_assert_eq(media_remove(root, keep[i]), 0);
  }
  snprintf(path, sizeof path, "%s/outside.png", tmpdir_path());
  FILE *f = fopen(path, "w");
  fclose(f);
  cr_assert_eq(media_remove(root, "../outside.png"), 0);
  cr_assert_eq(media_remove(root, NULL), 0);
  cr_assert_eq(count_entries(root), 2);
  cr_assert_eq(access(path, F_OK), 0);
}
