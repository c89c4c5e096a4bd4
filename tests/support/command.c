/*
 * command.c - `eventapi` commands run to their end, with their output apart
 * (see command.h).
 */
#include "command.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "process.h"

#define TIMEOUT_MS 60000

/* Output read so far; grows as needed, harness-owned once done. */
struct buffer {
  char *data;
  size_t len, cap;
};

static void append(struct buffer *b, const char *bytes, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    cr_assert(grown != NULL);
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, bytes, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static const char *keep(struct buffer *b)
{
  if (b->data == NULL)
    return api_strdup("");
  api_keep(b->data, free);
  return b->data;
}

static const char *binary(void)
{
  const char *bin = getenv("EVENTAPI_BIN");
  if (bin == NULL && access("./eventapi", X_OK) == 0)
    bin = "./eventapi";
  cr_assert(bin != NULL, "EVENTAPI_BIN is not set (meson sets it for the API tests)");
  return bin;
}

/*
 * In the child: the binary, with envp (api_environ(), built before the
 * fork: until it execs, the child may only call async-signal-safe
 * functions). Never returns.
 */
static void exec_eventapi(const char *bin, const char *const *args, char *const *envp)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const char *argv[32] = {bin};
  size_t argc = 1;
  for (const char *const *a = args; a && *a && argc < 31; a++)
    argv[argc++] = *a;
  argv[argc] = NULL;
  signal(SIGPIPE, SIG_DFL);
  execve(bin, (char *const *)argv, envp);
  _exit(127);
}

/* "serve --port 0" (args NULL-terminated), for messages. */
static const char *command_line(const char *const *args)
{
  const char *line = "";
  for (const char *const *a = args; a && *a; a++)
    line = api_printf("%s%s%s", line, a == args ? "" : " ", *a);
  return line;
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_status(pid_t pid)
{
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct api_command api_command(const char *const *args, const char *const *env)
{
  const char *bin = binary();
  int out_pipe[2], err_pipe[2];
  cr_assert(pipe2(out_pipe, O_CLOEXEC) == 0 && pipe2(err_pipe, O_CLOEXEC) == 0);
  char *const *envp = api_environ(env);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork failed");
  if (pid == 0) {
    setsid(); /* no controlling terminal: /dev/tty cannot be opened */
    int null = open("/dev/null", O_RDONLY);
    if (null < 0)
      _exit(127);
    dup2(null, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    exec_eventapi(bin, args, envp);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  struct buffer out = {0}, err = {0};
  struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  struct buffer *into[2] = {&out, &err};
  long long deadline = now_ms() + TIMEOUT_MS;
  int open_fds = 2;
  while (open_fds > 0) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      kill(pid, SIGKILL);
      wait_status(pid);
      cr_assert_fail("eventapi %s did not finish within %d ms; its output:\n%s\n%s",
                     command_line(args), TIMEOUT_MS, out.data ? out.data : "",
                     err.data ? err.data : "");
    }
    if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
      cr_assert_fail("poll: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || fds[i].revents == 0)
        continue;
      char chunk[4096];
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        append(into[i], chunk, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      }
    }
  }
  return (struct api_command){wait_status(pid), keep(&out), keep(&err)};
}

/* Reads the terminal into out until it has shown want (after *from), or EOF. */
static bool read_until(int master, struct buffer *out, size_t *from, const char *want,
                       long long deadline)
{
  for (;;) {
    if (want && out->data && strstr(out->data + *from, want)) {
      *from = (size_t)(strstr(out->data + *from, want) - out->data) + strlen(want);
      return true;
    }
    long long left = deadline - now_ms();
    if (left <= 0)
      return false;
    struct pollfd fd = {master, POLLIN, 0};
    if (poll(&fd, 1, (int)left) < 0 && errno != EINTR)
      return false;
    if (fd.revents == 0)
      continue;
    char chunk[4096];
    ssize_t n = read(master, chunk, sizeof chunk);
    if (n > 0)
      append(out, chunk, (size_t)n);
    else if (n == 0 || errno != EINTR)
      return want == NULL; /* EIO: the child closed its side */
  }
}

struct api_command api_command_tty(const char *const *args, const char *const *env,
                                   const char *const *script)
{
  const char *bin = binary();
  int master;
  char *const *envp = api_environ(env);
  fflush(NULL);
  pid_t pid = forkpty(&master, NULL, NULL, NULL);
  cr_assert(pid >= 0, "forkpty: %s", strerror(errno));
  if (pid == 0)
    exec_eventapi(bin, args, envp);
  struct buffer out = {0};
  size_t from = 0;
  long long deadline = now_ms() + TIMEOUT_MS;
  for (const char *const *step = script; step && step[0]; step += 2) {
    if (!read_until(master, &out, &from, step[0], deadline)) {
      kill(pid, SIGKILL);
      wait_status(pid);
      close(master);
      cr_assert_fail("eventapi %s: the terminal never showed \"%s\"; it showed:\n%s", args[0],
                     step[0], out.data ? out.data : "");
    }
    if (step[1] == NULL)
      continue; /* only to be shown */
    const char *line = api_printf("%s\n", step[1]);
    cr_assert(write(master, line, strlen(line)) == (ssize_t)strlen(line));
  }
  bool ended = read_until(master, &out, &from, NULL, deadline);
  if (!ended)
    kill(pid, SIGKILL);
  int status = wait_status(pid);
  close(master);
  cr_assert(ended, "eventapi %s did not finish within %d ms:\n%s", command_line(args), TIMEOUT_MS,
            out.data ? out.data : "");
  return (struct api_command){status, keep(&out), api_strdup("")};
}
