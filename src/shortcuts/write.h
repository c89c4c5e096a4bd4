/*
 * write.h - how a view writes: one unit of work (db.h), then the answer.
 *
 * A view reads and validates first, outside any write lock, then hands its
 * change to write_or_reply() as a unit of work and answers from the
 * unit's result. On SQLite the request is parked meanwhile (http_suspend),
 * so the server's threads serve other requests while the writer commits a
 * batch; on PostgreSQL the unit runs at once on the thread's connection.
 * Either way, reply runs on the request's own thread once the unit's
 * changes are durable, or once it is known they are not.
 */
#ifndef EVENTAPI_SHORTCUTS_WRITE_H
#define EVENTAPI_SHORTCUTS_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "http/http.h"

/*
 * Answers the request from rc: 0 when the unit's changes committed, or the
 * unit's own negative code (they were undone). ctx is the unit's.
 */
typedef void (*write_reply_fn)(struct http_request *req, int rc, void *ctx);

/*
 * Copies ctx (size bytes) into the request's arena, runs unit(db, copy) as
 * a unit of work, then reply(req, rc, copy). A storage failure (database
 * unavailable or busy, storage full, a commit the disk did not confirm,
 * out of memory, an I/O error) is answered here (503 or 500) without
 * calling reply, and so is a copy that finds no memory: then false is
 * returned and nothing runs (the caller undoes what it made for the unit).
 * True once the unit is on its way.
 */
bool write_or_reply(struct http_request *req, db_unit_fn unit, const void *ctx, size_t size,
                    write_reply_fn reply);

#endif
