#include "auth/throttle.h"

#include <pthread.h>
#include <string.h>

#define SLOTS 4096 /* power of two */
#define PROBES 8

struct slot {
  char client[48];
  unsigned failures;
  int64_t window_start; /* microseconds; 0: free */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];
static unsigned max_failures = 10;
static int64_t window_us = 300 * 1000000LL;

void
throttle_configure(unsigned failures, unsigned window_seconds)
{
  pthread_mutex_lock(&lock);
  max_failures = failures ? failures : 1;
  window_us = (int64_t)window_seconds * 1000000;
  pthread_mutex_unlock(&lock);
}

void
throttle_reset(void)
{
  pthread_mutex_lock(&lock);
  memset(slots, 0, sizeof slots);
  pthread_mutex_unlock(&lock);
}

static size_t
hash(const char *s)
{
  size_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/*
 * The slot of client, or (with create) a free, expired or the oldest slot
 * of its probe sequence, reset for client. Called with the lock held.
 */
static struct slot *
find(const char *client, int64_t now, int create)
{
  size_t h = hash(client);
  struct slot *victim = NULL;
  for (size_t i = 0; i < PROBES; i++) {
    struct slot *s = &slots[(h + i) & (SLOTS - 1)];
    if (s->window_start && strcmp(s->client, client) == 0) {
      if (now - s->window_start >= window_us) {
        s->failures = 0;
        s->window_start = now;
      }
      return s;
    }
    if (victim == NULL || s->window_start == 0 ||
        (victim->window_start != 0 && s->window_start < victim->window_start))
      victim = s;
  }
  if (!create)
    return NULL;
  memset(victim, 0, sizeof *victim);
  strncpy(victim->client, client, sizeof victim->client - 1);
  victim->window_start = now;
  return victim;
}

unsigned
throttle_check(const char *client, int64_t now_us)
{
  pthread_mutex_lock(&lock);
  unsigned wait = 0;
  struct slot *s = find(client, now_us, 0);
  if (s && s->failures >= max_failures) {
    int64_t left = s->window_start + window_us - now_us;
    wait = (unsigned)((left + 999999) / 1000000);
    if (wait == 0)
      wait = 1;
  }
  pthread_mutex_unlock(&lock);
  return wait;
}

void
throttle_failure(const char *client, int64_t now_us)
{
  pthread_mutex_lock(&lock);
  struct slot *s = find(client, now_us, 1);
  s->failures++;
  pthread_mutex_unlock(&lock);
}
