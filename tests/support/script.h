/*
 * script.h - a Python program of the tests (smtpd.py, webhook_receiver.py)
 * run as a child process of the test: what smtp.c and receiver.c share.
 *
 * The program is found in the source tree, gets a spool folder of its
 * own, writes the file "port" there once it serves, and stores what it
 * receives in the spool as "<number>.json" files, which script_records()
 * reads back in order. It dies with the test (PR_SET_PDEATHSIG) and is
 * stopped with SIGTERM, then SIGKILL after 5 seconds.
 *
 *   static struct script s = {.name = "smtpd.py", .cleanup = smtp_cleanup};
 *   script_spool(&s, "eventapi-smtp");
 *   script_path(&s, "tests/support/smtpd.py", path);
 *   script_start(&s, argv, -1);
 *   unsigned port = script_wait_port(&s);
 *   ...
 *   script_stop(&s);
 *   script_remove_spool(&s);
 */
#ifndef EVENTAPI_TESTS_SCRIPT_H
#define EVENTAPI_TESTS_SCRIPT_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define SCRIPT_PYTHON "/usr/bin/python3"
#define SCRIPT_POLL_MS 20

struct script {
  const char *name;       /* "smtpd.py", for messages */
  void (*cleanup)(void);  /* the owner module's, run before a failed start fails the test */
  pid_t pid;              /* running, or 0 */
  pid_t owner;            /* the process that started it */
  char dir[PATH_MAX];     /* the spool, or "" */
};

/* Monotonic milliseconds, and a sleep that resumes after signals. */
long long script_now_ms(void);
void script_sleep_ms(long ms);

/* Runs s->cleanup, then fails the test with the message. Criterion skips
 * .fini when .init fails, so a failed start cleans up first. */
_Noreturn void script_fail(const struct script *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The absolute path of relative (to the source tree's root:
 * $EVENTAPI_SOURCE_ROOT, or found from this file's path) in path. */
void script_path(const struct script *s, const char *relative, char path[PATH_MAX]);

/* Makes s->dir a new folder named prefix-XXXXXX under $TMPDIR (or /tmp),
 * unless s has one. */
void script_spool(struct script *s, const char *prefix);

/* Removes s->dir and all in it. */
void script_remove_spool(struct script *s);

/*
 * Starts argv (argv[0] a path) as a child of this process that dies with
 * it, with stdin from /dev/null, default signal handling, and no
 * descriptor of the test's but listening (when not -1), as descriptor 3.
 * The port file of a run before is removed first.
 */
void script_start(struct script *s, char *const *argv, int listening);

/* Waits until s writes its port file (failing the test if it exits or
 * takes a minute); the port. */
unsigned script_wait_port(struct script *s);

/* Stops s (SIGTERM; SIGKILL after 5 s). Its wait status, or -1 when it
 * was not running. */
int script_stop(struct script *s);

/* The number of records in the spool, and all of them in order (a new
 * array the caller owns; a record that is not JSON fails the test). */
size_t script_count(const struct script *s);
json_t *script_records(const struct script *s);

/* Arrays handed out by a module, released together. */
struct script_kept {
  json_t **items;
  size_t n, cap;
};

/* Keeps json until script_kept_free(); returns it. */
json_t *script_keep(struct script_kept *k, json_t *json);
void script_kept_free(struct script_kept *k);

#endif
