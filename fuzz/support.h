/*
 * support.h - what the fuzz targets share: turning libFuzzer's bytes into
 * the strings and requests the parsers take.
 *
 * A target whose parser takes several inputs reads them from one input
 * split at newlines (the last field keeps the rest, newlines included), so
 * that seeds stay readable text and a dictionary entry can hold a field
 * separator. Nothing here is used by the server.
 */
#ifndef EVENTAPI_FUZZ_SUPPORT_H
#define EVENTAPI_FUZZ_SUPPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "http/http.h"

/* libFuzzer's entry points, which every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated malloc'd copy of data[0..size); the caller frees it. */
char *fuzz_text(const uint8_t *data, size_t size);

/*
 * Splits text in place at its first max - 1 newlines into fields[0..max):
 * fields past the end of text are "". Returns the number of fields found.
 */
size_t fuzz_fields(char *text, char **fields, size_t max);

/*
 * The process-wide state the parsers read: a configuration with a fixed
 * PUBLIC_URL (so that no link is built from a Host header), the log quiet
 * but for errors, and the built-in common-password list. Called by every
 * target's LLVMFuzzerInitialize.
 */
void fuzz_setup(void);

/* fuzz_setup(), and libcurl's global state for the delivery channels'
 * parsers (delivery_global_init); aborts when that fails. */
void fuzz_setup_delivery(void);

/* Checks that s holds no control character (it goes into one log line). */
void fuzz_check_printable(const char *s);

/*
 * A new in-memory SQLite database, migrated, holding rows (SQL statements):
 * for the targets whose validation looks rows up. Aborts, naming target,
 * when it cannot be made.
 */
db_t *fuzz_database(const char *target, const char *rows);

/* Organizer 2 (the caller of the targets that need one) with event 1, and
 * organizer 3 with event 2: rows for fuzz_database(). */
#define FUZZ_TWO_ORGANIZERS                                                           \
  "INSERT INTO users (id, username, username_key, email, email_key, password, role,"   \
  " date_joined) VALUES"                                                              \
  " (2, 'org', 'org', 'org@example.com', 'org@example.com', 'x', 'organizer', 0),"     \
  " (3, 'other', 'other', 'o@example.com', 'o@example.com', 'x', 'organizer', 0);"     \
  "INSERT INTO events (id, title, date_time, location, capacity, created_at,"          \
  " organizer_id, search_text, location_key) VALUES"                                  \
  " (1, 'Jazz', 0, 'Berlin', 0, 0, 2, 'jazz', 'berlin'),"                              \
  " (2, 'Folk', 0, 'Paris', 0, 0, 3, 'folk', 'paris');"

/*
 * A request as a view sees it once its body is read, with no connection
 * behind it: its target parsed (http/query.h) when target is not NULL.
 * Release it with fuzz_request_free().
 */
void fuzz_request_init(struct http_request *req, const char *target);
void fuzz_request_free(struct http_request *req);

/*
 * The request data of an HTTP body given as its Content-Type line
 * (empty: no Content-Type header) and the body after it, read as
 * http_json_body() reads it: an object the caller owns, or NULL when the
 * server would have answered 4xx.
 */
json_t *fuzz_body(const uint8_t *data, size_t size, arena_t *arena);

/*
 * Checks a validation errors object as a 400 answer shows it: every field
 * names at least one message, and every message is a string (an item of a
 * nested list has an object of its own, empty when the item was valid).
 */
void fuzz_check_errors(const json_t *errors);

/* Aborts (a crash libFuzzer reports) when an invariant of the parser fails. */
#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond))                                                                      \
      fuzz_fail(__FILE__, __LINE__, #cond);                                           \
  } while (0)
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

#endif
