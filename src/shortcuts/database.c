/*
 * database.c - a view's database connection (see database.h).
 */
#include "shortcuts/database.h"

#include "core/error.h"

db_t *
database_or_reply(struct http_request *req)
{
  db_t *db = db_thread();
  if (db == NULL)
    http_reply_error(req, EVENTAPI_EUNAVAILABLE);
  return db;
}
