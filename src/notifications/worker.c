#include "notifications/worker.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "notifications/mailer.h"
#include "notifications/message.h"
#include "notifications/models.h"
#include "notifications/templates.h"

/*
 * How long a claim holds a row: longer than the mailer may take over one
 * message (EMAIL_TIMEOUT), with a margin, so a live worker never loses its
 * row; a dead worker's rows are taken again after it.
 */
#define LEASE_MARGIN_US (INT64_C(5) * 1000000)
#define BACKOFF_MAX_US (INT64_C(3600) * 1000000)
#define RECORD_TRIES 20        /* recording an outcome through a busy database */
#define RECORD_PAUSE_MS 50
#define ADDRESS_MAX 320

struct worker {
  const struct config *cfg;
  pthread_t thread;
  volatile sig_atomic_t stop;
};

/* Wake-ups for the workers of this process. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static unsigned long wake_count;

void
worker_wake(void)
{
  pthread_mutex_lock(&wake_lock);
  wake_count++;
  pthread_cond_broadcast(&wake_cond);
  pthread_mutex_unlock(&wake_lock);
}

/* Sleeps up to ms, or until worker_wake() after *seen. */
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

int64_t
worker_backoff_us(const struct config *cfg, int64_t attempts)
{
  int64_t delay = cfg->email_retry_ms * 1000;
  for (int64_t i = 1; i < attempts && delay < BACKOFF_MAX_US; i++)
    delay *= 2;
  if (delay > BACKOFF_MAX_US)
    delay = BACKOFF_MAX_US;
  /* Equal jitter: half fixed, half random, so that workers spread out. */
  int64_t half = delay / 2;
  int64_t spread = half > UINT32_MAX ? UINT32_MAX : half;
  return half + (spread > 0 ? (int64_t)randombytes_uniform((uint32_t)spread + 1) : 0);
}

int
worker_check_config(const struct config *cfg, char *err, size_t errlen)
{
  char address[ADDRESS_MAX];
  if (mail_envelope_address(cfg->email_from, address, sizeof address) < 0) {
    snprintf(err, errlen, "EMAIL_FROM: expected an address such as noreply@example.com or "
                          "\"Events <noreply@example.com>\"");
    return EVENTAPI_EINVAL;
  }
  const char *at = strrchr(address, '@');
  if (at && 1 + 32 + strlen(at) + 1 > MAIL_MESSAGE_ID_MAX) { /* "<hex@domain>" */
    snprintf(err, errlen, "EMAIL_FROM: the domain is too long to name a Message-ID");
    return EVENTAPI_EINVAL;
  }
  /* The mailer's messages name EMAIL_URL themselves. */
  struct mailer *m;
  if (mailer_open(cfg->email_url, &m, err, errlen) < 0)
    return EVENTAPI_EINVAL;
  mailer_close(m);
  return 0;
}

/* An outcome to record, as a unit of work: for the claim of attempts tries. */
struct outcome {
  int64_t id, attempts, retry_at, now;
  const char *error;
  bool sent;
};

/* EVENTAPI_ENOTFOUND when the claim is no longer this worker's. */
static int
record_unit(db_t *db, void *arg)
{
  struct outcome *o = arg;
  return o->sent ? outbox_mark_sent(db, o->id, o->attempts, o->now)
                 : outbox_mark_failed(db, o->id, o->attempts, o->error, o->retry_at);
}

/* Records an outcome, tried again while the database is busy or away. */
static int
record(int64_t id, int64_t attempts, const char *error, int64_t retry_at, bool sent,
       int64_t now)
{
  struct outcome o = {id, attempts, retry_at, now, error, sent};
  int rc = 0;
  for (int i = 0; i < RECORD_TRIES; i++) {
    if ((rc = db_write(record_unit, &o)) == 0)
      return 0;
    if (rc != EVENTAPI_EBUSY && rc != EVENTAPI_EUNAVAILABLE)
      break;
    pause_ms(RECORD_PAUSE_MS);
  }
  if (rc == EVENTAPI_ENOTFOUND)
    log_warn("outbox: notification %lld: claimed again after this worker's lease ran out; "
             "its outcome is left to the new claim", (long long)id);
  else
    log_error("outbox: notification %lld: cannot record the outcome: %s", (long long)id,
              eventapi_strerror(rc));
  return rc;
}

/* The reminders that fell due, written as a unit of work. */
struct due_reminders {
  const struct config *cfg;
  int64_t now;
  bool more;
};

static int
reminders_unit(db_t *db, void *arg)
{
  struct due_reminders *d = arg;
  return notifications_write_due_reminders(db, d->cfg->reminder_offsets,
                                           d->cfg->nreminder_offsets, d->now, &d->more);
}

/* How often a worker looks for reminders that fell due. */
#define REMINDER_LOOK_US 1000000

/* A claim, as a unit of work. */
struct claim {
  int64_t now, lease_us, id;
  const char *message_id;
};

static int
claim_unit(db_t *db, void *arg)
{
  struct claim *c = arg;
  return outbox_claim(db, c->now, c->lease_us, c->message_id, &c->id);
}

/*
 * Why n must not be sent at all, or NULL: claimed more often than tries are
 * allowed without an outcome (a worker died while sending it each time), or
 * a reminder so late that its "starts in ..." would mislead: less than half
 * its offset to go (after an outage of the mail server, say), or the event
 * has begun.
 */
static const char *
unsendable(const struct notification *n, const struct config *cfg, int64_t now)
{
  if (n->attempts > (int64_t)cfg->email_max_attempts)
    return "claimed more often than EMAIL_MAX_ATTEMPTS without an outcome";
  if (n->kind == NOTIFY_REMINDER &&
      n->event_date_time - now < n->reminder_offset * 1000000 / 2)
    return "too late: the event is less than half the reminder's offset away";
  return NULL;
}

/* "<random@domain of EMAIL_FROM>" */
static void
make_message_id(const char *from_address, char *out, size_t outlen)
{
  unsigned char bytes[16];
  char hex[2 * sizeof bytes + 1];
  randombytes_buf(bytes, sizeof bytes);
  text_hex(bytes, sizeof bytes, hex);
  const char *at = strrchr(from_address, '@');
  snprintf(out, outlen, "<%s@%s>", hex, at ? at + 1 : "localhost");
}

/*
 * Claims, renders, sends and records the next due notification. Returns 1
 * when one was handled (sent or not), 0 when nothing is due, or a negative
 * code when the database failed.
 */
static int
deliver_one(db_t *db, struct mailer *mailer, const struct config *cfg, const char *from_address)
{
  char message_id[MAIL_MESSAGE_ID_MAX + 1];
  make_message_id(from_address, message_id, sizeof message_id);
  struct claim c = {.now = time_now_us(),
                    .lease_us = 2 * cfg->email_timeout_ms * 1000 + LEASE_MARGIN_US,
                    .message_id = message_id};
  int rc = db_write(claim_unit, &c);
  int64_t id = c.id;
  if (rc < 0 || id == 0)
    return rc;

  arena_t arena = {0};
  struct notification n;
  struct notification_text words;
  char err[512] = "";
  char *bytes = NULL;
  size_t len = 0;
  if ((rc = outbox_get(db, id, &arena, &n)) < 0) {
    arena_free(&arena);
    return rc == EVENTAPI_ENOTFOUND ? 1 : rc; /* deleted meanwhile */
  }
  const char *to_name = arena_printf(&arena, "%s%s%s", n.first_name,
                                     n.first_name[0] && n.last_name[0] ? " " : "", n.last_name);
  const char *refusal = unsendable(&n, cfg, time_now_us());
  if (refusal) {
    snprintf(err, sizeof err, "%s", refusal);
    rc = EVENTAPI_EINVAL;
  } else if (!mail_address_valid(n.email)) {
    snprintf(err, sizeof err, "the recipient's address cannot be used");
    rc = EVENTAPI_EINVAL;
  } else if ((rc = notification_render(&n, &arena, &words)) == 0) {
    struct mail_message m = {
      .from = cfg->email_from,
      .to = n.email,
      .to_name = to_name,
      .subject = words.subject,
      .text = words.text,
      .html = words.html,
      .message_id = n.message_id,
      .date = time_now_us(),
    };
    if ((rc = mail_render(&m, &bytes, &len)) == 0)
      rc = mailer_send(mailer, from_address, n.email, bytes, len, n.message_id, err, sizeof err);
    else
      snprintf(err, sizeof err, "cannot build the message: %s", eventapi_strerror(rc));
  } else {
    snprintf(err, sizeof err, "cannot render: %s", eventapi_strerror(rc));
  }
  free(bytes);

  int64_t now = time_now_us();
  if (rc == 0) {
    log_info("outbox: notification %lld (%s) sent, try %lld", (long long)id,
             notification_kind_name(n.kind), (long long)n.attempts);
    record(id, n.attempts, NULL, 0, true, now);
  } else {
    bool last = rc == EVENTAPI_EINVAL || n.attempts >= cfg->email_max_attempts;
    int64_t retry_at = last ? 0 : now + worker_backoff_us(cfg, n.attempts);
    if (last)
      log_error("outbox: notification %lld (%s) is dead after try %lld: %s", (long long)id,
                notification_kind_name(n.kind), (long long)n.attempts, err);
    else
      log_warn("outbox: notification %lld (%s) failed, try %lld of %u: %s", (long long)id,
               notification_kind_name(n.kind), (long long)n.attempts, cfg->email_max_attempts,
               err);
    record(id, n.attempts, err, retry_at, false, now);
  }
  arena_free(&arena);
  return 1;
}

int
worker_run(const struct config *cfg, volatile sig_atomic_t *stop, bool once)
{
  char from_address[ADDRESS_MAX], err[256];
  struct mailer *mailer;
  if (mail_envelope_address(cfg->email_from, from_address, sizeof from_address) < 0)
    return EVENTAPI_EINVAL;
  if (mailer_open(cfg->email_url, &mailer, err, sizeof err) < 0) {
    log_error("%s", err); /* it names EMAIL_URL */
    return EVENTAPI_EINVAL;
  }
  mailer_set_timeout(mailer, cfg->email_timeout_ms);
  log_info("outbox: worker started, sending through %s", mailer_describe(mailer));
  unsigned long seen = 0;
  int rc = 0;
  bool failing = false;
  int64_t reminders_looked = 0;
  bool reminders_more = false;
  while (!*stop) {
    int64_t now = time_now_us();
    if (cfg->nreminder_offsets > 0 &&
        (reminders_more || now - reminders_looked >= REMINDER_LOOK_US)) {
      struct due_reminders due = {cfg, now, false};
      int written = db_write(reminders_unit, &due);
      if (written < 0)
        log_error("outbox: cannot write the reminders that fell due: %s",
                  eventapi_strerror(written));
      reminders_looked = now;
      reminders_more = written == 0 && due.more;
    }
    db_t *db = db_thread();
    rc = db ? deliver_one(db, mailer, cfg, from_address) : EVENTAPI_EUNAVAILABLE;
    if (rc > 0) {
      failing = false;
      continue;
    }
    if (rc < 0 && !failing) /* once per outage, not once per look */
      log_error("outbox: cannot read the outbox: %s", eventapi_strerror(rc));
    failing = rc < 0;
    if (once)
      break;
    wait_for_work(cfg->worker_interval_ms, &seen);
  }
  mailer_close(mailer);
  log_info("outbox: worker stopped");
  return rc < 0 ? rc : 0;
}

static void *
worker_main(void *arg)
{
  pthread_setname_np(pthread_self(), "mail-worker");
  struct worker *w = arg;
  worker_run(w->cfg, &w->stop, false);
  return NULL;
}

int
worker_start(const struct config *cfg, struct worker **out)
{
  struct worker *w = calloc(1, sizeof *w);
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
worker_stop(struct worker *w)
{
  if (w == NULL)
    return;
  w->stop = 1;
  worker_wake();
  pthread_join(w->thread, NULL);
  free(w);
}
