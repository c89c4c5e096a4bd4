/*
 * images.h - an event's image: recognising image files by their bytes, and
 * the views that upload and remove an event's image.
 *
 * API.md: uploads are PNG, JPEG, GIF or WebP, checked by their bytes (never
 * by the declared filename or Content-Type), at most 5 MiB (the server
 * answers 413 above, before the view runs). Files live under MEDIA_ROOT with
 * names from http/media.h and are served at /media/<name>.
 */
#ifndef EVENTAPI_EVENTS_IMAGES_H
#define EVENTAPI_EVENTS_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

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

/*
 * PUT /api/events/<int:id>/image/ (ROUTE_UPLOAD): the body is
 * multipart/form-data with a file field "image", or the raw image with any
 * other Content-Type. The organizer or an admin; 200 with the event.
 */
void events_image_put_view(struct http_request *req);

/* DELETE /api/events/<int:id>/image/: 200 with the event, image null. */
void events_image_delete_view(struct http_request *req);

#endif
