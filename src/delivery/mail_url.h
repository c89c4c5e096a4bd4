/*
 * mail_url.h - the EMAIL_URL setting, read with libcurl's URL API (CURLU).
 *
 * EMAIL_URL names the mail transport and where it sends:
 *
 *   console://          the log (also what NULL and "" mean)
 *   file:///abs/dir/    one .eml file per message in that folder;
 *   file://rel/dir      a folder relative to the working directory at each
 *                       send (libcurl reads no relative file URL: this form
 *                       is read as file:///rel/dir, its first slash dropped)
 *   smtp://[user[:pass]@]host[:port][/][?starttls=required|never]
 *                       an SMTP server, port 25 by default; without
 *                       ?starttls, STARTTLS when the server offers it (and
 *                       otherwise plain text, credentials included);
 *                       required fails rather than send without TLS; never
 *                       does not try
 *   smtps://[user[:pass]@]host[:port][/]
 *                       implicit TLS, port 465 by default
 *
 * Schemes are case-insensitive and must be followed by "://". libcurl's
 * parser splits the URL; this module then holds each part to the forms
 * above: user and password are percent-decoded (so an '@', ':' or '%' in
 * them is written %40, %3A, %25), and an escape that is not '%' and two hex
 * digits, or that decodes to NUL, is refused rather than taken literally;
 * a port is 1 to 65535 (empty: the default, as libcurl reads it); an SMTP
 * URL has no other path than "/", no fragment, no login options (";...")
 * and no parameter but starttls; a file URL no query or fragment.
 *
 * No reason written to err ever quotes the URL (a misplaced character can
 * put part of the password anywhere in it), and the password appears only
 * in the decoded field, which delivery_mail_url_free() wipes.
 */
#ifndef EVENTAPI_DELIVERY_MAIL_URL_H
#define EVENTAPI_DELIVERY_MAIL_URL_H

#include <stddef.h>

enum delivery_mail_scheme {
  DELIVERY_MAIL_CONSOLE,
  DELIVERY_MAIL_FILE,
  DELIVERY_MAIL_SMTP,  /* smtp:// and smtps:// */
};

enum delivery_mail_starttls {
  DELIVERY_STARTTLS_TRY,      /* smtp:// without ?starttls */
  DELIVERY_STARTTLS_REQUIRED,
  DELIVERY_STARTTLS_NEVER,
  DELIVERY_STARTTLS_IMPLICIT, /* smtps:// */
};

/* A parsed EMAIL_URL. Every string is malloc'd and owned by the struct. */
struct delivery_mail_url {
  enum delivery_mail_scheme scheme;
  char *description; /* for logs: "smtp://user:***@host:587?starttls=required",
                        "file:///var/mail/", "console://" */
  /* file */
  char *dir;         /* decoded, without trailing slashes ("/" stays "/") */
  /* smtp, smtps */
  char *curl_url;    /* what libcurl connects to: "smtp://host:port/" */
  char *server;      /* "host:port", for messages */
  char *user;        /* decoded; NULL: no credentials */
  char *password;    /* decoded; NULL: none (wiped by delivery_mail_url_free) */
  unsigned port;
  enum delivery_mail_starttls starttls;
};

/*
 * Parses url into *out. Returns 0; EVENTAPI_EINVAL with a one-line reason
 * in err (errlen bytes, naming EMAIL_URL) for a URL of none of the forms
 * above; EVENTAPI_ENOMEM. On error *out holds nothing to free.
 */
int delivery_mail_url_parse(const char *url, struct delivery_mail_url *out, char *err,
                            size_t errlen);

/* Frees u's strings, the password wiped first. NULL is fine. */
void delivery_mail_url_free(struct delivery_mail_url *u);

#endif
