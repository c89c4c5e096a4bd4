/*
 * mail_smtp.c - the smtp:// and smtps:// mail transport
 * (delivery/mail_smtp) against a real SMTP server on 127.0.0.1: aiosmtpd
 * (Debian's python3-aiosmtpd, run with /usr/bin/python3), with its Mailbox
 * handler, a handler that refuses some recipients and messages, and a
 * server that insists on AUTH: two messages over one connection, refusals
 * permanent and temporary, STARTTLS required but not offered, credentials
 * percent-decoded and never shown.
 *
 * Each test is its own process with its own temporary folder; the server
 * a test starts is killed by the suite's fini, and dies with the test
 * process in any case (PR_SET_PDEATHSIG).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
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
#include "delivery/mailer.h"
#include "support/mailer.h"
#include "support/tmpdir.h"

#define PYTHON "/usr/bin/python3"
#define PASSWORD "hunter2"

static char maildir[128];  /* the server's Maildir, in the test's folder */
static pid_t server = 0;

/* ---- set-up and teardown ---- */

static void
setup(void)
{
  mailer_setup();
  snprintf(maildir, sizeof maildir, "%s/maildir", tmpdir_path());
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

static void
teardown(void)
{
  stop_server();
  mailer_teardown();
}

TestSuite(mail_smtp, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

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
 * the handler module.Class (constructed with the Maildir), in a mode: "auth"
 * (AUTH required), "mute-quit" (QUIT is never answered) or "-". PYTHONPATH is this test's folder, for the handlers
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
    "class MuteQuit(SMTP):\n"
    "    async def smtp_QUIT(self, arg):\n"
    "        await asyncio.Event().wait()\n"
    "\n"
    "async def main(fd, spec, maildir, mode):\n"
    "    module, _, name = spec.rpartition('.')\n"
    "    handler = getattr(importlib.import_module(module), name)(maildir)\n"
    "    options = dict(authenticator=check, auth_required=True,\n"
    "                   auth_require_tls=False) if mode == 'auth' else {}\n"
    "    kind = MuteQuit if mode == 'mute-quit' else SMTP\n"
    "    loop = asyncio.get_running_loop()\n"
    "    await loop.create_server(lambda: kind(handler, **options),\n"
    "                             sock=socket.socket(fileno=fd))\n"
    "    await asyncio.Event().wait()\n"
    "\n"
    "asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]))\n";

/*
 * Starts SERVE_PY on a new socket that this test keeps (closed at exit);
 * returns its port. The socket listens already: a connection waits in its
 * backlog until Python takes it, so there is nothing to wait for.
 */
static unsigned
start_smtp_server_in(const char *handler_class, const char *mode)
{
  tmpdir_write("serve.py", SERVE_PY);
  unsigned port;
  int listening = bound_socket(true, &port);
  char script[128], log_path[128];
  snprintf(script, sizeof script, "%s/serve.py", tmpdir_path());
  snprintf(log_path, sizeof log_path, "%s/server.log", tmpdir_path());
  /* Set here, not in the child: until it execs, the child of a process
   * with threads may only call async-signal-safe functions. */
  setenv("PYTHONPATH", tmpdir_path(), 1);
  setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
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
    execl(PYTHON, PYTHON, script, "3", handler_class, maildir, mode, (char *)NULL);
    _exit(127);
  }
  return port;
}

static unsigned
start_smtp_server(const char *handler_class, bool auth)
{
  return start_smtp_server_in(handler_class, auth ? "auth" : "-");
}

/* The messages in maildir/new, at most 8. */
static size_t
delivered(char names[][256])
{
  char path[160];
  snprintf(path, sizeof path, "%s/new", maildir);
  return tmpdir_list(path, names, 8);
}

static char *
delivered_text(const char *name)
{
  char path[512];
  snprintf(path, sizeof path, "%s/new/%s", maildir, name);
  return tmpdir_read(path, NULL);
}

/* ---- smtp:// ---- */

Test(mail_smtp, connection_refused_is_worth_retrying)
{
  /* Bound and kept by this test but not listening: a connection is refused. */
  unsigned port;
  int closed = bound_socket(false, &port);
  char url[128], where[64];
  snprintf(url, sizeof url, "smtp://user:" PASSWORD "@127.0.0.1:%u", port);
  snprintf(where, sizeof where, "127.0.0.1:%u", port);
  struct delivery_mailer *m = mailer_open_ok(url);
  char *text = mailer_message("Hello", "body");
  cr_assert_eq(mailer_send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE);
  cr_assert_not_null(strstr(mailer_err, where), "%s", mailer_err);
  cr_assert_null(strstr(mailer_err, PASSWORD), "%s", mailer_err);
  cr_assert_null(strchr(mailer_err, '\n'), "%s", mailer_err);
  delivery_mailer_close(m);
  free(text);
  close(closed);
}

Test(mail_smtp, sends_two_messages_over_one_connection)
{
  unsigned port = start_smtp_server("aiosmtpd.handlers.Mailbox", false);
  char url[128];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u", port);
  struct delivery_mailer *m = mailer_open_ok(url);
  char *first = mailer_message("First subject", "one\r\n.\r\nstill one");
  char *second = mailer_message("Second subject", "two");
  cr_assert_eq(mailer_send_text(m, "bob@example.com", first, NULL), 0, "%s", mailer_err);
  cr_assert_eq(mailer_send_text(m, "carol@example.com", second, NULL), 0, "%s", mailer_err);
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

/*
 * libcurl says QUIT when the mailer closes. A server that never answers it
 * holds the close for the message's timeout (2 s here), not for libcurl's
 * default of 120 s, which this test's own timeout would end first: a worker
 * told to stop does not wait on a mute server.
 */
Test(mail_smtp, close_waits_for_a_mute_quit_no_longer_than_the_timeout, .timeout = 40)
{
  unsigned port = start_smtp_server_in("aiosmtpd.handlers.Mailbox", "mute-quit");
  char url[128];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u", port);
  struct delivery_mailer *m = mailer_open_ok(url);
  delivery_mailer_set_timeout(m, 2000);
  char *text = mailer_message("Before the quit", "body");
  cr_assert_eq(mailer_send_text(m, "bob@example.com", text, NULL), 0, "%s", mailer_err);
  delivery_mailer_close(m);
  char names[8][256];
  cr_assert_eq(delivered(names), 1);
  free(text);
}

Test(mail_smtp, refusals_permanent_and_temporary)
{
  tmpdir_write("picky.py", PICKY_PY);
  unsigned port = start_smtp_server("picky.Picky", false);
  char url[128];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u?starttls=never", port);
  struct delivery_mailer *m = mailer_open_ok(url);
  char *text = mailer_message("Hello", "body");
  char *spam = mailer_message("spam", "buy now");

  cr_assert_eq(mailer_send_text(m, "nobody@example.com", text, NULL), EVENTAPI_EINVAL, "%s",
               mailer_err);
  cr_assert_not_null(strstr(mailer_err, "RCPT TO refused: 550 5.1.1 no such user"), "%s",
                     mailer_err);

  cr_assert_eq(mailer_send_text(m, "later@example.com", text, NULL), EVENTAPI_EUNAVAILABLE, "%s",
               mailer_err);
  cr_assert_not_null(strstr(mailer_err, "451 4.3.0 try later"), "%s", mailer_err);

  cr_assert_eq(mailer_send_text(m, "bob@example.com", spam, NULL), EVENTAPI_EINVAL, "%s",
               mailer_err);
  cr_assert_not_null(strstr(mailer_err, "554 5.7.1 looks like spam"), "%s", mailer_err);

  /* A refusal does not spoil the mailer. */
  cr_assert_eq(mailer_send_text(m, "bob@example.com", text, NULL), 0, "%s", mailer_err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(delivered(names), 1);
  char *got = delivered_text(names[0]);
  cr_assert_not_null(strstr(got, "Subject: Hello"), "%s", got);
  free(got);
  free(text);
  free(spam);
}

Test(mail_smtp, starttls_required_but_not_offered)
{
  unsigned port = start_smtp_server("aiosmtpd.handlers.Mailbox", false);
  char url[128];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u?starttls=required", port);
  struct delivery_mailer *m = mailer_open_ok(url);
  char *text = mailer_message("Secret", "body");
  cr_assert_eq(mailer_send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE);
  cr_assert_gt(strlen(mailer_err), 0);
  delivery_mailer_close(m);
  char names[8][256];
  cr_assert_eq(delivered(names), 0, "nothing was sent");
  free(text);
}

Test(mail_smtp, credentials_are_percent_decoded)
{
  unsigned port = start_smtp_server("aiosmtpd.handlers.Mailbox", true);
  char *text = mailer_message("Authenticated", "body");
  char url[256];

  snprintf(url, sizeof url, "smtp://user%%40example.com:p%%40ss%%3Aw%%25rd%%2F" PASSWORD
           "@127.0.0.1:%u", port);
  struct delivery_mailer *m = mailer_open_ok(url);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", text, NULL), 0, "%s", mailer_err);
  delivery_mailer_close(m);

  /* A wrong password is the operator's to fix: worth retrying. */
  snprintf(url, sizeof url, "smtp://user%%40example.com:wrong" PASSWORD "@127.0.0.1:%u", port);
  m = mailer_open_ok(url);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE, "%s",
               mailer_err);
  cr_assert_not_null(strstr(mailer_err, "535"), "%s", mailer_err);
  cr_assert_null(strstr(mailer_err, PASSWORD), "%s", mailer_err);
  delivery_mailer_close(m);

  /* No credentials: 530 to MAIL FROM is not a permanent refusal. */
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u", port);
  m = mailer_open_ok(url);
  cr_assert_eq(mailer_send_text(m, "bob@example.com", text, NULL), EVENTAPI_EUNAVAILABLE, "%s",
               mailer_err);
  cr_assert_not_null(strstr(mailer_err, "530"), "%s", mailer_err);
  delivery_mailer_close(m);

  char names[8][256];
  cr_assert_eq(delivered(names), 1);
  free(text);
}
