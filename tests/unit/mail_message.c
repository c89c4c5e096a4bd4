/*
 * Unit tests for delivery/mail_message: rendered emails are CRLF-only, keep
 * their lines short, carry exactly the header fields we write (no subject
 * or name can add one), and every encoded-word and quoted-printable part
 * decodes back to exactly the text given. The decoders are written here,
 * independently of the encoders (base64 is libsodium's).
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "delivery/mail_message.h"

#define US_PER_SECOND INT64_C(1000000)
#define SAT_28_NOV_2026_NOON INT64_C(1795867200) /* seconds since the epoch */
#define LINE_SOFT_MAX 78
#define LINE_HARD_MAX 998
#define WORD_MAX 75
#define QP_LINE_MAX 76

/* ---- helpers ---- */

static struct delivery_mail_message
sample(void)
{
  return (struct delivery_mail_message){
    .from = "Events <noreply@example.com>",
    .to = "alice@example.com",
    .to_name = "Alice",
    .subject = "Hello",
    .text = "Hi Alice,\nsee you there.\n",
    .html = "<p>Hi Alice,</p>\n<p>see you there.</p>\n",
    .message_id = "<42.abc@example.com>",
    .date = SAT_28_NOV_2026_NOON * US_PER_SECOND,
  };
}

/* The rendered message, checked for CRLF-only lines of at most 998. */
static char *
render(const struct delivery_mail_message *m, size_t *len)
{
  char *out = NULL;
  cr_assert_eq(delivery_mail_render(m, &out, len), 0);
  cr_assert_not_null(out);
  cr_assert_eq(strlen(out), *len);
  size_t line_start = 0;
  for (size_t i = 0; i < *len; i++) {
    if (out[i] == '\r')
      cr_assert(i + 1 < *len && out[i + 1] == '\n', "bare CR at %zu", i);
    if (out[i] == '\n') {
      cr_assert(i > 0 && out[i - 1] == '\r', "bare LF at %zu", i);
      cr_assert_leq(i - 1 - line_start, LINE_HARD_MAX);
      line_start = i + 1;
    }
  }
  cr_assert(*len >= 2 && out[*len - 2] == '\r' && out[*len - 1] == '\n');
  return out;
}

/* One header field, its folded lines joined back ("CRLF SP" -> " "). */
struct field {
  char name[64];
  char value[32768];
};

#define FIELDS_MAX 16

/*
 * Splits the header block of msg into fields; every physical header line
 * is at most LINE_SOFT_MAX characters. Returns the number of fields.
 */
static size_t
parse_header(const char *msg, struct field *fields)
{
  const char *end = strstr(msg, "\r\n\r\n");
  cr_assert_not_null(end);
  size_t count = 0;
  const char *line = msg;
  while (line <= end) {
    const char *eol = strstr(line, "\r\n");
    size_t line_len = (size_t)(eol - line);
    cr_assert_leq(line_len, LINE_SOFT_MAX, "header line of %zu: %.*s", line_len,
                  (int)line_len, line);
    if (line[0] == ' ' || line[0] == '\t') {
      cr_assert_gt(count, 0);
      char *value = fields[count - 1].value;
      cr_assert_lt(strlen(value) + line_len, sizeof fields[0].value);
      strncat(value, line, line_len);
    } else {
      const char *colon = memchr(line, ':', line_len);
      cr_assert_not_null(colon, "not a field: %.*s", (int)line_len, line);
      cr_assert_lt(count, FIELDS_MAX);
      struct field *f = &fields[count++];
      size_t name_len = (size_t)(colon - line);
      cr_assert_lt(name_len, sizeof f->name);
      memcpy(f->name, line, name_len);
      f->name[name_len] = '\0';
      const char *value = colon + 1;
      if (*value == ' ')
        value++;
      size_t value_len = (size_t)(eol - value);
      cr_assert_lt(value_len, sizeof f->value);
      memcpy(f->value, value, value_len);
      f->value[value_len] = '\0';
    }
    line = eol + 2;
  }
  return count;
}

static const char *
field_value(const struct field *fields, size_t count, const char *name)
{
  for (size_t i = 0; i < count; i++)
    if (strcmp(fields[i].name, name) == 0)
      return fields[i].value;
  cr_assert_fail("no %s field", name);
  return NULL;
}

/*
 * Decodes an RFC 2047 text made only of "=?UTF-8?B?...?=" words separated
 * by spaces into out (cap bytes): each word at most 75 characters and
 * decoding on its own to valid UTF-8 (no character split between words).
 */
static void
decode_words(const char *value, char *out, size_t cap)
{
  static const char open[] = "=?UTF-8?B?";
  size_t used = 0;
  const char *p = value;
  cr_assert_neq(*p, '\0');
  while (*p) {
    const char *space = strchr(p, ' ');
    size_t word_len = space ? (size_t)(space - p) : strlen(p);
    cr_assert_leq(word_len, WORD_MAX, "word of %zu", word_len);
    cr_assert_eq(strncmp(p, open, sizeof open - 1), 0, "not a word: %.*s", (int)word_len, p);
    cr_assert(word_len >= sizeof open + 1 && p[word_len - 2] == '?' && p[word_len - 1] == '=');
    const char *b64 = p + sizeof open - 1;
    size_t b64_len = word_len - (sizeof open - 1) - 2;
    size_t decoded;
    cr_assert_eq(sodium_base642bin((unsigned char *)out + used, cap - used - 1, b64, b64_len,
                                   NULL, &decoded, NULL, sodium_base64_VARIANT_ORIGINAL),
                 0);
    cr_assert(decoded > 0 && text_valid_utf8(out + used, decoded),
              "word %.*s is not whole UTF-8 characters", (int)word_len, p);
    used += decoded;
    p += word_len;
    if (*p == ' ')
      p++;
  }
  out[used] = '\0';
}

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  cr_assert_fail("bad hex digit %c", c);
  return 0;
}

/*
 * Decodes quoted-printable into a malloc'd string with "\n" line ends,
 * checking RFC 2045 on the way: lines at most 76, only printable ASCII
 * other than '=' as themselves, no blank before a line end, no line that
 * starts with '.'.
 */
static char *
qp_decode(const char *qp, size_t len)
{
  char *out = malloc(len + 1);
  cr_assert_not_null(out);
  size_t used = 0, col = 0;
  for (size_t i = 0; i < len;) {
    if (qp[i] == '\r') {
      cr_assert(i + 1 < len && qp[i + 1] == '\n');
      cr_assert(i == 0 || (qp[i - 1] != ' ' && qp[i - 1] != '\t'), "blank before CRLF");
      out[used++] = '\n';
      i += 2, col = 0;
      continue;
    }
    cr_assert(col != 0 || qp[i] != '.', "line starts with '.'");
    if (qp[i] == '=') {
      cr_assert(i + 2 < len, "truncated =");
      if (qp[i + 1] == '\r') {
        cr_assert_eq(qp[i + 2], '\n');
        cr_assert_leq(col + 1, QP_LINE_MAX);
        i += 3, col = 0;
        continue;
      }
      out[used++] = (char)(hex_value(qp[i + 1]) << 4 | hex_value(qp[i + 2]));
      i += 3, col += 3;
    } else {
      cr_assert((qp[i] >= '!' && qp[i] <= '~') || qp[i] == ' ' || qp[i] == '\t',
                "raw byte 0x%02x", (unsigned char)qp[i]);
      out[used++] = qp[i];
      i++, col++;
    }
    cr_assert_leq(col, QP_LINE_MAX);
  }
  cr_assert(len == 0 || qp[len - 1] == '\n' || (qp[len - 1] != ' ' && qp[len - 1] != '\t'));
  out[used] = '\0';
  return out;
}

static void
expect_qp_round_trip(const char *text)
{
  char *qp = delivery_mail_quoted_printable(text, strlen(text));
  cr_assert_not_null(qp);
  char *back = qp_decode(qp, strlen(qp));
  cr_assert_str_eq(back, text, "QP of [%s] is [%s]", text, qp);
  free(back);
  free(qp);
}

/* The content of the body part whose Content-Type starts with type. */
static char *
part_content(const char *msg, const char *type)
{
  char header[128];
  snprintf(header, sizeof header, "Content-Type: %s; charset=utf-8\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
  const char *start = strstr(msg, header);
  cr_assert_not_null(start, "no %s part", type);
  start += strlen(header);
  const char *end = strstr(start, "\r\n--=_eventapi_");
  cr_assert_not_null(end);
  return qp_decode(start, (size_t)(end - start));
}

/* ---- headers ---- */

Test(mail_message, plain_ascii_headers_in_order)
{
  struct delivery_mail_message m = sample();
  size_t len;
  char *msg = render(&m, &len);
  struct field fields[FIELDS_MAX];
  size_t count = parse_header(msg, fields);
  static const char *const names[] = {"Date", "From", "To", "Subject", "Message-ID",
                                      "MIME-Version", "Content-Type", "Auto-Submitted"};
  cr_assert_eq(count, sizeof names / sizeof names[0]);
  for (size_t i = 0; i < count; i++)
    cr_assert_str_eq(fields[i].name, names[i]);
  cr_assert_str_eq(fields[0].value, "Sat, 28 Nov 2026 12:00:00 +0000");
  cr_assert_str_eq(fields[1].value, "\"Events\" <noreply@example.com>");
  cr_assert_str_eq(fields[2].value, "\"Alice\" <alice@example.com>");
  cr_assert_str_eq(fields[3].value, "Hello");
  cr_assert_str_eq(fields[4].value, "<42.abc@example.com>");
  cr_assert_str_eq(fields[5].value, "1.0");
  cr_assert_eq(strncmp(fields[6].value, "multipart/alternative; boundary=\"=_eventapi_", 44), 0);
  cr_assert_str_eq(fields[7].value, "auto-generated");
  free(msg);
}

static void
expect_date(int64_t us, const char *expected)
{
  struct delivery_mail_message m = sample();
  m.date = us;
  size_t len;
  char *msg = render(&m, &len);
  struct field fields[FIELDS_MAX];
  size_t count = parse_header(msg, fields);
  cr_assert_str_eq(field_value(fields, count, "Date"), expected);
  free(msg);
}

Test(mail_message, date_format)
{
  expect_date(0, "Thu, 01 Jan 1970 00:00:00 +0000");
  expect_date(INT64_C(1709251199) * US_PER_SECOND + 999999, "Thu, 29 Feb 2024 23:59:59 +0000");
  expect_date(-US_PER_SECOND / 2, "Wed, 31 Dec 1969 23:59:59 +0000");
  expect_date(INT64_C(-2208988800) * US_PER_SECOND, "Mon, 01 Jan 1900 00:00:00 +0000");
  expect_date(INT64_C(253402300799) * US_PER_SECOND, "Fri, 31 Dec 9999 23:59:59 +0000");

  struct delivery_mail_message m = sample();
  char *out = NULL;
  size_t len = 0;
  m.date = INT64_C(-2208988801) * US_PER_SECOND; /* 1899 */
  cr_assert_eq(delivery_mail_render(&m, &out, &len), EVENTAPI_EINVAL);
  m.date = INT64_C(253402300800) * US_PER_SECOND; /* 10000 */
  cr_assert_eq(delivery_mail_render(&m, &out, &len), EVENTAPI_EINVAL);
  cr_assert_null(out);
}

Test(mail_message, subject_cannot_inject_headers)
{
  static const char *const hostile[] = {
    "Hi\r\nBcc: evil@x", "Hi\nBcc: evil@x", "Hi\rBcc: evil@x", "Hi\r\n\r\nBcc: evil@x",
    "Hi\xc2\x85" "Bcc: evil@x", "Hi\xe2\x80\xa8" "Bcc: evil@x",
  };
  for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
    struct delivery_mail_message m = sample();
    m.subject = hostile[i];
    size_t len;
    char *msg = render(&m, &len);
    struct field fields[FIELDS_MAX];
    size_t count = parse_header(msg, fields);
    cr_assert_eq(count, 8);
    for (const char *line = msg; line < strstr(msg, "\r\n\r\n"); line = strstr(line, "\r\n") + 2)
      cr_assert_neq(strncasecmp(line, "Bcc", 3), 0);
    cr_assert_str_eq(field_value(fields, count, "Subject"), "Hi Bcc: evil@x");
    free(msg);
  }
}

Test(mail_message, subject_control_characters_become_one_space)
{
  char *value = delivery_mail_header_words("\t A\x01" "B\x7f C  \n\n D \x1b", 9);
  cr_assert_str_eq(value, "A B C D");
  free(value);
  value = delivery_mail_header_words(" \r\n\t ", 9);
  cr_assert_str_eq(value, "");
  free(value);
}

Test(mail_message, empty_subject)
{
  struct delivery_mail_message m = sample();
  m.subject = NULL;
  size_t len;
  char *msg = render(&m, &len);
  cr_assert_not_null(strstr(msg, "\r\nSubject:\r\nMessage-ID:"));
  free(msg);
}

static void
expect_subject_encoded(const char *subject, const char *decoded_expected)
{
  struct delivery_mail_message m = sample();
  m.subject = subject;
  size_t len;
  char *msg = render(&m, &len);
  struct field fields[FIELDS_MAX];
  size_t count = parse_header(msg, fields);
  size_t cap = 4 * strlen(subject) + 16;
  char *decoded = malloc(cap);
  decode_words(field_value(fields, count, "Subject"), decoded, cap);
  cr_assert_str_eq(decoded, decoded_expected);
  free(decoded);
  free(msg);
}

Test(mail_message, non_ascii_subject_is_encoded_words)
{
  static const char subject[] = "Caf\xc3\xa9 \xc3\x9cn\xc3\xaf" "code \xe2\x80\x94 "
                                "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x8e\x89";
  expect_subject_encoded(subject, subject);
}

Test(mail_message, ascii_subject_that_looks_encoded_or_is_long_is_encoded)
{
  expect_subject_encoded("=?UTF-8?B?SGk=?=", "=?UTF-8?B?SGk=?=");
  static const char long_ascii[] =
      "A plain ASCII subject that is a bit too long to fit on one header line";
  expect_subject_encoded(long_ascii, long_ascii);
  /* 69 characters after "Subject: " make exactly 78: still raw. */
  char fits[70];
  memset(fits, 'x', 69);
  fits[69] = '\0';
  char *value = delivery_mail_header_words(fits, 9);
  cr_assert_str_eq(value, fits);
  free(value);
}

Test(mail_message, long_subjects_fold_and_decode)
{
  static const char *const pieces[] = {"a", "\xc3\xa9", "\xe6\x9d\xb1", "\xf0\x9f\x8e\x89", " x"};
  static const size_t lengths[] = {5000, 12000};
  for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
    char *subject = malloc(lengths[k] + 8);
    size_t used = 0;
    for (size_t i = 0; used < lengths[k]; i++) {
      const char *piece = pieces[(i * 7 + i / 3) % 5];
      memcpy(subject + used, piece, strlen(piece));
      used += strlen(piece);
    }
    subject[used] = '\0';
    expect_subject_encoded(subject, subject); /* checks lines <= 78, words */
    free(subject);
  }
}

Test(mail_message, utf8_never_split_across_words)
{
  /* Every offset of 4-, 3- and 2-byte characters against word edges. */
  for (size_t prefix = 0; prefix < 8; prefix++) {
    char subject[600];
    memset(subject, 'a', prefix);
    size_t used = prefix;
    while (used + 4 < 500) {
      memcpy(subject + used, "\xf0\x9f\x8e\x89\xe6\x9d\xb1\xc3\xa9", 9);
      used += 9;
    }
    subject[used] = '\0';
    expect_subject_encoded(subject, subject); /* each word valid UTF-8 */
  }
}

Test(mail_message, invalid_utf8_becomes_replacement_character)
{
  expect_subject_encoded("a\xff" "b\xc3", "a\xef\xbf\xbd" "b\xef\xbf\xbd");
  expect_subject_encoded("\xed\xa0\x80!", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
  char *qp = delivery_mail_quoted_printable("x\xc0y", 3);
  cr_assert_str_eq(qp, "x=EF=BF=BDy");
  free(qp);
}

Test(mail_message, encode_header_words_respects_used_columns)
{
  static const char text[] = "\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac"
                             "\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac"
                             "\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1\xe4\xba\xac";
  for (size_t used = 0; used < 60; used += 7) {
    char *value = delivery_mail_header_words(text, used);
    cr_assert_not_null(value);
    const char *eol = strstr(value, "\r\n");
    size_t first = eol ? (size_t)(eol - value) : strlen(value);
    cr_assert_leq(used + first, QP_LINE_MAX);
    free(value);
  }
}

/* ---- addresses ---- */

Test(mail_message, address_valid)
{
  static const char *const good[] = {
    "a@b", "alice@example.com", "first.last+tag@sub.example.org", "o'neil@x.io",
    "x_y-z=1@[192.0.2.1]",
  };
  static const char *const bad[] = {
    "a@b\r\nBcc: x", "no-at", "a b@c", "<a@b>", "@b", "a@", "a@b@c", "", "a@b\n",
    "a\"b@c", "a,b@c", "a;b@c", "a:b@c", "a(b)@c", "a\\b@c", "caf\xc3\xa9@x.fr",
    "a@b\x7f", "a\t@b",
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    cr_assert(delivery_mail_address_valid(good[i]), "%s", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_not(delivery_mail_address_valid(bad[i]), "%s", bad[i]);
  cr_assert_not(delivery_mail_address_valid(NULL));

  char longest[DELIVERY_MAIL_ADDRESS_MAX + 2];
  memset(longest, 'a', sizeof longest - 1);
  longest[sizeof longest - 1] = '\0';
  longest[10] = '@';
  cr_assert_not(delivery_mail_address_valid(longest));      /* 255 */
  longest[DELIVERY_MAIL_ADDRESS_MAX] = '\0';
  cr_assert(delivery_mail_address_valid(longest));          /* 254 */
}

Test(mail_message, envelope_address)
{
  static const char *const forms[][2] = {
    {"a@b.example", "a@b.example"},
    {"Events <noreply@example.com>", "noreply@example.com"},
    {"  \"Events, Inc. <x>\" <noreply@example.com>  ", "noreply@example.com"},
    {"<bare@example.com>", "bare@example.com"},
    {"\xc3\x89v\xc3\xa9nements <ev@example.com>", "ev@example.com"},
  };
  char out[DELIVERY_MAIL_ADDRESS_MAX + 1];
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    cr_assert_eq(delivery_mail_envelope_address(forms[i][0], out, sizeof out), 0, "%s",
                 forms[i][0]);
    cr_assert_str_eq(out, forms[i][1]);
  }
  static const char *const bad[] = {
    "", "Events", "Events <>", "Events <a@b", "Events a@b>", "Events <a@b>\r\n",
    "Events\r\n <a@b>", "Ev\nents <a@b>", "Events <a b@c>", "a@b, c@d",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(delivery_mail_envelope_address(bad[i], out, sizeof out), EVENTAPI_EINVAL, "%s",
                 bad[i]);
  cr_assert_eq(delivery_mail_envelope_address(NULL, out, sizeof out), EVENTAPI_EINVAL);
  char small[4];
  cr_assert_eq(delivery_mail_envelope_address("abc@d", small, sizeof small), EVENTAPI_EINVAL);
  cr_assert_eq(delivery_mail_envelope_address("a@d", small, sizeof small), 0);
  cr_assert_str_eq(small, "a@d");
}

Test(mail_message, render_rejects_bad_addresses_and_ids)
{
  struct delivery_mail_message bad[6];
  for (size_t i = 0; i < 6; i++)
    bad[i] = sample();
  bad[0].to = "a@b\r\nBcc: x";
  bad[1].to = "no-at";
  bad[2].from = "Events <a b@c>";
  bad[3].from = "Events <a@b>\r\nBcc: x@y";
  bad[4].message_id = "<1@x>\r\nBcc: x@y";
  bad[5].message_id = "no-brackets@x";
  for (size_t i = 0; i < 6; i++) {
    char *out = NULL;
    size_t len = 7;
    cr_assert_eq(delivery_mail_render(&bad[i], &out, &len), EVENTAPI_EINVAL, "case %zu", i);
    cr_assert_null(out);
    cr_assert_eq(len, 7);
  }
}

static void
expect_address_field(const char *field, const char *from, const char *to_name,
                     const char *expected)
{
  struct delivery_mail_message m = sample();
  m.from = from;
  m.to_name = to_name;
  size_t len;
  char *msg = render(&m, &len);
  struct field fields[FIELDS_MAX];
  size_t count = parse_header(msg, fields);
  cr_assert_eq(count, 8);
  cr_assert_str_eq(field_value(fields, count, field), expected);
  free(msg);
}

/* The decoded display name of an "=?...?= ... <addr>" value. */
static void
expect_encoded_name(const char *field, const char *from, const char *to_name,
                    const char *name, const char *addr)
{
  struct delivery_mail_message m = sample();
  m.from = from;
  m.to_name = to_name;
  size_t len;
  char *msg = render(&m, &len);
  struct field fields[FIELDS_MAX];
  size_t count = parse_header(msg, fields);
  const char *value = field_value(fields, count, field);
  char words[8192];
  const char *angle = strrchr(value, '<');
  cr_assert(angle != NULL && angle > value && angle[-1] == ' ');
  cr_assert_lt((size_t)(angle - value), sizeof words);
  memcpy(words, value, (size_t)(angle - 1 - value));
  words[angle - 1 - value] = '\0';
  char decoded[8192];
  decode_words(words, decoded, sizeof decoded);
  cr_assert_str_eq(decoded, name);
  char bracketed[DELIVERY_MAIL_ADDRESS_MAX + 3];
  snprintf(bracketed, sizeof bracketed, "<%s>", addr);
  cr_assert_str_eq(angle, bracketed);
  free(msg);
}

Test(mail_message, display_names)
{
  expect_address_field("From", "Ev \"ents\" \\ x <a@b.example>", NULL,
                       "\"Ev \\\"ents\\\" \\\\ x\" <a@b.example>");
  expect_address_field("From", "\"Events, Inc.\" <a@b.example>", NULL,
                       "\"Events, Inc.\" <a@b.example>");
  expect_address_field("From", "\"Say \\\"hi\\\"\" <a@b.example>", NULL,
                       "\"Say \\\"hi\\\"\" <a@b.example>");
  expect_address_field("From", "a@b.example", NULL, "a@b.example");
  expect_address_field("To", "a@b.example", NULL, "alice@example.com");
  expect_address_field("To", "a@b.example", "", "alice@example.com");
  expect_address_field("To", "a@b.example", " \r\n ", "alice@example.com");
  expect_address_field("To", "a@b.example", "O'Brien, \"Al\"",
                       "\"O'Brien, \\\"Al\\\"\" <alice@example.com>");

  expect_encoded_name("From", "\xc3\x89v\xc3\xa9nements <ev@example.com>", NULL,
                      "\xc3\x89v\xc3\xa9nements", "ev@example.com");
  expect_encoded_name("To", "a@b.example", "Zo\xc3\xab \"Z\" \xe6\x9d\xb1",
                      "Zo\xc3\xab \"Z\" \xe6\x9d\xb1", "alice@example.com");
  expect_encoded_name("To", "a@b.example", "=?UTF-8?B?SGk=?=", "=?UTF-8?B?SGk=?=",
                      "alice@example.com");
  /* A long name folds, and a long address goes on a line of its own. */
  char name[3001];
  for (size_t i = 0; i < 1000; i++)
    memcpy(name + 3 * i, "\xe6\x9d\xb1", 3);
  name[3000] = '\0';
  expect_encoded_name("To", "a@b.example", name, name, "alice@example.com");
  char long_ascii[200];
  memset(long_ascii, 'n', sizeof long_ascii - 1);
  long_ascii[sizeof long_ascii - 1] = '\0';
  expect_encoded_name("To", "a@b.example", long_ascii, long_ascii, "alice@example.com");
}

Test(mail_message, hostile_to_name_cannot_inject_headers)
{
  struct delivery_mail_message m = sample();
  m.to_name = "Mallory\r\nBcc: victim@example.com";
  size_t len;
  char *msg = render(&m, &len);
  struct field fields[FIELDS_MAX];
  size_t count = parse_header(msg, fields);
  cr_assert_eq(count, 8);
  cr_assert_str_eq(field_value(fields, count, "To"),
                   "\"Mallory Bcc: victim@example.com\" <alice@example.com>");
  free(msg);
}

/* ---- bodies ---- */

Test(mail_message, quoted_printable_round_trips)
{
  char long_line[301], long_equals[301], long_blanks[302];
  for (size_t i = 0; i < 300; i++)
    long_line[i] = (char)('a' + i % 26);
  long_line[300] = '\0';
  memset(long_equals, '=', 300);
  long_equals[300] = '\0';
  memset(long_blanks, ' ', 300);
  long_blanks[300] = 'x';
  long_blanks[301] = '\0';
  const char *const texts[] = {
    "", "plain", "a=b==c=\n=", "trailing space \ntrailing tab\t\nend \n",
    "ends with a blank ", long_line, long_equals, long_blanks,
    "Caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x8e\x89\n",
    ".\n..leading dots\n.", "From here\nFrom there", "tabs\tinside\tlines",
    "\n\n\nblank lines\n\n", "<p class=\"x\">&amp;</p>\n",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    expect_qp_round_trip(texts[i]);
  /* Long lines of multibyte characters: no =XX split by a soft break. */
  char wide[1201];
  for (size_t i = 0; i < 400; i++)
    memcpy(wide + 3 * i, "\xe6\x9d\xb1", 3);
  wide[1200] = '\0';
  expect_qp_round_trip(wide);
  /* Every line length around the limit, ending in '=' or a blank. */
  for (size_t n = 70; n < 82; n++) {
    char line[100];
    memset(line, 'x', n);
    for (size_t k = 0; k < 3; k++) {
      line[n - 1] = "= ."[k];
      line[n] = '\0';
      expect_qp_round_trip(line);
    }
  }
}

Test(mail_message, quoted_printable_exact)
{
  static const char *const cases[][2] = {
    {"a=b", "a=3Db"},
    {"x \ny\t", "x=20\r\ny=09"},
    {".dot\n.", "=2Edot\r\n=2E"},
    {"From me", "=46rom me"},
    {"caf\xc3\xa9", "caf=C3=A9"},
    {"a\r\nb\rc", "a\r\nb=0Dc"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *qp = delivery_mail_quoted_printable(cases[i][0], strlen(cases[i][0]));
    cr_assert_str_eq(qp, cases[i][1]);
    free(qp);
  }
}

Test(mail_message, body_parts)
{
  struct delivery_mail_message m = sample();
  m.text = "Price = 10 \xe2\x82\xac \n.\nFrom the team\n";
  m.html = "<p>Price = 10&nbsp;\xe2\x82\xac</p>\n";
  size_t len;
  char *msg = render(&m, &len);
  struct field fields[FIELDS_MAX];
  size_t count = parse_header(msg, fields);
  const char *type = field_value(fields, count, "Content-Type");
  const char *quote = strchr(type, '"');
  cr_assert_not_null(quote);
  char boundary[64];
  cr_assert_eq(strlen(quote), 1 + 11 + 32 + 1);
  memcpy(boundary, quote + 1, 43);
  boundary[43] = '\0';
  cr_assert_eq(strncmp(boundary, "=_eventapi_", 11), 0);
  cr_assert_eq(strspn(boundary + 11, "0123456789abcdef"), 32);

  const char *plain = strstr(msg, "Content-Type: text/plain; charset=utf-8");
  const char *html = strstr(msg, "Content-Type: text/html; charset=utf-8");
  cr_assert(plain != NULL && html != NULL && plain < html);
  char *text = part_content(msg, "text/plain");
  cr_assert_str_eq(text, m.text);
  free(text);
  char *markup = part_content(msg, "text/html");
  cr_assert_str_eq(markup, m.html);
  free(markup);

  /* The boundary occurs only in the delimiters: two parts and the close. */
  size_t delimiters = 0;
  for (const char *p = msg; (p = strstr(p, boundary)) != NULL; p++)
    delimiters++;
  cr_assert_eq(delimiters, 4); /* the header parameter and three delimiters */
  char close[80];
  snprintf(close, sizeof close, "\r\n--%s--\r\n", boundary);
  cr_assert_str_eq(msg + len - strlen(close), close);

  /* Each message has a boundary of its own. */
  char *again = render(&m, &len);
  cr_assert_null(strstr(again, boundary));
  free(again);
  free(msg);
}

Test(mail_message, empty_bodies)
{
  struct delivery_mail_message m = sample();
  m.text = NULL;
  m.html = "";
  size_t len;
  char *msg = render(&m, &len);
  char *text = part_content(msg, "text/plain");
  cr_assert_str_eq(text, "");
  free(text);
  free(msg);
}

/* Random bytes everywhere a caller's text goes: the structure holds. */
Test(mail_message, random_text_keeps_structure)
{
  unsigned seed = 12345;
  for (int round = 0; round < 200; round++) {
    char subject[400], name[200], body[2000];
    char *buffers[] = {subject, name, body};
    size_t sizes[] = {sizeof subject, sizeof name, sizeof body};
    for (size_t k = 0; k < 3; k++) {
      size_t n = (size_t)rand_r(&seed) % sizes[k];
      for (size_t i = 0; i < n; i++) {
        int c = rand_r(&seed) % 256;
        buffers[k][i] = (char)(c == 0 ? '\n' : c);
      }
      buffers[k][n] = '\0';
    }
    struct delivery_mail_message m = sample();
    m.subject = subject;
    m.to_name = name;
    m.text = body;
    size_t len;
    char *msg = render(&m, &len);
    struct field fields[FIELDS_MAX];
    size_t count = parse_header(msg, fields);
    cr_assert_eq(count, 8);
    char *text = part_content(msg, "text/plain");
    cr_assert(text_valid_utf8(text, strlen(text)));
    free(text);
    free(msg);
  }
}
