/*
 * process.c - `eventapi` child processes for the API tests.
 */
#include "process.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"

/* Bounds a healthy run never reaches, even under the sanitizers on a loaded
 * machine. */
#define START_TIMEOUT_MS 60000
#define RUN_TIMEOUT_MS 120000
#define POLL_MS 20
#define MAX_CHILDREN 16

static pid_t children[MAX_CHILDREN];
static bool atexit_set;

static void kill_children(void)
{
  for (size_t i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] > 0) {
      kill(children[i], SIGKILL);
      waitpid(children[i], NULL, 0);
      children[i] = 0;
    }
  }
}

static void remember(pid_t pid)
{
  if (!atexit_set) {
    atexit(kill_children);
    atexit_set = true;
  }
  for (size_t i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] == 0) {
      children[i] = pid;
      return;
    }
  }
  cr_assert_fail("more than %d child processes", MAX_CHILDREN);
}

static void forget(pid_t pid)
{
  for (size_t i = 0; i < MAX_CHILDREN; i++)
    if (children[i] == pid)
      children[i] = 0;
}

static void pause_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return api_strdup("");
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
  cr_assert(text != NULL);
  if (len > 0 && fread(text, 1, (size_t)len, f) != (size_t)len)
    text[0] = '\0';
  fclose(f);
  api_keep(text, free);
  return text;
}

extern char **environ;

/* Whether entry ("NAME=value") sets name. */
static bool names(const char *entry, const char *name)
{
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

char *const *api_environ(const char *const *env)
{
  size_t inherited = 0, added = 0;
  while (environ[inherited])
    inherited++;
  for (const char *const *pair = env; pair && pair[0]; pair += 2)
    added++;
  char **out = calloc(inherited + added + 1, sizeof *out);
  cr_assert(out != NULL);
  api_keep(out, free);
  size_t n = 0;
  for (size_t i = 0; i < inherited; i++) {
    bool overridden = false;
    for (const char *const *pair = env; pair && pair[0] && !overridden; pair += 2)
      overridden = names(environ[i], pair[0]);
    if (!overridden)
      out[n++] = environ[i];
  }
  for (const char *const *pair = env; pair && pair[0]; pair += 2) {
    bool later = false; /* a name given again: the last one counts */
    for (const char *const *next = pair + 2; next[0] && !later; next += 2)
      later = strcmp(next[0], pair[0]) == 0;
    if (pair[1] && !later)
      out[n++] = (char *)api_printf("%s=%s", pair[0], pair[1]);
  }
  out[n] = NULL;
  return out;
}

static pid_t spawn(const char *const *args, const char *const *env, const char *log)
{
  const char *bin = getenv("EVENTAPI_BIN");
  if (bin == NULL && access("./eventapi", X_OK) == 0)
    bin = "./eventapi"; /* run by hand from the build directory */
  cr_assert(bin != NULL, "EVENTAPI_BIN is not set (meson sets it for the API tests)");
  const char *argv[32] = {bin};
  size_t argc = 1;
  for (const char *const *a = args; a && *a && argc < 31; a++)
    argv[argc++] = *a;
  argv[argc] = NULL;
  char *const *envp = api_environ(env);
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
      _exit(127);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    signal(SIGPIPE, SIG_DFL);
    execve(bin, (char *const *)argv, envp);
    _exit(127);
  }
  remember(pid);
  return pid;
}

static unsigned listening_port(const char *output)
{
  const char *at = strstr(output, "serving http://");
  if (at == NULL)
    return 0;
  const char *colon = strchr(at + strlen("serving http://"), ':');
  return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

void api_process_start(struct api_process *p, const char *const *args, const char *const *env)
{
  static unsigned counter;
  memset(p, 0, sizeof *p);
  snprintf(p->log, sizeof p->log, "%s/process-%u-%d.log", api_server_dir(), ++counter,
           (int)getpid());
  const char *with_port[64];
  size_t n = 0;
  with_port[n++] = "PORT";
  with_port[n++] = "0";
  with_port[n++] = "LOG_LEVEL"; /* the harness sets warn; the listening line is info */
  with_port[n++] = "info";
  for (const char *const *pair = env; pair && pair[0] && n < 62; pair += 2) {
    with_port[n++] = pair[0];
    with_port[n++] = pair[1];
  }
  with_port[n] = NULL;
  p->pid = spawn(args, with_port, p->log);
  if (args == NULL || args[0] == NULL || strcmp(args[0], "serve") != 0)
    return;
  for (int waited = 0; waited < START_TIMEOUT_MS; waited += POLL_MS) {
    if ((p->port = listening_port(slurp(p->log))) != 0)
      return;
    int status;
    if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
      forget(p->pid);
      p->pid = 0;
      cr_assert_fail("eventapi serve exited at start: %s", slurp(p->log));
    }
    pause_ms(POLL_MS);
  }
  cr_assert_fail("eventapi serve did not listen within %d ms: %s", START_TIMEOUT_MS,
                 slurp(p->log));
}

int api_process_kill(struct api_process *p, int sig)
{
  int status = 0;
  if (p->pid <= 0)
    return 0;
  kill(p->pid, sig);
  waitpid(p->pid, &status, 0);
  forget(p->pid);
  p->pid = 0;
  return status;
}

int api_process_wait(struct api_process *p, int timeout_ms)
{
  for (int waited = 0; p->pid > 0 && waited <= timeout_ms; waited += POLL_MS) {
    int status;
    if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
      forget(p->pid);
      p->pid = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    pause_ms(POLL_MS);
  }
  return -1;
}

const char *api_process_output(const struct api_process *p)
{
  return slurp(p->log);
}

int api_process_run(const char *const *args, const char *const *env, const char **output)
{
  struct api_process p;
  api_process_start(&p, args, env);
  int status = api_process_wait(&p, RUN_TIMEOUT_MS);
  if (status < 0) {
    api_process_kill(&p, SIGKILL);
    cr_assert_fail("eventapi %s did not finish within %d ms", args[0], RUN_TIMEOUT_MS);
  }
  if (output)
    *output = api_process_output(&p);
  return status;
}
