/*
 * sse.h - a Server-Sent Events stream read the way a test needs: from a
 * socket of the test's own, a byte at a time as it comes, until what is
 * waited for arrives. Every wait has a bound (SSE_WAIT_MS) that is never
 * reached when all is well.
 */
#ifndef EVENTAPI_TESTS_SSE_H
#define EVENTAPI_TESTS_SSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SSE_WAIT_MS 20000

/* An open stream: its socket and what it has sent so far. */
struct sse {
  int fd;
  char text[65536];
  size_t len;
  size_t read_to;   /* sse_next() reads from here */
};

/*
 * GET /api/events/{event}/availability/stream on a new connection to port
 * (0: the test's server), with the token (NULL: none) and Last-Event-ID
 * (NULL: none). Harness-owned; the test fails when it cannot connect.
 */
struct sse *sse_open(unsigned port, long long event, const char *token, const char *last_id);

/* A stream over fd, a connection the caller made and sent its request on. */
struct sse *sse_adopt(int fd);

/* Closes its connection (as a client that goes away). */
void sse_close(struct sse *s);

/* Reads what came within timeout_ms; false at the end of the connection. */
bool sse_read_more(struct sse *s, int timeout_ms);

/* Waits until the stream has sent needle (anywhere from its start). */
void sse_wait_for(struct sse *s, const char *needle);

/*
 * The next message's "data:" JSON (harness-owned) after the last one read,
 * and its id in *id (-1: none); waits for it.
 */
json_t *sse_next(struct sse *s, long long *id);

#endif
