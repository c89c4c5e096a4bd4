/*
 * principal.h - who is making a request, as the HTTP layer knows them.
 */
#ifndef EVENTAPI_AUTH_PRINCIPAL_H
#define EVENTAPI_AUTH_PRINCIPAL_H

#include <stdint.h>

enum role { ROLE_ATTENDEE, ROLE_ORGANIZER, ROLE_ADMIN };

struct principal {
  int64_t id;
  enum role role;
  int64_t token_generation; /* tokens of another generation were ended */
};

/* "attendee", "organizer", "admin". */
const char *role_name(enum role role);

/* Parses a role name; returns 0 or EVENTAPI_EINVAL. */
int role_parse(const char *name, enum role *out);

#endif
