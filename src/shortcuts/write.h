/*
 * write.h - how a view writes: one unit of work (db.h), then the answer.
 *
 * A view reads and validates first, outside any write lock, then hands its
 * change to write_and_reply() as a unit of work and answers from the
 * unit's result. On SQLite the request is parked meanwhile (http_suspend),
 * so the server's threads serve other requests while the writer commits a
 * batch; on PostgreSQL the unit runs at once on the thread's connection.
 * Either way, reply runs on the request's own thread once the unit's
 * changes are durable, or once it is known they are not.
 */
#ifndef EVENTAPI_SHORTCUTS_WRITE_H
#define EVENTAPI_SHORTCUTS_WRITE_H

#include "db/db.h"
#include "http/http.h"

/*
 * Answers the request from rc: 0 when the unit's changes committed, or the
 * unit's own negative code (they were undone). ctx is the unit's.
 */
typedef void (*write_reply_fn)(struct http_request *req, int rc, void *ctx);

/*
 * Runs unit(db, ctx) as a unit of work, then reply(req, rc, ctx). A storage
 * failure (database unavailable or busy, storage full, a commit the disk
 * did not confirm, out of memory, an I/O error) is answered here (503 or
 * 500) without calling reply. ctx must live as long as the request (the
 * request's arena).
 */
void write_and_reply(struct http_request *req, db_unit_fn unit, void *ctx,
                     write_reply_fn reply);

/*
 * A JSON object for the field errors a unit finds under the write lock
 * (a name taken, a quantity below the confirmed count), owned by the request
 * and freed with it. A unit clears it when it starts: it may run again.
 * NULL when out of memory.
 */
json_t *write_errors(struct http_request *req);

#endif
