#include "auth/principal.h"

#include <string.h>

#include "core/error.h"

static const char *const role_names[] = {
  [ROLE_ATTENDEE] = "attendee",
  [ROLE_ORGANIZER] = "organizer",
  [ROLE_ADMIN] = "admin",
};

const char *
role_name(enum role role)
{
  return (unsigned)role < sizeof role_names / sizeof role_names[0] ? role_names[role] : "attendee";
}

int
role_parse(const char *name, enum role *out)
{
  for (unsigned i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
    if (strcmp(name, role_names[i]) == 0) {
      *out = (enum role)i;
      return 0;
    }
  }
  return EVENTAPI_EINVAL;
}

static const char *const scope_names[SCOPE_COUNT] = {
  "events:read", "events:write", "registrations:read", "checkin", "webhooks",
};

const char *
scope_name(enum scope scope)
{
  for (unsigned i = 0; i < SCOPE_COUNT; i++)
    if ((unsigned)scope == 1u << i)
      return scope_names[i];
  return NULL;
}

enum scope
scope_parse(const char *name)
{
  for (unsigned i = 0; i < SCOPE_COUNT; i++)
    if (strcmp(name, scope_names[i]) == 0)
      return (enum scope)(1u << i);
  return 0;
}
