/*
 * smtp.h - a real SMTP server for the tests that send mail: smtpd.py (a
 * capturing server on Python's aiosmtpd) run as a child process on
 * 127.0.0.1, and what it received, decoded by Python's email package, as
 * JSON. A test points EMAIL_URL at smtp_url() and reads the messages back:
 *
 *   static void start(void)
 *   {
 *     smtp_start();
 *     const char *env[] = { "EMAIL_URL", smtp_url(), NULL };
 *     api_server_start_with(env);
 *   }
 *   static void stop(void)
 *   {
 *     api_server_stop();
 *     smtp_cleanup();
 *   }
 *   TestSuite(mail, .init = start, .fini = stop);
 *
 *   json_t *messages = smtp_wait(1, 5000);
 *   cr_assert_eq(json_array_size(messages), 1);
 *   ...json_string_value(json_object_get(json_array_get(messages, 0),
 *                                        "subject"))...
 *
 * Each message is an object with the keys mail_from, rcpt_tos, raw, subject,
 * from, to, message_id, date, auto_submitted, content_type, parts, text,
 * html, header_names, defects and raw_ok; smtpd.py's opening comment says
 * what each holds.
 *
 * Ownership: every json_t these functions return is owned by this module and
 * released by smtp_cleanup() (or at exit), so a test never json_decref's it.
 * This file needs no other part of the harness (only Criterion, jansson and
 * libc), so unit tests can use it alone.
 *
 * smtpd.py is found at $EVENTAPI_SOURCE_ROOT/tests/support/smtpd.py when
 * that variable is set, else next to this file as __FILE__ names it: an
 * absolute path when compiled by hand, "../tests/support/smtp.c" under meson,
 * which resolves from the build directory that meson test runs tests in. It
 * runs under /usr/bin/python3, which has Debian's python3-aiosmtpd.
 *
 * Criterion runs each test in its own process, so the module keeps one
 * server in globals and is not thread-safe: call it from the test's main
 * thread (.init, the test body, .fini). The server is stopped by smtp_stop()
 * or smtp_cleanup(), at exit, and, should the test process die, by the
 * kernel (PR_SET_PDEATHSIG, which follows the thread that started it).
 *
 * smtp_start_args() on the port of a stopped server can fail if another
 * process took the port in between; it is rare, as Linux hands out free
 * ports in turn.
 */
#ifndef EVENTAPI_TESTS_SMTP_H
#define EVENTAPI_TESTS_SMTP_H

#include <jansson.h>
#include <stddef.h>

/*
 * Starts smtpd.py on a free port of 127.0.0.1 with a new, empty spool
 * directory (mkdtemp under $TMPDIR, or /tmp). Fails the test if it is not
 * listening within 10 seconds. Returns the port.
 */
unsigned smtp_start(void);

/*
 * Starts smtpd.py on port (0 for a free one), keeping the spool of the
 * server before, so messages go on being numbered after the last one stored
 * (a new spool is made if there is none). Stops a server still running
 * first. args is a NULL-terminated list of extra arguments, or NULL:
 *   { "--fail-first", "2", NULL }   the first 2 DATA are answered 451
 *   { "--reject-rcpt", "550", NULL } every RCPT TO is answered 550
 * Fails the test if the server is not listening on port within 10 seconds.
 */
unsigned smtp_start_args(unsigned port, const char *const *args);

/*
 * Sends SIGTERM and waits for the server to exit (SIGKILL after 5 seconds).
 * The spool and what it holds are kept. Does nothing if none is running.
 */
void smtp_stop(void);

/* smtp_stop(), then removes the spool and frees every json_t handed out.
 * Use in .fini. */
void smtp_cleanup(void);

unsigned smtp_port(void);          /* the port of the server last started */
const char *smtp_url(void);        /* "smtp://127.0.0.1:<port>", static */
size_t smtp_count(void);           /* messages stored so far */

/*
 * Polls every 20 ms until at least n messages are stored or timeout_ms
 * passes, then returns an array of every message stored, in order of
 * arrival (it may hold fewer than n: check its size). Owned by this module.
 */
json_t *smtp_wait(size_t n, int timeout_ms);

/* Every message stored so far, in order of arrival. Owned by this module. */
json_t *smtp_messages(void);

#endif
