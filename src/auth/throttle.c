#include "auth/throttle.h"

#include <assert.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/*
 * Two open-addressed tables, each entry found within PROBES places of its
 * digest's home. Usernames need more room than clients: one client may fail
 * at many names. About 1 MiB in all.
 */
#define NAME_SLOTS 16384  /* power of two */
#define CLIENT_SLOTS 4096 /* power of two */
#define PROBES 8

struct slot {
  uint64_t key[2];      /* keyed digest of what is counted */
  int64_t window_start; /* the window's first failure, microseconds */
  int64_t last_used;    /* microseconds */
  uint64_t stamp;       /* 0: free; else this tenancy of the slot, never reused */
  uint32_t failures;    /* settled failures within the window */
  uint32_t pending;     /* reserved attempts not yet settled */
};

struct table {
  struct slot *slots;
  size_t mask;
  unsigned limit; /* failures + pending at which attempts are refused */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot name_slots[NAME_SLOTS];
static struct slot client_slots[CLIENT_SLOTS];
static struct table names = {name_slots, NAME_SLOTS - 1, 10};
static struct table clients = {client_slots, CLIENT_SLOTS - 1, 100};
static int64_t window_us = 300 * 1000000LL;
static uint64_t last_stamp;

static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;
static unsigned char hash_key[crypto_generichash_KEYBYTES];

static void
hash_key_make(void)
{
  if (sodium_init() < 0)
    abort(); /* no randomness source: the tables could be aimed at */
  randombytes_buf(hash_key, sizeof hash_key);
}

void
throttle_configure(unsigned max_failures, unsigned max_client_failures,
                   unsigned window_seconds)
{
  pthread_mutex_lock(&lock);
  names.limit = max_failures ? max_failures : 1;
  clients.limit = max_client_failures ? max_client_failures : 1;
  window_us = (int64_t)window_seconds * 1000000;
  pthread_mutex_unlock(&lock);
}

void
throttle_reset(void)
{
  pthread_mutex_lock(&lock);
  memset(name_slots, 0, sizeof name_slots);
  memset(client_slots, 0, sizeof client_slots);
  pthread_mutex_unlock(&lock);
}

/* The 128-bit keyed digest of kind, client and (when not NULL) name. */
static void
digest(uint64_t out[2], char kind, const char *client, const char *name)
{
  crypto_generichash_state state;
  unsigned char bytes[16];

  crypto_generichash_init(&state, hash_key, sizeof hash_key, sizeof bytes);
  crypto_generichash_update(&state, (const unsigned char *)&kind, 1);
  /* The client with its NUL, so that no client and name run together. */
  crypto_generichash_update(&state, (const unsigned char *)client, strlen(client) + 1);
  if (name != NULL)
    crypto_generichash_update(&state, (const unsigned char *)name, strlen(name));
  crypto_generichash_final(&state, bytes, sizeof bytes);
  memcpy(out, bytes, sizeof bytes);
}

/* Ends s's window when it is over. Called with the lock held. */
static void
expire(struct slot *s, int64_t now)
{
  if (s->failures > 0 && now - s->window_start >= window_us)
    s->failures = 0;
}

/* How much keeping s is worth: 0 nothing (free or over), 1 counting, 2 in use. */
static int
worth(const struct slot *s, int64_t now)
{
  if (s->stamp == 0)
    return 0;
  if (s->pending > 0)
    return 2;
  return s->failures > 0 && now - s->window_start < window_us;
}

/*
 * The slot of key in t, or NULL; with create, a new one for it in place of
 * the least worth keeping of its probe sequence (the least recently used
 * among equals). Called with the lock held.
 */
static struct slot *
lookup(struct table *t, const uint64_t key[2], int64_t now, bool create)
{
  struct slot *victim = NULL;
  int victim_worth = 3;

  for (size_t i = 0; i < PROBES; i++) {
    struct slot *s = &t->slots[(key[0] + i) & t->mask];
    if (s->stamp != 0 && s->key[0] == key[0] && s->key[1] == key[1]) {
      expire(s, now);
      return s;
    }
    int w = worth(s, now);
    if (w < victim_worth || (w == victim_worth && s->last_used < victim->last_used)) {
      victim = s;
      victim_worth = w;
    }
  }
  if (!create)
    return NULL;
  /* A victim still in use (every probe reserved: rare) settles by key. */
  *victim = (struct slot){
    .key = {key[0], key[1]}, .stamp = ++last_stamp, .last_used = now,
  };
  return victim;
}

/* 0 when s admits one more attempt under limit, else the seconds to wait. */
static unsigned
refusal(const struct slot *s, unsigned limit, int64_t now)
{
  if (s == NULL || (uint64_t)s->failures + s->pending < limit)
    return 0;
  /* Full of reservations alone: were they all to fail now, a new window. */
  int64_t left = s->failures > 0 ? s->window_start + window_us - now : window_us;
  int64_t seconds = (left + 999999) / 1000000;
  return seconds < 1 ? 1 : seconds > UINT32_MAX ? UINT32_MAX : (unsigned)seconds;
}

unsigned
throttle_reserve(const char *client, const char *username_key, int64_t now_us,
                 struct throttle_attempt *attempt)
{
  pthread_once(&hash_key_once, hash_key_make);
  memset(attempt, 0, sizeof *attempt);
  digest(attempt->name_key, 'n', client, username_key);
  digest(attempt->client_key, 'c', client, NULL);

  pthread_mutex_lock(&lock);
  struct slot *name = lookup(&names, attempt->name_key, now_us, false);
  struct slot *from = lookup(&clients, attempt->client_key, now_us, false);
  unsigned wait = refusal(name, names.limit, now_us);
  unsigned client_wait = refusal(from, clients.limit, now_us);
  if (client_wait > wait)
    wait = client_wait;
  if (wait == 0) {
    if (name == NULL)
      name = lookup(&names, attempt->name_key, now_us, true);
    if (from == NULL)
      from = lookup(&clients, attempt->client_key, now_us, true);
    name->pending++;
    from->pending++;
    attempt->name_slot = (uint32_t)(name - names.slots);
    attempt->name_stamp = name->stamp;
    attempt->client_slot = (uint32_t)(from - clients.slots);
    attempt->client_stamp = from->stamp;
    attempt->reserved = true;
  }
  /* Refused entries stay fresh too: hammering keeps them, it does not age them. */
  if (name != NULL)
    name->last_used = now_us;
  if (from != NULL)
    from->last_used = now_us;
  pthread_mutex_unlock(&lock);
  return wait;
}

/* Settles one of an attempt's two reservations. Called with the lock held. */
static void
settle_one(struct table *t, const uint64_t key[2], uint32_t index, uint64_t stamp,
           bool failed, int64_t now)
{
  struct slot *s = &t->slots[index];
  if (s->stamp == stamp) {
    assert(s->pending > 0);
    s->pending--;
    expire(s, now);
  } else if (failed) {
    /* Its slot went to another key meanwhile: count the failure anew. */
    s = lookup(t, key, now, true);
  } else {
    return;
  }
  if (failed) {
    if (s->failures == 0)
      s->window_start = now;
    s->failures++;
  }
  s->last_used = now;
}

void
throttle_settle(struct throttle_attempt *attempt, bool failed, int64_t now_us)
{
  if (!attempt->reserved)
    return;
  pthread_mutex_lock(&lock);
  settle_one(&names, attempt->name_key, attempt->name_slot, attempt->name_stamp, failed,
             now_us);
  settle_one(&clients, attempt->client_key, attempt->client_slot, attempt->client_stamp,
             failed, now_us);
  pthread_mutex_unlock(&lock);
  attempt->reserved = false;
}
