/*
 * write.c - the write path of db.h: units of work.
 *
 * SQLite lets one writer in at a time, and every COMMIT in full-sync mode
 * costs an fsync. Writers that take the lock themselves queue in SQLite's
 * busy handler, which sleeps and retries, and pay an fsync each. So on
 * SQLite one writer thread per process takes the pending units together:
 *
 *   BEGIN IMMEDIATE
 *   SAVEPOINT unit; <unit 1>; RELEASE unit     (or ROLLBACK TO: it alone)
 *   SAVEPOINT unit; <unit 2>; RELEASE unit
 *   ...
 *   COMMIT                                     (one fsync for the batch)
 *
 * and then tells each caller its own result. While it commits, new units
 * gather for the next batch: the busier the server, the larger the batches.
 * A unit that fails rolls back to its savepoint; one whose failure ended the
 * whole transaction (SQLite rolls back by itself on a full disk or an I/O
 * error) fails alone, and the units before it in the batch run again in a
 * new one.
 *
 * Durability is pipelined: the writer commits without an fsync and goes on
 * with the next batch, while a syncer thread fsyncs the write-ahead log and
 * only then answers the units it holds (and runs their after-commit work).
 * So no unit is answered before its commit is on disk, as with
 * synchronous=FULL, yet the disk's fsync and the next batch's work overlap.
 * (A reader may see a commit a moment before it is on disk; no one is told
 * it succeeded until it is.)
 *
 * When that fsync fails, the batches it was to make durable committed, but
 * the disk did not confirm them: each of their units is answered
 * EVENTAPI_ENOTDURABLE (503), never success, and their after-commit work is
 * held back. A later fsync of the same log proves nothing (Linux reports a
 * failed write-back once, and may have dropped the pages it could not
 * write), and a later commit's frames chain onto the unconfirmed ones, so
 * from then on no unit is answered success until the writer has recovered:
 * it waits for the syncer to answer what it holds (with that error too),
 * then copies the whole log into the database file, syncs that file and
 * empties the log (a checkpoint, db_ops.checkpoint), and syncs the emptied
 * log. Only then does it run the held after-commit work and commit again;
 * until then every unit is answered EVENTAPI_EUNAVAILABLE (503) without
 * running, and the writer tries again with each new batch and every
 * second. Reads go on meanwhile. So a 2xx always means a durable change;
 * a 503 after a failed fsync means one that may stand (the client that
 * retries is told, say, that it is registered already).
 *
 * On PostgreSQL a unit runs on the caller's own connection, retried when it
 * loses a serialization race or a deadlock; PostgreSQL groups concurrent
 * commits itself.
 */
#include "db/db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "db/backend.h"

/* SQLite: the writer is idle, and may checkpoint, once no unit came for
 * this long after its last batch. */
#define IDLE_AFTER_MS 20

/* PostgreSQL: tries of a unit that keeps losing races, with a back-off. */
#define PG_TRIES 8

/* SQLite: tries of a unit that lost a race with another process. */
#define UNIT_TRIES 3

struct job {
  db_unit_fn fn;
  void *ctx;
  void (*done)(void *arg, int rc);
  void *done_arg;
  int rc;
  bool kept;          /* its changes are in the open transaction */
  struct job *next;
};

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;          /* work for the writer, or stop */
  pthread_cond_t finished;      /* a synchronous caller's unit is done */
  struct job *head, *tail;
  size_t pending;
  bool running, stopping;
  bool recover;                 /* the syncer asks for a recovery */
  pthread_t thread;
  unsigned batch_max;
  int64_t batch_wait_us;
  db_t *db;                     /* the writer's own connection */
} writer = {
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .wake = PTHREAD_COND_INITIALIZER,
  .finished = PTHREAD_COND_INITIALIZER,
  .batch_max = 256,
};

/* The writer retries a recovery that failed (see the top of the file). */
#define RECOVERY_RETRY_S 1

static pthread_once_t writer_clock_once = PTHREAD_ONCE_INIT;

/* writer.wake measures its timed waits on the monotonic clock (the one
 * they are computed from), not on the wall clock of its static
 * initializer. */
static void
writer_clock_init(void)
{
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_destroy(&writer.wake);
  pthread_cond_init(&writer.wake, &attr);
  pthread_condattr_destroy(&attr);
}

/* A committed batch waiting for the fsync that makes it durable. */
struct committed {
  struct job **jobs;            /* a copy: the writer reuses its array */
  size_t n;
  struct db_on_commit *after;   /* its units' after-commit work */
  size_t nafter;
  struct committed *next;
};

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;          /* a batch to sync, or stop */
  pthread_cond_t idle;          /* nothing held any more */
  struct committed *head, *tail;
  bool busy, running, stopping;
  pthread_t thread;
  int fd;                       /* the write-ahead log; -1: nothing to sync */
  /* An fsync of the log failed, and the writer has not recovered since
   * (see the top of this file): nothing is answered success. */
  bool failed;
  struct db_on_commit *held;    /* after-commit work of unconfirmed batches */
  size_t nheld, held_cap;
} syncer = {
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .wake = PTHREAD_COND_INITIALIZER,
  .idle = PTHREAD_COND_INITIALIZER,
  .fd = -1,
};

/* What the writer did, for db_write_stats(). */
static atomic_uint_fast64_t stat_batches, stat_units, stat_replays;
static atomic_uint_fast64_t stat_checkpoints_writer, stat_checkpoints_beside;

void
db_write_note_checkpoint(bool beside)
{
  atomic_fetch_add(beside ? &stat_checkpoints_beside : &stat_checkpoints_writer, 1);
}

void
db_write_stats(struct db_write_stats *out)
{
  out->batches = (uint64_t)atomic_load(&stat_batches);
  out->units = (uint64_t)atomic_load(&stat_units);
  out->replays = (uint64_t)atomic_load(&stat_replays);
  out->checkpoints_writer = (uint64_t)atomic_load(&stat_checkpoints_writer);
  out->checkpoints_beside = (uint64_t)atomic_load(&stat_checkpoints_beside);
}

void
db_write_configure(unsigned batch_max, int64_t batch_wait_us)
{
  pthread_mutex_lock(&writer.lock);
  writer.batch_max = batch_max > 0 ? batch_max : 1;
  writer.batch_wait_us = batch_wait_us > 0 ? batch_wait_us : 0;
  pthread_mutex_unlock(&writer.lock);
}

bool
db_write_is_async(void)
{
  return db_backend_groups_commits();
}

/* ---- one unit on a connection ----------------------------------------- */

static int
exec_plain(db_t *db, const char *sql)
{
  return db_exec(db, sql, NULL, NULL);
}

enum unit_outcome {
  UNIT_DONE,          /* kept, or failed having changed nothing */
  UNIT_UNDO,          /* failed after changing rows: the batch must be replayed */
  UNIT_TXN_ENDED,     /* its failure ended the transaction (a full disk, say) */
};

/*
 * Runs job's unit in the open transaction. Without a savepoint (the common,
 * fast case) a unit that fails before it changes a row needs no undoing;
 * one that fails after asks for a replay (UNIT_UNDO). With one, a failure
 * rolls back to it. A unit that lost a race with another process
 * (EVENTAPI_EBUSY) runs again at once, a few times.
 */
static enum unit_outcome
run_unit(db_t *db, struct job *job, bool savepoint)
{
  size_t mark = db->non_commit;
  int rc = savepoint ? exec_plain(db, "SAVEPOINT unit") : 0;
  for (int tries = 0; rc == 0; tries++) {
    int64_t changes = db->ops->total_changes(db);
    db->in_unit = true;
    rc = job->fn(db, job->ctx);
    db->in_unit = false;
    if (rc == 0) {
      if (savepoint)
        rc = exec_plain(db, "RELEASE unit");
      break;
    }
    db->non_commit = mark; /* its after-commit work goes with it */
    bool changed = db->ops->total_changes(db) != changes;
    if (!db->ops->in_transaction(db))
      break;
    if (changed && !savepoint) {
      job->rc = rc;
      job->kept = false;
      return UNIT_UNDO;
    }
    if (changed && exec_plain(db, "ROLLBACK TO unit") < 0)
      break;
    if (rc != EVENTAPI_EBUSY || tries == UNIT_TRIES - 1)
      break;
  }
  job->rc = rc;
  job->kept = rc == 0;
  if (rc != 0)
    db->non_commit = mark;
  if (!db->ops->in_transaction(db))
    return rc == 0 ? UNIT_DONE : UNIT_TXN_ENDED;
  if (rc != 0 && savepoint && exec_plain(db, "RELEASE unit") < 0)
    return db->ops->in_transaction(db) ? UNIT_DONE : UNIT_TXN_ENDED;
  return UNIT_DONE;
}

static void syncer_drain(void);
static int syncer_start(const char *path);
static void writer_recover_soon(void);

/*
 * The writer's connection, opened (again) when needed, with its commits'
 * fsync handed to the syncer when commits must be durable; NULL when it
 * cannot be opened.
 */
static db_t *
writer_db(void)
{
  if (writer.db && writer.db->broken) {
    syncer_drain(); /* nothing of the old connection is left unsynced */
    db_close(writer.db);
    writer.db = NULL;
  }
  if (writer.db != NULL)
    return writer.db;
  if (db_open(&writer.db) < 0)
    return writer.db = NULL; /* logged */
  char path[PATH_MAX];
  bool deferred = false;
  int rc = writer.db->ops->defer_sync
               ? writer.db->ops->defer_sync(writer.db, path, sizeof path, &deferred) : 0;
  if (rc == 0 && deferred && syncer_start(path) < 0)
    rc = EVENTAPI_EIO;
  if (rc < 0) {
    /* The commits could not be made durable: no connection rather than one
     * that answers before the disk has it. */
    db_close(writer.db);
    writer.db = NULL;
  }
  return writer.db;
}

/*
 * Runs the batch jobs[0..n) in one transaction. Every job's rc is set, and
 * those whose changes committed have kept set. The first pass takes no
 * savepoints (each costs a copy of every page its unit touches); should a
 * unit fail after changing rows, the batch is rolled back and replayed with
 * one savepoint a unit.
 */
static void
run_batch(struct job **jobs, size_t n, struct db_on_commit **after, size_t *nafter)
{
  *after = NULL;
  *nafter = 0;
  bool savepoints = false;
  for (;;) {
    db_t *db = writer_db();
    int rc = db ? db_begin(db, DB_WRITE) : EVENTAPI_EUNAVAILABLE;
    if (rc < 0) {
      for (size_t i = 0; i < n; i++)
        jobs[i]->rc = rc, jobs[i]->kept = false;
      return;
    }
    enum unit_outcome outcome = UNIT_DONE;
    size_t at = 0;
    for (; at < n && outcome == UNIT_DONE; at++)
      outcome = run_unit(db, jobs[at], savepoints);
    if (outcome == UNIT_UNDO) {
      db_rollback(db);
      savepoints = true;
      atomic_fetch_add(&stat_replays, 1);
      continue;
    }
    if (outcome == UNIT_TXN_ENDED) {
      /* The transaction is gone, and with it the work of the units before:
       * the failed one answers its error, the others run again. */
      db_rollback(db);
      struct job *failed = jobs[at - 1];
      memmove(jobs + at - 1, jobs + at, (n - at) * sizeof *jobs);
      jobs[n - 1] = failed;
      n--;
      continue;
    }
    rc = db_commit_keeping(db, after, nafter); /* run once durable */
    if (rc < 0) {
      for (size_t i = 0; i < n; i++)
        if (jobs[i]->kept)
          jobs[i]->rc = rc, jobs[i]->kept = false;
    }
    return;
  }
}

/* Answers a batch: its after-commit work (when it committed), then each unit. */
static void
finish(struct job **jobs, size_t n, struct db_on_commit *after, size_t nafter)
{
  for (size_t i = 0; i < nafter; i++)
    after[i].fn(after[i].arg);
  free(after);
  for (size_t i = 0; i < n; i++)
    jobs[i]->done(jobs[i]->done_arg, jobs[i]->rc);
}

/*
 * Called with syncer.lock held: a committed batch that the disk did not
 * confirm. Its committed units get EVENTAPI_ENOTDURABLE, and its
 * after-commit work is kept for when the writer has recovered (dropped,
 * should there be no memory to keep it: an image file left behind, a wake
 * missed).
 */
static void
unconfirmed(struct job **jobs, size_t n, struct db_on_commit **after, size_t *nafter)
{
  for (size_t i = 0; i < n; i++)
    if (jobs[i]->kept)
      jobs[i]->rc = EVENTAPI_ENOTDURABLE;
  if (*nafter > 0 && syncer.nheld + *nafter > syncer.held_cap) {
    size_t cap = 2 * (syncer.nheld + *nafter);
    struct db_on_commit *grown = realloc(syncer.held, cap * sizeof *grown);
    if (grown) {
      syncer.held = grown;
      syncer.held_cap = cap;
    }
  }
  if (*nafter > 0 && syncer.nheld + *nafter <= syncer.held_cap) {
    memcpy(syncer.held + syncer.nheld, *after, *nafter * sizeof **after);
    syncer.nheld += *nafter;
  }
  free(*after);
  *after = NULL;
  *nafter = 0;
}

/* fdatasync(fd), again when interrupted; 0 or -1 with errno set. */
static int
sync_file(int fd)
{
  int rc;
  while ((rc = fdatasync(fd)) < 0 && errno == EINTR)
    ;
  return rc;
}

/*
 * A committed batch goes to the syncer when its commit still needs an
 * fsync; otherwise (nothing to sync, nothing committed, or out of memory,
 * after an fsync of its own) it is answered at once.
 */
static void
hand_over(struct job **jobs, size_t n, struct db_on_commit *after, size_t nafter)
{
  bool committed = false;
  for (size_t i = 0; i < n && !committed; i++)
    committed = jobs[i]->kept;
  struct committed *c = NULL;
  if (committed && syncer.fd >= 0) {
    c = malloc(sizeof *c);
    struct job **copy = c ? malloc(n * sizeof *copy) : NULL;
    if (copy == NULL) {
      free(c);
      c = NULL;
      /* Synced here, then: slower, never less durable. */
      int synced = sync_file(syncer.fd);
      if (synced < 0)
        log_error("database: cannot sync the write-ahead log: %s", strerror(errno));
      pthread_mutex_lock(&syncer.lock);
      if (synced < 0 || syncer.failed) {
        syncer.failed = true;
        unconfirmed(jobs, n, &after, &nafter);
      }
      pthread_mutex_unlock(&syncer.lock);
    } else {
      memcpy(copy, jobs, n * sizeof *copy);
      *c = (struct committed){copy, n, after, nafter, NULL};
    }
  }
  if (c == NULL) {
    finish(jobs, n, after, nafter);
    return;
  }
  pthread_mutex_lock(&syncer.lock);
  if (syncer.tail)
    syncer.tail->next = c;
  else
    syncer.head = c;
  syncer.tail = c;
  pthread_cond_signal(&syncer.wake);
  pthread_mutex_unlock(&syncer.lock);
}

static void *
syncer_main(void *arg)
{
  (void)arg;
  pthread_setname_np(pthread_self(), "db-syncer");
  pthread_mutex_lock(&syncer.lock);
  for (;;) {
    while (syncer.head == NULL && !syncer.stopping)
      pthread_cond_wait(&syncer.wake, &syncer.lock);
    if (syncer.head == NULL)
      break;
    /* Every batch committed so far: one fsync makes them all durable. */
    struct committed *batches = syncer.head;
    syncer.head = syncer.tail = NULL;
    syncer.busy = true;
    int fd = syncer.fd;
    pthread_mutex_unlock(&syncer.lock);
    int rc = sync_file(fd);
    if (rc < 0)
      log_error("database: cannot sync the write-ahead log: %s", strerror(errno));
    pthread_mutex_lock(&syncer.lock);
    bool first_failure = rc < 0 && !syncer.failed;
    if (rc < 0)
      syncer.failed = true;
    /* After a failure, even a successful fsync confirms nothing (see the
     * top of the file): until the writer has recovered, every batch is
     * answered as not durable. */
    for (struct committed *c = batches; c && syncer.failed; c = c->next)
      unconfirmed(c->jobs, c->n, &c->after, &c->nafter);
    pthread_mutex_unlock(&syncer.lock);
    if (first_failure)
      writer_recover_soon(); /* at once, not at the next write */
    while (batches) {
      struct committed *c = batches;
      batches = c->next;
      finish(c->jobs, c->n, c->after, c->nafter);
      free(c->jobs);
      free(c);
    }
    pthread_mutex_lock(&syncer.lock);
    syncer.busy = false;
    if (syncer.head == NULL)
      pthread_cond_broadcast(&syncer.idle);
  }
  syncer.running = false;
  pthread_cond_broadcast(&syncer.idle);
  pthread_mutex_unlock(&syncer.lock);
  return NULL;
}

/* Opens the log the syncer syncs and starts it, once. */
static int
syncer_start(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    log_error("database: cannot open %s to sync it: %s", path, strerror(errno));
    return EVENTAPI_EIO;
  }
  pthread_mutex_lock(&syncer.lock);
  if (syncer.fd >= 0)
    close(syncer.fd);
  syncer.fd = fd;
  int rc = 0;
  if (!syncer.running) {
    syncer.stopping = false;
    if (pthread_create(&syncer.thread, NULL, syncer_main, NULL) == 0)
      syncer.running = true;
    else
      rc = EVENTAPI_ENOMEM;
  }
  pthread_mutex_unlock(&syncer.lock);
  return rc;
}

/* Waits until every batch handed to the syncer has been answered. */
static void
syncer_drain(void)
{
  pthread_mutex_lock(&syncer.lock);
  while (syncer.running && (syncer.head != NULL || syncer.busy))
    pthread_cond_wait(&syncer.idle, &syncer.lock);
  pthread_mutex_unlock(&syncer.lock);
}

/* The syncer asks the writer to recover from a failed fsync of the log. */
static void
writer_recover_soon(void)
{
  pthread_mutex_lock(&writer.lock);
  writer.recover = true;
  pthread_cond_signal(&writer.wake);
  pthread_mutex_unlock(&writer.lock);
}

static bool
log_failed(void)
{
  pthread_mutex_lock(&syncer.lock);
  bool failed = syncer.failed;
  pthread_mutex_unlock(&syncer.lock);
  return failed;
}

/*
 * After a failed fsync of the log (see the top of the file): once the
 * syncer has answered every batch it holds, makes every commit durable
 * through the database file (db_ops.checkpoint), syncs the emptied log,
 * and runs the after-commit work held back meanwhile. Returns 0 when
 * durability is back (or was never lost), else a negative code (logged):
 * nothing may be answered success yet. On the writer's thread, or once it
 * has stopped.
 */
static int
recover(void)
{
  if (!log_failed())
    return 0;
  syncer_drain();
  db_t *db = writer_db();
  int rc = db == NULL            ? EVENTAPI_EUNAVAILABLE
           : db->ops->checkpoint ? db->ops->checkpoint(db)
                                 : EVENTAPI_EIO;
  if (rc == 0 && syncer.fd >= 0 && sync_file(syncer.fd) < 0) {
    log_error("database: cannot sync the emptied write-ahead log: %s", strerror(errno));
    rc = EVENTAPI_EIO;
  }
  if (rc < 0) {
    log_error("database: commits not confirmed by the disk cannot be made durable yet (%s):"
              " writes are refused until they are", eventapi_strerror(rc));
    return rc;
  }
  pthread_mutex_lock(&syncer.lock);
  syncer.failed = false;
  struct db_on_commit *held = syncer.held;
  size_t nheld = syncer.nheld;
  syncer.held = NULL;
  syncer.nheld = syncer.held_cap = 0;
  pthread_mutex_unlock(&syncer.lock);
  for (size_t i = 0; i < nheld; i++)
    held[i].fn(held[i].arg);
  free(held);
  log_warn("database: every commit is durable again, through the database file");
  return 0;
}

/* Answers a batch that was not run: rc for each unit. */
static void
refuse(struct job **jobs, size_t n, int rc)
{
  for (size_t i = 0; i < n; i++)
    jobs[i]->rc = rc, jobs[i]->kept = false;
  finish(jobs, n, NULL, 0);
}

static void *
writer_main(void *arg)
{
  pthread_setname_np(pthread_self(), "db-writer");
  (void)arg;
  size_t cap = 0;
  struct job **batch = NULL;
  bool retry = false;      /* a recovery failed: again in a while */
  bool idle_due = false;   /* batches ran since the last idle maintenance */
  pthread_mutex_lock(&writer.lock);
  for (;;) {
    while (writer.head == NULL && !writer.stopping && !writer.recover) {
      if (idle_due && !retry) {
        /* Idle once no unit came for IDLE_AFTER_MS, not as soon as the
         * queue is empty: in a rush the queue empties after every batch,
         * its clients waiting for the fsync, and a checkpoint then would
         * hold their next units. */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (int64_t)IDLE_AFTER_MS * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        if (pthread_cond_timedwait(&writer.wake, &writer.lock, &until) == ETIMEDOUT &&
            writer.head == NULL) {
          idle_due = false;
          pthread_mutex_unlock(&writer.lock);
          if (writer.db && writer.db->ops->maintain)
            writer.db->ops->maintain(writer.db, true);
          pthread_mutex_lock(&writer.lock);
        }
        continue;
      }
      if (!retry) {
        pthread_cond_wait(&writer.wake, &writer.lock);
        continue;
      }
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      until.tv_sec += RECOVERY_RETRY_S;
      if (pthread_cond_timedwait(&writer.wake, &writer.lock, &until) == ETIMEDOUT)
        writer.recover = true;
    }
    if (writer.recover) {
      writer.recover = false;
      pthread_mutex_unlock(&writer.lock);
      retry = recover() < 0;
      pthread_mutex_lock(&writer.lock);
      continue;
    }
    if (writer.head == NULL)
      break; /* stopping, and nothing left */
    if (writer.batch_wait_us > 0 && writer.pending < writer.batch_max && !writer.stopping) {
      /* Waits a little for company (a setting; tests force large batches). */
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      int64_t ns = until.tv_nsec + writer.batch_wait_us * 1000;
      until.tv_sec += ns / 1000000000;
      until.tv_nsec = ns % 1000000000;
      while (writer.pending < writer.batch_max && !writer.stopping &&
             pthread_cond_timedwait(&writer.wake, &writer.lock, &until) != ETIMEDOUT)
        ;
    }
    if (cap < writer.batch_max) {
      struct job **grown = realloc(batch, writer.batch_max * sizeof *batch);
      if (grown) {
        batch = grown;
        cap = writer.batch_max;
      }
    }
    /* Out of memory for a larger batch: the one at hand, alone. */
    struct job *alone[1];
    struct job **jobs = cap > 0 ? batch : alone;
    size_t take = cap > 0 ? cap : 1, n = 0;
    while (writer.head && n < take) {
      jobs[n++] = writer.head;
      writer.head = writer.head->next;
      writer.pending--;
    }
    if (writer.head == NULL)
      writer.tail = NULL;
    pthread_mutex_unlock(&writer.lock);
    /* After a failed fsync of the log, nothing commits before durability
     * is back: a commit now could never be answered success. */
    int recovered = recover();
    retry = recovered < 0;
    if (recovered < 0) {
      refuse(jobs, n, EVENTAPI_EUNAVAILABLE);
      pthread_mutex_lock(&writer.lock);
      continue;
    }
    struct db_on_commit *after;
    size_t nafter;
    run_batch(jobs, n, &after, &nafter);
    atomic_fetch_add(&stat_batches, 1);
    atomic_fetch_add(&stat_units, n);
    hand_over(jobs, n, after, nafter);
    if (writer.db && writer.db->ops->maintain)
      writer.db->ops->maintain(writer.db, false);
    idle_due = true;
    pthread_mutex_lock(&writer.lock);
  }
  writer.running = false;
  pthread_mutex_unlock(&writer.lock);
  free(batch);
  return NULL;
}

/* Queues job for the writer, starting it on first use. */
static int
enqueue(struct job *job)
{
  pthread_once(&writer_clock_once, writer_clock_init);
  pthread_mutex_lock(&writer.lock);
  if (!writer.running) {
    writer.stopping = false;
    if (pthread_create(&writer.thread, NULL, writer_main, NULL) != 0) {
      pthread_mutex_unlock(&writer.lock);
      log_error("database: cannot start the writer thread");
      return EVENTAPI_ENOMEM;
    }
    writer.running = true;
  }
  job->next = NULL;
  if (writer.tail)
    writer.tail->next = job;
  else
    writer.head = job;
  writer.tail = job;
  writer.pending++;
  pthread_cond_signal(&writer.wake);
  pthread_mutex_unlock(&writer.lock);
  return 0;
}

void
db_writer_stop(void)
{
  pthread_mutex_lock(&writer.lock);
  bool running = writer.running;
  writer.stopping = true;
  pthread_cond_signal(&writer.wake);
  pthread_t thread = writer.thread;
  pthread_mutex_unlock(&writer.lock);
  if (running)
    pthread_join(thread, NULL); /* it finishes what was queued first */
  pthread_mutex_lock(&syncer.lock);
  bool syncing = syncer.running;
  syncer.stopping = true;
  pthread_cond_signal(&syncer.wake);
  pthread_mutex_unlock(&syncer.lock);
  if (syncing)
    pthread_join(syncer.thread, NULL); /* it answers what it holds first */
  if (recover() < 0) {
    /* Held after-commit work is dropped; the commits themselves will be
     * checkpointed when the database is next opened, if the disk lets. */
    pthread_mutex_lock(&syncer.lock);
    free(syncer.held);
    syncer.held = NULL;
    syncer.nheld = syncer.held_cap = 0;
    syncer.failed = false;
    pthread_mutex_unlock(&syncer.lock);
  }
  if (syncer.fd >= 0)
    close(syncer.fd);
  syncer.fd = -1;
  db_close(writer.db);
  writer.db = NULL;
}

/* ---- PostgreSQL: on the caller's connection --------------------------- */

static int
run_here(db_unit_fn fn, void *ctx)
{
  int rc = EVENTAPI_EBUSY;
  for (int attempt = 0; attempt < PG_TRIES && rc == EVENTAPI_EBUSY; attempt++) {
    if (attempt > 0) {
      /* Lost a serialization race or a deadlock: again, a moment later. */
      struct timespec pause = {0, (long)(1000000L << (attempt < 6 ? attempt : 6))};
      nanosleep(&pause, NULL);
    }
    db_t *db = db_thread();
    if (db == NULL)
      return EVENTAPI_EUNAVAILABLE;
    if ((rc = db_begin(db, DB_WRITE)) < 0)
      continue;
    db->in_unit = true;
    rc = fn(db, ctx);
    db->in_unit = false;
    if (rc == 0)
      rc = db_commit(db); /* rolls back itself when it fails */
    else
      db_rollback(db);
  }
  return rc;
}

/* ---- the calls of db.h ------------------------------------------------- */

struct waiter {
  bool finished;
  int rc;
};

static void
wake_waiter(void *arg, int rc)
{
  struct waiter *w = arg;
  pthread_mutex_lock(&writer.lock);
  w->finished = true;
  w->rc = rc;
  pthread_cond_broadcast(&writer.finished);
  pthread_mutex_unlock(&writer.lock);
}

int
db_write(db_unit_fn fn, void *ctx)
{
  if (!db_write_is_async())
    return run_here(fn, ctx);
  struct waiter w = {false, 0};
  struct job job = {.fn = fn, .ctx = ctx, .done = wake_waiter, .done_arg = &w};
  int rc = enqueue(&job);
  if (rc < 0)
    return rc;
  pthread_mutex_lock(&writer.lock);
  while (!w.finished)
    pthread_cond_wait(&writer.finished, &writer.lock);
  pthread_mutex_unlock(&writer.lock);
  return w.rc;
}

struct async_job {
  struct job job;
  void (*done)(void *arg, int rc);
  void *done_arg;
};

static void
finish_async(void *arg, int rc)
{
  struct async_job *a = arg;
  void (*done)(void *, int) = a->done;
  void *done_arg = a->done_arg;
  free(a);
  done(done_arg, rc);
}

void
db_write_async(db_unit_fn fn, void *ctx, void (*done)(void *arg, int rc), void *done_arg)
{
  if (!db_write_is_async()) {
    done(done_arg, run_here(fn, ctx));
    return;
  }
  struct async_job *a = malloc(sizeof *a);
  if (a == NULL) {
    done(done_arg, EVENTAPI_ENOMEM);
    return;
  }
  *a = (struct async_job){
    .job = {.fn = fn, .ctx = ctx, .done = finish_async},
    .done = done,
    .done_arg = done_arg,
  };
  a->job.done_arg = a;
  int rc = enqueue(&a->job);
  if (rc < 0) {
    free(a);
    done(done_arg, rc);
  }
}

int
db_read(db_unit_fn fn, void *ctx)
{
  db_t *lent = db_thread_lent();
  if (lent)
    return fn(lent, ctx); /* in the unit's own transaction */
  db_t *db = db_thread();
  if (db == NULL)
    return EVENTAPI_EUNAVAILABLE;
  int rc = db_begin(db, DB_READ);
  if (rc < 0)
    return rc;
  rc = fn(db, ctx);
  if (rc == 0)
    rc = db_commit(db);
  else
    db_rollback(db);
  return rc;
}
