/*
 * faults_crash.c - process death. A node (`eventapi serve`, a real child
 * process with its mail worker) takes a mixed write load from many
 * threads: sign-ups, event edits, registrations, cancellations (which
 * promote the waitlist) and check-ins. It is killed with SIGKILL at a
 * random moment, 20 times over, and after each restart:
 *
 *   - every request answered 2xx is there (the user, the registration, the
 *     cancellation, the check-in, the event's last answered place, or one
 *     sent after it whose answer the kill cut off);
 *   - nothing is half there: every counter equals the rows it counts, a
 *     ticket exists exactly for each active confirmed registration, each
 *     registration has the notice of how it began and of its promotion
 *     (api_expect_database_consistent); on SQLite `PRAGMA integrity_check`
 *     is ok and no foreign key is broken;
 *   - the outbox is delivered exactly once per attempt record: every mail
 *     file carries the Message-ID of one outbox row (nothing sent as a new
 *     message), no row has more mail files than claims recorded, and every
 *     row marked sent has its mail. At the end, with the clock moved past
 *     every lease and back-off, every due row is sent: nothing lost.
 *
 * The load's only other answers are the kill's: no answer at all.
 * On both backends (the PostgreSQL pass runs it again).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/api.h"
#include "support/db.h"
#include "support/process.h"

#define ROUNDS 20
#define LANES 8         /* load threads, each with its own event and people */
#define PEOPLE 6        /* attendees of a lane */
#define CAPACITY 3      /* of a lane's event: half its people wait */
#define MAX_OPS 400     /* requests of a lane in one round, at most */

static void
start(void)
{
  /* The in-process server only sets up and delivers the last mail; the
   * nodes (WORKER on) deliver meanwhile. */
  const char *env[] = {"WORKER", "off", NULL};
  api_server_start_with(env);
}

TestSuite(crash, .init = start, .fini = api_server_stop, .timeout = 600);

/* ---- a lane: one thread's event, people, and what it was answered ----------- */

struct person {
  long long user;
  const char *token;
  long long registration;   /* active; 0: none */
  bool confirmed, checked_in;
  const char *code;         /* its ticket's, when known */
  bool unknown;             /* a request about it got no answer: left alone */
};

enum op { SIGNUP, EDIT, REGISTER, CANCEL, CHECK_IN };
static const char *const op_names[] = {"sign-up", "event edit", "registration",
                                       "cancellation", "check-in"};

struct done {
  enum op op;
  long status;
  long long id;             /* the registration concerned (REGISTER: answered) */
  const char *text;         /* SIGNUP: the username; EDIT: the location */
};

struct lane {
  int index;
  long long event;
  struct person people[PEOPLE];
  /* this round's */
  const char *base;
  unsigned seed;
  int round;
  struct done log[MAX_OPS];
  size_t nlog;
};

static const char *organizer_token;
static struct lane lanes[LANES];
static atomic_int answered; /* 2xx answers of the round, all lanes */

static struct person *
pick(struct lane *l, bool registered, bool confirmed_unchecked)
{
  int start = (int)(rand_r(&l->seed) % PEOPLE);
  for (int i = 0; i < PEOPLE; i++) {
    struct person *p = &l->people[(start + i) % PEOPLE];
    if (p->unknown || (p->registration != 0) != registered)
      continue;
    if (confirmed_unchecked && (!p->confirmed || p->checked_in || p->code == NULL))
      continue;
    if (registered && !confirmed_unchecked && p->checked_in)
      continue; /* a checked-in ticket stays, so that its check-in can be seen */
    return p;
  }
  return NULL;
}

/* One request of the lane's mix; false once the node is gone. */
static bool
act(struct lane *l)
{
  struct done *d = &l->log[l->nlog];
  struct person *p = NULL;
  struct api_resp *r = NULL;
  *d = (struct done){0};
  unsigned dice = rand_r(&l->seed) % 10;
  if (dice < 2) {
    d->op = SIGNUP;
    d->text = api_printf("r%dl%dn%zu", l->round, l->index, l->nlog);
    r = api_post(api_printf("%s/api/users/register/", l->base), NULL, api_jsonf(
        "{'username':'%s','email':'%s@example.com','password':'" API_PASSWORD "'}",
        d->text, d->text));
  } else if (dice < 4) {
    d->op = EDIT;
    d->text = api_printf("Hall %d.%zu", l->round, l->nlog);
    r = api_patch(api_printf("%s/api/events/%lld/update/", l->base, l->event), organizer_token,
                  api_jsonf("{'location':'%s'}", d->text));
  } else if (dice < 7 && (p = pick(l, false, false)) != NULL) {
    d->op = REGISTER;
    r = api_post(api_printf("%s/api/registrations/%lld/register/", l->base, l->event), p->token,
                 "{}");
  } else if (dice < 9 && (p = pick(l, true, false)) != NULL) {
    d->op = CANCEL;
    d->id = p->registration;
    r = api_delete(api_printf("%s/api/registrations/%lld/", l->base, p->registration),
                   p->token);
  } else if ((p = pick(l, true, true)) != NULL) {
    d->op = CHECK_IN;
    d->id = p->registration;
    r = api_post(api_printf("%s/api/tickets/%s/check-in/", l->base, p->code), organizer_token,
                 NULL);
  } else {
    return true; /* nobody to do that to now */
  }
  d->status = r->status;
  l->nlog++;
  if (r->status == 0) {
    if (p)
      p->unknown = true;
    return false;
  }
  if (r->status / 100 != 2)
    return false; /* reported by the test, which expects none */
  atomic_fetch_add(&answered, 1);
  if (d->op == REGISTER) {
    d->id = api_id(r);
    p->registration = d->id;
    p->confirmed = json_is_false(json_object_get(r->json, "is_waitlisted"));
    json_t *code = json_object_get(json_object_get(r->json, "ticket"), "code");
    p->code = json_is_string(code) ? api_strdup(json_string_value(code)) : NULL;
  } else if (d->op == CANCEL) {
    p->registration = 0;
    p->confirmed = false;
    p->code = NULL;
  } else if (d->op == CHECK_IN) {
    p->checked_in = true;
  }
  return true;
}

static void *
load(void *arg)
{
  struct lane *l = arg;
  while (l->nlog < MAX_OPS && act(l))
    ;
  return NULL;
}

/*
 * What the database holds, read in a few queries (a connection each, which
 * PostgreSQL makes slowly): rows as api_db_rows() gives them.
 */
struct snapshot {
  json_t *usernames;       /* [username] */
  json_t *registrations;   /* [id, user, event, waitlisted 0/1, cancelled 0/1] */
  json_t *tickets;         /* [registration, code, checked in 0/1] */
  json_t *events;          /* [id, location] */
};

static struct snapshot
snapshot(void)
{
  return (struct snapshot){
    .usernames = api_db_rows("SELECT username FROM users", 1),
    .registrations = api_db_rows("SELECT id, user_id, event_id, is_waitlisted,"
                                 " CASE WHEN cancelled_at IS NULL THEN 0 ELSE 1 END"
                                 " FROM registrations", 5),
    .tickets = api_db_rows("SELECT registration_id, code,"
                           " CASE WHEN checked_in_at IS NULL THEN 0 ELSE 1 END FROM tickets", 3),
    .events = api_db_rows("SELECT id, location FROM events", 2),
  };
}

static long long
column_int(json_t *row, size_t i)
{
  return atoll(json_string_value(json_array_get(row, i)));
}

/* The row of rows whose column 0 is id (as an integer), or NULL. */
static json_t *
row_of(json_t *rows, long long id)
{
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row)
    if (column_int(row, 0) == id)
      return row;
  return NULL;
}

/* What the database holds of each person of the lane now (each round
 * starts from it: the requests the last kill cut off may have committed). */
static void
reload(struct lane *l, const struct snapshot *db)
{
  for (int i = 0; i < PEOPLE; i++) {
    struct person *p = &l->people[i];
    *p = (struct person){.user = p->user, .token = p->token};
    size_t k;
    json_t *row;
    json_array_foreach(db->registrations, k, row) {
      if (column_int(row, 1) == p->user && column_int(row, 2) == l->event &&
          column_int(row, 4) == 0)
        p->registration = column_int(row, 0), p->confirmed = column_int(row, 3) == 0;
    }
    json_t *ticket = p->registration ? row_of(db->tickets, p->registration) : NULL;
    cr_assert_eq(ticket != NULL, p->confirmed, "registration %lld: confirmed %d, ticket %d",
                 p->registration, p->confirmed, ticket != NULL);
    if (ticket) {
      p->code = api_strdup(json_string_value(json_array_get(ticket, 1)));
      p->checked_in = column_int(ticket, 2) == 1;
    }
  }
}

/* ---- after each restart --------------------------------------------------------- */

/* Every 2xx of the lane is there; every other answer was the kill's. */
static void
expect_answers_kept(const struct lane *l, const struct snapshot *db)
{
  const char *last_place = NULL; /* answered 200, or sent after that one */
  size_t from = 0;
  for (size_t i = 0; i < l->nlog; i++) {
    const struct done *d = &l->log[i];
    bool ok = d->status / 100 == 2;
    cr_assert(ok || (d->status == 0 && i == l->nlog - 1),
              "lane %d, round %d: a %s answered %ld", l->index, l->round, op_names[d->op],
              d->status);
    if (d->op == EDIT && ok)
      last_place = d->text, from = i;
    if (!ok)
      continue;
    json_t *registration = d->id ? row_of(db->registrations, d->id) : NULL;
    json_t *ticket = d->id ? row_of(db->tickets, d->id) : NULL;
    switch (d->op) {
    case SIGNUP: {
      bool found = false;
      size_t k;
      json_t *row;
      json_array_foreach(db->usernames, k, row)
        found = found || strcmp(json_string_value(json_array_get(row, 0)), d->text) == 0;
      cr_assert(found, "the sign-up of %s was answered 201 and is gone", d->text);
      break;
    }
    case REGISTER:
      cr_assert(registration != NULL, "registration %lld was answered 200 and is gone", d->id);
      break;
    case CANCEL:
      cr_assert(registration != NULL && column_int(registration, 4) == 1,
                "the cancellation of %lld was answered 204 and is undone", d->id);
      break;
    case CHECK_IN:
      cr_assert(ticket != NULL && column_int(ticket, 2) == 1,
                "the check-in of %lld was answered 200 and is undone", d->id);
      break;
    case EDIT:
      break;
    }
  }
  if (last_place == NULL)
    return;
  const char *place = json_string_value(json_array_get(row_of(db->events, l->event), 1));
  bool kept = strcmp(place, last_place) == 0;
  for (size_t i = from + 1; i < l->nlog && !kept; i++)
    kept = l->log[i].op == EDIT && strcmp(place, l->log[i].text) == 0;
  cr_assert(kept, "lane %d: the event is in %s; the last edit answered 200 put it in %s",
            l->index, place, last_place);
}

/* The Message-ID of a mail file ("<...>"), or NULL. Harness-owned. */
static const char *
message_id_of(const char *path)
{
  FILE *f = fopen(path, "rb");
  cr_assert(f != NULL, "open %s", path);
  char line[1024];
  const char *id = NULL;
  while (id == NULL && fgets(line, sizeof line, f)) {
    if (strncmp(line, "Message-ID: ", 12) == 0)
      id = api_printf("%.*s", (int)strcspn(line + 12, "\r\n"), line + 12);
    else if (line[0] == '\r' || line[0] == '\n')
      break; /* end of the header */
  }
  fclose(f);
  return id;
}

struct mail {
  const char **ids;         /* of each file */
  size_t n;
};

static struct mail
mail_files(void)
{
  struct mail m = {0};
  const char *dir = api_printf("%s/mail", api_server_dir());
  DIR *d = opendir(dir);
  if (d == NULL)
    return m; /* nothing sent yet */
  size_t cap = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 4, ".eml") != 0)
      continue; /* ".", "..", a temporary file being written */
    if (m.n == cap) {
      cap = cap ? 2 * cap : 256;
      m.ids = realloc(m.ids, cap * sizeof *m.ids);
      cr_assert(m.ids != NULL);
    }
    const char *id = message_id_of(api_printf("%s/%s", dir, e->d_name));
    cr_assert(id != NULL, "mail file %s has no Message-ID", e->d_name);
    m.ids[m.n++] = id;
  }
  closedir(d);
  api_keep(m.ids, free);
  return m;
}

/* Whether a mail's Message-ID ("<id@domain>", or "<id>" when the row's id
 * holds its own domain) is the outbox row's id. */
static bool
is_message(const char *header, const char *id)
{
  size_t len = strlen(id);
  return header[0] == '<' && strncmp(header + 1, id, len) == 0 &&
         (strcmp(header + 1 + len, ">") == 0 ||
          (header[1 + len] == '@' && strchr(id, '@') == NULL &&
           header[strlen(header) - 1] == '>'));
}

static long long
copies(const struct mail *m, const char *id)
{
  long long n = 0;
  for (size_t i = 0; i < m->n; i++)
    n += is_message(m->ids[i], id);
  return n;
}

/*
 * The outbox against the mail files, while a worker may run: rows marked
 * sent are read first (each was sent before it was marked), then the
 * files, then the rows' claims (each claim is recorded before its send).
 */
static void
expect_outbox_delivered_once_per_attempt(void)
{
  json_t *sent = api_db_rows("SELECT id, message_id FROM outbox WHERE channel = 'mail'"
                             " AND state = 'sent'", 2);
  struct mail m = mail_files();
  json_t *claimed = api_db_rows("SELECT id, message_id, attempts FROM outbox"
                                " WHERE channel = 'mail'", 3);
  size_t i;
  json_t *row;
  json_array_foreach(sent, i, row) {
    const char *id = json_string_value(json_array_get(row, 1));
    cr_assert_geq(copies(&m, id), 1, "outbox row %s is marked sent, and no mail has its "
                  "Message-ID %s", json_string_value(json_array_get(row, 0)), id);
  }
  for (size_t f = 0; f < m.n; f++) {
    long long rows = 0, attempts = 0, n = 0;
    json_array_foreach(claimed, i, row) {
      const char *id = json_string_value(json_array_get(row, 1));
      if (is_message(m.ids[f], id)) {
        rows++;
        attempts = atoll(json_string_value(json_array_get(row, 2)));
        n = copies(&m, id);
      }
    }
    cr_assert_eq(rows, 1, "mail %s belongs to %lld outbox rows: sent as a new message",
                 m.ids[f], rows);
    cr_assert_leq(n, attempts, "mail %s sent %lld times in %lld recorded attempts", m.ids[f], n,
                  attempts);
  }
}

/* ---- the test ----------------------------------------------------------------------- */

Test(crash, kill_9_at_random_moments_loses_no_2xx_and_leaves_nothing_half_done)
{
  struct api_user olga = api_signup("olga", "organizer");
  organizer_token = olga.access;
  for (int i = 0; i < LANES; i++) {
    lanes[i] = (struct lane){.index = i};
    lanes[i].event = api_create_event(olga.access, api_printf("{'capacity':%d}", CAPACITY)).id;
    for (int k = 0; k < PEOPLE; k++) {
      struct api_user u = api_signup(api_printf("p%d_%d", i, k), NULL);
      lanes[i].people[k] = (struct person){.user = u.id, .token = u.access};
    }
  }
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  cr_log_info("seed %u", seed);
  /* Short leases (twice EMAIL_TIMEOUT and 5 s): a dead node's claims are
   * taken over within a round or two. The SQLite log is copied into the
   * database file every 64 pages, so that kills land in checkpoints too. */
  const char *serve[] = {"serve", NULL};
  const char *node_env[] = {"WORKER", "on", "EMAIL_TIMEOUT", "1s", "THREADS", "4",
                            "SQLITE_CHECKPOINT_PAGES", "64", NULL};
  struct api_process node;
  api_process_start(&node, serve, node_env);
  long long total = 0, cut = 0;
  for (int round = 0; round < ROUNDS; round++) {
    const char *base = api_printf("http://127.0.0.1:%u", node.port);
    atomic_store(&answered, 0);
    pthread_t threads[LANES];
    struct snapshot now = snapshot();
    for (int i = 0; i < LANES; i++) {
      reload(&lanes[i], &now);
      lanes[i].base = base;
      lanes[i].round = round;
      lanes[i].nlog = 0;
      lanes[i].seed = rand_r(&seed);
      cr_assert_eq(pthread_create(&threads[i], NULL, load, &lanes[i]), 0);
    }
    /* Killed at a random moment once the load runs: after a random number
     * of answers, then a random pause. */
    int after = 1 + (int)(rand_r(&seed) % 40);
    for (int waited = 0; atomic_load(&answered) < after && waited < 60000; waited++)
      api_pause_ms(1);
    api_pause_ms((long)(rand_r(&seed) % 50));
    api_process_kill(&node, SIGKILL);
    for (int i = 0; i < LANES; i++)
      pthread_join(threads[i], NULL);

    /* Restarted on the same database: it recovers what was committed. */
    api_process_start(&node, serve, node_env);
    expect_status(api_get(api_printf("http://127.0.0.1:%u/healthz", node.port), NULL), 200);
    now = snapshot();
    for (int i = 0; i < LANES; i++) {
      expect_answers_kept(&lanes[i], &now);
      total += (long long)lanes[i].nlog;
      cut += lanes[i].nlog > 0 && lanes[i].log[lanes[i].nlog - 1].status == 0;
    }
    api_expect_database_consistent();
    expect_outbox_delivered_once_per_attempt();
  }
  api_process_kill(&node, SIGTERM);
  cr_log_info("%d kills, %lld requests, %lld of them cut off by a kill", ROUNDS, total, cut);
  cr_assert_gt(cut, 0, "no kill ever met a request in flight: the test proved nothing");

  /* Nothing lost: once every lease and back-off is over, every due
   * message of the outbox is delivered, each as often as it was claimed at most. */
  api_clock_advance(3600);
  api_deliver_mail();
  long long due = api_db_int("SELECT COUNT(*) FROM outbox WHERE state = 'dead'"
                             " OR (state = 'pending' AND next_attempt_at <= ?)", api_now_us());
  cr_assert_eq(due, 0, "%lld due messages of the outbox are not delivered", due);
  cr_assert_gt(api_db_int("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", 0), 0);
  expect_outbox_delivered_once_per_attempt();
  api_expect_database_consistent();
}
