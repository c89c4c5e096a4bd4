/*
 * images.c - recognising uploaded images by their bytes, and the views that
 * set and remove an event's image.
 *
 * The order of an upload: permission, then the bytes (multipart or raw),
 * then the type by content, then the file (atomically, under a new random
 * name), then the database in one write transaction, and only after the
 * commit the old file goes. A failure before the commit removes the new
 * file; a crash between the two leaves at worst an unreferenced file, never
 * a reference to a missing one.
 */
#include "events/images.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "core/config.h"
#include "core/error.h"
#include "events/changes.h"
#include "events/models.h"
#include "events/permissions.h"
#include "events/serializers.h"
#include "http/media.h"
#include "http/multipart.h"
#include "shortcuts/reply.h"
#include "shortcuts/write.h"

/* DRF's FileField and ImageField messages. */
static const char NO_FILE[] = "No file was submitted.";
static const char NOT_A_FILE[] =
    "The submitted data was not a file. Check the encoding type on the form.";
static const char EMPTY_FILE[] = "The submitted file is empty.";
static const char INVALID_IMAGE[] =
    "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";

/* ---- recognising images ---- */

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

/* ---- the views ---- */

static void
reply_image_error(struct http_request *req, const char *message)
{
  http_reply_json(req, 400, json_pack("{s:[s]}", "image", message));
}

/*
 * The uploaded file's bytes: the "image" part of a multipart/form-data
 * body, or else the whole body. Replies 400 and returns false when there is
 * no file.
 */
static bool
upload_bytes(struct http_request *req, const unsigned char **data, size_t *len)
{
  const char *type = http_header(req, "Content-Type");
  if (req->body_len == 0) {
    reply_image_error(req, NO_FILE);
    return false;
  }
  if (!multipart_is_form_data(type)) {
    *data = (const unsigned char *)req->body;
    *len = req->body_len;
    return true;
  }
  struct multipart_part part;
  const char *why;
  int rc = multipart_find(type, req->body, req->body_len, "image", &req->arena, &part, &why);
  if (rc == EVENTAPI_ENOTFOUND) {
    reply_image_error(req, NO_FILE);
  } else if (rc == EVENTAPI_ENOMEM) {
    http_reply_internal(req, "out of memory");
  } else if (rc < 0) {
    http_reply_detail(req, 400, arena_printf(&req->arena, "Multipart form parse error - %s", why));
  } else if (part.filename == NULL) {
    reply_image_error(req, NOT_A_FILE); /* a plain form field */
  } else if (part.filename[0] == '\0') {
    reply_image_error(req, NO_FILE); /* what a form sends for no file chosen */
  } else if (part.len == 0) {
    reply_image_error(req, EMPTY_FILE);
  } else {
    *data = (const unsigned char *)part.data;
    *len = part.len;
    return true;
  }
  return false;
}

/* An event's image set (a stored file's name) or removed (NULL), as a unit of work. */
struct swap_unit {
  int64_t event_id;
  const char *image;
  struct event updated;   /* the event as committed */
  arena_t *arena;
};

static int
swap_unit(db_t *db, void *arg)
{
  struct swap_unit *unit = arg;
  return events_image_swap(db, unit->event_id, unit->image, unit->arena, &unit->updated);
}

static void
swap_reply(struct http_request *req, int rc, void *arg)
{
  struct swap_unit *unit = arg;
  if (rc < 0 && unit->image)
    media_remove(config->media_root, unit->image); /* stored for nothing */
  /* 404 when deleted since it was loaded. */
  if (object_or_404(req, rc, "No Event matches the given query."))
    http_reply_json(req, 200, events_serialize(&unit->updated, http_base_url(req)));
}

/* Sets event_id's image to image (NULL: none), then answers. */
static void
swap_image(struct http_request *req, int64_t event_id, const char *image)
{
  struct swap_unit unit = {.event_id = event_id, .image = image, .arena = &req->arena};
  if (!write_or_reply(req, swap_unit, &unit, sizeof unit, swap_reply) && image)
    media_remove(config->media_root, image);
}

void
events_image_put_view(struct http_request *req)
{
  struct event e;
  if (!event_owned_or_reply(req, req->ids[0], &e))
    return;
  const unsigned char *data;
  size_t len;
  if (!upload_bytes(req, &data, &len))
    return;
  /* API.md: at most 5 MiB of image; a multipart body may carry some more. */
  if (len > HTTP_IMAGE_LIMIT) {
    http_reply_detail(req, 413, "The image is too large (the limit is 5 MiB).");
    return;
  }
  /* API.md: the type is decided by the bytes alone. */
  struct image_size size;
  enum image_type type = events_image_detect(data, len, &size);
  if (type == IMAGE_NONE) {
    reply_image_error(req, INVALID_IMAGE);
    return;
  }
  /* A few compressed bytes may declare billions of pixels (Pillow refuses
   * such decompression bombs): IMAGE_MAX_PIXELS, in the words of DRF. */
  uint64_t pixels = (uint64_t)size.width * size.height;
  if (pixels > config->image_max_pixels) {
    reply_image_error(req, arena_printf(&req->arena,
        "Ensure this image has at most %llu pixels (it has %llu).",
        config->image_max_pixels, (unsigned long long)pixels));
    return;
  }
  char *name = arena_alloc(&req->arena, MEDIA_NAME_SIZE);
  int rc = name ? media_store(config->media_root, data, len, events_image_extension(type), name)
                : EVENTAPI_ENOMEM;
  if (rc == EVENTAPI_EFULL) {
    http_reply_error(req, rc); /* 503, as a full database */
    return;
  }
  if (rc < 0) {
    http_reply_internal(req, "cannot store an uploaded image");
    return;
  }
  swap_image(req, e.id, name);
}

void
events_image_delete_view(struct http_request *req)
{
  struct event e;
  if (event_owned_or_reply(req, req->ids[0], &e))
    swap_image(req, e.id, NULL);
}
