#include "core/error.h"

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
