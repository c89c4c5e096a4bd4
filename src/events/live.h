/*
 * live.h - live availability: GET /api/events/{id}/availability/stream,
 * Server-Sent Events of an event's places left (docs/api.md, "Live
 * availability").
 *
 * One thread (the hub) keeps every open stream of this process. A change
 * of an event's places marks the event once its transaction has committed
 * (events_live_changed_on_commit); the hub reads the event's availability
 * once per pass, at most one pass every 250 ms, and pushes the new state to
 * its streams (a slow client's unsent older state is replaced, never
 * queued behind). Every 15 s an idle stream gets a comment line, which
 * also finds the clients that went away. A deleted event ends its streams
 * with an "event: deleted" message.
 *
 * Other processes on the same PostgreSQL database hear of a change by a
 * NOTIFY that commits with it; each process LISTENs on one connection of
 * its own (db_listen), and when that connection comes back after a loss,
 * every watched event is read again. On SQLite a process hears only of
 * its own changes.
 *
 * Streams hold no thread: their connections are parked while there is
 * nothing to send (http/stream.h).
 */
#ifndef EVENTAPI_EVENTS_LIVE_H
#define EVENTAPI_EVENTS_LIVE_H

#include <stdint.h>

#include "core/config.h"
#include "db/db.h"
#include "http/http.h"

/* Starts and stops the hub (app.c); stopping ends every stream. */
int events_live_start(const struct config *cfg);
void events_live_stop(void);

/* Marks event_id's availability changed once db's transaction commits, in
 * this process and (PostgreSQL's NOTIFY, in the transaction) every other.
 * 0, or a negative code: out of memory, or the database's. */
int events_live_changed_on_commit(db_t *db, int64_t event_id);

/* Marks it changed now (for a change already committed). */
void events_live_changed(int64_t event_id);

/* GET /api/events/{id}/availability/stream */
void events_availability_stream_view(struct http_request *req);

/* Receivers (db/signal.h; app.c connects them): events_updated (capacity,
 * ticket types) and events_deleting. */
int events_live_on_updated(db_t *db, const void *payload);
int events_live_on_deleting(db_t *db, const void *payload);

#endif
