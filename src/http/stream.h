/*
 * stream.h - answers whose body comes as it is made: Server-Sent Events
 * (text/event-stream).
 *
 * A view answers with http_reply_stream() and keeps the stream. The body is
 * read from the stream's queue as the connection can take it; while the
 * queue is empty the connection is parked (suspended in libmicrohttpd: it
 * holds no thread and no timeout runs) until http_stream_push() or
 * http_stream_end() wakes it. A parked connection whose client went away
 * is found at the next push, when writing to it fails: a stream that gets
 * a push now and then (a keep-alive comment) learns of it within that time.
 *
 * A stream is counted: the view's reference and the connection's. The
 * connection's goes when libmicrohttpd frees the answer (the client gone,
 * the body ended, or the server stopping); the holder's with
 * http_stream_put(). Any thread may push, end and put.
 */
#ifndef EVENTAPI_HTTP_STREAM_H
#define EVENTAPI_HTTP_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

struct http_stream;

/*
 * Answers 200 with content_type and a streamed body (chunked), with the
 * headers added before. Returns the stream, a reference for the caller, or
 * NULL out of memory (having answered 500).
 */
struct http_stream *http_reply_stream(struct http_request *req, const char *content_type);

/*
 * Queues len bytes (copied) and wakes the connection. replace: what is
 * queued and not yet begun is dropped first (a newer state supersedes an
 * older one that a slow client has not started reading). False when the
 * connection is gone (or out of memory): drop the stream.
 */
bool http_stream_push(struct http_stream *s, const char *bytes, size_t len, bool replace);

/* Whether anything is queued and unsent. */
bool http_stream_busy(struct http_stream *s);

/* Ends the body once what is queued has gone. */
void http_stream_end(struct http_stream *s);

/* Whether the connection is gone. */
bool http_stream_gone(struct http_stream *s);

/* Drops the caller's reference. */
void http_stream_put(struct http_stream *s);

/* The server's side (server.c): the response of req's stream, and every
 * stream ended (as the server stops, so none stays parked). */
void *http_stream_response(struct http_request *req);
void http_stream_unqueued(struct http_request *req); /* req is freed, its stream never sent */
void http_streams_end_all(void);

/* Open streams of this process. */
unsigned http_streams_open(void);

#endif
