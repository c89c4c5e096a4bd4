#include "core/error.h"

#include <stdio.h>

const char *
eventapi_strerror(int rc)
{
  switch (rc) {
  case EVENTAPI_OK:
    return "ok";
#define X(name, num, msg) case EVENTAPI_E##name: return msg;
    EVENTAPI_ERRORS(X)
#undef X
  }
  return "unknown error";
}

int
eventapi_vfail(char *err, size_t errlen, int rc, const char *fmt, va_list ap)
{
  if (err != NULL && errlen > 0)
    vsnprintf(err, errlen, fmt, ap);
  return rc;
}

int
eventapi_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  eventapi_vfail(err, errlen, rc, fmt, ap);
  va_end(ap);
  return rc;
}
