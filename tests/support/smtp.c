/*
 * smtp.c - smtpd.py as a child process of the test (script.h), and the
 * messages it stored read back from its spool directory (see smtp.h).
 */
#include "smtp.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "script.h"

static struct {
  struct script script;       /* smtpd.py */
  bool exit_hook;
  int fd;                     /* the listening socket, or -1 (see close_socket) */
  unsigned port;
  char url[64];
  struct script_kept kept;    /* arrays handed out, released by cleanup */
} smtp = { .script = { .name = "smtpd.py", .cleanup = smtp_cleanup }, .fd = -1 };

static void close_socket(void)
{
  if (smtp.fd >= 0)
    close(smtp.fd);
  smtp.fd = -1;
  smtp.port = 0;
  smtp.url[0] = '\0';
}

static void at_exit(void)
{
  if (smtp.script.owner == getpid())
    smtp_cleanup();
}

/* A listening socket on a free port of 127.0.0.1, kept by this module. */
static void open_socket(void)
{
  close_socket();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    script_fail(&smtp.script, "socket: %s", strerror(errno));
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
    int error = errno;
    close(fd);
    script_fail(&smtp.script, "a listening socket on 127.0.0.1: %s", strerror(error));
  }
  smtp.fd = fd;
  smtp.port = ntohs(addr.sin_port);
  snprintf(smtp.url, sizeof smtp.url, "smtp://127.0.0.1:%u", smtp.port);
}

/* Starts smtpd.py with args on the socket and spool there are, and waits
 * until it accepts (it writes the port file once it does). */
static void start_server(const char *const *args)
{
  if (!smtp.exit_hook) {
    atexit(at_exit);
    smtp.exit_hook = true;
  }
  char script[PATH_MAX];
  script_path(&smtp.script, "tests/support/smtpd.py", script);
  script_spool(&smtp.script, "eventapi-smtp");

  size_t nargs = 0;
  while (args && args[nargs])
    nargs++;
  const char *fixed[] = { SCRIPT_PYTHON, script, "--dir", smtp.script.dir, "--fd", "3" };
  size_t nfixed = sizeof fixed / sizeof *fixed;
  char **argv = calloc(nfixed + nargs + 1, sizeof *argv);
  if (!argv)
    abort();
  for (size_t i = 0; i < nfixed; i++)
    argv[i] = (char *)fixed[i];
  for (size_t i = 0; i < nargs; i++)
    argv[nfixed + i] = (char *)args[i];
  script_start(&smtp.script, argv, smtp.fd);
  free(argv);
  unsigned listening = script_wait_port(&smtp.script);
  if (listening != smtp.port)
    script_fail(&smtp.script, "smtpd.py serves port %u, not the socket's %u", listening,
                smtp.port);
}

unsigned smtp_start(void)
{
  return smtp_start_with(NULL);
}

unsigned smtp_start_with(const char *const *args)
{
  smtp_stop();
  script_remove_spool(&smtp.script);
  open_socket();
  start_server(args);
  return smtp.port;
}

void smtp_restart(const char *const *args)
{
  smtp_stop();
  if (smtp.fd < 0)
    script_fail(&smtp.script, "smtp_restart() before smtp_start()");
  start_server(args);
}

void smtp_stop(void)
{
  int status = script_stop(&smtp.script);
  if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    fprintf(stderr, "smtp.c: smtpd.py ended with %s %d\n",
            WIFEXITED(status) ? "status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void smtp_cleanup(void)
{
  smtp_stop();
  close_socket();
  script_remove_spool(&smtp.script);
  script_kept_free(&smtp.kept);
}

unsigned smtp_port(void)
{
  return smtp.port;
}

const char *smtp_url(void)
{
  return smtp.url;
}

size_t smtp_count(void)
{
  return script_count(&smtp.script);
}

json_t *smtp_messages(void)
{
  return script_keep(&smtp.kept, script_records(&smtp.script));
}

json_t *smtp_wait(size_t n, int timeout_ms)
{
  long long deadline = script_now_ms() + timeout_ms;
  while (smtp_count() < n && script_now_ms() < deadline)
    script_sleep_ms(SCRIPT_POLL_MS);
  return smtp_messages();
}
