/*
 * worker.c - the outbox worker (see worker.h).
 */
#include "delivery/worker.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "delivery/channel.h"
#include "delivery/outbox.h"

#define RECORD_TRIES 20  /* recording an outcome through a busy database */
#define RECORD_PAUSE_MS 50
#define TICK_US 1000000  /* how often the ticks run, unless one has more */
#define TICKS_MAX 4
#define PRUNE_US (60 * TICK_US) /* how often history past its retention goes, unless more is left */
#define PRUNE_BATCH 500         /* the most messages one unit of work deletes */
#define BATCH_MAX 32            /* the most messages one claim takes */
#define FLUSH_US 50000          /* the longest an outcome waits for the batch's next */
/* A claim outlasts one send (the channel's timeout) twice over, with a
 * margin: a live worker never loses its message. */
#define LEASE_MARGIN_US (5 * SECOND_US)
#define SECOND_US INT64_C(1000000)

/* Every channel a worker sends; each claims only messages of its own. */
static const struct delivery_channel *const channels[] = {
  &delivery_mail_channel,
  &delivery_webhook_channel,
};
#define NCHANNELS (sizeof channels / sizeof channels[0])

struct delivery_worker {
  const struct config *cfg;
  pthread_t thread;
  volatile sig_atomic_t stop;
};

static delivery_tick_fn ticks[TICKS_MAX];
static size_t nticks;

void
delivery_on_tick(delivery_tick_fn tick)
{
  for (size_t i = 0; i < nticks; i++)
    if (ticks[i] == tick)
      return;
  if (nticks < TICKS_MAX)
    ticks[nticks++] = tick;
  else
    log_error("delivery: too many ticks; one is left out");
}

int
delivery_global_init(void)
{
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : EVENTAPI_EINTERNAL;
}

void
delivery_global_cleanup(void)
{
  curl_global_cleanup();
}

int
delivery_check_config(const struct config *cfg, char *err, size_t errlen)
{
  for (size_t i = 0; i < NCHANNELS; i++) {
    int rc = channels[i]->check(cfg, err, errlen);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* ---- waking ------------------------------------------------------------- */

static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static unsigned long wake_count;
static unsigned long channel_wakes[NCHANNELS]; /* the wakes each channel had */

const char *
delivery_channel_named(const char *name)
{
  for (size_t i = 0; name && i < NCHANNELS; i++)
    if (strcmp(channels[i]->name, name) == 0)
      return channels[i]->name;
  return NULL;
}

void
delivery_wake_channel(const char *channel)
{
  pthread_mutex_lock(&wake_lock);
  wake_count++;
  for (size_t i = 0; i < NCHANNELS; i++)
    if (channel == NULL || strcmp(channels[i]->name, channel) == 0)
      channel_wakes[i]++;
  pthread_cond_broadcast(&wake_cond);
  pthread_mutex_unlock(&wake_lock);
}

void
delivery_wake(void)
{
  delivery_wake_channel(NULL);
}

static unsigned long
wakes_of(size_t channel)
{
  pthread_mutex_lock(&wake_lock);
  unsigned long wakes = channel_wakes[channel];
  pthread_mutex_unlock(&wake_lock);
  return wakes;
}

/* Sleeps up to ms, or until delivery_wake() after *seen. */
static void
wait_for_work(int64_t ms, unsigned long *seen)
{
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += (time_t)(ms / 1000);
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&wake_lock);
  while (wake_count == *seen) {
    if (pthread_cond_timedwait(&wake_cond, &wake_lock, &until) != 0)
      break;
  }
  *seen = wake_count;
  pthread_mutex_unlock(&wake_lock);
}

static void
pause_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- a batch of messages ------------------------------------------------- */

/*
 * A worker claims up to BATCH_MAX due messages of a channel in one unit of
 * work, sends them one after another, and records their outcomes together
 * in another: two units (two waits for the writer and its fsync) for the
 * batch, not two for each message, so a rush's mail leaves as fast as the
 * transport takes it. Outcomes wait for the batch's end, or FLUSH_US at
 * most (a slow transport): a worker killed in mid-batch sends again only
 * what it sent in its last moments, as one killed in mid-send would. The
 * claim holds the batch for one lease (twice the channel's timeout and
 * LEASE_MARGIN_US); a send may start while what is left of it covers one
 * send and the margin, else the outcomes so far are recorded and the
 * claims of the rest renewed in one unit first, so a message is never
 * sent under a claim that may run out before its outcome is recorded. A
 * message whose claim is no longer current (another worker took it over)
 * is not sent. A worker told to stop gives back what it has not sent, its
 * tries uncounted.
 */

/* What became of a claimed message. */
enum fate {
  UNSENT,   /* claimed, not tried yet */
  TRIED,    /* tried; its outcome waits to be recorded */
  SETTLED,  /* its outcome recorded (or given up on: its claim runs out) */
  LOST,     /* no longer this worker's, or given back: not to be sent */
};

struct batch {
  const struct delivery_channel *channel;
  arena_t arena;
  struct delivery_message *m; /* claimed, in due order */
  size_t n;
  int64_t until;              /* when their claims run out */
  int64_t oldest;             /* when the oldest outcome not recorded came; 0: none */
  enum fate fate[BATCH_MAX];
  int64_t at[BATCH_MAX];      /* when each try ended */
  struct delivery_result result[BATCH_MAX];
  struct delivery_outcome outcome[BATCH_MAX];
  /* What the next flush does with the unsent: renew their claims until
   * renew_until (> 0), or give them back (release). */
  int64_t renew_until;
  bool release;
  int answer[BATCH_MAX];      /* each row's answer in the flush's last run */
};

/* A claim, as a unit of work. */
struct claim {
  const char *channel;
  int64_t now, lease_us;
  struct batch *batch;
};

static int
claim_unit(db_t *db, void *arg)
{
  struct claim *c = arg;
  struct batch *b = c->batch;
  return delivery_claim_batch(db, c->channel, c->now, c->lease_us, BATCH_MAX, &b->arena, &b->m,
                              &b->n);
}

/* The tried outcomes recorded, the unsent renewed or given back: a unit of
 * work. It may run more than once; each run answers every row afresh. */
static int
flush_unit(db_t *db, void *arg)
{
  struct batch *b = arg;
  for (size_t i = 0; i < b->n; i++) {
    const struct delivery_message *m = &b->m[i];
    int rc = 0;
    if (b->fate[i] == TRIED)
      rc = delivery_record(db, m->id, m->attempts, b->at[i], &b->outcome[i]);
    else if (b->fate[i] == UNSENT && b->release)
      rc = delivery_release(db, m->id, m->attempts);
    else if (b->fate[i] == UNSENT && b->renew_until > 0)
      rc = delivery_renew(db, m->id, m->attempts, b->renew_until);
    if (rc < 0 && rc != EVENTAPI_ENOTFOUND)
      return rc;
    b->answer[i] = rc;
  }
  return 0;
}

/*
 * Runs the flush, tried again while the database is busy or away. After
 * it, every tried message is settled, and an unsent one is lost when it is
 * no longer this worker's, was given back, or its renewal could not be
 * written (its claim runs out, and it is claimed again).
 */
static void
flush(struct batch *b)
{
  bool work = false;
  for (size_t i = 0; i < b->n && !work; i++)
    work = b->fate[i] == TRIED ||
           (b->fate[i] == UNSENT && (b->release || b->renew_until > 0));
  if (!work) {
    b->renew_until = 0;
    b->release = false;
    return;
  }
  int rc = 0;
  for (int i = 0; i < RECORD_TRIES; i++) {
    if ((rc = db_write(flush_unit, b)) == 0)
      break;
    if (rc != EVENTAPI_EBUSY && rc != EVENTAPI_EUNAVAILABLE)
      break;
    pause_ms(RECORD_PAUSE_MS);
  }
  for (size_t i = 0; i < b->n; i++) {
    const struct delivery_message *m = &b->m[i];
    if (b->fate[i] == TRIED) {
      if (rc < 0)
        log_error("outbox: message %lld: cannot record the outcome: %s", (long long)m->id,
                  eventapi_strerror(rc));
      else if (b->answer[i] == EVENTAPI_ENOTFOUND)
        log_warn("outbox: message %lld: no longer this worker's (its lease ran out and it was "
                 "claimed again, or it was cancelled); the outcome is left out",
                 (long long)m->id);
      b->fate[i] = SETTLED;
    } else if (b->fate[i] == UNSENT && (b->release || b->renew_until > 0)) {
      if (rc < 0 || b->answer[i] == EVENTAPI_ENOTFOUND || b->release)
        b->fate[i] = LOST;
    }
  }
  if (rc == 0 && b->renew_until > 0)
    b->until = b->renew_until;
  b->renew_until = 0;
  b->release = false;
  b->oldest = 0;
}

/*
 * Why m must not be sent at all, into why, or false: claimed more often
 * than tries are allowed without an outcome (a worker died while sending
 * it each time), or past the time it was worth sending.
 */
static bool
refused(const struct delivery_channel *channel, const struct config *cfg,
        const struct delivery_message *m, int64_t now, char *why, size_t whylen)
{
  if (m->attempts > (int64_t)channel->max_attempts(cfg)) {
    snprintf(why, whylen, "claimed more often than %s without an outcome",
             channel->attempts_setting);
    return true;
  }
  if (m->expires_at != 0 && now > m->expires_at) {
    char when[TIME_ISO_MAX];
    time_format_iso(m->expires_at, when);
    snprintf(why, whylen, "too late: not to be sent after %s", when);
    return true;
  }
  return false;
}

static size_t
unsent(const struct batch *b)
{
  size_t n = 0;
  for (size_t i = 0; i < b->n; i++)
    n += b->fate[i] == UNSENT;
  return n;
}

/* Sends message i of b, and says how it went; its outcome waits in b. */
static void
try_one(struct batch *b, size_t i, void *sender, const struct config *cfg)
{
  const struct delivery_channel *channel = b->channel;
  const struct delivery_message *m = &b->m[i];
  struct delivery_result *result = &b->result[i];
  int64_t now = time_now_us();
  int rc;
  if (refused(channel, cfg, m, now, result->error, sizeof result->error))
    rc = EVENTAPI_EINVAL;
  else
    rc = channel->send(sender, m, now, result);

  now = time_now_us();
  struct delivery_outcome *outcome = &b->outcome[i];
  *outcome = (struct delivery_outcome){
    .sent = rc == 0,
    .status = result->status,
    .response = result->response[0] ? result->response : NULL,
  };
  unsigned max = channel->max_attempts(cfg);
  if (rc == 0) {
    log_info("outbox: message %lld (%s %s) sent, try %lld", (long long)m->id, m->channel,
             m->kind, (long long)m->attempts);
  } else {
    bool last = rc == EVENTAPI_EINVAL || m->attempts >= (int64_t)max;
    outcome->retry_at = last ? 0 : now + channel->retry_us(cfg, m->attempts);
    outcome->error = result->error[0] ? result->error : eventapi_strerror(rc);
    if (last)
      log_error("outbox: message %lld (%s %s) is dead after try %lld: %s", (long long)m->id,
                m->channel, m->kind, (long long)m->attempts, outcome->error);
    else
      log_warn("outbox: message %lld (%s %s) failed, try %lld of %u: %s", (long long)m->id,
               m->channel, m->kind, (long long)m->attempts, max, outcome->error);
  }
  b->at[i] = now;
  b->fate[i] = TRIED;
  if (b->oldest == 0)
    b->oldest = now;
}

/*
 * Claims, sends and records the next due messages of channel (a batch).
 * Returns 0, with *handled the number handled (sent or not; 0 when nothing
 * is due), or a negative code when the database failed.
 */
static int
deliver_batch(const struct delivery_channel *channel, void *sender, const struct config *cfg,
              volatile sig_atomic_t *stop, size_t *handled)
{
  *handled = 0;
  struct batch *b = calloc(1, sizeof *b);
  if (b == NULL)
    return EVENTAPI_ENOMEM;
  b->channel = channel;
  int64_t timeout = channel->timeout_us(cfg), lease = 2 * timeout + LEASE_MARGIN_US;
  struct claim c = {channel->name, time_now_us(), lease, b};
  int rc = db_write(claim_unit, &c);
  if (rc < 0 || b->n == 0)
    goto done;
  b->until = c.now + lease;

  for (size_t i = 0; i < b->n; i++) {
    if (*stop) {
      b->release = true;
      break;
    }
    int64_t now = time_now_us();
    bool renew = b->until - now < timeout + LEASE_MARGIN_US;
    if (renew || (b->oldest != 0 && now - b->oldest >= FLUSH_US)) {
      if (renew)
        b->renew_until = now + lease;
      flush(b);
      if (renew)
        log_debug("outbox: %s: the claims of the batch's %zu unsent renewed", channel->name,
                  unsent(b));
    }
    if (b->fate[i] != UNSENT)
      continue;
    try_one(b, i, sender, cfg);
    (*handled)++;
  }
  flush(b);
done:
  arena_free(&b->arena);
  free(b);
  return rc;
}

/* ---- history -------------------------------------------------------------- */

/* A batch of the outbox's history deleted, as a unit of work. */
struct prune {
  int64_t sent_before, dead_before;
  int deleted;
};

static int
prune_unit(db_t *db, void *arg)
{
  struct prune *p = arg;
  return delivery_prune(db, p->sent_before, p->dead_before, PRUNE_BATCH, &p->deleted);
}

/*
 * Deletes one batch of the messages past their retention at now: sent ones
 * OUTBOX_RETENTION after they were sent, dead ones OUTBOX_DEAD_RETENTION
 * after their last try. A batch is one short unit of work, so the writer is
 * never held long; *more is set when it was full (more may be left).
 */
static int
prune(const struct config *cfg, int64_t now, bool *more)
{
  *more = false;
  struct prune p = {
    .sent_before = cfg->outbox_retention ? now - cfg->outbox_retention * SECOND_US : 0,
    .dead_before = cfg->outbox_dead_retention ? now - cfg->outbox_dead_retention * SECOND_US
                                              : 0,
  };
  if (p.sent_before == 0 && p.dead_before == 0)
    return 0; /* all history kept */
  int rc = db_write(prune_unit, &p);
  if (rc == 0 && p.deleted > 0) {
    log_debug("outbox: %d sent or dead messages past their retention deleted", p.deleted);
    *more = p.deleted >= PRUNE_BATCH;
  }
  return rc;
}

/* ---- the loop --------------------------------------------------------------- */

/* Runs every tick; whether one has more to do. */
static bool
run_ticks(const struct config *cfg, int64_t now)
{
  bool more = false;
  for (size_t i = 0; i < nticks; i++) {
    bool again = false;
    int rc = ticks[i](cfg, now, &again);
    if (rc < 0)
      log_error("outbox: a tick failed: %s", eventapi_strerror(rc));
    else
      more |= again;
  }
  return more;
}

static void
close_senders(void **senders)
{
  for (size_t i = 0; i < NCHANNELS; i++)
    if (senders[i] != NULL)
      channels[i]->close(senders[i]);
}

int
delivery_worker_run(const struct config *cfg, volatile sig_atomic_t *stop, bool once)
{
  void *senders[NCHANNELS] = {0};
  char err[256];
  for (size_t i = 0; i < NCHANNELS; i++) {
    if (channels[i]->open(cfg, &senders[i], err, sizeof err) < 0) {
      log_error("%s", err); /* it names the setting */
      close_senders(senders);
      return EVENTAPI_EINVAL;
    }
    log_info("outbox: worker started, sending %s through %s", channels[i]->name,
             channels[i]->describe(senders[i]));
  }
  unsigned long seen = 0;
  int rc = 0;
  bool failing = false, more = false, prune_more = false;
  int64_t ticked = 0, pruned = 0;
  /* A channel found with nothing due is not asked again (a claim is a unit
   * of work on the writer) until a message of its own is written in this
   * process, or the interval passes (retries falling due, other
   * processes' messages). */
  bool idle[NCHANNELS] = {0};
  unsigned long idle_wakes[NCHANNELS] = {0};
  int64_t idle_since[NCHANNELS] = {0};
  while (!*stop) {
    int64_t now = time_now_us();
    if (nticks > 0 && (more || now - ticked >= TICK_US)) {
      more = run_ticks(cfg, now);
      ticked = now;
    }
    if (prune_more || now - pruned >= PRUNE_US) {
      int pruning = prune(cfg, now, &prune_more);
      if (pruning < 0)
        log_error("outbox: cannot delete the history past its retention: %s",
                  eventapi_strerror(pruning));
      pruned = now;
    }
    int handled = 0;
    rc = 0;
    for (size_t i = 0; i < NCHANNELS && !*stop; i++) {
      unsigned long wakes = wakes_of(i); /* before the claim: a later write wakes it */
      if (idle[i] && wakes == idle_wakes[i] &&
          now - idle_since[i] < cfg->worker_interval_ms * 1000)
        continue;
      size_t took = 0;
      int status = db_thread() ? deliver_batch(channels[i], senders[i], cfg, stop, &took)
                               : EVENTAPI_EUNAVAILABLE;
      idle[i] = status == 0 && took == 0;
      idle_wakes[i] = wakes;
      idle_since[i] = now;
      if (status < 0)
        rc = status;
      else if (took > 0)
        handled++;
    }
    if (handled > 0) {
      failing = false;
      continue;
    }
    if (rc < 0 && !failing) /* once per outage, not once per look */
      log_error("outbox: cannot read the outbox: %s", eventapi_strerror(rc));
    failing = rc < 0;
    if ((more || prune_more) && rc == 0)
      continue;
    if (once)
      break;
    wait_for_work(cfg->worker_interval_ms, &seen);
  }
  close_senders(senders);
  log_info("outbox: worker stopped");
  return rc < 0 ? rc : 0;
}

static void *
worker_main(void *arg)
{
  pthread_setname_np(pthread_self(), "outbox-worker");
  struct delivery_worker *w = arg;
  delivery_worker_run(w->cfg, &w->stop, false);
  return NULL;
}

int
delivery_worker_start(const struct config *cfg, struct delivery_worker **out)
{
  struct delivery_worker *w = calloc(1, sizeof *w);
  if (w == NULL)
    return EVENTAPI_ENOMEM;
  w->cfg = cfg;
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
    free(w);
    return EVENTAPI_ENOMEM;
  }
  *out = w;
  return 0;
}

void
delivery_worker_stop(struct delivery_worker *w)
{
  if (w == NULL)
    return;
  w->stop = 1;
  delivery_wake();
  pthread_join(w->thread, NULL);
  free(w);
}
