/*
 * door.h - the door of an event, for devices that go offline: scans made
 * offline applied in a batch, the changes other devices made since a
 * version, and how many came.
 *
 * Every check-in and undo takes the event's next door version with its
 * audit row (tickets_audit_write, models.h), in the unit of work of the
 * change. A device keeps the last version it has seen and asks for what
 * came after it; applying those rows in order, every device's list of who
 * is in converges on the server's.
 */
#ifndef EVENTAPI_TICKETS_DOOR_H
#define EVENTAPI_TICKETS_DOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"
#include "tickets/models.h"

#define TICKETS_SYNC_MAX 1000   /* scans in one batch */
#define TICKETS_FEED_MAX 1000   /* changes in one answer */

/* What became of one scan of a batch. */
enum tickets_scan_status {
  TICKETS_SCAN_OK,            /* checked in by it (or it was this very scan) */
  TICKETS_SCAN_ALREADY,       /* checked in earlier, by another scan */
  TICKETS_SCAN_UNKNOWN,       /* no ticket has this code */
  TICKETS_SCAN_CANCELLED,     /* its registration was cancelled */
  TICKETS_SCAN_OTHER_EVENT,   /* a ticket of another event */
};

/* One scan made offline, and its answer. */
struct tickets_scan {
  const char *code;
  int64_t scanned_at;         /* when, at the door (never after it came) */
  const char *device;         /* "" when not named */
  /* The answer: */
  enum tickets_scan_status status;
  int64_t checked_in_at;      /* OK, ALREADY: when the ticket is checked in */
  const char *checked_in_by;  /* OK, ALREADY: the device of that check-in */
};

/*
 * Applies scans[0..n) to event_id's door, in order, for the user by: each
 * once. A ticket not checked in is checked in at its scan's time; of two
 * scans of one ticket the earliest wins (an earlier scan that comes later
 * moves the check-in back to its time and device); a scan that comes again
 * (same time, same device) is OK and changes nothing. Each change writes
 * its audit row; a first check-in sends tickets_checked_in. Answers go into
 * each scan (strings in arena). A unit of work.
 */
int tickets_sync(db_t *db, int64_t event_id, int64_t by, struct tickets_scan *scans, size_t n,
                 arena_t *arena);

/*
 * The changes at event_id's door after version since, oldest first: at
 * most TICKETS_FEED_MAX into *out (arena memory, *count of them), *more
 * telling whether others follow, and *cursor the version to ask after
 * next (the last one given; else since, or the door's own version when
 * since is past it).
 */
int tickets_feed(db_t *db, int64_t event_id, int64_t since, arena_t *arena,
                 struct tickets_audit **out, size_t *count, bool *more, int64_t *cursor);

/* The check-ins of one ticket type (id 0, name NULL: without one). */
struct tickets_type_stats {
  int64_t id;
  const char *name;
  int64_t confirmed, checked_in;
};

/* The check-ins of a quarter of an hour (from start). */
struct tickets_slot_stats {
  int64_t start;
  int64_t checked_in;
};

#define TICKETS_SLOT_US (INT64_C(15) * 60 * 1000000)

/* How many came to an event's door. */
struct tickets_stats {
  int64_t confirmed, checked_in;
  struct tickets_type_stats *types;     /* the event's ticket types, by id */
  size_t ntypes;
  struct tickets_slot_stats *slots;     /* the quarters with a check-in, in order */
  size_t nslots;
};

/* Event_id's check-in figures into *out (arrays in arena). Run it in a read
 * transaction for the figures to agree. */
int tickets_stats(db_t *db, int64_t event_id, arena_t *arena, struct tickets_stats *out);

#endif
