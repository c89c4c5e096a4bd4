/*
 * mailer.c - the mail transports (delivery/mailer, mail_console, mail_file,
 * mail_smtp): the .eml files of file://, the log record of console://, and
 * smtp:// against a real SMTP server on 127.0.0.1: aiosmtpd (Debian's
 * python3-aiosmtpd, run with /usr/bin/python3), with its Mailbox handler, a
 * handler that refuses some recipients and messages, and a small server
 * that insists on AUTH.
 *
 * Each test is its own process with its own temporary folder; the server
 * a test starts is killed by the suite's fini, and dies with the test
 * process in any case (PR_SET_PDEATHSIG).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "delivery/mailer.h"
#include "delivery/worker.h"

#define PYTHON "/usr/bin/python3"
#define PASSWORD "hunter2"

static char dir[64];       /* this test's temporary folder */
static char maildir[128];  /* the server's Maildir, under dir */
static pid_t server = 0;
static char err[512];

/* ---- set-up and teardown ---- */

static void
setup(void)
{
  strcpy(dir, "/tmp/eventapi-mailer-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(maildir, sizeof maildir, "%s/maildir", dir);
  cr_assert_eq(delivery_global_init(), 0);
}

static void
stop_server(void)
{
  if (server <= 0)
    return;
  kill(server, SIGTERM);
  for (int i = 0; i < 100; i++) {
    if (waitpid(server, NULL, WNOHANG) == server) {
      server = 0;
      return;
    }
    usleep(50 * 1000);
  }
  kill(server, SIGKILL);
  waitpid(server, NULL, 0);
  server = 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void
teardown(void)
{
  stop_server();
  delivery_global_cleanup();
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(mailer, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

static struct delivery_mailer *
open_ok(const char *url)
{
  struct delivery_mailer *m = NULL;
  err[0] = '\0';
  int rc = delivery_mailer_open(url, &m, err, sizeof err);
  cr_assert_eq(rc, 0, "delivery_mailer_open(%s): %d %s", url ? url : "NULL", rc, err);
  cr_assert_not_null(m);
  return m;
}

/* A message as the renderer makes them: CRLF line ends. */
static char *
make_message(const char *subject, const char *body)
{
  char *text;
  cr_assert_geq(asprintf(&text,
                         "From: eventapi <noreply@example.com>\r\n"
                         "To: bob@example.com\r\n"
                         "Subject: %s\r\n"
                         "Message-ID: <m1@example.com>\r\n"
                         "\r\n"
                         "%s\r\n",
                         subject, body),
                0);
  return text;
}

static int
send_text(struct delivery_mailer *m, const char *rcpt, const char *text, const char *hint)
{
  err[0] = '\0';
  return delivery_mailer_send(m, "noreply@example.com", rcpt, text, strlen(text), hint, err,
                     sizeof err);
}

/* A whole file, NUL-terminated, malloc'd; its length in *len. */
static char *
slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot read %s", path);
  char *data = malloc(1 << 20);
  cr_assert_not_null(data);
  size_t n = fread(data, 1, (1 << 20) - 1, f);
  fclose(f);
  data[n] = '\0';
  if (len)
    *len = n;
  return data;
}

/* The names in folder (without . and ..), sorted, at most max; returns the count. */
static size_t
list_dir(const char *folder, char names[][256], size_t max)
{
  DIR *d = opendir(folder);
  if (d == NULL)
    return 0;
  size_t count = 0;
  struct dirent *entry;
  while ((entry = readdir(d)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
      continue;
    cr_assert_lt(count, max, "too many files in %s", folder);
    snprintf(names[count++], 256, "%s", entry->d_name);
  }
  closedir(d);
  qsort(names, count, 256, (int (*)(const void *, const void *))strcmp);
  return count;
}

static bool
ends_with(const char *s, const char *suffix)
{
  size_t len = strlen(s), slen = strlen(suffix);
  return len >= slen && strcmp(s + len - slen, suffix) == 0;
}

static void
write_file(const char *name, const char *text)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  cr_assert_eq(fclose(f), 0);
}

/* A Mailbox that refuses some recipients and messages. */
static const char PICKY_PY[] =
    "from aiosmtpd.handlers import Mailbox\n"
    "\n"
    "class Picky(Mailbox):\n"
    "    async def handle_RCPT(self, server, session, envelope, address, options):\n"
    "        if address.startswith('nobody@'):\n"
    "            return '550 5.1.1 no such user'\n"
    "        if address.startswith('later@'):\n"
    "            return '451 4.3.0 try later'\n"
    "        envelope.rcpt_tos.append(address)\n"
    "        return '250 OK'\n"
    "\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        if b'Subject: spam' in envelope.original_content:\n"
    "            return '554 5.7.1 looks like spam'\n"
    "        return await super().handle_DATA(server, session, envelope)\n";

/* "yyyymmddThhmmss" of the (frozen) test clock + delta seconds, UTC. */
static void
stamp(char out[32], int delta)
{
  time_t t = (time_t)(time_now_us() / 1000000) + delta;
  struct tm tm;
  strftime(out, 32, "%Y%m%dT%H%M%S", gmtime_r(&t, &tm));
}

/*
 * A TCP socket bound to a free port of 127.0.0.1 (the kernel picks it), kept
 * by the test so that no other process can take the port: listening, for a
 * server to serve, or not, so that a connection to it is refused.
 */
static int
bound_socket(bool listening, unsigned *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq(fd, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  if (listening)
    cr_assert_eq(listen(fd, 16), 0);
  socklen_t addrlen = sizeof addr;
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &addrlen), 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

/*
 * Serves SMTP on the socket inherited as descriptor 3: aiosmtpd's SMTP with
 * the handler module.Class (constructed with the Maildir), with AUTH
 * required when asked. PYTHONPATH is this test's folder, for the handlers
 * written there.
 */
static const char SERVE_PY[] =
    "import asyncio, importlib, socket, sys\n"
    "from aiosmtpd.smtp import SMTP, AuthResult\n"
    "\n"
    "def check(server, session, envelope, mechanism, auth_data):\n"
    "    ok = (auth_data.login == b'user@example.com'\n"
    "          and auth_data.password == b'p@ss:w%rd/" PASSWORD "')\n"
    "    return AuthResult(success=ok, handled=False)\n"
    "\n"
    "async def main(fd, spec, maildir, auth):\n"
    "    module, _, name = spec.rpartition('.')\n"
    "    handler = getattr(importlib.import_module(module), name)(maildir)\n"
    "    options = dict(authenticator=check, auth_required=True,\n"
    "                   auth_require_tls=False) if auth else {}\n"
    "    loop = asyncio.get_running_loop()\n"
    "    await loop.create_server(lambda: SMTP(handler, **options),\n"
    "                             sock=socket.socket(fileno=fd))\n"
    "    await asyncio.Event().wait()\n"
    "\n"
    "asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == 'auth'))\n";

/*
 * Starts SERVE_PY on a new socket that this test keeps (closed at exit);
 * returns its port. The socket listens already: a connection waits in its
 * backlog until Python takes it, so there is nothing to wait for.
 */
static unsigned
start_smtp_server(const char *handler_class, bool auth)
{
  write_file("serve.py", SERVE_PY);
  unsigned port;
  int listening = bound_socket(true, &port);
  char script[128], log_path[128];
  snprintf(script, sizeof script, "%s/serve.py", dir);
  snprintf(log_path, sizeof log_path, "%s/server.log", dir);
  server = fork();
  cr_assert_geq(server, 0);
  if (server == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    if (dup2(listening, 3) != 3)
      _exit(127);
    setenv("PYTHONPATH", dir, 1);
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
    execl(PYTHON, PYTHON, script, "3", handler_class, maildir, auth ? "auth" : "-",
          (char *)NULL);
    _exit(127);
  }
  return port;
}

/* The messages in maildir/new, at most 8. */
static size_t
delivered(char names[][256])
{
  char path[160];
  snprintf(path, sizeof path, "%s/new", maildir);
  return list_dir(path, names, 8);
}

static char *
delivered_text(const char *name)
{
  char path[512];
  snprintf(path, sizeof path, "%s/new/%s", maildir, name);
  return slurp(path, NULL);
}

/* ---- EMAIL_URL ---- */

Test(mailer, console_is_the_default)
{
  const char *urls[] = {NULL, "", "console://", "CONSOLE://"};
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
    struct delivery_mailer *m = open_ok(urls[i]);
    cr_assert_str_eq(delivery_mailer_describe(m), "console://");
    delivery_mailer_close(m);
  }
  delivery_mailer_close(NULL);
}

/* The forms of EMAIL_URL are tests/unit/mail_url.c's; here, what a mailer shows. */
Test(mailer, describes_itself_without_the_password)
{
  struct delivery_mailer *m = open_ok("smtp://user:" PASSWORD "@mail.example.com:587");
  cr_assert_str_eq(delivery_mailer_describe(m), "smtp://user:***@mail.example.com:587");
  delivery_mailer_close(m);
  m = open_ok("file:///var/spool/eventapi/");
  cr_assert_str_eq(delivery_mailer_describe(m), "file:///var/spool/eventapi/");
  delivery_mailer_close(m);
}

Test(mailer, a_bad_url_makes_no_mailer)
{
  struct delivery_mailer *m = (struct delivery_mailer *)&m; /* not NULL, to see it cleared */
  err[0] = '\0';
  int rc = delivery_mailer_open("smtp://user:" PASSWORD "@mail.example.com:0", &m, err,
                                sizeof err);
  cr_assert_eq(rc, EVENTAPI_EINVAL);
  cr_assert_null(m);
  cr_assert_gt(strlen(err), 0);
  cr_assert_null(strstr(err, PASSWORD), "%s", err);
}

/* ---- file:// ---- */

Test(mailer, file_writes_each_message_once_byte_for_byte)
{
  char url[160], folder[128];
  snprintf(folder, sizeof folder, "%s/out/mail", dir);
  snprintf(url, sizeof url, "file://%s/", folder);
  struct delivery_mailer *m = open_ok(url);
  char *first = make_message("First", "one\r\n.leading dot");
  char *second = make_message("Second", "two");
  cr_assert_eq(send_text(m, "bob@example.com", first, "<m1@example.com>"), 0, "%s", err);
  cr_assert_eq(send_text(m, "bob@example.com", second, "<m1@example.com>"), 0, "%s", err);
  delivery_mailer_close(m);

  struct stat st;
  cr_assert_eq(stat(folder, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700, "the folder is created 0700");

  char names[8][256];
  cr_assert_eq(list_dir(folder, names, 8), 2, "two files and no temporary one");
  int firsts = 0, seconds = 0;
  for (int i = 0; i < 2; i++) {
    cr_assert(ends_with(names[i], "-m1_example.com.eml") ||
                  ends_with(names[i], "-m1_example.com-1.eml"),
              "%s", names[i]);
    cr_assert_eq(names[i][8], 'T', "%s", names[i]);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", folder, names[i]);
    size_t len;
    char *text = slurp(path, &len);
    if (len == strlen(first) && memcmp(text, first, len) == 0)
      firsts++;
    if (len == strlen(second) && memcmp(text, second, len) == 0)
      seconds++;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "%s", names[i]);
    free(text);
  }
  cr_assert_eq(firsts, 1);
  cr_assert_eq(seconds, 1);
  free(first);
  free(second);
}

Test(mailer, file_never_overwrites)
{
  /* The clock stands still: the name this second takes, and the next
   * second's, are already there. */
  time_test_freeze(time_now_us());
  char now[32], next[32], path[256];
  stamp(now, 0);
  stamp(next, 1);
  const char *taken[] = {now, next};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s-x.eml", dir, taken[i]);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("taken", f);
    fclose(f);
  }
  char url[128];
  snprintf(url, sizeof url, "file://%s", dir);
  struct delivery_mailer *m = open_ok(url);
  cr_assert_eq(send_text(m, "bob@example.com", "new\r\n", "x"), 0, "%s", err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(list_dir(dir, names, 8), 3);
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s-x.eml", dir, taken[i]);
    char *text = slurp(path, NULL);
    cr_assert_str_eq(text, "taken");
    free(text);
  }
  snprintf(path, sizeof path, "%s/%s-x-1.eml", dir, now);
  char *text = slurp(path, NULL);
  cr_assert_str_eq(text, "new\r\n");
  free(text);
  time_test_freeze(0);
}

Test(mailer, file_names_from_any_hint)
{
  char url[128];
  snprintf(url, sizeof url, "file://%s", dir);
  struct delivery_mailer *m = open_ok(url);
  char long_hint[300];
  memset(long_hint, 'a', sizeof long_hint - 1);
  long_hint[sizeof long_hint - 1] = '\0';
  cr_assert_eq(send_text(m, "bob@example.com", "1", "<a/../b c@x.org>"), 0, "%s", err);
  cr_assert_eq(send_text(m, "bob@example.com", "2", NULL), 0, "%s", err);
  cr_assert_eq(send_text(m, "bob@example.com", "3", long_hint), 0, "%s", err);
  delivery_mailer_close(m);

  char names[8][256], want[128];
  cr_assert_eq(list_dir(dir, names, 8), 3);
  int seen = 0;
  memset(want, 'a', 100);
  strcpy(want + 100, ".eml");
  for (int i = 0; i < 3; i++) {
    const char *rest = names[i] + 16; /* after "yyyymmddThhmmss-" */
    cr_assert_eq(names[i][15], '-', "%s", names[i]);
    if (strcmp(rest, "a_.._b_c_x.org.eml") == 0)
      seen |= 1;
    else if (strcmp(rest, "message.eml") == 0)
      seen |= 2;
    else if (strcmp(rest, want) == 0)
      seen |= 4;
    else
      cr_assert_fail("unexpected file %s", names[i]);
  }
  cr_assert_eq(seen, 7);
}

Test(mailer, file_relative_folder)
{
  cr_assert_eq(chdir(dir), 0);
  struct delivery_mailer *m = open_ok("file://relative/path");
  cr_assert_eq(send_text(m, "bob@example.com", "hello\r\n", "id"), 0, "%s", err);
  delivery_mailer_close(m);
  char names[8][256], folder[128];
  snprintf(folder, sizeof folder, "%s/relative/path", dir);
  cr_assert_eq(list_dir(folder, names, 8), 1);
  cr_assert(ends_with(names[0], "-id.eml"), "%s", names[0]);
}

Test(mailer, file_failure_is_worth_retrying)
{
  char path[128], url[160];
  snprintf(path, sizeof path, "%s/plain-file", dir);
  write_file("plain-file", "not a folder");
  snprintf(url, sizeof url, "file://%s/mail", path);
  struct delivery_mailer *m = open_ok(url);
  cr_assert_eq(send_text(m, "bob@example.com", "hello\r\n", "id"), EVENTAPI_EUNAVAILABLE);
  cr_assert_not_null(strstr(err, "plain-file"), "%s", err);
  delivery_mailer_close(m);
}

/* ---- console:// ---- */

/* Runs a console send with stderr (the log) going to a file; returns the log. */
static char *
console_log(const char *rcpt, const char *text, size_t len, int *rc)
{
  char path[128];
  snprintf(path, sizeof path, "%s/stderr", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  cr_assert_geq(fd, 0);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
  struct delivery_mailer *m = open_ok("console://");
  *rc = delivery_mailer_send(m, "noreply@example.com", rcpt, text, len, "id", err, sizeof err);
  delivery_mailer_close(m);
  dup2(saved, STDERR_FILENO);
  close(saved);
  return slurp(path, NULL);
}

Test(mailer, console_logs_one_record)
{
  int rc;
  char *text = make_message("Hello", "line one\r\nline two");
  char *log = console_log("bob@example.com", text, strlen(text), &rc);
  cr_assert_eq(rc, 0);
  const char *record = strstr(log, " info email to bob@example.com:\n");
  cr_assert_not_null(record, "%s", log);
  cr_assert_not_null(strstr(log, "\n  Subject: Hello\n"), "%s", log);
  cr_assert_not_null(strstr(log, "\n  line one\n  line two\n"), "%s", log);
  cr_assert_null(strchr(log, '\r'), "CRLF is shown as LF");
  /* Every line after the first is indented: nothing passes for a record. */
  for (const char *p = strchr(log, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
    cr_assert(p[1] == ' ' && p[2] == ' ', "%s", log);
  free(log);
  free(text);
}

Test(mailer, console_cuts_a_long_message)
{
  size_t len = 10000;
  char *text = malloc(len);
  cr_assert_not_null(text);
  for (size_t i = 0; i < len; i++)
    text[i] = (char)('a' + i % 26);
  int rc;
  char *log = console_log("bob@example.com", text, len, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_lt(strlen(log), 4096);
  cr_assert_not_null(strstr(log, " more bytes]\n"), "%s", log);
  for (const char *p = strchr(log, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
    cr_assert(p[1] == ' ' && p[2] == ' ', "one record: %s", log);
  free(log);
  free(text);
}

/* ---- addresses ---- */

Test(mailer, bad_addresses_are_refused)
{
  char url[128];
  snprintf(url, sizeof url, "file://%s", dir);
  struct delivery_mailer *m = open_ok(url);
  const char *bad[] = {NULL, "", "bob@example.com\r\nRCPT TO:<eve@example.com>",
                       "bob@example.com>", "bob @example.com"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(delivery_mailer_send(m, "a@example.com", bad[i], "x", 1, NULL, err, sizeof err),
                 EVENTAPI_EINVAL, "rcpt %zu", i);
    if (bad[i] != NULL && bad[i][0] != '\0')
      cr_assert_eq(delivery_mailer_send(m, bad[i], "b@example.com", "x", 1, NULL, err, sizeof err),
                   EVENTAPI_EINVAL, "from %zu", i);
  }
  cr_assert_eq(delivery_mailer_send(m, NULL, "b@example.com", "x", 1, NULL, err, sizeof err), 0,
               "the null sender");
  delivery_mailer_close(m);
}

/* ---- smtp:// ---- */

Test(mailer, smtp_connection_refused_is_worth_retrying)
{
  /* Bound and kept by this test but not listening: a connection is refused. */
  unsigned port;
  int closed = bound_socket(false, &port);
  char url[128], where[64];
  snprintf(url, sizeof url, "smtp://user:" PASSWORD "@127.0.0.1:%u", port);
  snprintf(where, sizeof where, "127.0.0.1:%u", port);
  struct delivery_mailer *m = open_ok(url);
  char *text = make_message("Hello", "body");
  cr_assert_eq(send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE);
  cr_assert_not_null(strstr(err, where), "%s", err);
  cr_assert_null(strstr(err, PASSWORD), "%s", err);
  cr_assert_null(strchr(err, '\n'), "%s", err);
  delivery_mailer_close(m);
  free(text);
  close(closed);
}

Test(mailer, smtp_sends_two_messages_over_one_connection)
{
  unsigned port = start_smtp_server("aiosmtpd.handlers.Mailbox", false);
  char url[128];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u", port);
  struct delivery_mailer *m = open_ok(url);
  char *first = make_message("First subject", "one\r\n.\r\nstill one");
  char *second = make_message("Second subject", "two");
  cr_assert_eq(send_text(m, "bob@example.com", first, NULL), 0, "%s", err);
  cr_assert_eq(send_text(m, "carol@example.com", second, NULL), 0, "%s", err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(delivered(names), 2);
  char *a = delivered_text(names[0]), *b = delivered_text(names[1]);
  bool in_order = strstr(a, "Subject: First subject") != NULL;
  char *got_first = in_order ? a : b, *got_second = in_order ? b : a;
  cr_assert_not_null(strstr(got_first, "Subject: First subject"), "%s", got_first);
  cr_assert_not_null(strstr(got_first, "one\n.\nstill one"), "dot-stuffing undone: %s",
                     got_first);
  cr_assert_not_null(strstr(got_first, "X-RcptTo: bob@example.com"), "%s", got_first);
  cr_assert_not_null(strstr(got_first, "X-MailFrom: noreply@example.com"), "%s", got_first);
  cr_assert_not_null(strstr(got_second, "Subject: Second subject"), "%s", got_second);
  cr_assert_not_null(strstr(got_second, "X-RcptTo: carol@example.com"), "%s", got_second);
  /* X-Peer is the client's address and port: the same connection. */
  const char *peer_a = strstr(a, "X-Peer: "), *peer_b = strstr(b, "X-Peer: ");
  cr_assert_not_null(peer_a);
  cr_assert_not_null(peer_b);
  size_t peer_len = strcspn(peer_a, "\n");
  cr_assert(peer_len == strcspn(peer_b, "\n") && memcmp(peer_a, peer_b, peer_len) == 0,
            "two connections: %.*s and %.*s", (int)peer_len, peer_a,
            (int)strcspn(peer_b, "\n"), peer_b);
  free(a);
  free(b);
  free(first);
  free(second);
}

Test(mailer, smtp_refusals_permanent_and_temporary)
{
  write_file("picky.py", PICKY_PY);
  unsigned port = start_smtp_server("picky.Picky", false);
  char url[128];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u?starttls=never", port);
  struct delivery_mailer *m = open_ok(url);
  char *text = make_message("Hello", "body");
  char *spam = make_message("spam", "buy now");

  cr_assert_eq(send_text(m, "nobody@example.com", text, NULL), EVENTAPI_EINVAL, "%s", err);
  cr_assert_not_null(strstr(err, "RCPT TO refused: 550 5.1.1 no such user"), "%s", err);

  cr_assert_eq(send_text(m, "later@example.com", text, NULL), EVENTAPI_EUNAVAILABLE, "%s",
               err);
  cr_assert_not_null(strstr(err, "451 4.3.0 try later"), "%s", err);

  cr_assert_eq(send_text(m, "bob@example.com", spam, NULL), EVENTAPI_EINVAL, "%s", err);
  cr_assert_not_null(strstr(err, "554 5.7.1 looks like spam"), "%s", err);

  /* A refusal does not spoil the mailer. */
  cr_assert_eq(send_text(m, "bob@example.com", text, NULL), 0, "%s", err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(delivered(names), 1);
  char *got = delivered_text(names[0]);
  cr_assert_not_null(strstr(got, "Subject: Hello"), "%s", got);
  free(got);
  free(text);
  free(spam);
}

Test(mailer, smtp_starttls_required_but_not_offered)
{
  unsigned port = start_smtp_server("aiosmtpd.handlers.Mailbox", false);
  char url[128];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u?starttls=required", port);
  struct delivery_mailer *m = open_ok(url);
  char *text = make_message("Secret", "body");
  cr_assert_eq(send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE);
  cr_assert_gt(strlen(err), 0);
  delivery_mailer_close(m);
  char names[8][256];
  cr_assert_eq(delivered(names), 0, "nothing was sent");
  free(text);
}

Test(mailer, smtp_credentials_are_percent_decoded)
{
  unsigned port = start_smtp_server("aiosmtpd.handlers.Mailbox", true);
  char *text = make_message("Authenticated", "body");
  char url[256];

  snprintf(url, sizeof url, "smtp://user%%40example.com:p%%40ss%%3Aw%%25rd%%2F" PASSWORD
           "@127.0.0.1:%u", port);
  struct delivery_mailer *m = open_ok(url);
  cr_assert_eq(send_text(m, "bob@example.com", text, NULL), 0, "%s", err);
  delivery_mailer_close(m);

  /* A wrong password is the operator's to fix: worth retrying. */
  snprintf(url, sizeof url, "smtp://user%%40example.com:wrong" PASSWORD "@127.0.0.1:%u", port);
  m = open_ok(url);
  cr_assert_eq(send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE, "%s", err);
  cr_assert_not_null(strstr(err, "535"), "%s", err);
  cr_assert_null(strstr(err, PASSWORD), "%s", err);
  delivery_mailer_close(m);

  /* No credentials: 530 to MAIL FROM is not a permanent refusal. */
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u", port);
  m = open_ok(url);
  cr_assert_eq(send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE, "%s", err);
  cr_assert_not_null(strstr(err, "530"), "%s", err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(delivered(names), 1);
  free(text);
}
