/*
 * timezone.c - an event's time zone (see timezone.h).
 */
#include "events/timezone.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/timefmt.h"

static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;

/* A name that can only be a file under the tz database's folder. */
static bool
plausible(const char *name)
{
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len > EVENTS_TIMEZONE_MAX || name[0] == '/' || name[0] == '.' ||
      strstr(name, "..") || strstr(name, "//"))
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
          *p == '/' || *p == '_' || *p == '-' || *p == '+'))
      return false;
  return true;
}

static bool
is_utc(const char *name)
{
  return strcmp(name, "UTC") == 0;
}

/* The zone of name; call with zones_lock held. */
static icaltimezone *
zone_locked(const char *name)
{
  if (is_utc(name))
    return icaltimezone_get_utc_timezone();
  return plausible(name) ? icaltimezone_get_builtin_timezone(name) : NULL;
}

bool
events_timezone_known(const char *name)
{
  if (!plausible(name))
    return false;
  pthread_mutex_lock(&zones_lock);
  bool known = zone_locked(name) != NULL;
  pthread_mutex_unlock(&zones_lock);
  return known;
}

/* The name of the standard (dst false) or daylight-saving part of "CET/CEST". */
static const char *
abbreviation(const char *names, bool dst, char out[16])
{
  if (names == NULL || names[0] == '\0')
    return NULL;
  const char *slash = strchr(names, '/');
  const char *start = dst && slash ? slash + 1 : names;
  size_t len = !dst && slash ? (size_t)(slash - names) : strlen(start);
  if (len == 0 || len >= 16)
    return NULL;
  memcpy(out, start, len);
  out[len] = '\0';
  return out;
}

int
events_timezone_offset(const char *name, int64_t us, int *offset, const char **abbrev)
{
  static _Thread_local char abbr[16];
  *offset = 0;
  if (abbrev)
    *abbrev = "UTC";
  if (name == NULL || is_utc(name))
    return 0;
  int64_t seconds = us / 1000000 - (us % 1000000 < 0);
  pthread_mutex_lock(&zones_lock);
  icaltimezone *zone = zone_locked(name);
  int rc = EVENTAPI_EINVAL;
  if (zone) {
    struct icaltimetype at =
        icaltime_from_timet_with_zone((time_t)seconds, 0, icaltimezone_get_utc_timezone());
    int dst = 0;
    *offset = icaltimezone_get_utc_offset_of_utc_time(zone, &at, &dst);
    const char *found = abbreviation(icaltimezone_get_tznames(zone), dst != 0, abbr);
    if (abbrev) {
      if (found == NULL) {
        /* No name for it: the offset, as the tz database writes those. */
        int minutes = (*offset < 0 ? -*offset : *offset) / 60;
        snprintf(abbr, sizeof abbr, "%c%02d%02d", *offset < 0 ? '-' : '+', minutes / 60,
                 minutes % 60);
        found = abbr;
      }
      *abbrev = found;
    }
    rc = 0;
  }
  pthread_mutex_unlock(&zones_lock);
  return rc;
}

size_t
events_local_iso(int64_t us, const char *name, char out[EVENTS_LOCAL_ISO_MAX])
{
  int offset;
  if (events_timezone_offset(name, us, &offset, NULL) < 0) {
    out[0] = '\0';
    return 0;
  }
  char iso[TIME_ISO_MAX];
  size_t len = time_format_iso(us + (int64_t)offset * 1000000, iso); /* ...Z */
  if (len == 0 || iso[len - 1] != 'Z') {
    out[0] = '\0';
    return 0;
  }
  iso[len - 1] = '\0';
  int minutes = (offset < 0 ? -offset : offset) / 60;
  int n = snprintf(out, EVENTS_LOCAL_ISO_MAX, "%s%c%02d:%02d", iso, offset < 0 ? '-' : '+',
                   minutes / 60, minutes % 60);
  return n > 0 && n < EVENTS_LOCAL_ISO_MAX ? (size_t)n : 0;
}

icalcomponent *
events_timezone_vtimezone(const char *name)
{
  if (name == NULL || is_utc(name))
    return NULL;
  pthread_mutex_lock(&zones_lock);
  icaltimezone *zone = zone_locked(name);
  icalcomponent *own = zone ? icaltimezone_get_component(zone) : NULL;
  icalcomponent *copy = own ? icalcomponent_new_clone(own) : NULL;
  pthread_mutex_unlock(&zones_lock);
  if (copy == NULL)
    return NULL;
  /* Named as the API names it (libical prefixes its own names). */
  icalproperty *tzid = icalcomponent_get_first_property(copy, ICAL_TZID_PROPERTY);
  if (tzid)
    icalproperty_set_tzid(tzid, name);
  else
    icalcomponent_add_property(copy, icalproperty_new_tzid(name));
  return copy;
}
