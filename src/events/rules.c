/*
 * rules.c - who may change an event and who may see it (see rules.h).
 */
#include "events/rules.h"

/* The clauses of both rules, as SQL over a row of events. */
#define SQL_PUBLIC "visibility = 'public'"
#define SQL_PRIVATE "visibility = 'private'"
#define SQL_ORGANIZER "organizer_id = ?"
#define SQL_ANY "1 = 1"

bool
events_may_change(const struct principal *who, int64_t organizer_id)
{
  return who && (who->role == ROLE_ADMIN || who->id == organizer_id);
}

bool
events_may_see(const struct principal *who, enum visibility visibility, int64_t organizer_id,
               bool insider)
{
  return visibility == VISIBILITY_PUBLIC || events_may_change(who, organizer_id) ||
         (who && insider);
}

bool
events_may_check_in(const struct principal *who, int64_t organizer_id, bool staff)
{
  return events_may_change(who, organizer_id) || (who && staff);
}

const char *
events_visible_sql(const struct principal *who, enum events_visible_part *part, int *nparams)
{
  *nparams = 0;
  if (who == NULL) {
    *part = EVENTS_VISIBLE_PUBLIC;
    return SQL_PUBLIC;
  }
  if (events_may_change(who, 0)) { /* an admin: every event */
    *part = EVENTS_VISIBLE_ALL;
    return SQL_ANY;
  }
  switch (*part) {
  case EVENTS_VISIBLE_PUBLIC:
    return SQL_PUBLIC;
  case EVENTS_VISIBLE_PRIVATE:
    *nparams = 2;
    return SQL_PRIVATE " AND (" SQL_ORGANIZER " OR " EVENTS_SQL_REGISTRANT ")";
  case EVENTS_VISIBLE_ALL:
    break;
  }
  *nparams = 2;
  return "(" SQL_PUBLIC " OR " SQL_ORGANIZER " OR " EVENTS_SQL_REGISTRANT ")";
}
