/*
 * live.c - live availability: the hub and its streams (see live.h).
 */
#include "events/live.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/timefmt.h"
#include "events/availability.h"
#include "events/signals.h"
#include "http/stream.h"
#include "shortcuts/reply.h"

#define PASS_US (250 * 1000)            /* at most one message an event this often */
#define KEEPALIVE_US (15 * 1000 * 1000) /* a comment line to idle streams this often */
#define RETRY_MS 2000                   /* what a browser waits before reconnecting */

/* Where a change is told to every process on a PostgreSQL database. */
static const char CHANNEL[] = "eventapi_availability";

static const char NO_EVENT[] = "No Event matches the given query.";
static const char KEEPALIVE[] = ": keep-alive\n\n";

/* One open stream: which event, what it was sent last, from where. */
struct watcher {
  struct http_stream *stream;
  int64_t event;
  int64_t version;            /* the version sent last */
  uint64_t client;            /* a hash of the client's address */
  struct watcher *next;
};

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
  bool running, stopping;
  unsigned max, per_client, count;
  struct watcher *watchers;
  int64_t *dirty;             /* events changed since the last pass */
  size_t ndirty, dirty_cap;
  int64_t *unread;            /* events whose reading failed: again at the next beat */
  size_t nunread, unread_cap;
  struct db_listener *listener; /* other processes' changes (PostgreSQL) */
} hub = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static uint64_t
hash_of(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; s && *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Adds event to a set of events (under hub.lock); false when out of memory. */
static bool
add_event(int64_t **set, size_t *n, size_t *cap, int64_t event)
{
  for (size_t i = 0; i < *n; i++)
    if ((*set)[i] == event)
      return true;
  if (*n == *cap) {
    size_t grown_cap = *cap ? 2 * *cap : 64;
    int64_t *grown = realloc(*set, grown_cap * sizeof *grown);
    if (grown == NULL) {
      log_error("live: out of memory marking event %lld", (long long)event);
      return false;
    }
    *set = grown, *cap = grown_cap;
  }
  (*set)[(*n)++] = event;
  return true;
}

/* Marks event changed (under hub.lock). */
static void
mark_locked(int64_t event)
{
  if (add_event(&hub.dirty, &hub.ndirty, &hub.dirty_cap, event))
    pthread_cond_signal(&hub.wake);
}

/* Whether a stream of this process watches event (under hub.lock). */
static bool
watched_locked(int64_t event)
{
  for (const struct watcher *w = hub.watchers; w; w = w->next)
    if (w->event == event)
      return true;
  return false;
}

void
events_live_changed(int64_t event_id)
{
  pthread_mutex_lock(&hub.lock);
  if (hub.running && hub.watchers)
    mark_locked(event_id);
  pthread_mutex_unlock(&hub.lock);
}

static void
changed_after_commit(void *arg)
{
  events_live_changed((int64_t)(intptr_t)arg);
}

int
events_live_changed_on_commit(db_t *db, int64_t event_id)
{
  /* This process hears of it at once; the others (PostgreSQL) by a notice
   * that commits with the change. */
  char payload[24];
  snprintf(payload, sizeof payload, "%lld", (long long)event_id);
  int rc = db_notify(db, CHANNEL, payload);
  return rc < 0 ? rc : db_on_commit(db, changed_after_commit, (void *)(intptr_t)event_id);
}

/* A notice from the listener: the event whose places changed, anywhere. */
static void
heard(const char *payload, void *arg)
{
  (void)arg;
  char *end;
  long long event = strtoll(payload, &end, 10);
  if (end != payload && *end == '\0' && event > 0)
    events_live_changed(event);
}

/* The listener listens again after a gap: every watched event is read
 * again, and whatever changed meanwhile is sent. */
static void
resumed(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&hub.lock);
  for (const struct watcher *w = hub.watchers; w; w = w->next)
    mark_locked(w->event);
  pthread_mutex_unlock(&hub.lock);
}

int
events_live_on_updated(db_t *db, const void *payload)
{
  return events_live_changed_on_commit(db, ((const struct events_touched *)payload)->event_id);
}

int
events_live_on_deleting(db_t *db, const void *payload)
{
  return events_live_changed_on_commit(db, ((const struct events_deletion *)payload)->event->id);
}

/* The message of a's state: "id: <version>\ndata: <json>\n\n", malloc'd. */
static char *
state_message(const struct availability *a, size_t *len)
{
  json_t *body = events_availability_serialize(a);
  char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (data == NULL)
    return NULL;
  struct strbuf out = {0};
  char id[32];
  snprintf(id, sizeof id, "id: %lld\n", (long long)a->version);
  strbuf_puts(&out, id);
  strbuf_puts(&out, "data: ");
  strbuf_puts(&out, data);
  strbuf_puts(&out, "\n\n");
  free(data);
  return strbuf_take(&out, len);
}

/* Drops w from the list (under hub.lock); *link points at it. */
static void
drop_locked(struct watcher **link)
{
  struct watcher *w = *link;
  *link = w->next;
  http_stream_put(w->stream);
  free(w);
  hub.count--;
}

/* Sends event's new state (or its end) to its streams. */
static void
tell(int64_t event)
{
  pthread_mutex_lock(&hub.lock);
  bool watched = watched_locked(event);
  pthread_mutex_unlock(&hub.lock);
  if (!watched)
    return; /* changed on another node, watched on others only */
  arena_t arena = {0};
  struct availability a;
  int rc = events_availability_read_any(event, &arena, &a);
  size_t len = 0;
  char *message = NULL;
  bool deleted = rc == EVENTAPI_ENOTFOUND;
  if (rc == 0) {
    message = state_message(&a, &len);
  } else if (deleted) {
    char text[96];
    int n = snprintf(text, sizeof text, "event: deleted\ndata: {\"event\":%lld}\n\n",
                     (long long)event);
    message = strdup(text);
    len = (size_t)n;
  } else {
    /* The database is unavailable: read again at the next beat (or change). */
    log_warn("live: cannot read event %lld: %s", (long long)event, eventapi_strerror(rc));
    pthread_mutex_lock(&hub.lock);
    add_event(&hub.unread, &hub.nunread, &hub.unread_cap, event);
    pthread_mutex_unlock(&hub.lock);
  }
  arena_free(&arena);
  if (message == NULL)
    return;
  pthread_mutex_lock(&hub.lock);
  for (struct watcher **link = &hub.watchers; *link;) {
    struct watcher *w = *link;
    if (w->event != event || (!deleted && w->version >= a.version)) {
      link = &w->next;
      continue;
    }
    bool sent = http_stream_push(w->stream, message, len, true);
    if (deleted || !sent)
      http_stream_end(w->stream); /* gone, or out of memory: it ends */
    if (!sent || deleted) {
      drop_locked(link);
      continue;
    }
    w->version = a.version;
    link = &w->next;
  }
  pthread_mutex_unlock(&hub.lock);
  free(message);
}

/* A comment line to every idle stream; those gone are dropped. */
static void
keep_alive_locked(void)
{
  for (struct watcher **link = &hub.watchers; *link;) {
    struct watcher *w = *link;
    bool alive = !http_stream_gone(w->stream) &&
                 (http_stream_busy(w->stream) ||
                  http_stream_push(w->stream, KEEPALIVE, sizeof KEEPALIVE - 1, false));
    if (alive) {
      link = &w->next;
    } else {
      http_stream_end(w->stream);
      drop_locked(link);
    }
  }
}

static void *
hub_main(void *arg)
{
  (void)arg;
  int64_t last_pass = 0, last_beat = time_monotonic_us();
  pthread_mutex_lock(&hub.lock);
  while (!hub.stopping) {
    int64_t now = time_monotonic_us();
    if (now - last_beat >= KEEPALIVE_US) {
      keep_alive_locked();
      for (size_t i = 0; i < hub.nunread; i++)
        mark_locked(hub.unread[i]);
      hub.nunread = 0;
      last_beat = now;
    }
    if (hub.ndirty > 0 && now - last_pass >= PASS_US) {
      int64_t *events = hub.dirty;
      size_t count = hub.ndirty;
      hub.dirty = NULL, hub.ndirty = hub.dirty_cap = 0;
      last_pass = now;
      pthread_mutex_unlock(&hub.lock);
      for (size_t i = 0; i < count; i++)
        tell(events[i]);
      free(events);
      pthread_mutex_lock(&hub.lock);
      continue;
    }
    int64_t until = last_beat + KEEPALIVE_US;
    if (hub.ndirty > 0 && last_pass + PASS_US < until)
      until = last_pass + PASS_US;
    /* The condition variable waits on the real clock. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wait_us = until - now;
    if (wait_us < 1000)
      wait_us = 1000;
    ts.tv_sec += wait_us / 1000000;
    ts.tv_nsec += (wait_us % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&hub.wake, &hub.lock, &ts);
  }
  /* Stopping: every stream ends. */
  while (hub.watchers) {
    http_stream_end(hub.watchers->stream);
    drop_locked(&hub.watchers);
  }
  pthread_mutex_unlock(&hub.lock);
  return NULL;
}

int
events_live_start(const struct config *cfg)
{
  pthread_mutex_lock(&hub.lock);
  hub.max = cfg->streams_max;
  hub.per_client = cfg->streams_per_client;
  hub.stopping = false;
  int rc = pthread_create(&hub.thread, NULL, hub_main, NULL);
  hub.running = rc == 0;
  pthread_mutex_unlock(&hub.lock);
  if (rc != 0)
    return EVENTAPI_ENOMEM;
  static const struct db_listen_calls calls = {.heard = heard, .resumed = resumed};
  struct db_listener *listener;
  if ((rc = db_listen(CHANNEL, &calls, &listener)) < 0) {
    events_live_stop();
    return rc;
  }
  pthread_mutex_lock(&hub.lock);
  hub.listener = listener;
  pthread_mutex_unlock(&hub.lock);
  return 0;
}

void
events_live_stop(void)
{
  pthread_mutex_lock(&hub.lock);
  struct db_listener *listener = hub.listener;
  hub.listener = NULL;
  pthread_mutex_unlock(&hub.lock);
  db_listen_stop(listener); /* before the hub: it tells the hub */
  pthread_mutex_lock(&hub.lock);
  bool running = hub.running;
  hub.stopping = true;
  pthread_cond_signal(&hub.wake);
  pthread_mutex_unlock(&hub.lock);
  if (running)
    pthread_join(hub.thread, NULL);
  pthread_mutex_lock(&hub.lock);
  hub.running = false;
  free(hub.dirty);
  hub.dirty = NULL, hub.ndirty = hub.dirty_cap = 0;
  free(hub.unread);
  hub.unread = NULL, hub.nunread = hub.unread_cap = 0;
  pthread_mutex_unlock(&hub.lock);
}

/* Whether one more stream from client fits (under hub.lock); streams
 * whose connections are gone are dropped first, and make room. */
static bool
admit_locked(uint64_t client)
{
  if (!hub.running || hub.stopping)
    return false;
  for (struct watcher **link = &hub.watchers; *link;) {
    if (http_stream_gone((*link)->stream))
      drop_locked(link);
    else
      link = &(*link)->next;
  }
  if (hub.count >= hub.max)
    return false;
  unsigned mine = 0;
  for (const struct watcher *w = hub.watchers; w; w = w->next)
    mine += w->client == client;
  return mine < hub.per_client;
}

/* A number from a Last-Event-ID header; -1 for none or another. */
static int64_t
last_event_id(struct http_request *req)
{
  const char *text = http_header(req, "Last-Event-ID");
  if (text == NULL || *text == '\0')
    return -1;
  char *end;
  long long n = strtoll(text, &end, 10);
  return *end == '\0' && n >= 0 ? n : -1;
}

void
events_availability_stream_view(struct http_request *req)
{
  struct availability a;
  int rc = events_availability_read(req->ids[0], req->user, &req->arena, &a);
  if (!object_or_404(req, rc, NO_EVENT))
    return;
  uint64_t client = hash_of(http_client_ip(req));
  struct watcher *w = calloc(1, sizeof *w);
  pthread_mutex_lock(&hub.lock);
  bool admitted = w && admit_locked(client);
  if (admitted)
    hub.count++; /* held for it while the answer is made */
  pthread_mutex_unlock(&hub.lock);
  if (!admitted) {
    free(w);
    http_add_header(req, "Retry-After", "5");
    http_reply_detail(req, 503, "Too many live streams; try again later.");
    return;
  }
  http_add_header(req, "Cache-Control", "no-cache");
  http_add_header(req, "X-Accel-Buffering", "no"); /* a proxy's buffer would hold messages back */
  struct http_stream *s = http_reply_stream(req, "text/event-stream; charset=utf-8");
  if (s == NULL) {
    pthread_mutex_lock(&hub.lock);
    hub.count--;
    pthread_mutex_unlock(&hub.lock);
    free(w);
    return;
  }
  /* The current state first, unless the client has it (Last-Event-ID):
   * each message is a whole state, so nothing between is missed. */
  char retry[32];
  int n = snprintf(retry, sizeof retry, "retry: %d\n\n", RETRY_MS);
  http_stream_push(s, retry, (size_t)n, false);
  if (last_event_id(req) != a.version) {
    size_t len;
    char *message = state_message(&a, &len);
    if (message)
      http_stream_push(s, message, len, false);
    free(message);
  }
  *w = (struct watcher){.stream = s, .event = a.event, .version = a.version, .client = client};
  pthread_mutex_lock(&hub.lock);
  if (!hub.running || hub.stopping) {
    /* The hub stopped meanwhile: the stream ends now. */
    http_stream_end(s);
    w->next = NULL;
    hub.watchers = w; /* a list of one, for drop_locked */
    drop_locked(&hub.watchers);
    pthread_mutex_unlock(&hub.lock);
    return;
  }
  w->next = hub.watchers;
  hub.watchers = w;
  /* A change that committed after the read, and was passed before this
   * stream was listed, is read again. */
  mark_locked(a.event);
  pthread_mutex_unlock(&hub.lock);
}
