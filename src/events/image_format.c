/*
 * image_format.c - image files recognised by their bytes (see image_format.h).
 */
#include "events/image_format.h"

#include <stdbool.h>
#include <string.h>
#include <zlib.h>

static uint32_t
be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
le16(const unsigned char *p)
{
  return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
le24(const unsigned char *p)
{
  return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
le32(const unsigned char *p)
{
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static bool
is_letter(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Widens size to hold width x height. */
static void
size_cover(struct image_size *size, uint32_t width, uint32_t height)
{
  if (width > size->width)
    size->width = width;
  if (height > size->height)
    size->height = height;
}

/* Chunks with valid lengths and CRCs: IHDR first, an IDAT, then IEND. */
static bool
png_valid(const unsigned char *p, size_t len, struct image_size *size)
{
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (len < 8 || memcmp(p, signature, 8) != 0)
    return false;
  bool seen_idat = false;
  for (size_t pos = 8, index = 0; len - pos >= 12; index++) {
    uint32_t chunk_len = be32(p + pos);
    const unsigned char *type = p + pos + 4;
    if (chunk_len > 0x7fffffffu || chunk_len > len - pos - 12)
      return false;
    for (int i = 0; i < 4; i++)
      if (!is_letter(type[i]))
        return false;
    uint32_t crc = (uint32_t)crc32(0L, type, (uInt)chunk_len + 4);
    if (crc != be32(p + pos + 8 + chunk_len))
      return false;
    bool is_ihdr = memcmp(type, "IHDR", 4) == 0;
    if ((index == 0) != is_ihdr)
      return false;
    if (is_ihdr && (chunk_len != 13 || be32(type + 4) == 0 || be32(type + 8) == 0 ||
                    be32(type + 4) > 0x7fffffffu || be32(type + 8) > 0x7fffffffu))
      return false;
    if (is_ihdr)
      size_cover(size, be32(type + 4), be32(type + 8));
    if (memcmp(type, "IDAT", 4) == 0)
      seen_idat = true;
    pos += 12 + chunk_len;
    if (memcmp(type, "IEND", 4) == 0) /* bytes after it are ignored, as Pillow does */
      return chunk_len == 0 && seen_idat;
  }
  return false; /* no IEND: truncated */
}

static bool
jpeg_is_sof(unsigned char marker)
{
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
         marker != 0xcc;
}

/* SOI, marker segments with a frame header before the first scan, an EOI. */
static bool
jpeg_valid(const unsigned char *p, size_t len, struct image_size *size)
{
  if (len < 4 || p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff)
    return false;
  bool seen_frame = false;
  size_t pos = 2;
  for (;;) {
    if (pos >= len || p[pos] != 0xff)
      return false;
    while (pos < len && p[pos] == 0xff)
      pos++; /* fill bytes */
    if (pos >= len)
      return false;
    unsigned char marker = p[pos++];
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
      continue; /* TEM, RSTn: no length */
    if (marker == 0x00 || marker == 0xd8 || marker == 0xd9)
      return false; /* a stray byte, a second SOI, EOI before any scan */
    if (len - pos < 2)
      return false;
    size_t segment_len = (size_t)p[pos] << 8 | p[pos + 1];
    if (segment_len < 2 || segment_len > len - pos)
      return false;
    if (jpeg_is_sof(marker)) {
      /* length, precision, height, width, components, 3 bytes each */
      if (segment_len < 8)
        return false;
      unsigned height = (unsigned)p[pos + 3] << 8 | p[pos + 4];
      unsigned width = (unsigned)p[pos + 5] << 8 | p[pos + 6];
      unsigned components = p[pos + 7];
      if (width == 0 || components == 0 || segment_len != 8 + 3 * (size_t)components)
        return false;
      size_cover(size, width, height); /* a height of 0 comes later, in a DNL */
      seen_frame = true;
    }
    pos += segment_len;
    /* SOS: entropy-coded data up to the EOI (in it, 0xFF is never followed
     * by 0xD9); what follows the EOI, as phone cameras add, is ignored. */
    if (marker == 0xda)
      return seen_frame && memmem(p + pos, len - pos, "\xff\xd9", 2) != NULL;
  }
}

/* Skips a chain of data sub-blocks at *pos; false when it runs off the end. */
static bool
gif_skip_sub_blocks(const unsigned char *p, size_t len, size_t *pos)
{
  for (;;) {
    if (*pos >= len)
      return false;
    size_t size = p[(*pos)++];
    if (size == 0)
      return true;
    if (size > len - *pos)
      return false;
    *pos += size;
  }
}

/* Header, screen descriptor, blocks with at least one image, 0x3B last. */
static bool
gif_valid(const unsigned char *p, size_t len, struct image_size *size)
{
  if (len < 14 || (memcmp(p, "GIF87a", 6) != 0 && memcmp(p, "GIF89a", 6) != 0))
    return false;
  if ((p[6] | p[7]) == 0 || (p[8] | p[9]) == 0)
    return false; /* zero width or height */
  size_cover(size, le16(p + 6), le16(p + 8));
  size_t pos = 13;
  if (p[10] & 0x80)
    pos += 3u << ((p[10] & 7) + 1); /* global colour table */
  unsigned images = 0;
  while (pos < len) {
    unsigned char block = p[pos++];
    if (block == 0x3b) /* trailer; bytes after it are ignored */
      return images > 0;
    if (block == 0x21) { /* extension: label, sub-blocks */
      if (pos >= len)
        return false;
      pos++;
    } else if (block == 0x2c) { /* image descriptor */
      if (len - pos < 9)
        return false;
      /* An image may reach past the logical screen: count where it ends. */
      size_cover(size, le16(p + pos) + le16(p + pos + 4), le16(p + pos + 2) + le16(p + pos + 6));
      unsigned char flags = p[pos + 8];
      pos += 9;
      if (flags & 0x80) {
        size_t table = 3u << ((flags & 7) + 1);
        if (table > len - pos)
          return false;
        pos += table;
      }
      if (pos >= len || p[pos] < 1 || p[pos] > 11)
        return false; /* LZW minimum code size */
      pos++;
      images++;
    } else {
      return false;
    }
    if (!gif_skip_sub_blocks(p, len, &pos))
      return false;
  }
  return false; /* no trailer: truncated */
}

/* RIFF size equal to the length, chunks to the end, a bitstream header first. */
static bool
webp_valid(const unsigned char *p, size_t len, struct image_size *size)
{
  if (len < 20 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0)
    return false;
  if (le32(p + 4) != len - 8)
    return false;
  bool seen_image = false;
  for (size_t pos = 12, index = 0; pos < len; index++) {
    if (len - pos < 8)
      return false;
    const unsigned char *fourcc = p + pos;
    size_t chunk = le32(p + pos + 4);
    const unsigned char *d = p + pos + 8;
    if (chunk > len - pos - 8)
      return false;
    bool vp8 = memcmp(fourcc, "VP8 ", 4) == 0, vp8l = memcmp(fourcc, "VP8L", 4) == 0,
         vp8x = memcmp(fourcc, "VP8X", 4) == 0;
    if (index == 0 && !vp8 && !vp8l && !vp8x)
      return false;
    if (vp8) {
      /* frame tag (key frame), start code, 14-bit width and height */
      if (chunk < 10 || (d[0] & 1) != 0 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a ||
          (le16(d + 6) & 0x3fff) == 0 || (le16(d + 8) & 0x3fff) == 0)
        return false;
      size_cover(size, le16(d + 6) & 0x3fff, le16(d + 8) & 0x3fff);
      seen_image = true;
    } else if (vp8l) {
      /* signature 0x2f; 14 bits of width - 1, 14 of height - 1; version
       * (top 3 bits of the fifth byte) 0 */
      if (chunk < 5 || d[0] != 0x2f || (d[4] >> 5) != 0)
        return false;
      uint32_t bits = le32(d + 1);
      size_cover(size, (bits & 0x3fff) + 1, (bits >> 14 & 0x3fff) + 1);
      seen_image = true;
    } else if (vp8x) {
      /* flags, 3 reserved bytes, 24 bits of canvas width - 1, of height - 1 */
      if (chunk < 10 || index != 0)
        return false;
      size_cover(size, le24(d + 4) + 1, le24(d + 7) + 1);
    } else if (memcmp(fourcc, "ANMF", 4) == 0) {
      /* frames of an animation: x / 2, y / 2, width - 1, height - 1 (24 bits each) */
      if (chunk >= 12)
        size_cover(size, 2 * le24(d) + le24(d + 6) + 1, 2 * le24(d + 3) + le24(d + 9) + 1);
      seen_image = true;
    }
    pos += 8 + chunk + (chunk & 1);
    if (pos > len)
      return false; /* the padding byte is missing */
  }
  return seen_image;
}

enum image_type
events_image_detect(const unsigned char *data, size_t len, struct image_size *size)
{
  struct image_size ignored;
  if (size == NULL)
    size = &ignored;
  *size = (struct image_size){0};
  enum image_type type = IMAGE_NONE;
  if (data == NULL || len < 4)
    type = IMAGE_NONE;
  else if (data[0] == 0x89 && png_valid(data, len, size))
    type = IMAGE_PNG;
  else if (data[0] == 0xff && jpeg_valid(data, len, size))
    type = IMAGE_JPEG;
  else if (data[0] == 'G' && gif_valid(data, len, size))
    type = IMAGE_GIF;
  else if (data[0] == 'R' && webp_valid(data, len, size))
    type = IMAGE_WEBP;
  if (type == IMAGE_NONE)
    *size = (struct image_size){0};
  return type;
}

const char *
events_image_extension(enum image_type type)
{
  switch (type) {
  case IMAGE_PNG: return "png";
  case IMAGE_JPEG: return "jpg";
  case IMAGE_GIF: return "gif";
  case IMAGE_WEBP: return "webp";
  case IMAGE_NONE: break;
  }
  return NULL;
}
