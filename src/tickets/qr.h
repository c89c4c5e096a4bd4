/*
 * qr.h - a ticket's code as a QR code, in SVG and PNG.
 */
#ifndef EVENTAPI_TICKETS_QR_H
#define EVENTAPI_TICKETS_QR_H

#include <stddef.h>

/*
 * The QR code of text (at most 256 bytes) with a 4-module quiet zone, 8 px
 * per module, as a malloc'd SVG document or PNG image the caller frees, with
 * its length in *len; NULL on failure.
 */
char *tickets_qr_svg(const char *text, size_t *len);
char *tickets_qr_png(const char *text, size_t *len);

#endif
