/*
 * commands.c - `eventapi worker` and `eventapi outbox` (see commands.h).
 */
#include "delivery/commands.h"

#include <signal.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/db.h"
#include "delivery/outbox.h"
#include "delivery/worker.h"

#define ERROR_MAX 512

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
  (void)sig;
  stopping = 1;
}

/* A start-up error, in the command line's one format. */
static int
failed(const char *err)
{
  fprintf(stderr, "eventapi: %s\n", err);
  return 1;
}

int
delivery_cmd_worker(const struct config *cfg, bool once, delivery_migrate_fn migrate)
{
  char err[ERROR_MAX];
  if (delivery_global_init() < 0)
    return failed("mail: cannot initialise libcurl");
  if (delivery_check_config(cfg, err, sizeof err) < 0 || migrate(cfg, 0, err, sizeof err) < 0) {
    delivery_global_cleanup();
    return failed(err);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  int rc = delivery_worker_run(cfg, &stopping, once);
  db_close_all();
  delivery_global_cleanup();
  return rc < 0 ? 1 : 0;
}

/* Opens the configured database, migrated, for a one-shot command. */
static db_t *
open_database(const struct config *cfg, delivery_migrate_fn migrate)
{
  db_t *db;
  char err[ERROR_MAX], why[ERROR_MAX - 32];
  if (migrate(cfg, 0, err, sizeof err) < 0) {
    failed(err);
    return NULL;
  }
  if (db_connect(&db, why, sizeof why) < 0) {
    snprintf(err, sizeof err, "database: %s", why);
    failed(err);
    return NULL;
  }
  return db;
}

static void
print_rows(FILE *out, const char *state, const struct delivery_message *list, size_t count)
{
  if (count == 0)
    return;
  fprintf(out, "\n%s:\n%-8s %-8s %-24s %-8s %-28s %-30s %s\n", state, "ID", "CHANNEL", "KIND",
          "TRIES", strcmp(state, "dead") == 0 ? "LAST TRY" : "NEXT TRY", "TO", "LAST ERROR");
  for (size_t i = 0; i < count; i++) {
    const struct delivery_message *m = &list[i];
    char when[TIME_ISO_MAX];
    time_format_iso(m->next_attempt_at, when);
    fprintf(out, "%-8lld %-8s %-24s %-8lld %-28s %-30s %s\n", (long long)m->id, m->channel,
            m->kind, (long long)m->attempts, when, m->target,
            m->last_error ? m->last_error : "-");
  }
}

int
delivery_cmd_outbox_list(const struct config *cfg, int64_t limit, FILE *out,
                         delivery_migrate_fn migrate)
{
  db_t *db = open_database(cfg, migrate);
  if (db == NULL)
    return 1;
  arena_t arena = {0};
  struct delivery_message *pending = NULL, *dead = NULL;
  size_t npending = 0, ndead = 0;
  int64_t counts[3];
  int rc = delivery_counts(db, &counts[0], &counts[1], &counts[2]);
  if (rc == 0)
    rc = delivery_list(db, "pending", limit, &arena, &pending, &npending);
  if (rc == 0)
    rc = delivery_list(db, "dead", limit, &arena, &dead, &ndead);
  if (rc == 0) {
    fprintf(out, "pending %lld  sent %lld  dead %lld\n", (long long)counts[0],
            (long long)counts[1], (long long)counts[2]);
    print_rows(out, "pending", pending, npending);
    print_rows(out, "dead", dead, ndead);
  } else {
    log_error("outbox: %s", eventapi_strerror(rc));
  }
  arena_free(&arena);
  db_close(db);
  return rc < 0 ? 1 : 0;
}

/* Dead messages sent again (id 0: all of them), as a unit of work. */
struct requeue {
  int64_t id, now;
  int changed;
};

static int
requeue_unit(db_t *db, void *arg)
{
  struct requeue *unit = arg;
  return delivery_requeue(db, unit->id, unit->now, &unit->changed);
}

int
delivery_cmd_outbox_requeue(const struct config *cfg, int64_t id, FILE *out,
                            delivery_migrate_fn migrate)
{
  db_t *db = open_database(cfg, migrate);
  if (db == NULL)
    return 1;
  struct requeue unit = {id, time_now_us(), 0};
  int rc = db_write(requeue_unit, &unit);
  int changed = unit.changed;
  if (rc < 0)
    log_error("outbox: %s", eventapi_strerror(rc));
  else if (id && changed == 0)
    fprintf(out, "no dead message %lld\n", (long long)id);
  else
    fprintf(out, "requeued %d\n", changed);
  db_close(db);
  return rc < 0 ? 1 : (id && changed == 0) ? 1 : 0;
}
