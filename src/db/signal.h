/*
 * signal.h - Django-style signals: what a change causes, told to whoever
 * listens, inside the change's own unit of work.
 *
 * A signal is a list of receivers. Receivers are connected once, at
 * start-up and before any thread runs (app.c holds every connection, in
 * the order they run); models send the signal inside the write transaction
 * of the change (a unit of work, db.h), so that a change and what it
 * causes commit together or not at all. A receiver returns 0, or a
 * negative code that stops the sending and rolls the whole change back;
 * work that must wait for the commit goes through db_on_commit().
 *
 * The payload is the signal's own struct, named where the signal is
 * declared; it is borrowed for the call.
 */
#ifndef EVENTAPI_DB_SIGNAL_H
#define EVENTAPI_DB_SIGNAL_H

#include <stddef.h>

#include "db/db.h"

#define SIGNAL_RECEIVERS_MAX 4

typedef int (*signal_receiver)(db_t *db, const void *payload);

struct signal {
  const char *name;   /* for the log */
  signal_receiver receivers[SIGNAL_RECEIVERS_MAX];
  size_t count;
};

/* A signal's definition: struct signal users_deleting = SIGNAL("users_deleting"); */
#define SIGNAL(name_) {.name = (name_)}

/*
 * Adds receiver to sig's list, after those connected before; a receiver
 * connected again is kept once. At most SIGNAL_RECEIVERS_MAX (a bug past
 * that: asserted, and logged). Before threads start.
 */
void signal_connect(struct signal *sig, signal_receiver receiver);

/* Runs every receiver of sig in order, stopping at the first error, which it returns. */
int signal_send(const struct signal *sig, db_t *db, const void *payload);

#endif
