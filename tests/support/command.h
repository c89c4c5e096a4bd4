/*
 * command.h - `eventapi COMMAND ...` run to its end as a person at a shell
 * runs it, for the tests of the command line: its exit status, and what it
 * wrote on stdout and on stderr, apart.
 *
 * The child inherits the test's environment, which api_server_start() has
 * set (SECRET_KEY, DATABASE_URL, ...), so it works on the in-process
 * server's database; env adds or overrides single variables (a NULL value
 * unsets one). The binary is $EVENTAPI_BIN, as for process.h. A command
 * that runs longer than 60 seconds is killed and fails the test.
 */
#ifndef EVENTAPI_TESTS_COMMAND_H
#define EVENTAPI_TESTS_COMMAND_H

struct api_command {
  int status;      /* the exit status; 128 + the signal when killed */
  const char *out; /* everything written to stdout (harness-owned) */
  const char *err; /* everything written to stderr (harness-owned) */
};

/*
 * Runs `eventapi args...` (NULL-terminated, without the program's name) in a
 * session of its own, with stdin at end of file and no controlling
 * terminal, so that nothing can be asked of it.
 */
struct api_command api_command(const char *const *args, const char *const *env);

/*
 * Runs it on a pseudo-terminal of its own, as from an interactive shell:
 * script is a NULL-terminated list of pairs, each a text the terminal must
 * show and the line to type once it has shown (sent with a newline; NULL
 * to type nothing). The answer's out is everything the terminal showed
 * (prompts, echo, stdout and stderr alike); err is "". Fails the test when
 * a text does not show.
 */
struct api_command api_command_tty(const char *const *args, const char *const *env,
                                   const char *const *script);

#endif
