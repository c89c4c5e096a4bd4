/*
 * error.h - the project's one list of error codes.
 *
 * Functions that can fail return 0 or a negative EVENTAPI_E* code. The list
 * is an X-macro so the enum and the message table can never disagree.
 */
#ifndef EVENTAPI_CORE_ERROR_H
#define EVENTAPI_CORE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define EVENTAPI_ERRORS(X)                                   \
  X(NOMEM,       1, "out of memory")                         \
  X(INVAL,       2, "invalid argument")                      \
  X(NOTFOUND,    3, "not found")                             \
  X(CONSTRAINT,  4, "constraint violated")                   \
  X(BUSY,        5, "database busy")                         \
  X(UNAVAILABLE, 6, "database unavailable")                  \
  X(DB,          7, "database error")                        \
  X(IO,          8, "input/output error")                    \
  X(EXPIRED,     9, "expired")                               \
  X(TOOBIG,     10, "too large")                             \
  X(CONFLICT,   11, "conflict")                              \
  X(INTERNAL,   12, "internal error")                        \
  X(FULL,       13, "storage full")                          \
  X(NOTDURABLE, 14, "committed, not known to be durable") \
  X(KEYTAKEN,   15, "idempotency key in use")

enum eventapi_error {
  EVENTAPI_OK = 0,
#define X(name, num, msg) EVENTAPI_E##name = -(num),
  EVENTAPI_ERRORS(X)
#undef X
};

/* A static, human-readable message for rc (never NULL). */
const char *eventapi_strerror(int rc);

/*
 * Writes the reason for a failure, formatted, into err (when err is not
 * NULL and errlen is not 0) and returns rc: `return eventapi_fail(err,
 * errlen, EVENTAPI_EINVAL, "no host in %s", url);`.
 */
int eventapi_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int eventapi_vfail(char *err, size_t errlen, int rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
