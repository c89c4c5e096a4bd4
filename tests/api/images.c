/*
 * images.c - API.md "Events": an event's image. Uploads raw and multipart,
 * recognised by their bytes; files stored under generated names in
 * MEDIA_ROOT and served at /media/ with their type, ETag and 304; the old
 * file removed on replace, image delete and event delete; who may upload;
 * and no request reaching a path outside MEDIA_ROOT.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/api.h"

#define NO_FILE "No file was submitted."
#define INVALID_IMAGE "Upload a valid image. The file you uploaded was either not an image " \
    "or a corrupted image."
#define BOUNDARY "----eventapiTestBoundary7MA4YWxk"
#define FORM_TYPE "multipart/form-data; boundary=" BOUNDARY
#define UPLOAD_LIMIT (5 * 1024 * 1024)

static struct api_user olga;   /* the organizer of the event */
static long long event_id;

static long long
event_without_image(const char *token)
{
  struct api_event e = api_create_event(token, "{'title':'T','location':'L','capacity':10}");
  expect_null(e.resp, "image");
  return e.id;
}

static void
setup(void)
{
  api_server_start();
  olga = api_signup("olga", "organizer");
  event_id = event_without_image(olga.access);
}

TestSuite(images, .init = setup, .fini = api_server_stop);

/* ---- tiny images (the PNGs: api_png()) ---- */

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

/* 1x1 lossless WebP (VP8L). */
static const unsigned char webp[] = {
  0x52, 0x49, 0x46, 0x46, 0x1a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
  0x56, 0x50, 0x38, 0x4c, 0x0d, 0x00, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x00,
  0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00,
};

/* ---- requests ---- */

static const char *
image_path(long long id)
{
  return api_printf("/api/events/%lld/image/", id);
}

static struct api_resp *
put_raw(const char *token, const char *content_type, const void *bytes, size_t len)
{
  return api_request("PUT", image_path(event_id), token, content_type, bytes, len, NULL);
}

/*
 * A multipart body of one part: its Content-Disposition parameters after
 * "form-data; " (e.g. "name=\"image\"; filename=\"a.png\""), an optional
 * Content-Type line, and its content. Harness-owned; *len gets its size.
 */
static const char *
form_body(const char *disposition, const char *part_type, const void *bytes, size_t len,
          size_t *body_len)
{
  const char *head = api_printf("--" BOUNDARY "\r\n"
                                "Content-Disposition: form-data; %s\r\n"
                                "%s%s%s\r\n",
                                disposition, part_type ? "Content-Type: " : "",
                                part_type ? part_type : "", part_type ? "\r\n" : "");
  const char *tail = "\r\n--" BOUNDARY "--\r\n";
  size_t head_len = strlen(head), tail_len = strlen(tail);
  char *body = malloc(head_len + len + tail_len);
  api_keep(body, free);
  memcpy(body, head, head_len);
  if (len)
    memcpy(body + head_len, bytes, len);
  memcpy(body + head_len + len, tail, tail_len);
  *body_len = head_len + len + tail_len;
  return body;
}

static struct api_resp *
put_form(const char *token, const char *disposition, const char *part_type,
         const void *bytes, size_t len)
{
  size_t body_len;
  const char *body = form_body(disposition, part_type, bytes, len, &body_len);
  return put_raw(token, FORM_TYPE, body, body_len);
}

/* ---- the media folder ---- */

static const char *
media_root(void)
{
  return api_printf("%s/media", api_server_dir());
}

static bool
is_hex_name(const char *name, const char *ext)
{
  for (int i = 0; i < 32; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
      return false;
  return name[32] == '.' && strcmp(name + 33, ext) == 0;
}

/*
 * The stored file's name from an event answer: "image" must be
 * http://127.0.0.1:<port>/media/<32 hex>.<ext>.
 */
static const char *
stored_name(struct api_resp *r, const char *ext)
{
  const char *url = json_string_value(json_object_get(r->json, "image"));
  if (url == NULL)
    expect_fail_at(__FILE__, __LINE__, "image is not a URL: %s", r->body);
  const char *prefix = api_url("/media/");
  expect_str_prefix(r, "image", prefix);
  const char *name = url + strlen(prefix);
  expect_that(is_hex_name(name, ext), "%s is 32 hex digits and .%s", name, ext);
  return api_strdup(name);
}

static const char *
media_path(const char *name)
{
  return api_printf("/media/%s", name);
}

static bool
media_file_exists(const char *name)
{
  return access(api_printf("%s/%s", media_root(), name), F_OK) == 0;
}

/* How many entries MEDIA_ROOT holds (0 when it does not exist yet). */
static int
media_count(void)
{
  DIR *d = opendir(media_root());
  if (d == NULL)
    return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

/* Every file under the test's folder: the database, or a generated media name. */
static const char *stray;

static int
check_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (flag == FTW_D || flag == FTW_DP)
    return 0;
  const char *rel = path + strlen(api_server_dir()) + 1;
  const char *last = strrchr(path, '/') + 1;
  bool database = strncmp(rel, "db.sqlite3", 10) == 0;
  bool media = strncmp(rel, "media/", 6) == 0 && strchr(rel + 6, '/') == NULL &&
               (is_hex_name(last, "png") || is_hex_name(last, "jpg") ||
                is_hex_name(last, "gif") || is_hex_name(last, "webp"));
  if (!database && !media && strcmp(rel, ".env") != 0) {
    stray = api_strdup(rel);
    return 1;
  }
  return 0;
}

static void
expect_nothing_outside_media(void)
{
  stray = NULL;
  nftw(api_server_dir(), check_entry, 16, FTW_PHYS);
  expect_that(stray == NULL, "unexpected file %s in the test folder", stray ? stray : "");
}

/* GETs the stored file and checks its bytes and headers. */
static void
expect_served(const char *name, const char *type, const void *bytes, size_t len)
{
  struct api_resp *r = api_get(media_path(name), NULL);
  expect_status(r, 200);
  expect_header(r, "Content-Type", type);
  expect_header(r, "ETag", api_printf("\"%s\"", name));
  expect_header(r, "Cache-Control", "public, max-age=31536000, immutable");
  expect_that(r->len == len && memcmp(r->body, bytes, len) == 0,
              "%s: %zu bytes served, %zu uploaded", name, r->len, len);
}

/* ---- uploads of each type ---- */

Test(images, raw_png_upload_answers_the_event_with_an_absolute_url)
{
  size_t len;
  const unsigned char *bytes = api_png(0, &len);
  struct api_resp *r = put_raw(olga.access, "image/png", bytes, len);
  expect_status(r, 200);
  expect_json_response(r);
  expect_keys(r, EVENT_KEYS);
  expect_int(r, "id", event_id);
  expect_str(r, "title", "T");
  const char *name = stored_name(r, "png");
  expect_that(media_file_exists(name), "%s stored in MEDIA_ROOT", name);
  expect_served(name, "image/png", bytes, len);

  /* The event itself now shows the same URL. */
  struct api_resp *detail = api_get(api_printf("/api/events/%lld/", event_id), NULL);
  expect_status(detail, 200);
  expect_str(detail, "image", api_url(media_path(name)));
}

Test(images, every_type_is_recognised_by_its_bytes_whatever_is_declared)
{
  size_t png_len;
  const unsigned char *png_bytes = api_png(0, &png_len);
  const struct {
    const void *bytes;
    size_t len;
    const char *declared, *ext, *type;
  } uploads[] = {
    {png_bytes, png_len, "application/octet-stream", "png", "image/png"},
    {jpeg, sizeof jpeg, "image/jpeg", "jpg", "image/jpeg"},
    {gif, sizeof gif, NULL, "gif", "image/gif"},
    {webp, sizeof webp, "image/png", "webp", "image/webp"}, /* a lie, ignored */
  };
  for (size_t i = 0; i < sizeof uploads / sizeof uploads[0]; i++) {
    struct api_resp *r = put_raw(olga.access, uploads[i].declared, uploads[i].bytes,
                                 uploads[i].len);
    expect_status(r, 200);
    const char *name = stored_name(r, uploads[i].ext);
    expect_served(name, uploads[i].type, uploads[i].bytes, uploads[i].len);
    expect_that(media_count() == 1, "only the current image is kept: %d files", media_count());
  }
}

Test(images, media_answers_304_to_a_matching_if_none_match)
{
  struct api_resp *r = put_raw(olga.access, "image/gif", gif, sizeof gif);
  expect_status(r, 200);
  const char *name = stored_name(r, "gif");
  const char *etag = api_printf("\"%s\"", name);
  const char *matching[] = {
    api_printf("If-None-Match: %s", etag),
    api_printf("If-None-Match: W/%s", etag),
    api_printf("If-None-Match: \"other\", %s", etag),
    "If-None-Match: *",
  };
  for (size_t i = 0; i < sizeof matching / sizeof matching[0]; i++) {
    const char *headers[] = {matching[i], NULL};
    struct api_resp *cached = api_request("GET", media_path(name), NULL, NULL, NULL, 0, headers);
    expect_status(cached, 304);
    expect_empty_body(cached);
    expect_header(cached, "ETag", etag);
  }
  const char *other[] = {"If-None-Match: \"something-else\"", NULL};
  struct api_resp *fresh = api_request("GET", media_path(name), NULL, NULL, NULL, 0, other);
  expect_status(fresh, 200);
  expect_that(fresh->len == sizeof gif, "the file again");

  struct api_resp *head = api_request("HEAD", media_path(name), NULL, NULL, NULL, 0, NULL);
  expect_status(head, 200);
  expect_header(head, "Content-Type", "image/gif");
  expect_header(head, "Content-Length", api_printf("%zu", sizeof gif));
}

Test(images, a_chunked_upload_is_read_whole)
{
  size_t len;
  const unsigned char *bytes = api_png(0, &len);
  struct api_resp *r = api_request_chunked("PUT", image_path(event_id), olga.access,
                                           "image/png", bytes, len);
  expect_status(r, 200);
  expect_served(stored_name(r, "png"), "image/png", bytes, len);
}

/* ---- multipart ---- */

Test(images, multipart_upload_never_uses_the_client_filename)
{
  const char *escape = api_printf("eventapi-escape-%d.png", (int)getpid());
  const char *filenames[] = {
    api_printf("../../%s", escape),
    api_printf("../%s", escape),
    api_printf("/tmp/%s", escape),
    "a%0D%0Ab.png",                   /* CR LF as browsers escape them */
    "..\\\\..\\\\win.ini",            /* backslashes, escaped as Django reads them */
    api_printf("%s.png", api_repeat('f', 4000)),
    "",                               /* checked below: no file chosen */
  };
  for (size_t i = 0; i + 1 < sizeof filenames / sizeof filenames[0]; i++) {
    struct api_resp *r = put_form(olga.access,
        api_printf("name=\"image\"; filename=\"%s\"", filenames[i]), "text/x-shellscript",
        jpeg, sizeof jpeg);
    expect_status(r, 200);
    const char *name = stored_name(r, "jpg");
    expect_served(name, "image/jpeg", jpeg, sizeof jpeg);
    expect_that(media_count() == 1, "one file in MEDIA_ROOT, %d found", media_count());
  }
  expect_nothing_outside_media();
  const char *outside[] = {
    api_printf("%s/../%s", api_server_dir(), escape),
    api_printf("%s/../../%s", api_server_dir(), escape),
    api_printf("/tmp/%s", escape),
    escape,
    api_printf("../%s", escape),
  };
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
    expect_that(access(outside[i], F_OK) != 0, "%s was written", outside[i]);

  struct api_resp *r = put_form(olga.access, "name=\"image\"; filename=\"\"", NULL, jpeg,
                                sizeof jpeg);
  expect_status(r, 400);
  expect_body(r, "{'image':['" NO_FILE "']}");
}

Test(images, multipart_with_other_fields_and_the_image_among_them)
{
  size_t len;
  const unsigned char *bytes = api_png(0, &len);
  const char *head = "preamble\r\n"
                     "--" BOUNDARY "\r\n"
                     "Content-Disposition: form-data; name=\"title\"\r\n\r\nignored\r\n"
                     "--" BOUNDARY "\r\n"
                     "Content-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\n"
                     "Content-Type: image/png\r\n\r\n";
  const char *tail = "\r\n--" BOUNDARY "--\r\nepilogue";
  size_t body_len = strlen(head) + len + strlen(tail);
  char *body = malloc(body_len);
  api_keep(body, free);
  memcpy(body, head, strlen(head));
  memcpy(body + strlen(head), bytes, len);
  memcpy(body + strlen(head) + len, tail, strlen(tail));
  struct api_resp *r = put_raw(olga.access, "multipart/form-data; boundary=\"" BOUNDARY "\"",
                               body, body_len);
  expect_status(r, 200);
  expect_served(stored_name(r, "png"), "image/png", bytes, len);
  expect_str(api_get(api_printf("/api/events/%lld/", event_id), NULL), "title", "T");
}

Test(images, multipart_without_a_file_is_400)
{
  struct api_resp *r = put_form(olga.access, "name=\"picture\"; filename=\"a.gif\"", NULL,
                                gif, sizeof gif);
  expect_status(r, 400);
  expect_body(r, "{'image':['" NO_FILE "']}");

  r = put_form(olga.access, "name=\"image\"", NULL, gif, sizeof gif);
  expect_status(r, 400);
  expect_body(r, "{'image':['The submitted data was not a file. "
                 "Check the encoding type on the form.']}");

  r = put_form(olga.access, "name=\"image\"; filename=\"empty.png\"", "image/png", "", 0);
  expect_status(r, 400);
  expect_body(r, "{'image':['The submitted file is empty.']}");

  const char *closed = "--" BOUNDARY "--\r\n";
  r = put_raw(olga.access, FORM_TYPE, closed, strlen(closed));
  expect_status(r, 400);
  expect_body(r, "{'image':['" NO_FILE "']}");
  expect_that(media_count() == 0, "nothing stored");
}

Test(images, malformed_multipart_is_400)
{
  size_t len;
  const char *good = form_body("name=\"image\"; filename=\"a.gif\"", NULL, gif, sizeof gif, &len);

  struct api_resp *r = put_raw(olga.access, "multipart/form-data", good, len);
  expect_status(r, 400);
  expect_detail(r, "Multipart form parse error - Invalid boundary in multipart: None");

  r = put_raw(olga.access, "multipart/form-data; boundary=other", good, len);
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "Multipart form parse error - ");

  r = put_raw(olga.access, FORM_TYPE, good, len - 4); /* no closing delimiter */
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "Multipart form parse error - ");

  /* A raw CR LF inside the quoted filename breaks the header line. */
  const char *crlf = form_body("name=\"image\"; filename=\"a\r\nb.png\"", NULL, gif,
                               sizeof gif, &len);
  r = put_raw(olga.access, FORM_TYPE, crlf, len);
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "Multipart form parse error - ");

  /* A header line far over the limit. */
  const char *huge = form_body(api_printf("name=\"image\"; filename=\"%s\"",
                                          api_repeat('x', 100000)), NULL, gif, sizeof gif, &len);
  r = put_raw(olga.access, FORM_TYPE, huge, len);
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "Multipart form parse error - ");

  const char *no_blank_line = "--" BOUNDARY "\r\n"
                              "Content-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n"
                              "GIF89a\r\n--" BOUNDARY "--\r\n";
  r = put_raw(olga.access, FORM_TYPE, no_blank_line, strlen(no_blank_line));
  expect_status(r, 400);
  expect_str_prefix(r, "detail", "Multipart form parse error - ");
  expect_that(media_count() == 0, "nothing stored");
  expect_alive();
}

/* ---- what is not an image ---- */

Test(images, empty_body_is_400)
{
  struct api_resp *r = put_raw(olga.access, "image/png", NULL, 0);
  expect_status(r, 400);
  expect_body(r, "{'image':['" NO_FILE "']}");
  r = put_raw(olga.access, NULL, NULL, 0);
  expect_status(r, 400);
  expect_body(r, "{'image':['" NO_FILE "']}");
}

Test(images, text_and_truncated_images_are_400)
{
  size_t png_len;
  const unsigned char *png_bytes = api_png(0, &png_len);
  const char *text = "just some text, not an image\n";
  const struct {
    const void *bytes;
    size_t len;
    const char *declared;
  } bad[] = {
    {text, strlen(text), "text/plain"},
    {text, strlen(text), "image/png"},
    {"{\"image\":null}", 14, "application/json"},
    {"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", 41, "image/svg+xml"},
    {png_bytes, png_len - 1, "image/png"},
    {png_bytes, png_len / 2, "image/png"},
    {jpeg, sizeof jpeg - 2, "image/jpeg"},
    {jpeg, 3, "image/jpeg"},
    {gif, sizeof gif - 1, "image/gif"},
    {webp, sizeof webp - 2, "image/webp"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct api_resp *r = put_raw(olga.access, bad[i].declared, bad[i].bytes, bad[i].len);
    expect_status(r, 400);
    expect_body(r, "{'image':['" INVALID_IMAGE "']}");
  }
  struct api_resp *r = put_form(olga.access, "name=\"image\"; filename=\"cat.png\"", "image/png",
                                text, strlen(text));
  expect_status(r, 400);
  expect_body(r, "{'image':['" INVALID_IMAGE "']}");
  expect_that(media_count() == 0, "nothing stored: %d files", media_count());
  expect_null(api_get(api_printf("/api/events/%lld/", event_id), NULL), "image");
}

Test(images, an_image_of_exactly_five_mib_is_taken)
{
  size_t len;
  const unsigned char *bytes = api_png(UPLOAD_LIMIT, &len);
  cr_assert_eq(len, UPLOAD_LIMIT);
  struct api_resp *r = put_raw(olga.access, "image/png", bytes, len);
  expect_status(r, 200);
  expect_served(stored_name(r, "png"), "image/png", bytes, len);
}

Test(images, over_five_mib_is_413)
{
  size_t len;
  const unsigned char *bytes = api_png(UPLOAD_LIMIT + 1, &len);
  struct api_resp *r = put_raw(olga.access, "image/png", bytes, len);
  expect_status(r, 413);
  expect_keys(r, "detail", NULL);

  r = api_request_chunked("PUT", image_path(event_id), olga.access, "image/png", bytes, len);
  expect_status(r, 413);
  expect_alive();
  expect_that(media_count() == 0, "nothing stored");
  expect_null(api_get(api_printf("/api/events/%lld/", event_id), NULL), "image");
}

/* ---- the pixel limit (IMAGE_MAX_PIXELS) ---- */

/* A copy of bytes (harness-owned) with the 16-bit value at offset set, big or little endian. */
static unsigned char *
patched16(const unsigned char *bytes, size_t len, size_t offset, unsigned value, bool big)
{
  unsigned char *copy = malloc(len);
  api_keep(copy, free);
  memcpy(copy, bytes, len);
  copy[offset + !big] = (unsigned char)(value >> 8);
  copy[offset + big] = (unsigned char)value;
  return copy;
}

/* The JPEG above, declaring width x height in its frame header. */
static const unsigned char *
jpeg_declaring(unsigned width, unsigned height)
{
  size_t sof = 0;
  while (!(jpeg[sof] == 0xff && jpeg[sof + 1] == 0xc0))
    sof++;
  unsigned char *copy = patched16(jpeg, sizeof jpeg, sof + 5, height, true);
  return patched16(copy, sizeof jpeg, sof + 7, width, true);
}

/* The GIF above, its screen and its one image declaring these sizes. */
static const unsigned char *
gif_declaring(unsigned screen_width, unsigned screen_height, unsigned width, unsigned height)
{
  unsigned char *copy = patched16(gif, sizeof gif, 6, screen_width, false);
  copy = patched16(copy, sizeof gif, 8, screen_height, false);
  copy = patched16(copy, sizeof gif, 27 + 5, width, false); /* after 0x2c, left and top */
  return patched16(copy, sizeof gif, 27 + 7, height, false);
}

/* The lossless WebP above, declaring width x height (at most 16384 each). */
static const unsigned char *
webp_lossless_declaring(uint32_t width, uint32_t height)
{
  unsigned char *copy = malloc(sizeof webp);
  api_keep(copy, free);
  memcpy(copy, webp, sizeof webp);
  uint32_t bits = (width - 1) | (height - 1) << 14 | 1u << 28; /* and the alpha bit */
  for (int i = 0; i < 4; i++)
    copy[21 + i] = (unsigned char)(bits >> (8 * i));
  return copy;
}

/* A lossy WebP whose key frame header declares width x height (at most 16383). */
static const unsigned char *
webp_lossy_declaring(unsigned width, unsigned height, size_t *len)
{
  static const unsigned char head[] = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P',
                                       'V', 'P', '8', ' ', 10, 0, 0, 0,
                                       0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a};
  unsigned char *copy = calloc(1, sizeof head + 4);
  api_keep(copy, free);
  memcpy(copy, head, sizeof head);
  copy[26] = (unsigned char)width;
  copy[27] = (unsigned char)(width >> 8);
  copy[28] = (unsigned char)height;
  copy[29] = (unsigned char)(height >> 8);
  *len = sizeof head + 4;
  return copy;
}

/* An extended WebP: a VP8X canvas of width x height around the lossless 1x1 image. */
static const unsigned char *
webp_canvas_declaring(uint32_t width, uint32_t height, size_t *len)
{
  size_t image = sizeof webp - 12; /* its VP8L chunk */
  size_t size = 12 + 18 + image;
  unsigned char *copy = calloc(1, size);
  api_keep(copy, free);
  memcpy(copy, "RIFF", 4);
  uint32_t riff = (uint32_t)size - 8;
  for (int i = 0; i < 4; i++)
    copy[4 + i] = (unsigned char)(riff >> (8 * i));
  memcpy(copy + 8, "WEBPVP8X", 8);
  copy[16] = 10;
  copy[20] = 0x10; /* alpha */
  for (int i = 0; i < 3; i++) {
    copy[24 + i] = (unsigned char)((width - 1) >> (8 * i));
    copy[27 + i] = (unsigned char)((height - 1) >> (8 * i));
  }
  memcpy(copy + 30, webp + 12, image);
  *len = size;
  return copy;
}

#define TOO_MANY_PIXELS(limit, count) \
    "{'image':['Ensure this image has at most " limit " pixels (it has " count ").']}"

/* Pillow refuses decompression bombs; eventapi refuses far smaller images. */
Test(images, images_of_more_than_image_max_pixels_are_400)
{
  size_t png_len, lossy_len, canvas_len;
  const unsigned char *big_png = api_png_declaring(0, 40000, 40000, &png_len);
  const unsigned char *lossy = webp_lossy_declaring(16383, 16383, &lossy_len);
  const unsigned char *canvas = webp_canvas_declaring(40000, 40000, &canvas_len);
  const struct {
    const void *bytes;
    size_t len;
    const char *type, *pixels;
  } big[] = {
    {big_png, png_len, "image/png", "1600000000"},
    {jpeg_declaring(40000, 40000), sizeof jpeg, "image/jpeg", "1600000000"},
    {gif_declaring(40000, 40000, 1, 1), sizeof gif, "image/gif", "1600000000"},
    {gif_declaring(1, 1, 10000, 10000), sizeof gif, "image/gif", "100000000"},
    {webp_lossless_declaring(16384, 16384), sizeof webp, "image/webp", "268435456"},
    {lossy, lossy_len, "image/webp", "268402689"},
    {canvas, canvas_len, "image/webp", "1600000000"},
  };
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
    struct api_resp *r = put_raw(olga.access, big[i].type, big[i].bytes, big[i].len);
    expect_status(r, 400);
    expect_body(r, api_printf(TOO_MANY_PIXELS("50000000", "%s"), big[i].pixels));
  }
  struct api_resp *r = put_form(olga.access, "name=\"image\"; filename=\"big.png\"", "image/png",
                                big_png, png_len);
  expect_status(r, 400);
  expect_body(r, TOO_MANY_PIXELS("50000000", "1600000000"));
  expect_that(media_count() == 0, "nothing stored: %d files", media_count());
  expect_null(api_get(api_printf("/api/events/%lld/", event_id), NULL), "image");

  /* 10000 x 5000 is the limit itself. */
  const unsigned char *at_limit = api_png_declaring(0, 10000, 5000, &png_len);
  r = put_raw(olga.access, "image/png", at_limit, png_len);
  expect_status(r, 200);
  stored_name(r, "png");
  r = put_raw(olga.access, "image/webp", webp_lossy_declaring(5000, 10000, &lossy_len),
              lossy_len);
  expect_status(r, 200);
}

static void
setup_small_limit(void)
{
  static const char *const env[] = { "IMAGE_MAX_PIXELS", "100", NULL };
  api_server_start_with(env);
  olga = api_signup("olga", "organizer");
  event_id = event_without_image(olga.access);
}

Test(images_limit, the_limit_is_a_setting, .init = setup_small_limit, .fini = api_server_stop)
{
  size_t len;
  const unsigned char *bytes = api_png_declaring(0, 10, 10, &len);
  expect_status(put_raw(olga.access, "image/png", bytes, len), 200);
  bytes = api_png_declaring(0, 101, 1, &len);
  struct api_resp *r = put_raw(olga.access, "image/png", bytes, len);
  expect_status(r, 400);
  expect_body(r, TOO_MANY_PIXELS("100", "101"));
  r = put_raw(olga.access, "image/gif", gif_declaring(5, 5, 11, 10), sizeof gif);
  expect_status(r, 400);
  expect_body(r, TOO_MANY_PIXELS("100", "110"));
  expect_status(put_raw(olga.access, "image/gif", gif_declaring(20, 5, 1, 1), sizeof gif), 200);
}

/* ---- replacing and removing ---- */

Test(images, replacing_removes_the_old_file)
{
  struct api_resp *r = put_raw(olga.access, "image/gif", gif, sizeof gif);
  expect_status(r, 200);
  const char *first = stored_name(r, "gif");
  r = put_raw(olga.access, "image/webp", webp, sizeof webp);
  expect_status(r, 200);
  const char *second = stored_name(r, "webp");
  expect_that(!media_file_exists(first), "%s removed", first);
  expect_that(media_file_exists(second), "%s kept", second);
  expect_that(media_count() == 1, "one file: %d", media_count());
  expect_status(api_get(media_path(first), NULL), 404);
  expect_served(second, "image/webp", webp, sizeof webp);

  /* The same bytes again get a new name: names are never reused. */
  r = put_raw(olga.access, "image/webp", webp, sizeof webp);
  expect_status(r, 200);
  const char *third = stored_name(r, "webp");
  expect_that(strcmp(second, third) != 0, "a new name");
  expect_that(media_count() == 1, "one file: %d", media_count());
}

Test(images, a_failed_upload_keeps_the_current_image)
{
  struct api_resp *r = put_raw(olga.access, "image/gif", gif, sizeof gif);
  expect_status(r, 200);
  const char *name = stored_name(r, "gif");
  expect_status(put_raw(olga.access, "text/plain", "nope", 4), 400);
  expect_status(put_raw(olga.access, "image/gif", gif, sizeof gif - 1), 400);
  expect_str(api_get(api_printf("/api/events/%lld/", event_id), NULL), "image",
             api_url(media_path(name)));
  expect_that(media_count() == 1 && media_file_exists(name), "the image is still there");
}

Test(images, deleting_the_image_removes_the_file)
{
  struct api_resp *r = put_raw(olga.access, "image/jpeg", jpeg, sizeof jpeg);
  expect_status(r, 200);
  const char *name = stored_name(r, "jpg");

  r = api_delete(image_path(event_id), olga.access);
  expect_status(r, 200);
  expect_keys(r, EVENT_KEYS);
  expect_null(r, "image");
  expect_that(!media_file_exists(name), "%s removed", name);
  expect_status(api_get(media_path(name), NULL), 404);
  expect_null(api_get(api_printf("/api/events/%lld/", event_id), NULL), "image");

  r = api_delete(image_path(event_id), olga.access); /* no image: still 200 */
  expect_status(r, 200);
  expect_null(r, "image");
}

Test(images, deleting_the_event_removes_the_file)
{
  struct api_resp *r = put_raw(olga.access, "image/png", jpeg, sizeof jpeg);
  expect_status(r, 200);
  const char *name = stored_name(r, "jpg");
  expect_status(api_delete(api_printf("/api/events/%lld/delete/", event_id), olga.access), 204);
  expect_that(!media_file_exists(name), "%s removed with its event", name);
  expect_status(api_get(media_path(name), NULL), 404);
  expect_status(put_raw(olga.access, "image/gif", gif, sizeof gif), 404);
  expect_that(media_count() == 0, "nothing left: %d", media_count());
}

Test(images, deleting_the_organizer_removes_their_events_files)
{
  struct api_resp *r = put_raw(olga.access, "image/png", jpeg, sizeof jpeg);
  expect_status(r, 200);
  const char *name = stored_name(r, "jpg");
  struct api_user root = api_admin("root");
  /* A refused deletion leaves the file. */
  expect_status(api_delete(api_user_path(olga.id), olga.access), 403);
  expect_that(media_file_exists(name), "%s kept", name);
  expect_status(api_delete(api_user_path(olga.id), root.access), 204);
  expect_that(!media_file_exists(name), "%s removed with its organizer", name);
  expect_status(api_get(media_path(name), NULL), 404);
  expect_status(api_get(api_printf("/api/events/%lld/", event_id), root.access), 404);
  expect_that(media_count() == 0, "nothing left: %d", media_count());
}

/* ---- who may ---- */

Test(images, anonymous_callers_are_401)
{
  struct api_resp *r = put_raw(NULL, "image/gif", gif, sizeof gif);
  expect_status(r, 401);
  expect_detail(r, "Authentication credentials were not provided.");
  r = api_delete(image_path(event_id), NULL);
  expect_status(r, 401);
  expect_that(media_count() == 0, "nothing stored");
}

Test(images, attendees_and_other_organizers_are_403)
{
  const char *callers[] = {
    api_signup("anna", NULL).access,
    api_signup("otto", "organizer").access,
  };
  for (size_t i = 0; i < 2; i++) {
    struct api_resp *r = put_raw(callers[i], "image/gif", gif, sizeof gif);
    expect_status(r, 403);
    expect_detail(r, "You do not have permission to perform this action.");
    expect_status(api_delete(image_path(event_id), callers[i]), 403);
    /* Multipart or raw, the answer is the same before the body is read. */
    expect_status(put_form(callers[i], "name=\"image\"; filename=\"a.gif\"", NULL,
                           gif, sizeof gif), 403);
  }
  expect_that(media_count() == 0, "nothing stored");
}

Test(images, an_admin_may)
{
  struct api_user admin = api_admin("root");
  struct api_resp *r = put_raw(admin.access, "image/gif", gif, sizeof gif);
  expect_status(r, 200);
  const char *name = stored_name(r, "gif");
  expect_int(r, "organizer", olga.id);
  r = api_delete(image_path(event_id), admin.access);
  expect_status(r, 200);
  expect_null(r, "image");
  expect_that(!media_file_exists(name), "removed");
}

Test(images, an_unknown_event_is_404)
{
  struct api_resp *r = api_request("PUT", image_path(999999), olga.access, "image/gif",
                                   gif, sizeof gif, NULL);
  expect_status(r, 404);
  expect_detail(r, "No Event matches the given query.");
  expect_status(api_delete(image_path(999999), olga.access), 404);
  expect_that(media_count() == 0, "nothing stored");
}

/* ---- /media/ serves nothing else ---- */

Test(images, media_serves_only_generated_names)
{
  struct api_resp *r = put_raw(olga.access, "image/gif", gif, sizeof gif);
  expect_status(r, 200);
  const char *name = stored_name(r, "gif");

  /* A file the server did not make, under a name it would never make. */
  FILE *f = fopen(api_printf("%s/notes.png", media_root()), "w");
  cr_assert_not_null(f);
  fputs("secret", f);
  fclose(f);
  /* A link with a generated-looking name to the database: never followed. */
  const char *link_name = "0123456789abcdef0123456789abcdef.png";
  cr_assert_eq(symlink(api_printf("%s/db.sqlite3", api_server_dir()),
                       api_printf("%s/%s", media_root(), link_name)), 0);

  char upper[64];
  snprintf(upper, sizeof upper, "%s", name);
  for (char *c = upper; *c; c++)
    if (*c >= 'a' && *c <= 'z')
      *c = (char)(*c - 'a' + 'A');
  const char *paths[] = {
    "/media/unknown.png",
    "/media/notes.png",
    "/media/ffffffffffffffffffffffffffffffff.png", /* well formed, absent */
    api_printf("/media/%s", link_name),
    api_printf("/media/%s", upper),
    api_printf("/media/%.32s.png", name),         /* the right name, another type */
    api_printf("/media/%s.gif", name),
    "/media/..%2fdb.sqlite3",
    "/media/%2e%2e%2fdb.sqlite3",
    "/media/db.sqlite3",
    "/media/.env",
  };
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    r = api_get(paths[i], NULL);
    expect_status(r, 404);
    expect_detail(r, "Not found.");
  }
  expect_status(api_get(media_path(name), NULL), 200);
}

Test(images, media_paths_with_dot_segments_are_404)
{
  const char *requests[] = {
    "GET /media/../x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /media/../db.sqlite3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /media/.. HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /media/../../../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /media/./x.png HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
    struct api_resp *r = api_raw(requests[i], strlen(requests[i]));
    expect_status(r, 404);
    expect_that(strstr(r->body, "SQLite") == NULL && strstr(r->body, "root:") == NULL,
                "nothing of a file leaked: %s", r->body);
  }
}

/* ---- concurrency ---- */

#define UPLOADERS 4
#define ROUNDS 6

Test(images, racing_uploads_leave_exactly_the_current_file)
{
  struct api_user admin = api_admin("root");
  /* Six rounds of four uploads at once, by the organizer and an admin. */
  for (int round = 0; round < ROUNDS; round++) {
    struct api_call uploads[UPLOADERS];
    for (int t = 0; t < UPLOADERS; t++) {
      bool as_gif = (round + t) % 2;
      uploads[t] = (struct api_call){
        .method = "PUT", .path = image_path(event_id),
        .token = t % 2 ? olga.access : admin.access, .content_type = "image/x",
        .body = as_gif ? (const char *)gif : (const char *)webp,
        .body_len = as_gif ? sizeof gif : sizeof webp,
      };
    }
    api_race(uploads, UPLOADERS);
    for (int t = 0; t < UPLOADERS; t++) {
      expect_status(uploads[t].resp, 200);
      expect_keys(uploads[t].resp, EVENT_KEYS);
    }
  }

  struct api_resp *r = api_get(api_printf("/api/events/%lld/", event_id), NULL);
  expect_status(r, 200);
  const char *url = json_string_value(json_object_get(r->json, "image"));
  if (url == NULL)
    expect_fail_at(__FILE__, __LINE__, "no image is set: %s", r->body);
  const char *name = strrchr(url, '/') + 1;
  expect_that(media_count() == 1 && media_file_exists(name),
              "exactly the current file is kept (%d files)", media_count());
  expect_nothing_outside_media();
}
