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

/* ---- one message ---------------------------------------------------------- */

/* A claim, as a unit of work. */
struct claim {
  const char *channel;
  int64_t now, lease_us;
  arena_t *arena;
  struct delivery_message *message;
  bool found;
};

static int
claim_unit(db_t *db, void *arg)
{
  struct claim *c = arg;
  return delivery_claim(db, c->channel, c->now, c->lease_us, c->arena, c->message, &c->found);
}

/* An outcome to record, as a unit of work: for the claim of attempts tries. */
struct record {
  int64_t id, attempts, now;
  const struct delivery_outcome *outcome;
};

static int
record_unit(db_t *db, void *arg)
{
  struct record *r = arg;
  return delivery_record(db, r->id, r->attempts, r->now, r->outcome);
}

/* Records an outcome, tried again while the database is busy or away. */
static int
record(const struct delivery_message *m, int64_t now, const struct delivery_outcome *outcome)
{
  struct record r = {m->id, m->attempts, now, outcome};
  int rc = 0;
  for (int i = 0; i < RECORD_TRIES; i++) {
    if ((rc = db_write(record_unit, &r)) == 0)
      return 0;
    if (rc != EVENTAPI_EBUSY && rc != EVENTAPI_EUNAVAILABLE)
      break;
    pause_ms(RECORD_PAUSE_MS);
  }
  if (rc == EVENTAPI_ENOTFOUND)
    log_warn("outbox: message %lld: no longer this worker's (its lease ran out and it was "
             "claimed again, or it was cancelled); the outcome is left out", (long long)m->id);
  else
    log_error("outbox: message %lld: cannot record the outcome: %s", (long long)m->id,
              eventapi_strerror(rc));
  return rc;
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

/*
 * Claims, sends and records the next due message of channel. Returns 0,
 * with *handled true when one was handled (sent or not) and false when
 * nothing is due, or a negative code when the database failed.
 */
static int
deliver_one(const struct delivery_channel *channel, void *sender, const struct config *cfg,
            bool *handled)
{
  *handled = false;
  arena_t arena = {0};
  struct delivery_message m;
  struct claim c = {channel->name, time_now_us(), channel->lease_us(cfg), &arena, &m, false};
  int rc = db_write(claim_unit, &c);
  if (rc < 0 || !c.found) {
    arena_free(&arena);
    return rc;
  }

  struct delivery_result result = {0};
  int64_t now = time_now_us();
  if (refused(channel, cfg, &m, now, result.error, sizeof result.error))
    rc = EVENTAPI_EINVAL;
  else
    rc = channel->send(sender, &m, now, &result);

  now = time_now_us();
  struct delivery_outcome outcome = {
    .sent = rc == 0,
    .status = result.status,
    .response = result.response[0] ? result.response : NULL,
  };
  unsigned max = channel->max_attempts(cfg);
  if (rc == 0) {
    log_info("outbox: message %lld (%s %s) sent, try %lld", (long long)m.id, m.channel,
             m.kind, (long long)m.attempts);
  } else {
    bool last = rc == EVENTAPI_EINVAL || m.attempts >= (int64_t)max;
    outcome.retry_at = last ? 0 : now + channel->retry_us(cfg, m.attempts);
    outcome.error = result.error[0] ? result.error : eventapi_strerror(rc);
    if (last)
      log_error("outbox: message %lld (%s %s) is dead after try %lld: %s", (long long)m.id,
                m.channel, m.kind, (long long)m.attempts, outcome.error);
    else
      log_warn("outbox: message %lld (%s %s) failed, try %lld of %u: %s", (long long)m.id,
               m.channel, m.kind, (long long)m.attempts, max, outcome.error);
  }
  record(&m, now, &outcome);
  arena_free(&arena);
  *handled = true;
  return 0;
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
      bool took = false;
      int status = db_thread() ? deliver_one(channels[i], senders[i], cfg, &took)
                               : EVENTAPI_EUNAVAILABLE;
      idle[i] = status == 0 && !took;
      idle_wakes[i] = wakes;
      idle_since[i] = now;
      if (status < 0)
        rc = status;
      else if (took)
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
