/*
 * image_format.h - image files recognised by their bytes: PNG, JPEG, GIF and
 * WebP, the types an event's image may have (API.md).
 *
 * A pure parser over a buffer in memory: no I/O, no allocation, every read
 * bounded by the length given, so hostile bytes cost at most linear time
 * (fuzz/images.c). What a client declares about a file (its name, its
 * Content-Type) plays no part.
 */
#ifndef EVENTAPI_EVENTS_IMAGE_FORMAT_H
#define EVENTAPI_EVENTS_IMAGE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

enum image_type { IMAGE_NONE, IMAGE_PNG, IMAGE_JPEG, IMAGE_GIF, IMAGE_WEBP };

/* The pixels an image declares: what a decoder would have to allocate. */
struct image_size {
  uint32_t width, height;
};

/*
 * The type of the len bytes at data, or IMAGE_NONE when they are not a
 * complete file of one of the types. Beyond the signature each format's
 * container is walked: PNG chunks (lengths, CRCs, IHDR first, an IDAT, IEND
 * last), JPEG segments up to the first scan (a frame header before it, FF D9
 * at the end), GIF blocks (at least one image, the 0x3B trailer last), WebP
 * RIFF chunks (the RIFF size equal to the length, a VP8/VP8L/VP8X first).
 * Pixel data is not decoded.
 *
 * When size is not NULL it gets the declared dimensions: the widest and
 * tallest of the canvas (PNG header, JPEG frame, GIF logical screen, WebP
 * VP8X canvas) and every image or frame in it, offsets included; 0 x 0 for
 * IMAGE_NONE.
 */
enum image_type events_image_detect(const unsigned char *data, size_t len, struct image_size *size);

/* "png", "jpg", "gif", "webp"; NULL for IMAGE_NONE. */
const char *events_image_extension(enum image_type type);

#endif
