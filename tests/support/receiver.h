/*
 * receiver.h - a real HTTP receiver for the tests that send webhooks:
 * webhook_receiver.py run as a child process on 127.0.0.1, which records
 * every request it gets and checks each signature with the Python and
 * JavaScript examples of docs/api.md, run as they are written there.
 *
 *   static void start(void)
 *   {
 *     receiver_start();
 *     const char *env[] = {"WEBHOOK_ALLOW_HTTP", "true",
 *                          "WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8", NULL};
 *     api_server_start_with(env);
 *   }
 *   static void stop(void)
 *   {
 *     api_server_stop();
 *     receiver_cleanup();
 *   }
 *
 *   receiver_secrets("/crm", secret);       the secret the test was shown
 *   receiver_answer("/crm", "{'status':500}");  first 500, then 200
 *   ...webhook to receiver_url("/crm"), delivered...
 *   json_t *got = receiver_requests();      one object per request
 *
 * Each request is an object with the keys method, path, headers (names in
 * lower case), body, answered, python and node (per secret given for its
 * path, whether the documented example accepts it; node is null without
 * Node.js) and errors; webhook_receiver.py's opening comment says more.
 *
 * Ownership: every json_t handed out is owned by this module and released
 * by receiver_cleanup(). Not thread-safe: call it from the test's main
 * thread. The receiver is stopped by receiver_cleanup(), at exit, and by
 * the kernel should the test process die.
 *
 * webhook_receiver.py and docs/api.md are found under
 * $EVENTAPI_SOURCE_ROOT when that variable is set, else from this file's
 * folder as __FILE__ names it (as smtp.h finds smtpd.py).
 */
#ifndef EVENTAPI_TESTS_RECEIVER_H
#define EVENTAPI_TESTS_RECEIVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Starts webhook_receiver.py on a free port of 127.0.0.1 with a new, empty
 * spool, stopping any receiver of before. Fails the test if it does not
 * come up within a minute. Returns the port.
 */
unsigned receiver_start(void);

/* Stops the receiver and removes its spool; frees what was handed out. */
void receiver_cleanup(void);

/* "http://127.0.0.1:<port>" + path (harness memory of this module). */
const char *receiver_url(const char *path);

/*
 * The secret(s) the receiver checks the requests to path with, replacing
 * those given before: secrets is a NULL-terminated list.
 */
void receiver_secrets_list(const char *path, const char *const *secrets);

/* One secret for path. */
void receiver_secrets(const char *path, const char *secret);

/*
 * Queues answer (single-quoted JSON, as api_json() takes it) for the
 * requests to path: {'status':500}, {'status':302, 'location':'/elsewhere'},
 * {'hang':5}, {'close':true}. Each request takes the oldest answer not
 * taken yet; one that finds none gets 200.
 */
void receiver_answer(const char *path, const char *answer);

/*
 * Tells the receiver the server's clock (Unix seconds), for the examples'
 * check of webhook-timestamp: call it after moving the test clock.
 */
void receiver_clock(long long server_now);

/* Requests received so far. */
size_t receiver_count(void);

/* Every request received so far, in order of arrival. */
json_t *receiver_requests(void);

/* The requests received so far to path, in order. */
json_t *receiver_requests_to(const char *path);

/*
 * Polls until at least n requests came or timeout_ms passed; then every
 * request so far (check its size).
 */
json_t *receiver_wait(size_t n, int timeout_ms);

#endif
