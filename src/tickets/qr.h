/*
 * qr.h - a ticket's code as a QR code, in SVG and PNG.
 *
 * The code is encoded with libqrencode (error correction level M, 8-bit
 * mode, the smallest version that fits) and drawn black on white with a
 * 4-module quiet zone on every side and 8 px per module, which is what a
 * phone camera needs to read it off a screen or a printout.
 */
#ifndef EVENTAPI_TICKETS_QR_H
#define EVENTAPI_TICKETS_QR_H

#include <stddef.h>

/* The longest text, in bytes, that the functions below accept. */
#define TICKETS_QR_TEXT_MAX 256

/*
 * The QR code of text as an SVG 1.1 document: width and height in px,
 * viewBox in modules (the symbol's size plus 8 for the quiet zone), a white
 * background rect and one <path> of the dark modules. The text itself is
 * not embedded. Returns a malloc'd, NUL-terminated buffer the caller frees,
 * with its length (without the NUL) in *len; NULL when text is NULL, empty,
 * longer than TICKETS_QR_TEXT_MAX bytes, or memory runs out.
 *
 * Safe to call from any number of threads at once.
 */
char *tickets_qr_svg(const char *text, size_t *len);

/*
 * The QR code of text as a 1-bit grayscale PNG, (modules + 8) * 8 px
 * square. Returns a malloc'd buffer the caller frees, with its length in
 * *len; NULL on the same failures as tickets_qr_svg.
 *
 * Safe to call from any number of threads at once.
 */
char *tickets_qr_png(const char *text, size_t *len);

#endif
