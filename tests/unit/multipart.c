/*
 * multipart.c - the multipart/form-data reader: the boundary parameter,
 * well-formed bodies as clients send them, and hostile ones.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/multipart.h"

static arena_t arena;

static void
teardown(void)
{
  arena_free(&arena);
}

TestSuite(multipart, .fini = teardown);

#define CT "multipart/form-data; boundary=XyZ"

/* Parses a NUL-terminated body for field "image". */
static int
find(const char *content_type, const char *body, struct multipart_part *part)
{
  const char *why = NULL;
  int rc = multipart_find(content_type, body, strlen(body), "image", &arena, part, &why);
  if (rc != 0)
    cr_assert(why != NULL && why[0] != '\0', "a failure has a reason");
  return rc;
}

static void
expect_content(const struct multipart_part *part, const char *content)
{
  cr_assert_eq(part->len, strlen(content), "length %zu, expected %zu", part->len,
               strlen(content));
  cr_assert(memcmp(part->data, content, part->len) == 0);
}

/* ---- the Content-Type ---- */

Test(multipart, recognises_form_data_types)
{
  cr_assert(multipart_is_form_data("multipart/form-data; boundary=a"));
  cr_assert(multipart_is_form_data("Multipart/Form-Data;boundary=a"));
  cr_assert(multipart_is_form_data("multipart/form-data"));
  cr_assert(!multipart_is_form_data("multipart/form-datax; boundary=a"));
  cr_assert(!multipart_is_form_data("multipart/mixed; boundary=a"));
  cr_assert(!multipart_is_form_data("image/png"));
  cr_assert(!multipart_is_form_data(""));
  cr_assert(!multipart_is_form_data(NULL));
}

Test(multipart, reads_plain_and_quoted_boundaries)
{
  char b[MULTIPART_BOUNDARY_MAX + 1];
  cr_assert_eq(multipart_boundary("multipart/form-data; boundary=abc-123", b), 0);
  cr_assert_str_eq(b, "abc-123");
  cr_assert_eq(multipart_boundary("multipart/form-data;boundary=\"a b:c?\"", b), 0);
  cr_assert_str_eq(b, "a b:c?");
  cr_assert_eq(multipart_boundary("multipart/form-data; charset=utf-8; BOUNDARY=x", b), 0);
  cr_assert_str_eq(b, "x");
  cr_assert_eq(multipart_boundary("multipart/form-data; boundary=\"q\\\"\"", b), EVENTAPI_EINVAL,
               "a quote is not a boundary character");
  const char *seventy = "multipart/form-data; boundary="
                        "0123456789012345678901234567890123456789012345678901234567890123456789";
  cr_assert_eq(multipart_boundary(seventy, b), 0);
  cr_assert_eq(strlen(b), 70);
}

Test(multipart, refuses_bad_boundaries)
{
  char b[MULTIPART_BOUNDARY_MAX + 1];
  const char *bad[] = {
    "multipart/form-data",
    "multipart/form-data;",
    "multipart/form-data; charset=utf-8",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=\"\"",
    "multipart/form-data; boundary=\"unterminated",
    "multipart/form-data; boundary=\"trailing space \"",
    "multipart/form-data; boundary=a; boundary=b",
    "multipart/form-data; boundary=a b",
    "multipart/form-data; boundary=\"tab\there\"",
    "multipart/form-data; boundary=\"ctl\x01\"",
    "multipart/form-data; boundary=a*b", /* a token, not a bchar */
    "multipart/form-data; boundary",
    "multipart/form-data boundary=a",
    "multipart/mixed; boundary=a",
    ("multipart/form-data; boundary="
     "01234567890123456789012345678901234567890123456789012345678901234567890"),
    "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(multipart_boundary(bad[i], b), EVENTAPI_EINVAL, "%s", bad[i]);
  cr_assert_eq(multipart_boundary(NULL, b), EVENTAPI_EINVAL);
}

/* ---- well-formed bodies ---- */

Test(multipart, finds_the_file_part_with_its_declarations)
{
  struct multipart_part part;
  const char *body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"title\"\r\n"
      "\r\n"
      "hello\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
      "Content-Type: image/png\r\n"
      "\r\n"
      "\x89PNG\r\n\r\n--Xy\r\n-\r\n"
      "--XyZ--\r\n";
  cr_assert_eq(find(CT, body, &part), 0);
  expect_content(&part, "\x89PNG\r\n\r\n--Xy\r\n-");
  cr_assert_str_eq(part.filename, "cat.png");
  cr_assert_str_eq(part.content_type, "image/png");
}

Test(multipart, takes_a_preamble_an_epilogue_and_transport_padding)
{
  struct multipart_part part;
  const char *body =
      "This is the preamble.\r\n"
      "--XyZ  \t\r\n"
      "content-disposition: FORM-DATA; filename=x.gif; NAME=image\r\n"
      "\r\n"
      "GIF\r\n"
      "--XyZ--\r\n"
      "the epilogue, with --XyZ in it";
  cr_assert_eq(find(CT, body, &part), 0);
  expect_content(&part, "GIF");
  cr_assert_str_eq(part.filename, "x.gif");
  cr_assert_null(part.content_type);
}

Test(multipart, keeps_binary_content_with_nul_bytes)
{
  struct multipart_part part;
  static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=image; filename=b\r\n"
                             "\r\n\0\0\r\n\0\r\n--XyZ--";
  cr_assert_eq(multipart_find(CT, body, sizeof body - 1, "image", &arena, &part, NULL), 0);
  cr_assert_eq(part.len, 5);
  cr_assert(memcmp(part.data, "\0\0\r\n\0", 5) == 0);
}

Test(multipart, empty_content_and_a_field_without_filename)
{
  struct multipart_part part;
  cr_assert_eq(find(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"\"\r\n"
                        "\r\n\r\n--XyZ--", &part), 0);
  cr_assert_eq(part.len, 0);
  cr_assert_str_eq(part.filename, "");
  cr_assert_eq(find(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"image\"\r\n"
                        "\r\nplain\r\n--XyZ--", &part), 0);
  expect_content(&part, "plain");
  cr_assert_null(part.filename, "a plain field has no filename");
}

Test(multipart, the_last_part_of_a_name_wins)
{
  struct multipart_part part;
  const char *body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"1\"\r\n\r\none\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"2\"\r\n\r\ntwo\r\n"
      "--XyZ--";
  cr_assert_eq(find(CT, body, &part), 0);
  expect_content(&part, "two");
  cr_assert_str_eq(part.filename, "2");
}

Test(multipart, unescapes_quoted_names_and_filenames_as_django_does)
{
  struct multipart_part part;
  const char *body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"im\\age\"; filename=\"a\\\\b\\\"c;d\\e\"\r\n"
      "\r\nx\r\n--XyZ--";
  cr_assert_eq(multipart_find(CT, body, strlen(body), "im\\age", &arena, &part, NULL), 0);
  cr_assert_str_eq(part.filename, "a\\b\"c;d\\e");
}

Test(multipart, hostile_filenames_are_returned_as_declared_never_trusted)
{
  struct multipart_part part;
  const char *body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"../../etc/passwd\"\r\n"
      "\r\nx\r\n--XyZ--";
  cr_assert_eq(find(CT, body, &part), 0);
  cr_assert_str_eq(part.filename, "../../etc/passwd");
}

Test(multipart, a_body_without_the_field_is_not_found)
{
  struct multipart_part part;
  cr_assert_eq(find(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n"
                        "\r\nx\r\n--XyZ--\r\n", &part), EVENTAPI_ENOTFOUND);
  cr_assert_eq(find(CT, "--XyZ--\r\n", &part), EVENTAPI_ENOTFOUND, "no parts at all");
  cr_assert_eq(find(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"images\"\r\n"
                        "\r\nx\r\n--XyZ--\r\n", &part), EVENTAPI_ENOTFOUND, "a longer name");
  cr_assert_eq(find(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"imag\"\r\n"
                        "\r\nx\r\n--XyZ--\r\n", &part), EVENTAPI_ENOTFOUND, "a shorter name");
}

Test(multipart, a_long_filename_within_the_line_limit_is_fine)
{
  struct multipart_part part;
  size_t n = MULTIPART_LINE_MAX - 100;
  char *name = malloc(n + 1);
  memset(name, 'f', n);
  name[n] = '\0';
  char *body = malloc(n + 200);
  snprintf(body, n + 200, "--XyZ\r\nContent-Disposition: form-data; name=image; filename=\"%s\"\r\n"
                          "\r\nx\r\n--XyZ--", name);
  cr_assert_eq(find(CT, body, &part), 0);
  cr_assert_str_eq(part.filename, name);
  free(name);
  free(body);
}

/* ---- hostile bodies ---- */

Test(multipart, refuses_malformed_bodies)
{
  struct multipart_part part;
  const char *bad[] = {
    "",
    "no boundary at all",
    "--XyZ",                                     /* nothing after the boundary */
    "--XyZ\r\n",                                  /* no headers, no end */
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n",  /* no blank line */
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n\r\ncontent", /* no close */
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n\r\ncontent--XyZ--", /* no CRLF */
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n\r\nx\r\n--XyZ", /* unterminated */
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n\r\nx\r\n--XyZjunk\r\n",
    "--XyZ junk\r\nContent-Disposition: form-data; name=image\r\n\r\nx\r\n--XyZ--",
    "--XyZ\nContent-Disposition: form-data; name=image\n\nx\n--XyZ--",    /* bare LF */
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\r\n\r\nx\r\n--XyZ--", /* bare CR */
    "--XyZ\r\nContent-Disposition: form-data; name=image\n\r\nx\r\n--XyZ--",
    "--XyZ\r\n\r\nno headers\r\n--XyZ--",
    "--XyZ\r\nContent-Type: image/png\r\n\r\nno disposition\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: attachment; name=image\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; filename=a\r\n\r\nno name\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=image; name=other\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=image; filename=a; filename=b\r\n"
    "\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=\"image\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\r\nb.png\"\r\n"
    "\r\nx\r\n--XyZ--",                          /* a CRLF inside a quoted filename */
    "--XyZ\r\nContent-Disposition: form-data; name=\"image\" junk\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n"
    "Content-Disposition: form-data; name=other\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n"
    "Content-Type: a\r\nContent-Type: b\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data;\r\n name=image\r\n\r\nx\r\n--XyZ--", /* folded */
    "--XyZ\r\nContent-Disposition : form-data; name=image\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\n: empty name\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=image\x01\r\n\r\nx\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\neA==\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=image\r\n\r\nx\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=other\r\n",  /* later part broken */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(find(CT, bad[i], &part), EVENTAPI_EINVAL, "case %zu: %s", i, bad[i]);
}

Test(multipart, a_missing_boundary_is_reported_as_drf_does)
{
  struct multipart_part part;
  const char *why = NULL;
  const char *body = "--XyZ\r\nContent-Disposition: form-data; name=image\r\n\r\nx\r\n--XyZ--";
  cr_assert_eq(multipart_find("multipart/form-data", body, strlen(body), "image", &arena,
                              &part, &why), EVENTAPI_EINVAL);
  cr_assert_str_eq(why, "Invalid boundary in multipart: None");
}

Test(multipart, accepts_the_allowed_transfer_encodings)
{
  struct multipart_part part;
  const char *body = "--XyZ\r\nContent-Disposition: form-data; name=image; filename=f\r\n"
                     "Content-Transfer-Encoding: BINARY\r\n\r\nx\r\n--XyZ--";
  cr_assert_eq(find(CT, body, &part), 0);
}

Test(multipart, refuses_a_huge_header_line)
{
  struct multipart_part part;
  size_t n = 1024 * 1024;
  char *body = malloc(n + 200);
  int head = snprintf(body, 200, "--XyZ\r\nContent-Disposition: form-data; name=image; filename=\"");
  memset(body + head, 'a', n);
  strcpy(body + head + n, "\"\r\n\r\nx\r\n--XyZ--");
  const char *why = NULL;
  cr_assert_eq(multipart_find(CT, body, strlen(body), "image", &arena, &part, &why),
               EVENTAPI_EINVAL);
  cr_assert_str_eq(why, "Part header line too long.");
  free(body);
}

Test(multipart, refuses_a_header_line_of_one_byte_over_the_limit)
{
  struct multipart_part part;
  const char *prefix = "X-Pad: ";
  size_t n = MULTIPART_LINE_MAX - strlen(prefix);
  char *body = malloc(MULTIPART_LINE_MAX + 200);
  for (int over = 0; over <= 1; over++) {
    int used = snprintf(body, 200, "--XyZ\r\nContent-Disposition: form-data; name=image\r\n%s",
                        prefix);
    memset(body + used, 'p', n + (size_t)over);
    strcpy(body + used + n + (size_t)over, "\r\n\r\nx\r\n--XyZ--");
    cr_assert_eq(find(CT, body, &part), over ? EVENTAPI_EINVAL : 0, "over by %d", over);
  }
  free(body);
}

Test(multipart, refuses_too_many_headers)
{
  struct multipart_part part;
  char body[4096];
  int used = snprintf(body, sizeof body, "--XyZ\r\nContent-Disposition: form-data; name=image\r\n");
  for (int i = 1; i < MULTIPART_HEADERS_MAX; i++)
    used += snprintf(body + used, sizeof body - (size_t)used, "X-H%d: v\r\n", i);
  snprintf(body + used, sizeof body - (size_t)used, "\r\nx\r\n--XyZ--");
  cr_assert_eq(find(CT, body, &part), 0, "exactly the limit");
  snprintf(body + used, sizeof body - (size_t)used, "X-One-More: v\r\n\r\nx\r\n--XyZ--");
  cr_assert_eq(find(CT, body, &part), EVENTAPI_EINVAL);
}

Test(multipart, refuses_too_many_parts)
{
  struct multipart_part part;
  const char *one = "--XyZ\r\nContent-Disposition: form-data; name=f\r\n\r\nv\r\n";
  size_t one_len = strlen(one);
  size_t count = MULTIPART_PARTS_MAX + 1;
  char *body = malloc(count * one_len + 16);
  for (size_t i = 0; i < count; i++)
    memcpy(body + i * one_len, one, one_len);
  strcpy(body + count * one_len, "--XyZ--");
  cr_assert_eq(find(CT, body, &part), EVENTAPI_EINVAL);
  strcpy(body + (count - 1) * one_len, "--XyZ--");
  cr_assert_eq(find(CT, body, &part), EVENTAPI_ENOTFOUND, "exactly the limit parses");
  free(body);
}

Test(multipart, the_boundary_inside_content_without_crlf_is_content)
{
  struct multipart_part part;
  const char *body = "--XyZ\r\nContent-Disposition: form-data; name=image; filename=f\r\n\r\n"
                     "a--XyZ b\r\n-XyZ\r\n--XyZ--";
  cr_assert_eq(find(CT, body, &part), 0);
  expect_content(&part, "a--XyZ b\r\n-XyZ");
}

Test(multipart, survives_every_truncation_of_a_good_body)
{
  const char *body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
      "Content-Type: image/png\r\n\r\nDATA\r\n"
      "--XyZ--";
  size_t len = strlen(body);
  for (size_t cut = 0; cut < len; cut++) {
    /* A copy of exactly cut bytes, so ASan sees any read past it. */
    char *copy = malloc(cut ? cut : 1);
    memcpy(copy, body, cut);
    struct multipart_part part;
    int rc = multipart_find(CT, copy, cut, "image", &arena, &part, NULL);
    cr_assert(rc == EVENTAPI_EINVAL, "cut at %zu: %d", cut, rc);
    free(copy);
  }
}

Test(multipart, survives_random_bytes)
{
  srand(12345);
  const char *alphabet = "-XyZ\r\n:;=\" \\abcdeimgnaContent-Disposition form-data name";
  size_t alen = strlen(alphabet);
  for (int round = 0; round < 20000; round++) {
    size_t len = (size_t)(rand() % 200);
    char *body = malloc(len ? len : 1);
    size_t i = 0;
    if (len >= 7 && rand() % 2) {
      memcpy(body, "--XyZ\r\n", 7);
      i = 7;
    }
    for (; i < len; i++)
      body[i] = rand() % 4 ? alphabet[(size_t)rand() % alen] : (char)(rand() % 256);
    struct multipart_part part;
    int rc = multipart_find(CT, body, len, "image", &arena, &part, NULL);
    cr_assert(rc == 0 || rc == EVENTAPI_EINVAL || rc == EVENTAPI_ENOTFOUND);
    if (rc == 0)
      cr_assert(part.data >= body && part.data + part.len <= body + len);
    free(body);
  }
}

/* ---- every part ---- */

struct seen {
  int count, stop_at;
  char names[8][16];
  struct multipart_part parts[8];
};

static int
collect(void *ctx, const struct multipart_part *part)
{
  struct seen *s = ctx;
  if (s->count == s->stop_at)
    return 42;
  if (s->count < 8) {
    snprintf(s->names[s->count], sizeof s->names[0], "%s", part->name);
    s->parts[s->count] = *part;
  }
  s->count++;
  return 0;
}

Test(multipart, each_visits_every_part_in_order)
{
  const char *body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nJazz\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"poster\"; filename=\"a.png\"\r\n"
                     "Content-Type: image/png\r\n\r\n\x89PNG\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\n\r\n--XyZ--\r\n";
  struct seen s = {.stop_at = -1};
  const char *why = NULL;
  cr_assert_eq(multipart_each(CT, body, strlen(body), &arena, collect, &s, &why), 0);
  cr_assert_eq(s.count, 3);
  cr_assert_str_eq(s.names[0], "title");
  cr_assert_null(s.parts[0].filename);
  cr_assert_eq(s.parts[0].len, 4);
  cr_assert(memcmp(s.parts[0].data, "Jazz", 4) == 0);
  cr_assert_str_eq(s.names[1], "poster");
  cr_assert_str_eq(s.parts[1].filename, "a.png");
  cr_assert_str_eq(s.parts[1].content_type, "image/png");
  cr_assert_str_eq(s.names[2], "a\"b");
  cr_assert_eq(s.parts[2].len, 0);

  /* A nonzero answer stops the walk and is returned. */
  s = (struct seen){.stop_at = 1};
  cr_assert_eq(multipart_each(CT, body, strlen(body), &arena, collect, &s, &why), 42);
  cr_assert_eq(s.count, 1);
}

Test(multipart, each_reports_a_malformed_body)
{
  struct seen s = {.stop_at = -1};
  const char *why = NULL;
  const char *body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\n";
  cr_assert_eq(multipart_each(CT, body, strlen(body), &arena, collect, &s, &why),
               EVENTAPI_EINVAL);
  cr_assert_not_null(why);
  cr_assert_eq(multipart_each("multipart/form-data", body, strlen(body), &arena, collect, &s,
                              &why), EVENTAPI_EINVAL);
  cr_assert_str_eq(why, "Invalid boundary in multipart: None");
  /* multipart_find names the part it found too. */
  struct multipart_part part;
  body = "--XyZ\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nx\r\n--XyZ--\r\n";
  cr_assert_eq(find(CT, body, &part), 0);
  cr_assert_str_eq(part.name, "image");
}
