/*
 * script.c - a Python program of the tests run as a child process (see
 * script.h).
 */
#include "script.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tmpdir.h"

#define START_TIMEOUT_MS 60000 /* a bound a healthy run never reaches */
#define STOP_TIMEOUT_MS 5000

long long script_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void script_sleep_ms(long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

_Noreturn void script_fail(const struct script *s, const char *fmt, ...)
{
  char message[PATH_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (s->cleanup)
    s->cleanup();
  cr_assert_fail("%s", message);
  abort(); /* cr_assert_fail does not return */
}

void script_path(const struct script *s, const char *relative, char path[PATH_MAX])
{
  char candidate[PATH_MAX];
  const char *root = getenv("EVENTAPI_SOURCE_ROOT");
  if (root && root[0]) {
    snprintf(candidate, sizeof candidate, "%s/%s", root, relative);
  } else {
    /* This file is tests/support/script.c, as the compiler named it
     * (relative to the build directory, where the tests run). */
    const char *slash = strrchr(__FILE__, '/');
    int folder = slash ? (int)(slash - __FILE__) : 1;
    snprintf(candidate, sizeof candidate, "%.*s/../../%s", folder, slash ? __FILE__ : ".",
             relative);
  }
  if (!realpath(candidate, path))
    script_fail(s, "%s is not at %s (%s); set EVENTAPI_SOURCE_ROOT to the source tree",
                relative, candidate, strerror(errno));
}

void script_spool(struct script *s, const char *prefix)
{
  if (s->dir[0])
    return;
  const char *tmp = getenv("TMPDIR");
  snprintf(s->dir, sizeof s->dir, "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", prefix);
  if (!mkdtemp(s->dir)) {
    int error = errno;
    s->dir[0] = '\0';
    script_fail(s, "mkdtemp: %s", strerror(error));
  }
}

void script_remove_spool(struct script *s)
{
  if (s->dir[0])
    tmpdir_remove_tree(s->dir);
  s->dir[0] = '\0';
}

/* The child: dies with the thread that started it, keeps none of the test's
 * descriptors but listening (as descriptor 3), and gets default signal
 * handling. Only async-signal-safe calls between fork and exec. */
static _Noreturn void exec_child(char *const *argv, pid_t parent, int listening)
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
  unsigned first_closed = 3;
  if (listening == 3) {
    if (fcntl(3, F_SETFD, 0) < 0) /* dup2 onto itself would keep FD_CLOEXEC */
      _exit(127);
    first_closed = 4;
  } else if (listening >= 0) {
    if (dup2(listening, 3) != 3)
      _exit(127);
    first_closed = 4;
  }
  close_range(first_closed, ~0U, 0);
  execv(argv[0], argv);
  _exit(127);
}

void script_start(struct script *s, char *const *argv, int listening)
{
  /* The port file of the run before must not pass for this one's. */
  char port_path[PATH_MAX + 8];
  snprintf(port_path, sizeof port_path, "%s/port", s->dir);
  unlink(port_path);
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    exec_child(argv, parent, listening);
  if (pid < 0)
    script_fail(s, "fork: %s", strerror(errno));
  s->pid = pid;
  s->owner = parent;
}

/* The port s wrote to its spool, or 0 while there is none. */
static unsigned read_port(const struct script *s)
{
  char path[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/port", s->dir);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  unsigned port = 0;
  if (fscanf(f, "%u", &port) != 1)
    port = 0;
  fclose(f);
  return port;
}

unsigned script_wait_port(struct script *s)
{
  long long deadline = script_now_ms() + START_TIMEOUT_MS;
  unsigned port;
  while ((port = read_port(s)) == 0) {
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      s->pid = 0;
      script_fail(s, "%s exited at start with %s %d (stderr above)", s->name,
                  WIFEXITED(status) ? "status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    if (script_now_ms() > deadline)
      script_fail(s, "%s did not start within %d ms", s->name, START_TIMEOUT_MS);
    script_sleep_ms(SCRIPT_POLL_MS);
  }
  return port;
}

int script_stop(struct script *s)
{
  if (s->pid <= 0)
    return -1;
  pid_t pid = s->pid;
  s->pid = 0;
  kill(pid, SIGTERM);
  long long deadline = script_now_ms() + STOP_TIMEOUT_MS;
  int status = 0;
  pid_t done;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 && script_now_ms() < deadline)
    script_sleep_ms(SCRIPT_POLL_MS / 2);
  if (done == 0) {
    fprintf(stderr, "%s ignored SIGTERM; killing it\n", s->name);
    kill(pid, SIGKILL);
    while ((done = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
      ;
  }
  return done == pid ? status : -1;
}

/* ---- the spool's records ------------------------------------------------- */

/* Whether name is a record, "<digits>.json"; its number in *number. */
static bool record_name(const char *name, unsigned long *number)
{
  size_t digits = strspn(name, "0123456789");
  if (digits == 0 || strcmp(name + digits, ".json") != 0)
    return false;
  errno = 0;
  *number = strtoul(name, NULL, 10);
  return errno == 0;
}

struct record {
  unsigned long number;
  char name[NAME_MAX + 1];
};

static int by_number(const void *a, const void *b)
{
  const struct record *x = a, *y = b;
  return (x->number > y->number) - (x->number < y->number);
}

/* The spool's records sorted by number; the caller frees the list. */
static struct record *list_spool(const struct script *s, size_t *count)
{
  struct record *list = NULL;
  size_t n = 0, cap = 0;
  DIR *dir = s->dir[0] ? opendir(s->dir) : NULL;
  struct dirent *entry;
  while (dir && (entry = readdir(dir))) {
    unsigned long number;
    if (!record_name(entry->d_name, &number))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      struct record *grown = realloc(list, cap * sizeof *grown);
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

size_t script_count(const struct script *s)
{
  size_t count;
  free(list_spool(s, &count));
  return count;
}

json_t *script_records(const struct script *s)
{
  size_t count;
  struct record *list = list_spool(s, &count);
  json_t *records = json_array();
  for (size_t i = 0; i < count; i++) {
    char path[PATH_MAX + NAME_MAX + 2];
    json_error_t error;
    snprintf(path, sizeof path, "%s/%s", s->dir, list[i].name);
    json_t *record = json_load_file(path, 0, &error);
    if (!record) {
      free(list);
      json_decref(records);
      cr_assert_fail("%s: %s (line %d)", path, error.text, error.line);
    }
    json_array_append_new(records, record);
  }
  free(list);
  return records;
}

/* ---- what a module hands out ------------------------------------------- */

json_t *script_keep(struct script_kept *k, json_t *json)
{
  if (k->n == k->cap) {
    size_t cap = k->cap ? k->cap * 2 : 16;
    json_t **grown = realloc(k->items, cap * sizeof *grown);
    if (!grown)
      abort();
    k->items = grown;
    k->cap = cap;
  }
  k->items[k->n++] = json;
  return json;
}

void script_kept_free(struct script_kept *k)
{
  for (size_t i = 0; i < k->n; i++)
    json_decref(k->items[i]);
  free(k->items);
  *k = (struct script_kept){0};
}
