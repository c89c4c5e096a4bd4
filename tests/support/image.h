/*
 * image.h - images made to measure for the tests of the image checks
 * (unit) and of uploads (API): PNGs of a given size that declare given
 * dimensions, and the chunks to build broken ones.
 */
#ifndef EVENTAPI_TESTS_IMAGE_H
#define EVENTAPI_TESTS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* v at p, big-endian, as PNG's lengths and dimensions are. */
void image_put_be32(unsigned char *p, uint32_t v);

/*
 * Writes a PNG chunk at out: its length, type, len bytes of data (NULL
 * data: the bytes already at out + 8) and CRC. Returns its size, 12 + len.
 */
size_t image_png_chunk(unsigned char *out, const char *type, const unsigned char *data,
                       size_t len);

/*
 * A grey PNG of exactly size bytes (0: as small as it gets), padded with an
 * ancillary chunk that nothing decodes, that declares width x height pixels
 * and holds the data of one. *len gets its size; the caller frees it. Fails
 * the test when size is too small for a PNG.
 */
unsigned char *image_png(size_t size, uint32_t width, uint32_t height, size_t *len);

#endif
