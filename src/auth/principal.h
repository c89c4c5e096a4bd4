/*
 * principal.h - who is making a request, as the HTTP layer knows them.
 */
#ifndef EVENTAPI_AUTH_PRINCIPAL_H
#define EVENTAPI_AUTH_PRINCIPAL_H

#include <stdint.h>

enum role { ROLE_ATTENDEE, ROLE_ORGANIZER, ROLE_ADMIN };

/* What an API key may do (docs/api.md, "API keys"): a set of these bits. */
enum scope {
  SCOPE_EVENTS_READ = 1 << 0,          /* "events:read" */
  SCOPE_EVENTS_WRITE = 1 << 1,         /* "events:write" */
  SCOPE_REGISTRATIONS_READ = 1 << 2,   /* "registrations:read" */
  SCOPE_CHECKIN = 1 << 3,              /* "checkin" */
  SCOPE_WEBHOOKS = 1 << 4,             /* "webhooks" */
};
#define SCOPE_COUNT 5

/*
 * Who makes a request: a user, by a token or by one of their API keys. A
 * key acts as its user (their role, as it is now) within its scopes and,
 * when it names one, its event.
 */
struct principal {
  int64_t id;
  enum role role;
  int64_t token_generation; /* tokens of another generation were ended */
  int64_t key_id;           /* the API key used; 0: a token */
  unsigned key_scopes;      /* its scopes (enum scope bits) */
  int64_t key_event;        /* its one event; 0: any */
};

/* "events:read", ... for one scope bit; NULL for anything else. */
const char *scope_name(enum scope scope);

/* The scope bit of a name; 0 when there is none of that name. */
enum scope scope_parse(const char *name);

/* "attendee", "organizer", "admin". */
const char *role_name(enum role role);

/* Parses a role name; returns 0 or EVENTAPI_EINVAL. */
int role_parse(const char *name, enum role *out);

#endif
