/*
 * process.h - real `eventapi` processes for the tests that need more than
 * the in-process server: a node killed with SIGKILL, a standalone worker,
 * several workers or nodes on one database, `eventapi outbox`.
 *
 * A child inherits the test's environment, which api_server_start_with()
 * has set (SECRET_KEY, DATABASE_URL, EMAIL_URL, ...), so it shares the
 * in-process server's database and secret; env overrides single variables.
 * Its stdout and stderr go to a log file in api_server_dir(). The binary
 * is $EVENTAPI_BIN, which meson sets for the API tests (./eventapi when
 * unset, for a test run by hand from the build directory). A child never
 * outlives the test: it is killed at exit, and by the kernel should the
 * test process die (PR_SET_PDEATHSIG).
 */
#ifndef EVENTAPI_TESTS_PROCESS_H
#define EVENTAPI_TESTS_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

struct api_process {
  pid_t pid;        /* 0: not running */
  unsigned port;    /* `serve`: the port it listens on */
  char log[128];    /* its output */
};

/*
 * Starts `eventapi args...` (args NULL-terminated, without the program
 * name) with env (NULL-terminated name, value pairs, or NULL) added. For
 * `serve`, waits until it listens (PORT=0 by default: a free port) and sets
 * p->port. Fails the test if it does not come up within a minute.
 */
void api_process_start(struct api_process *p, const char *const *args, const char *const *env);

/* Sends sig (SIGKILL, SIGTERM) and waits for the exit. Returns the wait status. */
int api_process_kill(struct api_process *p, int sig);

/* Waits up to timeout_ms for the exit; its exit status, or -1 on timeout. */
int api_process_wait(struct api_process *p, int timeout_ms);

/* Everything the process wrote so far (harness-owned). */
const char *api_process_output(const struct api_process *p);

/*
 * The test's environment with env applied (NULL-terminated name, value
 * pairs; a NULL value removes the name; a name given twice, the last counts),
 * as execve() takes it, built before
 * a fork: the child of a process with threads (Criterion runs one beside
 * each test) may call only async-signal-safe functions until it execs, and
 * setenv() allocates. Harness-owned.
 */
char *const *api_environ(const char *const *env);

/* Runs `eventapi args...` to the end (at most 2 minutes); its exit status, output in *output. */
int api_process_run(const char *const *args, const char *const *env, const char **output);

#endif
