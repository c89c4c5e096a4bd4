/*
 * mailer.c - the console, file and SMTP mail transports (see mailer.h).
 *
 * The SMTP mailers drive libcurl's easy interface, one easy handle per
 * mailer, so that libcurl keeps the connection to the server open from one
 * message to the next. Whether a refusal is permanent depends on which
 * command the server refused, which libcurl does not say in its result
 * code, so a debug callback follows the dialogue: it keeps the verb of the
 * last command sent (never its arguments: AUTH lines carry the credentials)
 * and the last reply line received.
 *
 * The file mailer writes each message under a temporary name, fsyncs it and
 * moves it to its final name without ever replacing a file (renameat2 with
 * RENAME_NOREPLACE, or link(2) where the file system lacks it), then fsyncs
 * the folder, so a file that exists is whole and survives a crash.
 */
#include "notifications/mailer.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"

#define SMTP_PORT 25
#define SMTPS_PORT 465
#define CONNECT_TIMEOUT_MS 10000L
#define TIMEOUT_MS 30000L /* one message, unless mailer_set_timeout() */
#define HOST_MAX 253
#define ADDRESS_MAX 320
#define HINT_MAX 100
#define COUNTER_MAX 9999
/* Room for "/" + "yyyymmddThhmmss-" + hint + "-9999.eml" after the folder. */
#define NAME_MAX_LEN (1 + 16 + HINT_MAX + 5 + 4)
/* The console record: log_write's 4096-byte line less its timestamp and level. */
#define CONSOLE_MAX 4000
#define CONSOLE_TRAILER 48

enum mailer_kind { MAILER_CONSOLE, MAILER_FILE, MAILER_SMTP };

struct mailer {
  enum mailer_kind kind;
  char *description; /* mailer_describe() */

  char *dir; /* file: the folder, without trailing slashes */

  /* smtp and smtps */
  CURL *curl;
  char *server; /* "host:port", for messages */
  /* The message being sent, for read_message(). */
  const char *data;
  size_t len, pos;
  /* The dialogue of the current send, kept by on_debug(). */
  char command[16];
  char reply[256];
  bool quitting; /* since QUIT: see note_command() */
  char curl_error[CURL_ERROR_SIZE];
};

/* The parts of an smtp:// or smtps:// URL; strings point into the URL
 * except user and password, which are decoded copies. */
struct smtp_url {
  bool implicit_tls;
  const char *raw_user; /* as written, for the description */
  size_t raw_user_len;
  char *user, *password; /* malloc'd, NULL when absent */
  const char *host;
  size_t host_len;
  unsigned port;
  const char *starttls; /* "required", "never" or NULL */
  long use_ssl;
};

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the reason into err (when there is room) and returns rc. */
static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
  if (err != NULL && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static void
free_secret(char *s)
{
  if (s != NULL) {
    explicit_bzero(s, strlen(s));
    free(s);
  }
}

/* ---- parsing EMAIL_URL ---- */

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

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/*
 * Percent-decodes s[0..len) into a malloc'd string in *out (the caller
 * frees it). Returns 0, EVENTAPI_EINVAL for a malformed escape or one that
 * decodes to NUL, EVENTAPI_ENOMEM.
 */
static int
percent_decode(const char *s, size_t len, char **out)
{
  char *decoded = malloc(len + 1);
  if (decoded == NULL)
    return EVENTAPI_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] != '%') {
      decoded[n++] = s[i];
      continue;
    }
    int high = i + 2 < len ? hex_value(s[i + 1]) : -1;
    int low = high >= 0 ? hex_value(s[i + 2]) : -1;
    if (low < 0 || (high == 0 && low == 0)) {
      explicit_bzero(decoded, len + 1); /* may hold part of a password */
      free(decoded);
      return EVENTAPI_EINVAL;
    }
    decoded[n++] = (char)(high * 16 + low);
    i += 2;
  }
  decoded[n] = '\0';
  *out = decoded;
  return 0;
}

static bool
host_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_';
}

/* A DNS name, an IPv4 address, or an IPv6 address in brackets. */
static bool
host_valid(const char *host, size_t len)
{
  if (len == 0 || len > HOST_MAX)
    return false;
  if (host[0] == '[') {
    if (len < 4 || host[len - 1] != ']')
      return false;
    for (size_t i = 1; i + 1 < len; i++)
      if (hex_value(host[i]) < 0 && host[i] != ':' && host[i] != '.')
        return false;
    return true;
  }
  for (size_t i = 0; i < len; i++)
    if (!host_char(host[i]))
      return false;
  return true;
}

/* 1 to 65535 in decimal digits only. */
static bool
port_parse(const char *s, size_t len, unsigned *port)
{
  if (len == 0 || len > 5)
    return false;
  unsigned value = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    value = value * 10 + (unsigned)(s[i] - '0');
  }
  if (value == 0 || value > 65535)
    return false;
  *port = value;
  return true;
}

/*
 * Parses what follows "smtp://" or "smtps://". The reasons never quote the
 * URL: a misplaced character can put part of the password anywhere in it.
 */
static int
smtp_url_parse(const char *rest, struct smtp_url *u, char *err, size_t errlen)
{
  size_t authority_len = strcspn(rest, "/?#");
  const char *after = rest + authority_len;

  /* userinfo: everything before the last '@' of the authority. */
  const char *hostport = rest;
  const char *at = NULL;
  for (const char *p = rest; p < after; p++)
    if (*p == '@')
      at = p;
  if (at != NULL) {
    hostport = at + 1;
    size_t userinfo_len = (size_t)(at - rest);
    const char *colon = memchr(rest, ':', userinfo_len);
    size_t user_len = colon ? (size_t)(colon - rest) : userinfo_len;
    u->raw_user = rest;
    u->raw_user_len = user_len;
    int rc = percent_decode(rest, user_len, &u->user);
    if (rc == 0 && colon != NULL)
      rc = percent_decode(colon + 1, userinfo_len - user_len - 1, &u->password);
    if (rc == EVENTAPI_ENOMEM)
      return fail(err, errlen, rc, "out of memory");
    if (rc < 0)
      return fail(err, errlen, rc, "EMAIL_URL: bad %%-escape in the user name or password");
    if (u->user[0] == '\0') {
      if (u->password != NULL)
        return fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: a password needs a user name");
      free(u->user);
      u->user = NULL; /* "smtp://@host": no credentials */
    }
  }

  /* host[:port] */
  size_t hostport_len = (size_t)(after - hostport);
  size_t host_len = hostport_len;
  const char *port = NULL;
  if (hostport_len > 0 && hostport[0] == '[') {
    const char *close = memchr(hostport, ']', hostport_len);
    host_len = close ? (size_t)(close - hostport) + 1 : hostport_len;
  } else {
    const char *colon = memchr(hostport, ':', hostport_len);
    if (colon != NULL)
      host_len = (size_t)(colon - hostport);
  }
  if (host_len == 0)
    return fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: the SMTP server's host is missing");
  if (!host_valid(hostport, host_len))
    return fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: the SMTP server's host is not valid");
  u->host = hostport;
  u->host_len = host_len;
  u->port = u->implicit_tls ? SMTPS_PORT : SMTP_PORT;
  if (host_len < hostport_len) {
    port = hostport + host_len;
    if (*port != ':' || !port_parse(port + 1, hostport_len - host_len - 1, &u->port))
      return fail(err, errlen, EVENTAPI_EINVAL,
                  "EMAIL_URL: the port must be a number from 1 to 65535");
  }

  /* An optional "/" and nothing more; then the query. */
  if (*after == '/')
    after++;
  if (*after != '\0' && *after != '?')
    return fail(err, errlen, EVENTAPI_EINVAL,
                "EMAIL_URL: an SMTP URL has no path or fragment");
  u->use_ssl = u->implicit_tls ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_TRY;
  if (*after == '?') {
    const char *query = after + 1;
    if (u->implicit_tls)
      return fail(err, errlen, EVENTAPI_EINVAL,
                  "EMAIL_URL: smtps:// takes no parameters (TLS is implicit)");
    if (strncmp(query, "starttls=", 9) != 0)
      return fail(err, errlen, EVENTAPI_EINVAL,
                  "EMAIL_URL: the only parameter is ?starttls=required or ?starttls=never");
    if (strcmp(query + 9, "required") == 0) {
      u->starttls = "required";
      u->use_ssl = (long)CURLUSESSL_ALL;
    } else if (strcmp(query + 9, "never") == 0) {
      u->starttls = "never";
      u->use_ssl = (long)CURLUSESSL_NONE;
    } else {
      return fail(err, errlen, EVENTAPI_EINVAL,
                  "EMAIL_URL: starttls must be required or never");
    }
  }
  return 0;
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

/* ---- the SMTP dialogue, as libcurl runs it ---- */

static size_t
read_message(char *buffer, size_t size, size_t nitems, void *userp)
{
  struct mailer *m = userp;
  size_t room = size * nitems;
  size_t left = m->len - m->pos;
  size_t n = left < room ? left : room;
  if (n > 0) {
    memcpy(buffer, m->data + m->pos, n);
    m->pos += n;
  }
  return n;
}

/* The commands whose verb is noted; AUTH's continuation lines (base64
 * credentials) match none of them and are never copied. */
static const char *const smtp_verbs[] = {
  "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "QUIT", "NOOP",
};

/*
 * libcurl says QUIT when it drops a connection, which it does right after
 * a refusal: the QUIT and its reply are not noted, so the refusal stays the
 * last thing noted. The next command is another dialogue.
 */
static void
note_command(struct mailer *m, const char *line, size_t size)
{
  size_t word = 0;
  while (word < size && line[word] != ' ' && line[word] != '\r' && line[word] != '\n')
    word++;
  for (size_t i = 0; i < sizeof smtp_verbs / sizeof smtp_verbs[0]; i++) {
    if (strlen(smtp_verbs[i]) == word && strncasecmp(line, smtp_verbs[i], word) == 0) {
      m->quitting = strcmp(smtp_verbs[i], "QUIT") == 0;
      if (!m->quitting)
        snprintf(m->command, sizeof m->command, "%s", smtp_verbs[i]);
      return;
    }
  }
}

/* Keeps the last line of a server reply, printable ASCII only. */
static void
note_reply(struct mailer *m, const char *data, size_t size)
{
  if (m->quitting)
    return;
  while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
    size--;
  size_t start = size;
  while (start > 0 && data[start - 1] != '\n')
    start--;
  size_t n = 0;
  for (size_t i = start; i < size && n + 1 < sizeof m->reply; i++) {
    unsigned char c = (unsigned char)data[i];
    m->reply[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  m->reply[n] = '\0';
  /* After "354 go ahead" the next reply is the one to the message. */
  if (strncmp(m->reply, "354", 3) == 0)
    snprintf(m->command, sizeof m->command, "message");
}

static int
on_debug(CURL *handle, curl_infotype type, char *data, size_t size, void *userp)
{
  (void)handle;
  if (type == CURLINFO_HEADER_OUT)
    note_command(userp, data, size);
  else if (type == CURLINFO_HEADER_IN)
    note_reply(userp, data, size);
  return 0;
}

/* The reply code of the last reply line, or 0. */
static long
reply_code(const struct mailer *m)
{
  const char *r = m->reply;
  if (r[0] < '1' || r[0] > '5' || r[1] < '0' || r[1] > '9' || r[2] < '0' || r[2] > '9')
    return 0;
  return (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
}

static const char *
command_name(const char *verb)
{
  if (strcmp(verb, "MAIL") == 0)
    return "MAIL FROM";
  if (strcmp(verb, "RCPT") == 0)
    return "RCPT TO";
  return verb[0] ? verb : "connection";
}

/*
 * The result of a failed transfer. Permanent only for a 5xx reply to the
 * mail transaction itself (MAIL FROM, RCPT TO, DATA, the message): a 5xx to
 * the greeting, EHLO, STARTTLS or AUTH, and 530 "authentication required",
 * are the server's or the operator's problem, fixed by configuration, and
 * worth retrying once fixed.
 */
static int
smtp_failure(struct mailer *m, CURLcode result, char *err, size_t errlen)
{
  long code = reply_code(m);
  bool transaction = strcmp(m->command, "MAIL") == 0 || strcmp(m->command, "RCPT") == 0 ||
                     strcmp(m->command, "DATA") == 0 || strcmp(m->command, "message") == 0;
  bool permanent = transaction && code >= 500 && code <= 599 && code != 530;
  int rc = permanent ? EVENTAPI_EINVAL : EVENTAPI_EUNAVAILABLE;
  if (code >= 400)
    return fail(err, errlen, rc, "smtp %s: %s refused: %s", m->server,
                command_name(m->command), m->reply);
  const char *why = m->curl_error[0] ? m->curl_error : curl_easy_strerror(result);
  return fail(err, errlen, rc, "smtp %s: %s", m->server, why);
}

static int
smtp_send(struct mailer *m, const char *from, const char *rcpt, const char *message,
          size_t len, char *err, size_t errlen)
{
  struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
  if (rcpts == NULL)
    return fail(err, errlen, EVENTAPI_EUNAVAILABLE, "smtp %s: out of memory", m->server);
  m->data = message;
  m->len = len;
  m->pos = 0;
  m->command[0] = '\0';
  m->reply[0] = '\0';
  m->quitting = false;
  m->curl_error[0] = '\0';
  CURLcode result = curl_easy_setopt(m->curl, CURLOPT_MAIL_FROM, from ? from : "");
  if (result == CURLE_OK)
    result = curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, rcpts);
  if (result == CURLE_OK)
    result = curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
  if (result == CURLE_OK)
    result = curl_easy_perform(m->curl);
  curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
  curl_slist_free_all(rcpts);
  m->data = NULL;
  if (result == CURLE_OK)
    return 0;
  return smtp_failure(m, result, err, errlen);
}

/*
 * The easy handle with every option that does not change from one message
 * to the next. The credentials are copied by libcurl.
 */
static int
smtp_setup(struct mailer *m, const struct smtp_url *u, const char *url, char *err,
           size_t errlen)
{
  m->curl = curl_easy_init();
  if (m->curl == NULL)
    return fail(err, errlen, EVENTAPI_ENOMEM, "cannot initialise libcurl");
  CURL *h = m->curl;
  CURLcode result = CURLE_OK;
#define SET(option, value)                                  \
  do {                                                      \
    if (result == CURLE_OK)                                 \
      result = curl_easy_setopt(h, option, value);          \
  } while (0)
  SET(CURLOPT_URL, url);
  SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  SET(CURLOPT_USE_SSL, u->use_ssl);
  SET(CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
  SET(CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_UPLOAD, 1L);
  SET(CURLOPT_READFUNCTION, read_message);
  SET(CURLOPT_READDATA, m);
  SET(CURLOPT_ERRORBUFFER, m->curl_error);
  SET(CURLOPT_DEBUGFUNCTION, on_debug);
  SET(CURLOPT_DEBUGDATA, m);
  SET(CURLOPT_VERBOSE, 1L); /* feeds on_debug; nothing is printed */
  if (u->user != NULL)
    SET(CURLOPT_USERNAME, u->user);
  if (u->password != NULL)
    SET(CURLOPT_PASSWORD, u->password);
#undef SET
  if (result != CURLE_OK)
    return fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: libcurl refused an option: %s",
                curl_easy_strerror(result));
  return 0;
}

static int
smtp_open(struct mailer *m, const char *rest, bool implicit_tls, char *err, size_t errlen)
{
  const char *scheme = implicit_tls ? "smtps" : "smtp";
  struct smtp_url u = {.implicit_tls = implicit_tls};
  int rc = smtp_url_parse(rest, &u, err, errlen);
  if (rc == 0 && !curl_supports(scheme))
    rc = fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: this libcurl cannot send %s://",
              scheme);

  char *url = NULL;
  if (rc == 0) {
    int host_len = (int)u.host_len;
    int user_len = (int)u.raw_user_len;
    const char *user_end = u.password ? ":***@" : "@";
    m->server = NULL;
    if (asprintf(&m->server, "%.*s:%u", host_len, u.host, u.port) < 0)
      m->server = NULL;
    if (asprintf(&url, "%s://%.*s:%u/", scheme, host_len, u.host, u.port) < 0)
      url = NULL;
    if (asprintf(&m->description, "%s://%.*s%s%.*s:%u%s%s", scheme, user_len,
                 u.user ? u.raw_user : "", u.user ? user_end : "", host_len, u.host, u.port,
                 u.starttls ? "?starttls=" : "", u.starttls ? u.starttls : "") < 0)
      m->description = NULL;
    if (m->server == NULL || url == NULL || m->description == NULL)
      rc = fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  }
  if (rc == 0)
    rc = smtp_setup(m, &u, url, err, errlen);
  free(url);
  free_secret(u.user);
  free_secret(u.password);
  return rc;
}

/* ---- file:// ---- */

static int
file_open(struct mailer *m, const char *rest, char *err, size_t errlen)
{
  int rc = percent_decode(rest, strlen(rest), &m->dir);
  if (rc == EVENTAPI_ENOMEM)
    return fail(err, errlen, rc, "out of memory");
  if (rc < 0)
    return fail(err, errlen, rc, "EMAIL_URL: bad %%-escape in the file:// path");
  size_t len = strlen(m->dir);
  while (len > 1 && m->dir[len - 1] == '/')
    m->dir[--len] = '\0';
  if (len == 0)
    return fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: file:// needs a folder");
  if (len + NAME_MAX_LEN >= PATH_MAX)
    return fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: the file:// folder's path is too long");
  if (asprintf(&m->description, "file://%s", rest) < 0) {
    m->description = NULL;
    return fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  }
  return 0;
}

/* mkdir -p dir, each missing level 0700. Returns 0 or an errno value. */
static int
make_dirs(const char *dir)
{
  char path[PATH_MAX];
  size_t len = strlen(dir);
  memcpy(path, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    path[i] = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return errno;
    path[i] = i < len ? '/' : '\0';
  }
  struct stat st;
  if (stat(dir, &st) != 0)
    return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static int
write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static int
fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

/* Moves from to to unless to exists. Returns 0 or an errno value (EEXIST). */
static int
move_no_replace(const char *from, const char *to)
{
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return errno;
  /* A file system without RENAME_NOREPLACE: link(2) never replaces either. */
  if (link(from, to) != 0)
    return errno;
  unlink(from);
  return 0;
}

/* The file name's hint: see mailer_send() in mailer.h. */
static void
sanitize_hint(const char *hint, char out[HINT_MAX + 1])
{
  size_t len = hint ? strlen(hint) : 0;
  if (len >= 2 && hint[0] == '<' && hint[len - 1] == '>') {
    hint++;
    len -= 2;
  }
  if (len > HINT_MAX)
    len = HINT_MAX;
  for (size_t i = 0; i < len; i++) {
    char c = hint[i];
    out[i] = host_char(c) ? c : '_'; /* [A-Za-z0-9._-] */
  }
  out[len] = '\0';
  if (len == 0)
    strcpy(out, "message");
}

static int
file_send(struct mailer *m, const char *message, size_t len, const char *hint, char *err,
          size_t errlen)
{
  const char *sep = strcmp(m->dir, "/") == 0 ? "" : "/";
  int error = make_dirs(m->dir);
  if (error != 0)
    return fail(err, errlen, EVENTAPI_EUNAVAILABLE, "file mailer: cannot create %s: %s",
                m->dir, strerror(error));

  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s%s.tmp-XXXXXX", m->dir, sep);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return fail(err, errlen, EVENTAPI_EUNAVAILABLE, "file mailer: cannot create a file in %s: %s",
                m->dir, strerror(errno));
  const char *failed = NULL;
  if (write_all(fd, message, len) != 0)
    failed = "write";
  else if (fsync(fd) != 0)
    failed = "fsync";
  error = errno;
  if (close(fd) != 0 && failed == NULL) {
    failed = "close";
    error = errno;
  }
  if (failed != NULL) {
    unlink(tmp);
    return fail(err, errlen, EVENTAPI_EUNAVAILABLE, "file mailer: %s %s: %s", failed, tmp,
                strerror(error));
  }

  char stamp[32], base[HINT_MAX + 1], path[PATH_MAX];
  struct tm tm;
  time_t now = (time_t)(time_now_us() / 1000000);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
  sanitize_hint(hint, base);
  error = EEXIST;
  for (unsigned counter = 0; error == EEXIST && counter <= COUNTER_MAX; counter++) {
    if (counter == 0)
      snprintf(path, sizeof path, "%s%s%s-%s.eml", m->dir, sep, stamp, base);
    else
      snprintf(path, sizeof path, "%s%s%s-%s-%u.eml", m->dir, sep, stamp, base, counter);
    error = move_no_replace(tmp, path);
  }
  if (error != 0) {
    unlink(tmp);
    return fail(err, errlen, EVENTAPI_EUNAVAILABLE, "file mailer: rename %s: %s", tmp,
                strerror(error));
  }
  if (fsync_dir(m->dir) != 0) {
    /* The file is whole but its name may not survive a crash: fail. */
    error = errno;
    unlink(path);
    return fail(err, errlen, EVENTAPI_EUNAVAILABLE, "file mailer: fsync %s: %s", m->dir,
                strerror(error));
  }
  return 0;
}

/* ---- console:// ---- */

/* Appends the message to record: see mailer_send() in mailer.h. */
static size_t
append_message(char *record, size_t used, const char *message, size_t len)
{
  size_t i = 0;
  for (; i < len && used < CONSOLE_MAX - CONSOLE_TRAILER; i++) {
    unsigned char c = (unsigned char)message[i];
    if (c == '\r' && i + 1 < len && message[i + 1] == '\n')
      continue;
    if (c == '\n') {
      if (i + 1 < len) /* no empty indented line after the last one */
        used += (size_t)snprintf(record + used, CONSOLE_MAX - used, "\n  ");
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      used += (size_t)snprintf(record + used, CONSOLE_MAX - used, "\\x%02x", c);
    } else {
      record[used++] = (char)c;
    }
  }
  if (i < len)
    used += (size_t)snprintf(record + used, CONSOLE_MAX - used, "\n  [... %zu more bytes]",
                             len - i);
  record[used] = '\0';
  return used;
}

static int
console_send(const char *rcpt, const char *message, size_t len)
{
  char record[CONSOLE_MAX];
  int used = snprintf(record, sizeof record, "email to %s:\n  ", rcpt);
  append_message(record, (size_t)used, message, len);
  log_info("%s", record);
  return 0;
}

/* ---- the interface ---- */

int
mailer_open(const char *email_url, struct mailer **out, char *err, size_t errlen)
{
  *out = NULL;
  if (email_url == NULL || email_url[0] == '\0')
    email_url = "console://";
  for (const char *p = email_url; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return fail(err, errlen, EVENTAPI_EINVAL, "EMAIL_URL: control characters are not allowed");

  struct mailer *m = calloc(1, sizeof *m);
  if (m == NULL)
    return fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  const char *rest;
  int rc;
  if (has_scheme(email_url, "console", &rest)) {
    m->kind = MAILER_CONSOLE;
    rc = rest[0] == '\0' ? 0
                         : fail(err, errlen, EVENTAPI_EINVAL,
                                "EMAIL_URL: console:// takes nothing after the scheme");
    if (rc == 0 && (m->description = strdup("console://")) == NULL)
      rc = fail(err, errlen, EVENTAPI_ENOMEM, "out of memory");
  } else if (has_scheme(email_url, "file", &rest)) {
    m->kind = MAILER_FILE;
    rc = file_open(m, rest, err, errlen);
  } else if (has_scheme(email_url, "smtp", &rest)) {
    m->kind = MAILER_SMTP;
    rc = smtp_open(m, rest, false, err, errlen);
  } else if (has_scheme(email_url, "smtps", &rest)) {
    m->kind = MAILER_SMTP;
    rc = smtp_open(m, rest, true, err, errlen);
  } else {
    rc = fail(err, errlen, EVENTAPI_EINVAL,
              "EMAIL_URL: the scheme must be console://, file://, smtp:// or smtps://");
  }
  if (rc < 0) {
    mailer_close(m);
    return rc;
  }
  *out = m;
  return 0;
}

/* An addr-spec fit for an SMTP command: no control character, blank or
 * angle bracket can end the command early or add another. */
static bool
address_valid(const char *s, bool may_be_empty)
{
  if (s == NULL || s[0] == '\0')
    return may_be_empty;
  size_t len = 0;
  for (; s[len]; len++) {
    unsigned char c = (unsigned char)s[len];
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
      return false;
  }
  return len <= ADDRESS_MAX;
}

int
mailer_send(struct mailer *m, const char *envelope_from, const char *rcpt,
            const char *message, size_t len, const char *message_id_hint, char *err,
            size_t errlen)
{
  assert(m != NULL);
  assert(message != NULL || len == 0);
  if (!address_valid(rcpt, false))
    return fail(err, errlen, EVENTAPI_EINVAL, "the recipient's address is not valid");
  if (!address_valid(envelope_from, true))
    return fail(err, errlen, EVENTAPI_EINVAL, "the sender's address is not valid");
  switch (m->kind) {
  case MAILER_CONSOLE:
    return console_send(rcpt, message, len);
  case MAILER_FILE:
    return file_send(m, message, len, message_id_hint, err, errlen);
  case MAILER_SMTP:
    return smtp_send(m, envelope_from, rcpt, message, len, err, errlen);
  }
  return fail(err, errlen, EVENTAPI_EINTERNAL, "unknown mailer");
}

const char *
mailer_describe(const struct mailer *m)
{
  return m->description;
}

void
mailer_close(struct mailer *m)
{
  if (m == NULL)
    return;
  if (m->curl != NULL)
    curl_easy_cleanup(m->curl);
  free(m->server);
  free(m->dir);
  free(m->description);
  free(m);
}

int
mailer_global_init(void)
{
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : EVENTAPI_EINTERNAL;
}

void
mailer_global_cleanup(void)
{
  curl_global_cleanup();
}

void
mailer_set_timeout(struct mailer *m, int64_t ms)
{
  if (m->curl == NULL || ms <= 0)
    return;
  long total = ms > LONG_MAX ? LONG_MAX : (long)ms;
  curl_easy_setopt(m->curl, CURLOPT_TIMEOUT_MS, total);
  curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT_MS,
                   total < CONNECT_TIMEOUT_MS ? total : CONNECT_TIMEOUT_MS);
}
