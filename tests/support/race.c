/*
 * race.c - requests sent at once, with the proof that they were in flight
 * together (api.h, api_race()).
 */
#include "support/api.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long a racer waits at the gate for the others before giving up. */
#define GATE_TIMEOUT_S 60

/* Where every racer's last byte waits until all have got there. */
struct gate {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  size_t expected, arrived;
  bool open;
};

struct racer {
  struct api_call *call;
  struct gate *gate;
};

static long long monotonic_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Counts one racer in; with wait, blocks until every racer is in (or the
 * gate gives up after GATE_TIMEOUT_S, which the proof then reports). */
static void gate_arrive(struct gate *g, bool wait)
{
  pthread_mutex_lock(&g->lock);
  if (++g->arrived >= g->expected) {
    g->open = true;
    pthread_cond_broadcast(&g->cond);
  }
  if (wait) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += GATE_TIMEOUT_S;
    while (!g->open) {
      if (pthread_cond_timedwait(&g->cond, &g->lock, &deadline) == ETIMEDOUT) {
        g->open = true;
        pthread_cond_broadcast(&g->cond);
      }
    }
  }
  pthread_mutex_unlock(&g->lock);
}

/* Opens the gate for whoever waits (a thread could not be started). */
static void gate_give_up(struct gate *g)
{
  pthread_mutex_lock(&g->lock);
  g->open = true;
  pthread_cond_broadcast(&g->cond);
  pthread_mutex_unlock(&g->lock);
}

static void hold(void *arg)
{
  struct racer *racer = arg;
  racer->call->held_us = monotonic_us();
  racer->call->held = true;
  gate_arrive(racer->gate, true);
}

static void *run(void *arg)
{
  struct racer *racer = arg;
  struct api_call *c = racer->call;
  const char *body = c->body ? c->body : "{}";
  size_t len = c->body && c->body_len ? c->body_len : strlen(body);
  c->resp = api_request_held(c->method, c->path, c->token,
                             c->content_type ? c->content_type : "application/json", body, len,
                             c->headers, hold, racer);
  c->answered_us = monotonic_us();
  if (!c->held) /* failed before its body: let the others go */
    gate_arrive(racer->gate, false);
  return NULL;
}

void api_race(struct api_call *calls, size_t count)
{
  cr_assert(count >= 2, "a race needs two calls or more");
  for (size_t i = 0; i < count; i++) {
    cr_assert(calls[i].method && calls[i].path, "call %zu has no method or path", i);
    cr_assert(!calls[i].body || calls[i].body_len >= 2 || strlen(calls[i].body) >= 2,
              "call %zu: a racing request needs a body of two bytes or more", i);
    calls[i].resp = NULL;
    calls[i].held = false;
    calls[i].held_us = calls[i].answered_us = 0;
  }
  struct gate gate = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
                       .expected = count };
  struct racer *racers = calloc(count, sizeof *racers);
  pthread_t *threads = calloc(count, sizeof *threads);
  cr_assert(racers && threads);
  size_t started = 0;
  int error = 0;
  for (; started < count; started++) {
    racers[started] = (struct racer){ &calls[started], &gate };
    error = pthread_create(&threads[started], NULL, run, &racers[started]);
    if (error != 0)
      break;
  }
  if (error != 0)
    gate_give_up(&gate);
  for (size_t i = 0; i < started; i++)
    pthread_join(threads[i], NULL);
  free(threads);
  free(racers);
  pthread_cond_destroy(&gate.cond);
  pthread_mutex_destroy(&gate.lock);
  expect_that(error == 0, "pthread_create for call %zu of %zu: %s", started, count,
              strerror(error));

  long long last_held = 0, first_answer = 0;
  for (size_t i = 0; i < count; i++) {
    struct api_call *c = &calls[i];
    expect_that(c->resp && c->resp->status != 0, "racing call %zu (%s %s) got no answer: %s",
                i, c->method, c->path, c->resp ? c->resp->error : "(none)");
    expect_that(c->held, "racing call %zu (%s %s) was answered %ld before its last byte: %s",
                i, c->method, c->path, c->resp->status, c->resp->body);
    if (c->held_us > last_held)
      last_held = c->held_us;
    if (first_answer == 0 || c->answered_us < first_answer)
      first_answer = c->answered_us;
  }
  expect_that(last_held < first_answer,
              "the race did not overlap: an answer came %lld us before the last request "
              "was in flight", last_held - first_answer);
}

struct api_resp *api_race_winner(struct api_call *calls, size_t count, long won,
                                 const char *lost_body)
{
  struct api_resp *winner = NULL;
  size_t winners = 0;
  for (size_t i = 0; i < count; i++) {
    struct api_resp *r = calls[i].resp;
    if (r->status == won) {
      winners++;
      winner = r;
      continue;
    }
    expect_status(r, 400);
    expect_body(r, lost_body);
  }
  expect_that(winners == 1, "%zu of the %zu calls to %s %s were answered %ld, not one", winners,
              count, calls[0].method, calls[0].path, won);
  return winner;
}
