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
 * The listening socket belongs to this module, not to smtpd.py: it is made
 * once by smtp_start() (the kernel picks the port) and handed to each
 * smtpd.py started on it, so a restarted server is on the same port with
 * no moment in which another process could take it. While no smtpd.py
 * runs (after smtp_stop()), connections wait unanswered in its backlog.
 */
#ifndef EVENTAPI_TESTS_SMTP_H
#define EVENTAPI_TESTS_SMTP_H

#include <jansson.h>
#include <stddef.h>

/*
 * Makes a new listening socket on a free port of 127.0.0.1 and starts
 * smtpd.py on it with a new, empty spool directory (mkdtemp under $TMPDIR,
 * or /tmp), stopping and removing any server and spool of before. Fails
 * the test if it does not come up within a minute. Returns the port.
 */
unsigned smtp_start(void);

/* smtp_start() with extra arguments for smtpd.py (see smtp_restart()). */
unsigned smtp_start_with(const char *const *args);

/*
 * Stops the server, if one runs, and starts smtpd.py again on the same
 * listening socket and spool, so messages go on being numbered after the
 * last one stored. args is a NULL-terminated list of extra arguments, or
 * NULL:
 *   { "--fail-first", "2", NULL }   the first 2 DATA are answered 451
 *   { "--reject-rcpt", "550", NULL } every RCPT TO is answered 550
 *   { "--refuse", NULL }            every connection is greeted with 421 and
 *                                    closed: a mail server that is down
 * Returns once the new server accepts; fails the test if it does not come
 * up within a minute.
 */
void smtp_restart(const char *const *args);

/*
 * Sends SIGTERM and waits for the server to exit (SIGKILL after 5 seconds).
 * The socket, the spool and what it holds are kept. Does nothing if none
 * is running.
 */
void smtp_stop(void);

/* smtp_stop(), then closes the socket, removes the spool and frees every
 * json_t handed out. Use in .fini. */
void smtp_cleanup(void);

unsigned smtp_port(void);          /* the port of the listening socket */
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
