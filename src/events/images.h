/*
 * images.h - the views that upload and remove an event's image.
 *
 * API.md: uploads are PNG, JPEG, GIF or WebP, checked by their bytes (never
 * by the declared filename or Content-Type; events/image_format.h), at most
 * 5 MiB (the server answers 413 above, before the view runs). Files live
 * under MEDIA_ROOT with names from http/media.h and are served at
 * /media/<name>.
 */
#ifndef EVENTAPI_EVENTS_IMAGES_H
#define EVENTAPI_EVENTS_IMAGES_H

#include "http/http.h"

/*
 * PUT /api/events/<int:id>/image/ (ROUTE_UPLOAD): the body is
 * multipart/form-data with a file field "image", or the raw image with any
 * other Content-Type. The organizer or an admin; 200 with the event.
 */
void events_image_put_view(struct http_request *req);

/* DELETE /api/events/<int:id>/image/: 200 with the event, image null. */
void events_image_delete_view(struct http_request *req);

#endif
