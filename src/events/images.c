/*
 * images.c - the views that set and remove an event's image.
 *
 * The order of an upload: permission, then the bytes (multipart or raw),
 * then the type by content, then the file (atomically, under a new random
 * name), then the database in one write transaction, and only after the
 * commit the old file goes. A failure before the commit removes the new
 * file; a crash between the two leaves at worst an unreferenced file, never
 * a reference to a missing one.
 */
#include "events/images.h"

#include "core/config.h"
#include "core/error.h"
#include "events/changes.h"
#include "events/image_format.h"
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
