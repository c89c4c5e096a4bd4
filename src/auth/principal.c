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
