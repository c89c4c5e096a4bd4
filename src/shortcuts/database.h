/*
 * database.h - a view's database connection, or the answer that there is
 * none.
 */
#ifndef EVENTAPI_SHORTCUTS_DATABASE_H
#define EVENTAPI_SHORTCUTS_DATABASE_H

#include "db/db.h"
#include "http/http.h"

/*
 * The calling thread's database connection (db_thread()), or NULL after
 * replying 503 when the database cannot be reached. Borrowed: never closed
 * by the caller.
 */
db_t *database_or_reply(struct http_request *req);

#endif
