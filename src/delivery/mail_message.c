/*
 * mail_message.c - RFC 5322 / MIME email messages, built by hand.
 *
 * The rules followed, and where they come from:
 *   - RFC 5322 2.1.1: lines end in CRLF, are at most 998 characters and
 *     SHOULD be at most 78. 2.2.3: a long field is folded by putting CRLF
 *     before a space. 3.3: the date format.
 *   - RFC 2047: text that is not plain ASCII goes in encoded-words
 *     "=?UTF-8?B?<base64>?=" of at most 75 characters (2), on lines of at
 *     most 76 (2), each decoding to whole characters (5: "each
 *     'encoded-word' MUST represent an integral number of characters").
 *     In a display name (a phrase) encoded-words stand in for the words
 *     (5.3); they are never put inside a quoted-string.
 *   - RFC 2045 6.7: quoted-printable, lines of at most 76 characters.
 *   - RFC 2046 5.1: the boundary must not occur in the parts; '=' in
 *     quoted-printable is always followed by hex digits or a line break, so
 *     a boundary that holds "=_" cannot.
 *   - RFC 3834 5: automatic messages say "Auto-Submitted: auto-generated".
 *
 * Nothing here reads the locale or the time zone: the day and month names
 * come from fixed tables and the calendar arithmetic is in integers.
 */
#include "delivery/mail_message.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "core/text.h"

#define LINE_SOFT_MAX 78    /* RFC 5322 2.1.1: a line SHOULD be no longer */
#define LINE_ENCODED_MAX 76 /* RFC 2047 2: a line holding encoded-words */
#define WORD_MAX 75         /* RFC 2047 2: one encoded-word */
#define QP_LINE_MAX 76      /* RFC 2045 6.7 (5): one quoted-printable line */

#define WORD_OPEN "=?UTF-8?B?"
#define WORD_CLOSE "?="
#define WORD_OVERHEAD (sizeof WORD_OPEN - 1 + sizeof WORD_CLOSE - 1)

#define CRLF "\r\n"
#define FOLD "\r\n " /* a folded line carries on after one space */
#define FOLD_INDENT 1

#define BOUNDARY_PREFIX "=_eventapi_"
#define BOUNDARY_RANDOM_BYTES 16

#define US_PER_SECOND INT64_C(1000000)
#define YEAR_MIN 1900   /* RFC 5322 3.3: a year is at least 1900 */
#define YEAR_MAX 9999   /* and has four digits here */

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

/* ---------------------------------------------------------------------- */
/* UTF-8                                                                   */


/* Appends s[0..len) to b with every byte that starts no well-formed
 * sequence replaced by U+FFFD. */
static void
append_repaired(struct strbuf *b, const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t done = 0, i = 0;
  uint32_t cp;
  while (i < len) {
    size_t n = text_utf8_next(p + i, len - i, &cp);
    if (n > 0) {
      i += n;
      continue;
    }
    strbuf_append(b, s + done, i - done);
    strbuf_puts(b, REPLACEMENT);
    done = ++i;
  }
  strbuf_append(b, s + done, i - done);
}

/* Characters that must never reach a header line as themselves. */
static bool
is_control(uint32_t cp)
{
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
         cp == 0x2028 || cp == 0x2029; /* LINE and PARAGRAPH SEPARATOR */
}

/*
 * Appends the header-safe form of s to b: valid UTF-8, control characters
 * as spaces, runs of spaces as one, no space at either end.
 */
static void
append_header_text(struct strbuf *b, const char *s)
{
  struct strbuf repaired = {0};
  append_repaired(&repaired, s, strlen(s));
  if (repaired.failed) {
    b->failed = true;
    strbuf_free(&repaired);
    return;
  }
  const unsigned char *p = (const unsigned char *)repaired.data;
  size_t len = repaired.len, start = b->len, i = 0;
  bool blank = false;
  uint32_t cp;
  while (i < len) {
    size_t n = text_utf8_next(p + i, len - i, &cp);
    assert(n > 0); /* repaired */
    if (cp == ' ' || is_control(cp)) {
      blank = true;
    } else {
      if (blank && b->len > start)
        strbuf_append(b, " ", 1);
      blank = false;
      strbuf_append(b, (const char *)p + i, n);
    }
    i += n;
  }
  strbuf_free(&repaired);
}

/* True when s[0..len) can stand in a header as itself: printable ASCII
 * with nothing a decoder could take for an encoded-word. */
static bool
is_plain(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (s[i] < ' ' || s[i] > '~')
      return false;
  return memmem(s, len, "=?", 2) == NULL;
}

/* ---------------------------------------------------------------------- */
/* RFC 2047 encoded-words                                                  */

static size_t
base64_length(size_t bytes)
{
  return (bytes + 2) / 3 * 4;
}

/*
 * Appends the valid, non-empty UTF-8 text[0..len) as encoded-words, the
 * first on a line that already holds *col characters. Each word gets as many
 * whole characters as fit its line; the next starts a folded line. *col is
 * the column after the last word.
 */
static void
append_words(struct strbuf *b, const char *text, size_t len, size_t *col)
{
  const unsigned char *p = (const unsigned char *)text;
  size_t pos = 0;
  uint32_t cp;
  while (pos < len) {
    size_t room = *col < LINE_ENCODED_MAX ? LINE_ENCODED_MAX - *col : 0;
    if (room > WORD_MAX)
      room = WORD_MAX;
    size_t take = 0;
    while (pos + take < len) {
      size_t n = text_utf8_next(p + pos + take, len - pos - take, &cp);
      assert(n > 0);
      if (WORD_OVERHEAD + base64_length(take + n) > room)
        break;
      take += n;
    }
    if (take == 0) {
      /* Not even one character fits after what the line holds. */
      assert(*col > FOLD_INDENT);
      strbuf_puts(b, FOLD);
      *col = FOLD_INDENT;
      continue;
    }
    char encoded[WORD_MAX + 1];
    sodium_bin2base64(encoded, sizeof encoded, p + pos, take,
                      sodium_base64_VARIANT_ORIGINAL);
    strbuf_puts(b, WORD_OPEN);
    strbuf_puts(b, encoded);
    strbuf_puts(b, WORD_CLOSE);
    *col += WORD_OVERHEAD + base64_length(take);
    pos += take;
    if (pos < len) {
      strbuf_puts(b, FOLD);
      *col = FOLD_INDENT;
    }
  }
}

char *
delivery_mail_header_words(const char *utf8, size_t used)
{
  struct strbuf clean = {0}, out = {0};
  strbuf_append(&clean, "", 0);
  append_header_text(&clean, utf8 ? utf8 : "");
  if (clean.failed) {
    strbuf_free(&clean);
    return NULL;
  }
  strbuf_append(&out, "", 0);
  if (is_plain(clean.data, clean.len) && used + clean.len <= LINE_SOFT_MAX) {
    strbuf_append(&out, clean.data, clean.len);
  } else {
    size_t col = used;
    append_words(&out, clean.data, clean.len, &col);
  }
  strbuf_free(&clean);
  if (out.failed) {
    strbuf_free(&out);
    return NULL;
  }
  size_t len;
  return strbuf_take(&out, &len);
}

/* ---------------------------------------------------------------------- */
/* Quoted-printable                                                        */

/* The length of the line break at s[i..len), 0 when there is none. */
static size_t
line_break(const unsigned char *s, size_t i, size_t len)
{
  if (s[i] == '\n')
    return 1;
  if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
    return 2;
  return 0;
}

/*
 * The encoding of s[i] into token (1 or 3 characters) when it lands at
 * column col; at_end says whether a line break or the end follows it.
 */
static size_t
qp_token(const unsigned char *s, size_t i, size_t len, size_t col, bool at_end,
         char token[3])
{
  static const char hex[] = "0123456789ABCDEF";
  unsigned char c = s[i];
  bool literal;
  if (c == ' ' || c == '\t')
    literal = !at_end; /* 6.7 (3): a blank before a line end is lost */
  else if (c == '.' && col == 0)
    literal = false; /* SMTP would take a lone "." for the end of the data */
  else if (c == 'F' && col == 0 && len - i >= 5 && memcmp(s + i, "From ", 5) == 0)
    literal = false; /* mbox files would turn it into ">From " */
  else
    literal = c >= '!' && c <= '~' && c != '=';
  if (literal) {
    token[0] = (char)c;
    return 1;
  }
  token[0] = '=';
  token[1] = hex[c >> 4];
  token[2] = hex[c & 0x0F];
  return 3;
}

char *
delivery_mail_quoted_printable(const char *utf8, size_t len)
{
  struct strbuf clean = {0}, out = {0};
  append_repaired(&clean, utf8, len);
  strbuf_append(&out, "", 0);
  const unsigned char *s = (const unsigned char *)clean.data;
  size_t col = 0, i = 0;
  while (!clean.failed && i < clean.len) {
    size_t brk = line_break(s, i, clean.len);
    if (brk > 0) {
      strbuf_puts(&out, CRLF);
      col = 0;
      i += brk;
      continue;
    }
    bool at_end = i + 1 == clean.len || line_break(s, i + 1, clean.len) > 0;
    char token[3];
    size_t token_len = qp_token(s, i, clean.len, col, at_end, token);
    /* A character that ends its line may use the last column; any other
     * must leave room for the '=' of a soft line break after it. */
    size_t limit = at_end ? QP_LINE_MAX : QP_LINE_MAX - 1;
    if (col + token_len > limit) {
      strbuf_puts(&out, "=" CRLF);
      col = 0;
      token_len = qp_token(s, i, clean.len, col, at_end, token);
    }
    strbuf_append(&out, token, token_len);
    col += token_len;
    i++;
  }
  bool failed = clean.failed || out.failed;
  strbuf_free(&clean);
  if (failed) {
    strbuf_free(&out);
    return NULL;
  }
  size_t out_len;
  return strbuf_take(&out, &out_len);
}

/* ---------------------------------------------------------------------- */
/* Addresses                                                               */

bool
delivery_mail_address_valid(const char *s)
{
  if (s == NULL)
    return false;
  size_t len = strnlen(s, DELIVERY_MAIL_ADDRESS_MAX + 1);
  if (len == 0 || len > DELIVERY_MAIL_ADDRESS_MAX)
    return false;
  const char *at = NULL;
  for (size_t i = 0; i < len; i++) {
    if (s[i] <= ' ' || s[i] > '~' || strchr("<>(),;:\\\"", s[i]) != NULL)
      return false;
    if (s[i] == '@') {
      if (at != NULL)
        return false;
      at = s + i;
    }
  }
  return at != NULL && at != s && at[1] != '\0';
}

static bool
is_blank(char c)
{
  return c == ' ' || c == '\t';
}

/*
 * Splits a From setting into its display name (raw, maybe still quoted;
 * empty when there is none) and its address, both as spans of from.
 * Nothing is checked here.
 */
static void
split_from(const char *from, const char **name, size_t *name_len,
           const char **addr, size_t *addr_len)
{
  const char *start = from, *end = from + strlen(from);
  while (start < end && is_blank(*start))
    start++;
  while (end > start && is_blank(end[-1]))
    end--;
  *name = start;
  *name_len = 0;
  *addr = start;
  *addr_len = (size_t)(end - start);
  if (end == start || end[-1] != '>')
    return;
  const char *open = end - 1;
  while (open > start && *open != '<')
    open--;
  if (*open != '<')
    return; /* "a@b>": the '>' makes it invalid */
  *addr = open + 1;
  *addr_len = (size_t)(end - 1 - *addr);
  const char *name_end = open;
  while (name_end > start && is_blank(name_end[-1]))
    name_end--;
  *name_len = (size_t)(name_end - start);
}

int
delivery_mail_envelope_address(const char *from, char *out, size_t outlen)
{
  if (from == NULL || strpbrk(from, "\r\n") != NULL)
    return EVENTAPI_EINVAL;
  const char *name, *addr;
  size_t name_len, addr_len;
  split_from(from, &name, &name_len, &addr, &addr_len);
  if (addr_len > DELIVERY_MAIL_ADDRESS_MAX || addr_len + 1 > outlen)
    return EVENTAPI_EINVAL;
  char candidate[DELIVERY_MAIL_ADDRESS_MAX + 1];
  memcpy(candidate, addr, addr_len);
  candidate[addr_len] = '\0';
  if (!delivery_mail_address_valid(candidate))
    return EVENTAPI_EINVAL;
  memcpy(out, candidate, addr_len + 1);
  return 0;
}

/* Appends name[0..len) without its quotes and backslashes when it is one
 * quoted-string, else as it is. */
static void
append_unquoted(struct strbuf *b, const char *name, size_t len)
{
  if (len < 2 || name[0] != '"' || name[len - 1] != '"') {
    strbuf_append(b, name, len);
    return;
  }
  for (size_t i = 1; i + 1 < len; i++) {
    if (name[i] == '\\' && i + 2 < len)
      i++;
    strbuf_append(b, name + i, 1);
  }
}

/*
 * Appends the field "<field>: <display name> <addr>" and its CRLF. The name
 * (raw text, NULL or empty for none) goes in a quoted-string when it is
 * plain ASCII and fits a 78-character line, else in encoded-words; the
 * address goes on a folded line of its own when it does not fit after it.
 */
static void
append_address_field(struct strbuf *b, const char *field, const char *name,
                     const char *addr)
{
  struct strbuf clean = {0};
  strbuf_append(&clean, "", 0);
  append_header_text(&clean, name ? name : "");
  size_t col = strlen(field) + 2, addr_len = strlen(addr);
  strbuf_puts(b, field);
  strbuf_puts(b, ": ");
  if (clean.failed || clean.len == 0) {
    b->failed |= clean.failed;
    strbuf_puts(b, addr);
    strbuf_puts(b, CRLF);
    strbuf_free(&clean);
    return;
  }
  size_t quoted_len = clean.len + 2;
  for (size_t i = 0; i < clean.len; i++)
    quoted_len += clean.data[i] == '"' || clean.data[i] == '\\';
  size_t line_max;
  if (is_plain(clean.data, clean.len) && col + quoted_len <= LINE_SOFT_MAX) {
    strbuf_puts(b, "\"");
    for (size_t i = 0; i < clean.len; i++) {
      if (clean.data[i] == '"' || clean.data[i] == '\\')
        strbuf_puts(b, "\\");
      strbuf_append(b, clean.data + i, 1);
    }
    strbuf_puts(b, "\"");
    col += quoted_len;
    line_max = LINE_SOFT_MAX;
  } else {
    append_words(b, clean.data, clean.len, &col);
    line_max = LINE_ENCODED_MAX;
  }
  /* " <" addr ">" */
  if (col + addr_len + 3 > line_max)
    strbuf_puts(b, CRLF);
  strbuf_puts(b, " <");
  strbuf_puts(b, addr);
  strbuf_puts(b, ">" CRLF);
  strbuf_free(&clean);
}

/* A Message-ID is "<" an address-like left@right ">". */
static bool
message_id_valid(const char *id)
{
  if (id == NULL)
    return false;
  size_t len = strnlen(id, DELIVERY_MAIL_MESSAGE_ID_MAX + 1);
  if (len < 2 || len > DELIVERY_MAIL_MESSAGE_ID_MAX || id[0] != '<' || id[len - 1] != '>')
    return false;
  char inner[DELIVERY_MAIL_MESSAGE_ID_MAX];
  memcpy(inner, id + 1, len - 2);
  inner[len - 2] = '\0';
  return delivery_mail_address_valid(inner);
}

/* ---------------------------------------------------------------------- */
/* Date and boundary                                                       */

/* Appends "Date: Sat, 28 Nov 2026 12:00:00 +0000" and its CRLF; returns
 * EVENTAPI_EINVAL for a year outside YEAR_MIN..YEAR_MAX. */
static int
append_date(struct strbuf *b, int64_t us)
{
  static const char *const weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t seconds = (time_t)(us / US_PER_SECOND - (us % US_PER_SECOND < 0));
  struct tm tm;
  if (gmtime_r(&seconds, &tm) == NULL || tm.tm_year + 1900 < YEAR_MIN ||
      tm.tm_year + 1900 > YEAR_MAX)
    return EVENTAPI_EINVAL;
  char line[64];
  int n = snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000" CRLF,
                   weekdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                   tm.tm_hour, tm.tm_min, tm.tm_sec);
  assert(n > 0 && (size_t)n < sizeof line);
  strbuf_append(b, line, (size_t)n);
  return 0;
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static bool sodium_ready;

static void
sodium_setup(void)
{
  /* 0 when done now, 1 when done before (by jwt.c, say), -1 on failure. */
  sodium_ready = sodium_init() >= 0;
}

/* Writes BOUNDARY_PREFIX and 32 random hex digits into out. */
static int
make_boundary(char out[sizeof BOUNDARY_PREFIX + 2 * BOUNDARY_RANDOM_BYTES])
{
  pthread_once(&sodium_once, sodium_setup);
  if (!sodium_ready)
    return EVENTAPI_EINTERNAL;
  unsigned char random[BOUNDARY_RANDOM_BYTES];
  randombytes_buf(random, sizeof random);
  memcpy(out, BOUNDARY_PREFIX, sizeof BOUNDARY_PREFIX - 1);
  text_hex(random, sizeof random, out + sizeof BOUNDARY_PREFIX - 1);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* The message                                                             */

/* Appends one body part: its delimiter, its header and its content. */
static void
append_part(struct strbuf *b, const char *boundary, const char *type,
            const char *content)
{
  strbuf_puts(b, "--");
  strbuf_puts(b, boundary);
  strbuf_puts(b, CRLF "Content-Type: ");
  strbuf_puts(b, type);
  strbuf_puts(b, "; charset=utf-8" CRLF
                 "Content-Transfer-Encoding: quoted-printable" CRLF CRLF);
  if (content == NULL)
    content = "";
  char *encoded = delivery_mail_quoted_printable(content, strlen(content));
  if (encoded == NULL) {
    b->failed = true;
    return;
  }
  strbuf_puts(b, encoded);
  /* RFC 2046 5.1.1: this CRLF belongs to the next delimiter. */
  strbuf_puts(b, CRLF);
  free(encoded);
}

int
delivery_mail_render(const struct delivery_mail_message *m, char **out, size_t *len)
{
  assert(m != NULL && out != NULL && len != NULL);
  char sender[DELIVERY_MAIL_ADDRESS_MAX + 1];
  if (delivery_mail_envelope_address(m->from, sender, sizeof sender) != 0 ||
      !delivery_mail_address_valid(m->to) || !message_id_valid(m->message_id))
    return EVENTAPI_EINVAL;

  struct strbuf b = {0};
  int rc = append_date(&b, m->date);
  if (rc != 0)
    goto done;

  /* The From setting's display name, unquoted; its address is `sender`. */
  const char *name, *addr;
  size_t name_len, addr_len;
  split_from(m->from, &name, &name_len, &addr, &addr_len);
  struct strbuf from_name = {0};
  strbuf_append(&from_name, "", 0);
  append_unquoted(&from_name, name, name_len);
  if (from_name.failed) {
    strbuf_free(&from_name);
    rc = EVENTAPI_ENOMEM;
    goto done;
  }
  append_address_field(&b, "From", from_name.data, sender);
  strbuf_free(&from_name);
  append_address_field(&b, "To", m->to_name, m->to);

  static const char subject_field[] = "Subject: ";
  char *subject = delivery_mail_header_words(m->subject, sizeof subject_field - 1);
  if (subject == NULL) {
    rc = EVENTAPI_ENOMEM;
    goto done;
  }
  strbuf_puts(&b, subject[0] ? subject_field : "Subject:");
  strbuf_puts(&b, subject);
  strbuf_puts(&b, CRLF);
  free(subject);

  strbuf_puts(&b, "Message-ID: ");
  strbuf_puts(&b, m->message_id);
  strbuf_puts(&b, CRLF);

  char boundary[sizeof BOUNDARY_PREFIX + 2 * BOUNDARY_RANDOM_BYTES];
  rc = make_boundary(boundary);
  if (rc != 0)
    goto done;
  strbuf_puts(&b, "MIME-Version: 1.0" CRLF
                  "Content-Type: multipart/alternative;" FOLD "boundary=\"");
  strbuf_puts(&b, boundary);
  strbuf_puts(&b, "\"" CRLF "Auto-Submitted: auto-generated" CRLF CRLF);

  append_part(&b, boundary, "text/plain", m->text);
  append_part(&b, boundary, "text/html", m->html);
  strbuf_puts(&b, "--");
  strbuf_puts(&b, boundary);
  strbuf_puts(&b, "--" CRLF);

  if (b.failed)
    rc = EVENTAPI_ENOMEM;
done:
  if (rc == 0)
    *out = strbuf_take(&b, len);
  strbuf_free(&b);
  return rc;
}
