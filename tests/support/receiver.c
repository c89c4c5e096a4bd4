/*
 * receiver.c - webhook_receiver.py as a child process of the test, told
 * what to answer through its control file, and the requests it recorded
 * read back from its spool (see receiver.h).
 */
#include "receiver.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tmpdir.h"

#define PYTHON "/usr/bin/python3"
#define START_TIMEOUT_MS 60000 /* a bound a healthy run never reaches */
#define STOP_TIMEOUT_MS 5000
#define POLL_MS 20

static struct {
  pid_t pid;          /* webhook_receiver.py, or 0 */
  pid_t owner;        /* the process that started it */
  bool exit_hook;
  char dir[PATH_MAX]; /* the spool, or "" */
  unsigned port;
  json_t *control;    /* what control.json says */
  json_t **kept;      /* handed out, released by cleanup */
  size_t nkept, capkept;
  char **strings;
  size_t nstrings, capstrings;
} rx;

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
  if (rx.nkept == rx.capkept) {
    size_t cap = rx.capkept ? rx.capkept * 2 : 16;
    json_t **grown = realloc(rx.kept, cap * sizeof *grown);
    if (!grown)
      abort();
    rx.kept = grown;
    rx.capkept = cap;
  }
  rx.kept[rx.nkept++] = json;
  return json;
}

static const char *keep_string(char *s)
{
  if (!s)
    abort();
  if (rx.nstrings == rx.capstrings) {
    size_t cap = rx.capstrings ? rx.capstrings * 2 : 16;
    char **grown = realloc(rx.strings, cap * sizeof *grown);
    if (!grown)
      abort();
    rx.strings = grown;
    rx.capstrings = cap;
  }
  rx.strings[rx.nstrings++] = s;
  return s;
}

__attribute__((format(printf, 1, 2)))
static _Noreturn void fail_start(const char *fmt, ...)
{
  char message[PATH_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  receiver_cleanup();
  cr_assert_fail("%s", message);
  abort(); /* cr_assert_fail does not return */
}

/* The absolute path of relative (to the source tree's root). */
static void source_path(const char *relative, char *path)
{
  char candidate[PATH_MAX];
  const char *root = getenv("EVENTAPI_SOURCE_ROOT");
  if (root && root[0]) {
    snprintf(candidate, sizeof candidate, "%s/%s", root, relative);
  } else {
    /* This file is tests/support/receiver.c. */
    const char *slash = strrchr(__FILE__, '/');
    int folder = slash ? (int)(slash - __FILE__) : 1;
    snprintf(candidate, sizeof candidate, "%.*s/../../%s", folder, slash ? __FILE__ : ".",
             relative);
  }
  if (!realpath(candidate, path))
    fail_start("%s is not at %s (%s); set EVENTAPI_SOURCE_ROOT to the source tree", relative,
               candidate, strerror(errno));
}

static void at_exit(void)
{
  if (rx.owner == getpid())
    receiver_cleanup();
}

static _Noreturn void exec_receiver(char *const *argv, pid_t parent)
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
  close_range(3, ~0U, 0);
  execv(argv[0], argv);
  _exit(127);
}

static unsigned read_port(void)
{
  char path[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/port", rx.dir);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  unsigned port = 0;
  if (fscanf(f, "%u", &port) != 1)
    port = 0;
  fclose(f);
  return port;
}

/* Writes rx.control to the spool's control.json, whole, then renamed. */
static void write_control(void)
{
  char path[PATH_MAX + 32], temporary[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/control.json", rx.dir);
  snprintf(temporary, sizeof temporary, "%s/control.json.tmp", rx.dir);
  cr_assert_eq(json_dump_file(rx.control, temporary, JSON_COMPACT), 0, "write %s", temporary);
  cr_assert_eq(rename(temporary, path), 0, "rename %s: %s", path, strerror(errno));
}

unsigned receiver_start(void)
{
  char script[PATH_MAX], docs[PATH_MAX];
  receiver_cleanup();
  if (!rx.exit_hook) {
    atexit(at_exit);
    rx.exit_hook = true;
  }
  source_path("tests/support/webhook_receiver.py", script);
  source_path("docs/api.md", docs);
  const char *tmp = getenv("TMPDIR");
  snprintf(rx.dir, sizeof rx.dir, "%s/eventapi-receiver-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(rx.dir)) {
    int error = errno;
    rx.dir[0] = '\0';
    fail_start("mkdtemp: %s", strerror(error));
  }
  rx.control = json_pack("{s:{}, s:{}, s:i}", "secrets", "answers", "offset", 0);
  write_control();

  char *argv[] = { PYTHON, script, "--dir", rx.dir, "--docs", docs, NULL };
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    exec_receiver(argv, parent);
  if (pid < 0)
    fail_start("fork: %s", strerror(errno));
  rx.pid = pid;
  rx.owner = parent;
  long long deadline = now_ms() + START_TIMEOUT_MS;
  while ((rx.port = read_port()) == 0) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      rx.pid = 0;
      fail_start("webhook_receiver.py exited at start with %s %d (stderr above)",
                 WIFEXITED(status) ? "status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    if (now_ms() > deadline)
      fail_start("webhook_receiver.py did not start within %d ms", START_TIMEOUT_MS);
    sleep_ms(POLL_MS);
  }
  return rx.port;
}

static void stop(void)
{
  if (rx.pid <= 0)
    return;
  pid_t pid = rx.pid;
  rx.pid = 0;
  kill(pid, SIGTERM);
  long long deadline = now_ms() + STOP_TIMEOUT_MS;
  int status = 0;
  pid_t done;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
    sleep_ms(POLL_MS / 2);
  if (done == 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  }
}

void receiver_cleanup(void)
{
  stop();
  if (rx.dir[0])
    tmpdir_remove_tree(rx.dir);
  rx.dir[0] = '\0';
  rx.port = 0;
  json_decref(rx.control);
  rx.control = NULL;
  for (size_t i = 0; i < rx.nkept; i++)
    json_decref(rx.kept[i]);
  free(rx.kept);
  rx.kept = NULL;
  rx.nkept = rx.capkept = 0;
  for (size_t i = 0; i < rx.nstrings; i++)
    free(rx.strings[i]);
  free(rx.strings);
  rx.strings = NULL;
  rx.nstrings = rx.capstrings = 0;
}

const char *receiver_url(const char *path)
{
  cr_assert(rx.port != 0, "the receiver is not running");
  char *url = NULL;
  if (asprintf(&url, "http://127.0.0.1:%u%s", rx.port, path) < 0)
    abort();
  return keep_string(url);
}

void receiver_secrets_list(const char *path, const char *const *secrets)
{
  cr_assert(rx.control != NULL, "the receiver is not running");
  json_t *list = json_array();
  for (const char *const *s = secrets; *s; s++)
    json_array_append_new(list, json_string(*s));
  json_object_set_new(json_object_get(rx.control, "secrets"), path, list);
  write_control();
}

void receiver_secrets(const char *path, const char *secret)
{
  const char *one[] = { secret, NULL };
  receiver_secrets_list(path, one);
}

void receiver_answer(const char *path, const char *answer)
{
  cr_assert(rx.control != NULL, "the receiver is not running");
  char *text = strdup(answer);
  if (!text)
    abort();
  for (char *c = text; *c; c++)
    if (*c == '\'')
      *c = '"';
  json_error_t error;
  json_t *value = json_loads(text, 0, &error);
  free(text);
  cr_assert(value != NULL, "receiver_answer(%s): %s", answer, error.text);
  json_t *answers = json_object_get(rx.control, "answers");
  json_t *list = json_object_get(answers, path);
  if (list == NULL) {
    list = json_array();
    json_object_set_new(answers, path, list);
  }
  json_array_append_new(list, value);
  write_control();
}

void receiver_clock(long long server_now)
{
  cr_assert(rx.control != NULL, "the receiver is not running");
  json_object_set_new(rx.control, "offset", json_integer(server_now - (long long)time(NULL)));
  write_control();
}

/* Whether name is a stored request, "<digits>.json". */
static bool request_name(const char *name)
{
  size_t digits = strspn(name, "0123456789");
  return digits > 0 && strcmp(name + digits, ".json") == 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The spool's request files, sorted (their names are zero-padded numbers). */
static char **list_spool(size_t *count)
{
  char **names = NULL;
  size_t n = 0, cap = 0;
  DIR *dir = rx.dir[0] ? opendir(rx.dir) : NULL;
  struct dirent *entry;
  while (dir && (entry = readdir(dir))) {
    if (!request_name(entry->d_name))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **grown = realloc(names, cap * sizeof *grown);
      if (!grown)
        abort();
      names = grown;
    }
    names[n] = strdup(entry->d_name);
    if (!names[n])
      abort();
    n++;
  }
  if (dir)
    closedir(dir);
  if (n)
    qsort(names, n, sizeof *names, by_name);
  *count = n;
  return names;
}

size_t receiver_count(void)
{
  size_t count;
  char **names = list_spool(&count);
  for (size_t i = 0; i < count; i++)
    free(names[i]);
  free(names);
  return count;
}

json_t *receiver_requests(void)
{
  size_t count;
  char **names = list_spool(&count);
  json_t *requests = keep(json_array());
  for (size_t i = 0; i < count; i++) {
    char path[PATH_MAX + 300];
    json_error_t error;
    snprintf(path, sizeof path, "%s/%s", rx.dir, names[i]);
    json_t *request = json_load_file(path, 0, &error);
    cr_assert(request != NULL, "%s: %s (line %d)", path, error.text, error.line);
    json_array_append_new(requests, request);
    free(names[i]);
  }
  free(names);
  return requests;
}

json_t *receiver_requests_to(const char *path)
{
  json_t *all = receiver_requests();
  json_t *out = keep(json_array());
  size_t i;
  json_t *request;
  json_array_foreach(all, i, request) {
    const char *to = json_string_value(json_object_get(request, "path"));
    if (to && strcmp(to, path) == 0)
      json_array_append(out, request);
  }
  return out;
}

json_t *receiver_wait(size_t n, int timeout_ms)
{
  long long deadline = now_ms() + timeout_ms;
  while (receiver_count() < n && now_ms() < deadline)
    sleep_ms(POLL_MS);
  return receiver_requests();
}
