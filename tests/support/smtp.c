/*
 * smtp.c - smtpd.py as a child process of the test, and the messages it
 * stored read back from its spool directory (see smtp.h).
 */
#include "smtp.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tmpdir.h"

#define PYTHON "/usr/bin/python3"
#define START_TIMEOUT_MS 60000 /* a bound a healthy run never reaches */
#define STOP_TIMEOUT_MS 5000
#define POLL_MS 20

static struct {
  pid_t pid;                  /* smtpd.py, or 0 */
  pid_t owner;                /* the process that started it */
  bool exit_hook;
  char dir[PATH_MAX];         /* the spool, or "" */
  int fd;                     /* the listening socket, or -1 (see close_socket) */
  unsigned port;
  char url[64];
  json_t **kept;              /* arrays handed out, released by cleanup */
  size_t nkept, capkept;
} smtp = { .fd = -1 };

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static json_t *keep(json_t *json)
{
  if (smtp.nkept == smtp.capkept) {
    size_t cap = smtp.capkept ? smtp.capkept * 2 : 16;
    json_t **grown = realloc(smtp.kept, cap * sizeof *grown);
    if (!grown)
      abort();
    smtp.kept = grown;
    smtp.capkept = cap;
  }
  smtp.kept[smtp.nkept++] = json;
  return json;
}

static void remove_spool(void)
{
  if (smtp.dir[0])
    tmpdir_remove_tree(smtp.dir);
  smtp.dir[0] = '\0';
}

static void close_socket(void)
{
  if (smtp.fd >= 0)
    close(smtp.fd);
  smtp.fd = -1;
  smtp.port = 0;
  smtp.url[0] = '\0';
}

/* Criterion skips .fini when .init fails, so a failed start cleans up
 * before failing the test. */
__attribute__((format(printf, 1, 2)))
static _Noreturn void fail_start(const char *fmt, ...)
{
  char message[PATH_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  smtp_cleanup();
  cr_assert_fail("%s", message);
  abort(); /* cr_assert_fail does not return */
}

/*
 * The absolute path of smtpd.py: $EVENTAPI_SOURCE_ROOT/tests/support, or the
 * folder of this file as the compiler named it (relative to the directory
 * the tests run in, the build directory, when meson compiled it).
 */
static void script_path(char *path)
{
  char candidate[PATH_MAX];
  const char *root = getenv("EVENTAPI_SOURCE_ROOT");
  if (root && root[0]) {
    snprintf(candidate, sizeof candidate, "%s/tests/support/smtpd.py", root);
  } else {
    const char *slash = strrchr(__FILE__, '/');
    int folder = slash ? (int)(slash - __FILE__) : 1;
    snprintf(candidate, sizeof candidate, "%.*s/smtpd.py", folder,
             slash ? __FILE__ : ".");
  }
  if (!realpath(candidate, path))
    fail_start("smtpd.py is not at %s (%s); set EVENTAPI_SOURCE_ROOT to the "
               "source tree", candidate, strerror(errno));
}

static void at_exit(void)
{
  if (smtp.owner == getpid())
    smtp_cleanup();
}

/* The child: dies with the thread that started it, keeps none of the test's
 * descriptors but the listening socket (as descriptor 3), and gets default
 * signal handling. Only async-signal-safe calls between fork and exec. */
static _Noreturn void exec_server(char *const *argv, pid_t parent, int listening)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent)
    _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl = { .sa_handler = SIG_DFL };
  sigaction(SIGTERM, &dfl, NULL);
  sigaction(SIGINT, &dfl, NULL);
  sigaction(SIGPIPE, &dfl, NULL);
  int null = open("/dev/null", O_RDONLY);
  if (null >= 0 && null != STDIN_FILENO) {
    dup2(null, STDIN_FILENO);
    close(null);
  }
  if (listening == 3) {
    if (fcntl(3, F_SETFD, 0) < 0) /* dup2 onto itself would keep FD_CLOEXEC */
      _exit(127);
  } else if (dup2(listening, 3) != 3) {
    _exit(127);
  }
  close_range(4, ~0U, 0);
  execv(argv[0], argv);
  _exit(127);
}

/* The port smtpd.py wrote to the spool, or 0 while there is none. */
static unsigned read_port(void)
{
  char path[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/port", smtp.dir);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  unsigned port = 0;
  if (fscanf(f, "%u", &port) != 1)
    port = 0;
  fclose(f);
  return port;
}

/* A listening socket on a free port of 127.0.0.1, kept by this module. */
static void open_socket(void)
{
  close_socket();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    fail_start("socket: %s", strerror(errno));
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
    int error = errno;
    close(fd);
    fail_start("a listening socket on 127.0.0.1: %s", strerror(error));
  }
  smtp.fd = fd;
  smtp.port = ntohs(addr.sin_port);
  snprintf(smtp.url, sizeof smtp.url, "smtp://127.0.0.1:%u", smtp.port);
}

/* Starts smtpd.py with args on the socket and spool there are, and waits
 * until it accepts (it writes the port file once it does). */
static void start_server(const char *const *args)
{
  char script[PATH_MAX], port_path[PATH_MAX + 8];

  if (!smtp.exit_hook) {
    atexit(at_exit);
    smtp.exit_hook = true;
  }
  script_path(script);
  if (!smtp.dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(smtp.dir, sizeof smtp.dir, "%s/eventapi-smtp-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(smtp.dir)) {
      int error = errno;
      smtp.dir[0] = '\0';
      fail_start("mkdtemp: %s", strerror(error));
    }
  }
  /* The port file of the server before must not pass for this one's. */
  snprintf(port_path, sizeof port_path, "%s/port", smtp.dir);
  unlink(port_path);

  size_t nargs = 0;
  while (args && args[nargs])
    nargs++;
  const char *fixed[] = { PYTHON, script, "--dir", smtp.dir, "--fd", "3" };
  size_t nfixed = sizeof fixed / sizeof *fixed;
  char **argv = calloc(nfixed + nargs + 1, sizeof *argv);
  if (!argv)
    abort();
  for (size_t i = 0; i < nfixed; i++)
    argv[i] = (char *)fixed[i];
  for (size_t i = 0; i < nargs; i++)
    argv[nfixed + i] = (char *)args[i];

  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    exec_server(argv, parent, smtp.fd);
  int error = errno;
  free(argv);
  if (pid < 0)
    fail_start("fork: %s", strerror(error));
  smtp.pid = pid;
  smtp.owner = parent;

  long long deadline = now_ms() + START_TIMEOUT_MS;
  unsigned listening = 0;
  while ((listening = read_port()) == 0) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      smtp.pid = 0;
      fail_start("smtpd.py exited at start with %s %d (stderr above)",
                 WIFEXITED(status) ? "status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    if (now_ms() > deadline)
      fail_start("smtpd.py did not start within %d ms", START_TIMEOUT_MS);
    sleep_ms(POLL_MS);
  }
  if (listening != smtp.port)
    fail_start("smtpd.py serves port %u, not the socket's %u", listening, smtp.port);
}

unsigned smtp_start(void)
{
  return smtp_start_with(NULL);
}

unsigned smtp_start_with(const char *const *args)
{
  smtp_stop();
  remove_spool();
  open_socket();
  start_server(args);
  return smtp.port;
}

void smtp_restart(const char *const *args)
{
  smtp_stop();
  if (smtp.fd < 0)
    fail_start("smtp_restart() before smtp_start()");
  start_server(args);
}

void smtp_stop(void)
{
  if (smtp.pid <= 0)
    return;
  pid_t pid = smtp.pid;
  smtp.pid = 0;
  kill(pid, SIGTERM);
  long long deadline = now_ms() + STOP_TIMEOUT_MS;
  int status = 0;
  pid_t done;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
    sleep_ms(POLL_MS / 2);
  if (done == 0) {
    fprintf(stderr, "smtp.c: smtpd.py ignored SIGTERM; killing it\n");
    kill(pid, SIGKILL);
    while ((done = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
      ;
  }
  if (done == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    fprintf(stderr, "smtp.c: smtpd.py ended with %s %d\n",
            WIFEXITED(status) ? "status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void smtp_cleanup(void)
{
  smtp_stop();
  close_socket();
  remove_spool();
  for (size_t i = 0; i < smtp.nkept; i++)
    json_decref(smtp.kept[i]);
  free(smtp.kept);
  smtp.kept = NULL;
  smtp.nkept = smtp.capkept = 0;
}

unsigned smtp_port(void)
{
  return smtp.port;
}

const char *smtp_url(void)
{
  return smtp.url;
}

/* Whether name is a stored message, "<digits>.json"; its number in *number. */
static bool message_name(const char *name, unsigned long *number)
{
  char *end;
  if (name[0] < '0' || name[0] > '9')
    return false;
  errno = 0;
  *number = strtoul(name, &end, 10);
  return errno == 0 && strcmp(end, ".json") == 0;
}

struct stored {
  unsigned long number;
  char name[NAME_MAX + 1];
};

static int by_number(const void *a, const void *b)
{
  const struct stored *x = a, *y = b;
  return (x->number > y->number) - (x->number < y->number);
}

/* The spool's messages sorted by number; the caller frees the list. */
static struct stored *list_spool(size_t *count)
{
  struct stored *list = NULL;
  size_t n = 0, cap = 0;
  DIR *dir = smtp.dir[0] ? opendir(smtp.dir) : NULL;
  struct dirent *entry;
  while (dir && (entry = readdir(dir))) {
    unsigned long number;
    if (!message_name(entry->d_name, &number))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      struct stored *grown = realloc(list, cap * sizeof *grown);
      if (!grown)
        abort();
      list = grown;
    }
    list[n].number = number;
    snprintf(list[n].name, sizeof list[n].name, "%s", entry->d_name);
    n++;
  }
  if (dir)
    closedir(dir);
  if (n)
    qsort(list, n, sizeof *list, by_number);
  *count = n;
  return list;
}

size_t smtp_count(void)
{
  size_t count;
  free(list_spool(&count));
  return count;
}

json_t *smtp_messages(void)
{
  size_t count;
  struct stored *list = list_spool(&count);
  json_t *messages = keep(json_array());
  for (size_t i = 0; i < count; i++) {
    char path[PATH_MAX + NAME_MAX + 2];
    json_error_t error;
    snprintf(path, sizeof path, "%s/%s", smtp.dir, list[i].name);
    json_t *message = json_load_file(path, 0, &error);
    if (!message) {
      free(list);
      cr_assert_fail("%s: %s (line %d)", path, error.text, error.line);
    }
    json_array_append_new(messages, message);
  }
  free(list);
  return messages;
}

json_t *smtp_wait(size_t n, int timeout_ms)
{
  long long deadline = now_ms() + timeout_ms;
  while (smtp_count() < n && now_ms() < deadline)
    sleep_ms(POLL_MS);
  return smtp_messages();
}
