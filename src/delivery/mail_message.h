/*
 * mail_message.h - one complete RFC 5322 email from already rendered parts.
 *
 * delivery_mail_render() turns a message (sender, recipient, subject, a
 * plain text and an HTML body) into the exact bytes to hand to an SMTP
 * server or to write as a .eml file: CRLF line ends only, no line over 78 characters
 * where the content allows and never over 998, a multipart/alternative body
 * of two quoted-printable parts, and header fields that no subject or name,
 * however hostile, can add to (control characters become spaces, anything
 * that is not plain ASCII becomes RFC 2047 encoded-words).
 *
 * Every function is pure apart from the random MIME boundary and is safe to
 * call from any number of threads at once.
 */
#ifndef EVENTAPI_DELIVERY_MAIL_MESSAGE_H
#define EVENTAPI_DELIVERY_MAIL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest addr-spec delivery_mail_address_valid() accepts (RFC 5321 path). */
#define DELIVERY_MAIL_ADDRESS_MAX 254

/* The longest Message-ID, brackets included, that delivery_mail_render() accepts. */
#define DELIVERY_MAIL_MESSAGE_ID_MAX 250

/*
 * A message to render. Every pointer is borrowed: delivery_mail_render() reads the
 * strings and keeps none of them. NULL subject, text or html count as "".
 * Text may be invalid UTF-8: bad bytes come out as U+FFFD.
 */
struct delivery_mail_message {
  const char *from;       /* the From setting: "addr@x" or "Display Name <addr@x>" */
  const char *to;         /* the recipient's addr-spec, e.g. "alice@example.com" */
  const char *to_name;    /* the recipient's display name, UTF-8; NULL or "" for none */
  const char *subject;    /* UTF-8, any content (CR/LF, tabs, very long, non-ASCII) */
  const char *text;       /* the text/plain body, UTF-8, "\n" line ends */
  const char *html;       /* the text/html body, UTF-8, "\n" line ends, already escaped */
  const char *message_id; /* "<unique@domain>", made by the caller */
  int64_t date;           /* microseconds since the Unix epoch, UTC */
};

/*
 * Renders m as a complete message: the header fields Date, From, To,
 * Subject, Message-ID, MIME-Version, Content-Type and Auto-Submitted (RFC
 * 3834: auto-generated) in that order, then a multipart/alternative body
 * with a random boundary, the text/plain part first and the text/html part
 * second, both UTF-8 in quoted-printable.
 *
 * On success returns 0 and stores in *out a malloc'd, NUL-terminated buffer
 * that the caller owns and frees, with its length (without the NUL) in *len.
 * Returns EVENTAPI_EINVAL when m->from has no valid address (see
 * delivery_mail_envelope_address), m->to is not valid (see delivery_mail_address_valid),
 * m->message_id is not a plain "<left@right>" of printable ASCII of at most
 * DELIVERY_MAIL_MESSAGE_ID_MAX bytes, or m->date is outside the years 1900..9999;
 * EVENTAPI_ENOMEM when memory runs out. *out and *len are untouched on error.
 */
int delivery_mail_render(const struct delivery_mail_message *m, char **out, size_t *len);

/*
 * True when s is a plain addr-spec fit for a To field and an SMTP envelope:
 * local@domain, both parts non-empty, exactly one '@', printable ASCII only
 * with no space and none of < > ( ) , ; : \ ", at most DELIVERY_MAIL_ADDRESS_MAX
 * bytes. False for NULL. (Quoted local parts and IPv6 literals, which
 * users_email_valid accepts, are refused here.)
 */
bool delivery_mail_address_valid(const char *s);

/*
 * Copies the addr-spec of a From setting into out (outlen bytes, NUL
 * included): "Name <a@b>" and "\"Name\" <a@b>" give "a@b", "a@b" gives
 * "a@b"; blanks around either form are ignored. Returns 0, or
 * EVENTAPI_EINVAL when from is NULL, holds a CR or LF anywhere, has no
 * valid address, or the address does not fit in out.
 */
int delivery_mail_envelope_address(const char *from, char *out, size_t outlen);

/*
 * The value of an unstructured header field (such as Subject) for a field
 * whose line already holds `used` characters ("Subject: " is 9). Control
 * characters (C0, DEL, C1, U+2028, U+2029) become spaces, runs of spaces one
 * space, blanks at either end go, and invalid UTF-8 becomes U+FFFD. The
 * result is that text unchanged when it is printable ASCII, holds no "=?"
 * and fits the line in 78 characters; otherwise RFC 2047 "=?UTF-8?B?...?="
 * encoded-words of at most 75 characters, each holding whole UTF-8
 * characters, on lines of at most 76 joined by CRLF and one space.
 * Returns a malloc'd string the caller frees (no final CRLF), or NULL when
 * memory runs out.
 */
char *delivery_mail_header_words(const char *utf8, size_t used);

/*
 * utf8[0..len) in quoted-printable (RFC 2045 6.7): "\n" and "\r\n" become
 * CRLF, '=', 8-bit and control bytes become =XX, as do a blank before a line
 * end, a '.' that starts a line and the 'F' of a line starting "From ";
 * soft line breaks "=\r\n" keep every line at most 76 characters and never
 * split an =XX. Invalid UTF-8 is replaced by U+FFFD first. Returns a
 * malloc'd NUL-terminated string the caller frees, or NULL when memory runs
 * out.
 */
char *delivery_mail_quoted_printable(const char *utf8, size_t len);

#endif
