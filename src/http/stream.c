/*
 * stream.c - streamed answers (see stream.h).
 */
#include "http/stream.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct http_stream {
  pthread_mutex_t lock;
  struct MHD_Connection *connection;
  int refs;                   /* under lock */
  char *cur;                  /* being sent, from off */
  size_t cur_len, off;
  char *next;                 /* queued after it */
  size_t next_len;
  bool parked;                /* the connection is suspended, waiting for bytes */
  bool ended;                 /* no more bytes will come */
  bool gone;                  /* libmicrohttpd freed the answer */
  struct http_stream *prev_open, *next_open; /* every stream, for the end */
};

/* Every stream whose answer libmicrohttpd has not freed yet. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_stream *open_streams;
static atomic_uint open_count;

static void
stream_unref(struct http_stream *s)
{
  pthread_mutex_lock(&s->lock);
  bool last = --s->refs == 0;
  pthread_mutex_unlock(&s->lock);
  if (!last)
    return;
  free(s->cur);
  free(s->next);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/*
 * libmicrohttpd's content reader, on the connection's thread: the queued
 * bytes, the end, or, with none, the connection parked (suspending is
 * allowed here) and 0; a push resumes it and it reads again.
 */
static ssize_t
read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
  (void)pos;
  struct http_stream *s = cls;
  pthread_mutex_lock(&s->lock);
  ssize_t n = 0;
  if (s->cur == NULL && s->next != NULL) {
    s->cur = s->next, s->cur_len = s->next_len, s->off = 0;
    s->next = NULL, s->next_len = 0;
  }
  if (s->cur != NULL) {
    size_t left = s->cur_len - s->off;
    size_t take = left < max ? left : max;
    memcpy(buf, s->cur + s->off, take);
    s->off += take;
    if (s->off == s->cur_len) {
      free(s->cur);
      s->cur = NULL, s->cur_len = s->off = 0;
    }
    n = (ssize_t)take;
  } else if (s->ended) {
    n = MHD_CONTENT_READER_END_OF_STREAM;
  } else {
    /* Under the lock: a push sees parked only once it is so. */
    s->parked = true;
    MHD_suspend_connection(s->connection);
  }
  pthread_mutex_unlock(&s->lock);
  return n;
}

/* libmicrohttpd frees the answer: the connection's reference goes. */
static void
free_stream(void *cls)
{
  struct http_stream *s = cls;
  pthread_mutex_lock(&open_lock);
  if (s->prev_open)
    s->prev_open->next_open = s->next_open;
  else
    open_streams = s->next_open;
  if (s->next_open)
    s->next_open->prev_open = s->prev_open;
  pthread_mutex_unlock(&open_lock);
  atomic_fetch_sub(&open_count, 1);
  pthread_mutex_lock(&s->lock);
  s->gone = true;
  s->parked = false;
  pthread_mutex_unlock(&s->lock);
  stream_unref(s);
}

struct http_stream *
http_reply_stream(struct http_request *req, const char *content_type)
{
  struct http_stream *s = calloc(1, sizeof *s);
  if (s == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
    free(s);
    http_reply_internal(req, "out of memory opening a stream");
    return NULL;
  }
  s->connection = req->connection;
  s->refs = 2; /* the caller's, and the answer's (free_stream) */
  req->stream = s;
  req->status = 200;
  req->content_type = content_type;
  req->replied = true;
  pthread_mutex_lock(&open_lock);
  s->next_open = open_streams;
  if (open_streams)
    open_streams->prev_open = s;
  open_streams = s;
  pthread_mutex_unlock(&open_lock);
  atomic_fetch_add(&open_count, 1);
  return s;
}

void *
http_stream_response(struct http_request *req)
{
  struct http_stream *s = req->stream;
  /* A chunked body is read straight into the connection's buffer; the
   * response's own block (allocated, zeroed, for every stream) goes
   * unused, so it is kept small. */
  struct MHD_Response *response =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256, read_stream, s, free_stream);
  if (response == NULL) {
    /* Never handed over: the answer's reference goes here. */
    free_stream(s);
  }
  req->stream = NULL;
  return response;
}

void
http_stream_unqueued(struct http_request *req)
{
  free_stream(req->stream);
  req->stream = NULL;
}

/* Wakes s's connection if it is parked; call without s->lock held. */
static void
wake(struct http_stream *s, bool parked)
{
  if (parked)
    MHD_resume_connection(s->connection);
}

bool
http_stream_push(struct http_stream *s, const char *bytes, size_t len, bool replace)
{
  char *copy = malloc(len ? len : 1);
  if (copy == NULL)
    return false;
  memcpy(copy, bytes, len);
  pthread_mutex_lock(&s->lock);
  if (s->gone || s->ended) {
    pthread_mutex_unlock(&s->lock);
    free(copy);
    return false;
  }
  bool ok = true;
  if (replace && s->cur != NULL && s->off == 0) {
    free(s->cur);
    free(s->next);
    s->cur = copy, s->cur_len = len, s->next = NULL, s->next_len = 0;
  } else if (s->cur == NULL && s->next == NULL) {
    s->cur = copy, s->cur_len = len, s->off = 0;
  } else if (replace || s->next == NULL) {
    free(s->next);
    s->next = copy, s->next_len = len;
  } else {
    char *joined = realloc(s->next, s->next_len + len);
    if (joined == NULL) {
      ok = false;
      free(copy);
    } else {
      memcpy(joined + s->next_len, copy, len);
      s->next = joined, s->next_len += len;
      free(copy);
    }
  }
  bool parked = s->parked;
  s->parked = false;
  pthread_mutex_unlock(&s->lock);
  wake(s, parked);
  return ok;
}

bool
http_stream_busy(struct http_stream *s)
{
  pthread_mutex_lock(&s->lock);
  bool busy = s->cur != NULL || s->next != NULL;
  pthread_mutex_unlock(&s->lock);
  return busy;
}

void
http_stream_end(struct http_stream *s)
{
  pthread_mutex_lock(&s->lock);
  s->ended = true;
  bool parked = s->parked && !s->gone;
  s->parked = false;
  pthread_mutex_unlock(&s->lock);
  wake(s, parked);
}

bool
http_stream_gone(struct http_stream *s)
{
  pthread_mutex_lock(&s->lock);
  bool gone = s->gone;
  pthread_mutex_unlock(&s->lock);
  return gone;
}

void
http_stream_put(struct http_stream *s)
{
  if (s)
    stream_unref(s);
}

void
http_streams_end_all(void)
{
  /* Each held by a reference of its own while it is ended outside
   * open_lock: libmicrohttpd may free an answer (which takes open_lock)
   * while it holds locks of its own that resuming takes. */
  pthread_mutex_lock(&open_lock);
  size_t count = 0;
  for (struct http_stream *s = open_streams; s; s = s->next_open)
    count++;
  struct http_stream **all = calloc(count ? count : 1, sizeof *all);
  size_t n = 0;
  for (struct http_stream *s = open_streams; all && s; s = s->next_open) {
    pthread_mutex_lock(&s->lock);
    s->refs++;
    pthread_mutex_unlock(&s->lock);
    all[n++] = s;
  }
  pthread_mutex_unlock(&open_lock);
  if (all == NULL) {
    log_error("http: out of memory ending %zu streams", count);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    http_stream_end(all[i]);
    stream_unref(all[i]);
  }
  free(all);
}

unsigned
http_streams_open(void)
{
  return atomic_load(&open_count);
}
