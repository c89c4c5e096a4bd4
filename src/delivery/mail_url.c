/*
 * mail_url.c - EMAIL_URL, split by libcurl's URL parser (see mail_url.h).
 *
 * libcurl reads the URL (curl_url_set); this file only checks the parts it
 * gives back against what a mail transport accepts, and builds from them
 * the URL libcurl connects to, the "host:port" of messages and the
 * description of logs. Where libcurl is lenient and a part would silently
 * mean something else than the operator wrote (a malformed %-escape kept
 * literally in a password, "smtp:/host" read as "smtp://host"), the part is
 * refused instead.
 */
#include "delivery/mail_url.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

#define SMTP_PORT 25
#define SMTPS_PORT 465
/* Room the file transport needs after the folder for a file's name:
 * "/" + "yyyymmddThhmmss-" + a hint of 100 + "-9999.eml". */
#define FILE_NAME_ROOM (1 + 16 + 100 + 5 + 4)

static void
free_secret(char *s)
{
  if (s != NULL) {
    explicit_bzero(s, strlen(s));
    free(s);
  }
}

void
delivery_mail_url_free(struct delivery_mail_url *u)
{
  if (u == NULL)
    return;
  free(u->description);
  free(u->dir);
  free(u->curl_url);
  free(u->server);
  free_secret(u->user);
  free_secret(u->password);
  memset(u, 0, sizeof *u);
}

/* True when url starts with scheme "://" (any case); *rest is what follows. */
static bool
has_scheme(const char *url, const char *scheme, const char **rest)
{
  size_t len = strlen(scheme);
  if (strncasecmp(url, scheme, len) != 0 || strncmp(url + len, "://", 3) != 0)
    return false;
  *rest = url + len + 3;
  return true;
}

static bool
is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Whether every '%' of s (as written) starts an escape of two hex digits.
 * libcurl keeps a malformed escape as it is, which would make a typo part
 * of a password or a folder's name.
 */
static bool
escapes_valid(const char *s)
{
  for (const char *p = s; (p = strchr(p, '%')) != NULL; p += 3)
    if (!is_hex(p[1]) || !is_hex(p[2]))
      return false;
  return true;
}

/*
 * One part of h into *out, a malloc'd copy (curl's own copy is wiped: it
 * may be the password); *out is NULL when the URL has no such part.
 * Returns CURLUE_OK or libcurl's error (CURLUE_URLDECODE: an escape that
 * decodes to a control character).
 */
static CURLUcode
get_part(CURLU *h, CURLUPart which, unsigned flags, char **out)
{
  char *value = NULL;
  *out = NULL;
  CURLUcode rc = curl_url_get(h, which, &value, flags);
  switch (rc) {
  case CURLUE_OK:
    *out = strdup(value);
    explicit_bzero(value, strlen(value));
    curl_free(value);
    return *out ? CURLUE_OK : CURLUE_OUT_OF_MEMORY;
  case CURLUE_NO_USER:
  case CURLUE_NO_PASSWORD:
  case CURLUE_NO_OPTIONS:
  case CURLUE_NO_HOST:
  case CURLUE_NO_PORT:
  case CURLUE_NO_QUERY:
  case CURLUE_NO_FRAGMENT:
  case CURLUE_NO_ZONEID:
    return CURLUE_OK;
  default:
    return rc;
  }
}

/* libcurl's refusal of the whole URL, in the setting's terms. */
static int
parse_failure(CURLUcode rc, const char *what, char *err, size_t errlen)
{
  switch (rc) {
  case CURLUE_OUT_OF_MEMORY:
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  case CURLUE_BAD_PORT_NUMBER:
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: the port must be a number from 1 to 65535");
  case CURLUE_NO_HOST:
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: the %s's host is missing", what);
  default:
    /* libcurl's messages name what is wrong, never the URL itself. */
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: not a valid %s URL: %s", what,
                         curl_url_strerror(rc));
  }
}

static bool
curl_supports(const char *protocol)
{
  const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
  for (const char *const *p = info->protocols; p != NULL && *p != NULL; p++)
    if (strcmp(*p, protocol) == 0)
      return true;
  return false;
}

/* ---- smtp:// and smtps:// ---- */

/* The parts of an SMTP URL as libcurl gave them (malloc'd, NULL: absent). */
struct smtp_parts {
  char *raw_user, *raw_password; /* as written */
  char *user, *password;         /* decoded */
  char *options, *host, *zone, *port, *path, *query, *fragment;
};

static void
smtp_parts_free(struct smtp_parts *p)
{
  free(p->raw_user);
  free_secret(p->raw_password);
  free_secret(p->user);
  free_secret(p->password);
  free(p->options);
  free(p->host);
  free(p->zone);
  free(p->port);
  free(p->path);
  free(p->query);
  free(p->fragment);
}

static CURLUcode
smtp_parts_get(CURLU *h, struct smtp_parts *p)
{
  CURLUcode rc = get_part(h, CURLUPART_USER, 0, &p->raw_user);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_PASSWORD, 0, &p->raw_password);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_OPTIONS, 0, &p->options);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_HOST, 0, &p->host);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_ZONEID, 0, &p->zone);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_PORT, 0, &p->port);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_PATH, 0, &p->path);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_QUERY, 0, &p->query);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_FRAGMENT, 0, &p->fragment);
  return rc;
}

/* Whether host, as libcurl decoded it, holds no control character. */
static bool
host_printable(const char *host)
{
  for (const unsigned char *c = (const unsigned char *)host; *c; c++)
    if (*c < 0x20 || *c == 0x7f)
      return false;
  return true;
}

/* Checks the credentials and decodes them into u (NULL: none). */
static int
smtp_credentials(CURLU *h, struct smtp_parts *p, struct delivery_mail_url *u, char *err,
                 size_t errlen)
{
  if (p->raw_user == NULL)
    return 0;
  if (!escapes_valid(p->raw_user) || (p->raw_password && !escapes_valid(p->raw_password)))
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: bad %%-escape in the user name or password");
  CURLUcode rc = get_part(h, CURLUPART_USER, CURLU_URLDECODE, &p->user);
  if (rc == CURLUE_OK)
    rc = get_part(h, CURLUPART_PASSWORD, CURLU_URLDECODE, &p->password);
  if (rc == CURLUE_OUT_OF_MEMORY)
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  if (rc != CURLUE_OK)
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: bad %%-escape in the user name or password");
  if (p->user[0] == '\0') {
    if (p->password != NULL)
      return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: a password needs a user name");
    return 0; /* "smtp://@host": no credentials */
  }
  u->user = p->user;
  u->password = p->password;
  p->user = p->password = NULL;
  return 0;
}

/* The parts beyond host and credentials: port, path, query, fragment. */
static int
smtp_rest(const struct smtp_parts *p, bool implicit_tls, struct delivery_mail_url *u,
          char *err, size_t errlen)
{
  if (p->options != NULL)
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: login options (\";...\") are not supported; "
                         "write ';' in a user name as %%3B");
  if (p->fragment != NULL || (p->path != NULL && strcmp(p->path, "/") != 0 && p->path[0]))
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: an SMTP URL has no path or fragment");
  u->port = implicit_tls ? SMTPS_PORT : SMTP_PORT;
  if (p->port != NULL) {
    /* libcurl took only decimal digits up to 65535. */
    unsigned long port = strtoul(p->port, NULL, 10);
    if (port == 0 || port > 65535)
      return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                           "EMAIL_URL: the port must be a number from 1 to 65535");
    u->port = (unsigned)port;
  }
  u->starttls = implicit_tls ? DELIVERY_STARTTLS_IMPLICIT : DELIVERY_STARTTLS_TRY;
  if (p->query == NULL)
    return 0;
  if (implicit_tls)
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: smtps:// takes no parameters (TLS is implicit)");
  if (strncmp(p->query, "starttls=", 9) != 0)
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: the only parameter is ?starttls=required or ?starttls=never");
  if (strcmp(p->query + 9, "required") == 0)
    u->starttls = DELIVERY_STARTTLS_REQUIRED;
  else if (strcmp(p->query + 9, "never") == 0)
    u->starttls = DELIVERY_STARTTLS_NEVER;
  else
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: starttls must be required or never");
  return 0;
}

/*
 * The URL libcurl connects to: the parsed one without credentials, query
 * or fragment, with the port written out and the path "/" (an IPv6 zone
 * id, if any, kept).
 */
static int
smtp_connect_url(CURLU *h, unsigned port, char **out)
{
  char number[8];
  snprintf(number, sizeof number, "%u", port);
  CURLUcode rc = curl_url_set(h, CURLUPART_USER, NULL, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_set(h, CURLUPART_PASSWORD, NULL, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_set(h, CURLUPART_QUERY, NULL, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_set(h, CURLUPART_PATH, "/", 0);
  if (rc == CURLUE_OK)
    rc = curl_url_set(h, CURLUPART_PORT, number, 0);
  return rc == CURLUE_OK ? get_part(h, CURLUPART_URL, 0, out) : rc;
}

static const char *const starttls_words[] = {
  [DELIVERY_STARTTLS_TRY] = NULL,
  [DELIVERY_STARTTLS_REQUIRED] = "required",
  [DELIVERY_STARTTLS_NEVER] = "never",
  [DELIVERY_STARTTLS_IMPLICIT] = NULL,
};

static int
smtp_parse(const char *url, bool implicit_tls, struct delivery_mail_url *u, char *err,
           size_t errlen)
{
  const char *scheme = implicit_tls ? "smtps" : "smtp";
  const char *what = "SMTP server";
  CURLU *h = curl_url();
  if (h == NULL)
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  struct smtp_parts p = {0};
  int rc = 0;
  CURLUcode cu = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
  if (cu == CURLUE_OK)
    cu = smtp_parts_get(h, &p);
  if (cu != CURLUE_OK)
    rc = parse_failure(cu, what, err, errlen);
  else if (p.host == NULL || p.host[0] == '\0')
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                       "EMAIL_URL: the SMTP server's host is missing");
  else if (!host_printable(p.host))
    /* libcurl decodes %-escapes in a host: "%7F" is a control character,
     * which no host name holds and no log line should show. */
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                       "EMAIL_URL: the SMTP server's host holds a control character");
  if (rc == 0)
    rc = smtp_credentials(h, &p, u, err, errlen);
  if (rc == 0)
    rc = smtp_rest(&p, implicit_tls, u, err, errlen);
  if (rc == 0 && !curl_supports(scheme))
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: this libcurl cannot send %s://",
                       scheme);

  /* "[fe80::1]" with zone "eth0" is shown "[fe80::1%25eth0]", as written. */
  char *host = NULL;
  if (rc == 0) {
    size_t len = strlen(p.host);
    int written = p.zone && len > 1 && p.host[len - 1] == ']'
        ? asprintf(&host, "%.*s%%25%s]", (int)(len - 1), p.host, p.zone)
        : asprintf(&host, "%s", p.host);
    if (written < 0)
      host = NULL;
  }
  if (rc == 0 && host != NULL) {
    const char *tls = starttls_words[u->starttls];
    if (asprintf(&u->server, "%s:%u", host, u->port) < 0)
      u->server = NULL;
    if (asprintf(&u->description, "%s://%s%s%s:%u%s%s", scheme, u->user ? p.raw_user : "",
                 u->user ? (u->password ? ":***@" : "@") : "", host, u->port,
                 tls ? "?starttls=" : "", tls ? tls : "") < 0)
      u->description = NULL;
  }
  if (rc == 0 && (host == NULL || u->server == NULL || u->description == NULL ||
                  smtp_connect_url(h, u->port, &u->curl_url) != CURLUE_OK ||
                  u->curl_url == NULL))
    rc = eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  free(host);
  smtp_parts_free(&p);
  curl_url_cleanup(h);
  u->scheme = DELIVERY_MAIL_SMTP;
  return rc;
}

/* ---- file:// ---- */

static int
file_parse(const char *rest, struct delivery_mail_url *u, char *err, size_t errlen)
{
  u->scheme = DELIVERY_MAIL_FILE;
  if (rest[0] == '\0')
    return eventapi_fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: file:// needs a folder");
  /* libcurl reads no relative file URL: "file://out/mail" is read as
   * "file:///out/mail" and the first slash of its path dropped. */
  bool relative = rest[0] != '/';
  char *url = NULL;
  if (asprintf(&url, "file://%s%s", relative ? "/" : "", rest) < 0)
    return eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  CURLU *h = curl_url();
  char *raw = NULL, *query = NULL, *fragment = NULL, *path = NULL;
  int rc = h == NULL ? eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory") : 0;
  CURLUcode cu = CURLUE_OK;
  if (rc == 0) {
    cu = curl_url_set(h, CURLUPART_URL, url,
                      CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS | CURLU_ALLOW_SPACE);
    if (cu == CURLUE_OK)
      cu = get_part(h, CURLUPART_PATH, 0, &raw);
    if (cu == CURLUE_OK)
      cu = get_part(h, CURLUPART_QUERY, 0, &query);
    if (cu == CURLUE_OK)
      cu = get_part(h, CURLUPART_FRAGMENT, 0, &fragment);
    if (cu != CURLUE_OK)
      rc = parse_failure(cu, "file", err, errlen);
  }
  if (rc == 0 && (query != NULL || fragment != NULL))
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                       "EMAIL_URL: a file:// URL has no ?query or #fragment "
                       "(write '?' and '#' in a folder's name as %%3F and %%23)");
  if (rc == 0 && (raw == NULL || !escapes_valid(raw)))
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                       "EMAIL_URL: bad %%-escape in the file:// path");
  if (rc == 0) {
    cu = get_part(h, CURLUPART_PATH, CURLU_URLDECODE, &path);
    if (cu == CURLUE_OUT_OF_MEMORY)
      rc = eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
    else if (cu != CURLUE_OK || path == NULL)
      rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: bad %%-escape in the file:// path");
  }
  if (rc == 0) {
    size_t skip = relative && path[0] == '/' ? 1 : 0;
    size_t len = strlen(path + skip);
    memmove(path, path + skip, len + 1);
    while (len > 1 && path[len - 1] == '/')
      path[--len] = '\0';
    if (len == 0)
      rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: file:// needs a folder");
    else if (len + FILE_NAME_ROOM >= PATH_MAX)
      rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                         "EMAIL_URL: the file:// folder's path is too long");
  }
  if (rc == 0) {
    u->dir = path;
    path = NULL;
    if (asprintf(&u->description, "file://%s", rest) < 0) {
      u->description = NULL;
      rc = eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
    }
  }
  free(path);
  free(raw);
  free(query);
  free(fragment);
  curl_url_cleanup(h);
  free(url);
  return rc;
}

/* ---- the setting ---- */

int
delivery_mail_url_parse(const char *url, struct delivery_mail_url *out, char *err,
                        size_t errlen)
{
  memset(out, 0, sizeof *out);
  if (url == NULL || url[0] == '\0')
    url = "console://";
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                           "EMAIL_URL: control characters are not allowed");
  const char *rest;
  bool smtps = has_scheme(url, "smtps", &rest);
  int rc;
  if (has_scheme(url, "console", &rest)) {
    out->scheme = DELIVERY_MAIL_CONSOLE;
    rc = rest[0] == '\0' ? 0
                         : eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                                         "EMAIL_URL: console:// takes nothing after the scheme");
    if (rc == 0 && (out->description = strdup("console://")) == NULL)
      rc = eventapi_fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  } else if (has_scheme(url, "file", &rest)) {
    rc = file_parse(rest, out, err, errlen);
  } else if (smtps || has_scheme(url, "smtp", &rest)) {
    /* libcurl would read "smtp:///host" as "smtp://host": the host comes
     * right after the "//", or there is none. */
    rc = rest[0] == '/' ? eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                                        "EMAIL_URL: the SMTP server's host is missing")
                                        : smtp_parse(url, smtps, out, err, errlen);
  } else {
    rc = eventapi_fail(err, errlen, EVENTAPI_EINVAL,
                       "EMAIL_URL: the scheme must be console://, file://, smtp:// or smtps://");
  }
  if (rc < 0)
    delivery_mail_url_free(out);
  return rc;
}
