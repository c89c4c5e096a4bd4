/*
 * mailer.h - for the unit tests of the mailer and its transports
 * (delivery/mailer): each test with its temporary folder (tmpdir.h) and
 * the delivery layer's global state, mailers opened or the test failed,
 * and messages as the renderer writes them.
 *
 *   TestSuite(mail_file, .init = mailer_setup, .fini = mailer_teardown);
 */
#ifndef EVENTAPI_TESTS_MAILER_H
#define EVENTAPI_TESTS_MAILER_H

#include <stddef.h>

#include "delivery/mailer.h"

/* Why the last mailer_open_ok() or mailer_send_text() failed. */
extern char mailer_err[512];

/* tmpdir_create() and delivery_global_init(); fails the test if either
 * fails. Use as .init, or call from one. */
void mailer_setup(void);

/* delivery_global_cleanup() and tmpdir_remove(). Use as .fini. */
void mailer_teardown(void);

/* The mailer of url (as EMAIL_URL), or the test fails with the reason.
 * The caller closes it. */
struct delivery_mailer *mailer_open_ok(const char *url);

/* Sends text (NUL-terminated) from noreply@example.com to rcpt through m,
 * with hint: delivery_mailer_send()'s result, its error in mailer_err. */
int mailer_send_text(struct delivery_mailer *m, const char *rcpt, const char *text,
                     const char *hint);

/*
 * A message with subject and body as the renderer writes them: CRLF line
 * ends, from eventapi <noreply@example.com> to bob@example.com, Message-ID
 * <m1@example.com>. The caller frees it.
 */
char *mailer_message(const char *subject, const char *body);

#endif
