#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "auth/throttle.h"

#define SECOND 1000000LL
#define T0 (1000 * SECOND)

static void
setup(void)
{
  throttle_reset();
  throttle_configure(3, 10, 60);
}

TestSuite(throttle, .init = setup);

/* One whole login that fails (or not) at now: reserve, then settle. Returns
 * what the reservation answered (0: it was tried). */
static unsigned
attempt(const char *client, const char *name, bool fails, int64_t now)
{
  struct throttle_attempt a;
  unsigned wait = throttle_reserve(client, name, now, &a);
  if (wait == 0)
    throttle_settle(&a, fails, now);
  return wait;
}

static unsigned
fail(const char *client, const char *name, int64_t now)
{
  return attempt(client, name, true, now);
}

Test(throttle, a_username_is_refused_after_max_failures_from_one_client)
{
  cr_assert_eq(fail("10.0.0.1", "alice", T0), 0);
  cr_assert_eq(fail("10.0.0.1", "alice", T0), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 0);
  cr_assert_eq(fail("10.0.0.1", "alice", T0), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 60);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 45 * SECOND), 15);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 59 * SECOND + 1), 1);
}

Test(throttle, other_usernames_and_other_clients_still_get_in)
{
  for (int i = 0; i < 3; i++)
    fail("10.0.0.1", "alice", T0);
  cr_assert_gt(attempt("10.0.0.1", "alice", false, T0), 0);
  cr_assert_eq(attempt("10.0.0.1", "bob", false, T0), 0);
  cr_assert_eq(attempt("10.0.0.2", "alice", false, T0), 0);
  /* Names and clients are not run together: "10.0.0.1" + "0alice". */
  cr_assert_eq(attempt("10.0.0.10", "alice", false, T0), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice2", false, T0), 0);
}

Test(throttle, successes_give_their_reservation_back)
{
  for (int i = 0; i < 50; i++)
    cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 0);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(fail("10.0.0.1", "alice", T0), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 0);
  cr_assert_eq(fail("10.0.0.1", "alice", T0), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 60);
}

Test(throttle, unsettled_reservations_count_as_failures)
{
  struct throttle_attempt a[4];
  for (int i = 0; i < 3; i++)
    cr_assert_eq(throttle_reserve("10.0.0.1", "alice", T0, &a[i]), 0);
  /* Three logins are checking their passwords: a fourth must wait. */
  cr_assert_eq(throttle_reserve("10.0.0.1", "alice", T0, &a[3]), 60);
  cr_assert_eq(throttle_reserve("10.0.0.1", "bob", T0, &a[3]), 0);
  throttle_settle(&a[3], false, T0);

  throttle_settle(&a[0], false, T0 + SECOND); /* a success frees its place */
  cr_assert_eq(throttle_reserve("10.0.0.1", "alice", T0 + SECOND, &a[3]), 0);
  throttle_settle(&a[1], true, T0 + 2 * SECOND);
  throttle_settle(&a[2], true, T0 + 3 * SECOND);
  throttle_settle(&a[3], true, T0 + 4 * SECOND);
  /* The window runs from the first failure. */
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 4 * SECOND), 58);
}

Test(throttle, settling_twice_or_an_unreserved_attempt_does_nothing)
{
  struct throttle_attempt a, refused;
  cr_assert_eq(throttle_reserve("10.0.0.1", "alice", T0, &a), 0);
  throttle_settle(&a, true, T0);
  throttle_settle(&a, true, T0);
  for (int i = 0; i < 2; i++)
    fail("10.0.0.1", "alice", T0);
  cr_assert_eq(throttle_reserve("10.0.0.1", "alice", T0, &refused), 60);
  throttle_settle(&refused, false, T0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 60);
}

Test(throttle, the_client_ceiling_counts_every_username)
{
  for (int i = 0; i < 10; i++) {
    char name[16];
    snprintf(name, sizeof name, "user%d", i);
    cr_assert_eq(fail("10.0.0.1", name, T0 + i * SECOND), 0);
  }
  /* Past it, any username from that client waits for the client's window. */
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 10 * SECOND), 50);
  cr_assert_eq(attempt("10.0.0.1", "user0", false, T0 + 10 * SECOND), 50);
  cr_assert_eq(attempt("10.0.0.2", "alice", false, T0 + 10 * SECOND), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 60 * SECOND), 0);
}

Test(throttle, the_longer_wait_of_the_two_limits_is_answered)
{
  throttle_configure(3, 4, 60);
  fail("10.0.0.1", "bob", T0);
  for (int i = 0; i < 3; i++)
    fail("10.0.0.1", "alice", T0 + 30 * SECOND);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 30 * SECOND), 60);
  cr_assert_eq(attempt("10.0.0.1", "carol", false, T0 + 30 * SECOND), 30);
}

Test(throttle, window_ends)
{
  for (int i = 0; i < 3; i++)
    fail("::1", "alice", T0);
  cr_assert_gt(attempt("::1", "alice", false, T0 + 59 * SECOND), 0);
  cr_assert_eq(attempt("::1", "alice", false, T0 + 60 * SECOND), 0);
  /* A new window starts at the next failure, with a clean count. */
  cr_assert_eq(fail("::1", "alice", T0 + 61 * SECOND), 0);
  cr_assert_eq(fail("::1", "alice", T0 + 62 * SECOND), 0);
  cr_assert_eq(attempt("::1", "alice", false, T0 + 62 * SECOND), 0);
  cr_assert_eq(fail("::1", "alice", T0 + 63 * SECOND), 0);
  cr_assert_eq(attempt("::1", "alice", false, T0 + 63 * SECOND), 58);
}

Test(throttle, a_reservation_settled_after_its_window_starts_a_new_one)
{
  for (int i = 0; i < 2; i++)
    fail("10.0.0.1", "alice", T0);
  struct throttle_attempt a;
  cr_assert_eq(throttle_reserve("10.0.0.1", "alice", T0, &a), 0);
  throttle_settle(&a, true, T0 + 70 * SECOND);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 70 * SECOND), 0);
  cr_assert_eq(fail("10.0.0.1", "alice", T0 + 71 * SECOND), 0);
  cr_assert_eq(fail("10.0.0.1", "alice", T0 + 72 * SECOND), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0 + 72 * SECOND), 58);
}

Test(throttle, the_limits_can_be_changed)
{
  throttle_configure(0, 0, 60); /* 0 means 1 */
  cr_assert_eq(fail("10.0.0.1", "alice", T0), 0);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 60);
  cr_assert_eq(attempt("10.0.0.1", "bob", false, T0), 60);
  throttle_configure(5, 5, 60);
  cr_assert_eq(attempt("10.0.0.1", "alice", false, T0), 0);
}

Test(throttle, a_full_table_still_counts_new_failures_exactly)
{
  char client[32], name[32];
  /* Far more keys than the tables hold, each with failures in its window. */
  for (int i = 0; i < 100000; i++) {
    snprintf(client, sizeof client, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
    snprintf(name, sizeof name, "user%d", i);
    fail(client, name, T0 + i);
  }
  for (int i = 0; i < 3; i++)
    cr_assert_eq(fail("192.0.2.1", "alice", T0 + 200000), 0);
  cr_assert_eq(attempt("192.0.2.1", "alice", false, T0 + 200000), 60);
  cr_assert_eq(attempt("192.0.2.1", "bob", false, T0 + 200000), 0);
}

Test(throttle, reservations_survive_a_flood_of_other_keys)
{
  struct throttle_attempt a[3];
  for (int i = 0; i < 3; i++)
    cr_assert_eq(throttle_reserve("192.0.2.1", "alice", T0, &a[i]), 0);
  char client[32];
  for (int i = 0; i < 100000; i++) {
    snprintf(client, sizeof client, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
    fail(client, "x", T0 + 1 + i);
  }
  /* In use, they kept their places: still counted, still refusing. */
  struct throttle_attempt fourth;
  cr_assert_eq(throttle_reserve("192.0.2.1", "alice", T0 + SECOND, &fourth), 60);
  for (int i = 0; i < 3; i++)
    throttle_settle(&a[i], true, T0 + SECOND);
  cr_assert_eq(attempt("192.0.2.1", "alice", false, T0 + SECOND), 60);
}

/* ---- concurrency: real threads ------------------------------------------ */

#define THREADS 16
#define TRIES 25

struct racer {
  pthread_barrier_t *start;
  const char *client, *name;
  int admitted;
};

static void *
race(void *arg)
{
  struct racer *r = arg;
  pthread_barrier_wait(r->start);
  for (int i = 0; i < TRIES; i++) {
    struct throttle_attempt a;
    if (throttle_reserve(r->client, r->name, T0, &a) == 0) {
      r->admitted++;
      sched_yield(); /* the password check, where other threads get in */
      throttle_settle(&a, true, T0);
    }
  }
  return NULL;
}

static int
run_racers(struct racer *racers, int count)
{
  pthread_t threads[THREADS];
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)count);
  for (int i = 0; i < count; i++) {
    racers[i].start = &start;
    cr_assert_eq(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
  }
  int admitted = 0;
  for (int i = 0; i < count; i++) {
    pthread_join(threads[i], NULL);
    admitted += racers[i].admitted;
  }
  pthread_barrier_destroy(&start);
  return admitted;
}

Test(throttle, parallel_failures_of_one_username_are_admitted_exactly)
{
  throttle_configure(10, 100, 60);
  struct racer racers[THREADS] = {0};
  for (int i = 0; i < THREADS; i++) {
    racers[i].client = "10.0.0.1";
    racers[i].name = "alice";
  }
  cr_assert_eq(run_racers(racers, THREADS), 10);
}

Test(throttle, parallel_failures_of_many_usernames_stop_at_the_client_ceiling)
{
  throttle_configure(10, 37, 60);
  static const char *const names[THREADS] = {
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
  };
  struct racer racers[THREADS] = {0};
  for (int i = 0; i < THREADS; i++) {
    racers[i].client = "10.0.0.1";
    racers[i].name = names[i];
  }
  cr_assert_eq(run_racers(racers, THREADS), 37);
}
