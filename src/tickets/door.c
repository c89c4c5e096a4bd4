/*
 * door.c - offline scans, the door's changes since a version, and its
 * figures (see door.h).
 */
#include "tickets/door.h"

#include <string.h>

#include "core/error.h"
#include "tickets/signals.h"

/* A ticket as a scan finds it. */
struct scanned {
  int64_t id, event_id, checked_in_at;
};

static int
read_scanned(db_stmt_t *st, arena_t *arena, void *out)
{
  (void)arena;
  struct scanned *t = out;
  t->id = db_column_int(st, 0);
  t->event_id = db_column_int(st, 1);
  t->checked_in_at = db_column_int_or(st, 2, 0);
  return 0;
}

/* The ticket of code, of an active registration: 0, or EVENTAPI_ENOTFOUND. */
static int
find(db_t *db, const char *code, struct scanned *t)
{
  db_stmt_t *st = db_prepare(db, "SELECT t.id, r.event_id, t.checked_in_at FROM tickets t"
                                 " JOIN registrations r ON r.id = t.registration_id"
                                 " WHERE t.code = ? AND r.cancelled_at IS NULL");
  if (st)
    db_bind_text(st, 1, code);
  return db_row(st, read_scanned, NULL, t);
}

/* What a scan of a code that no active ticket has is. */
static int
not_found(db_t *db, int64_t event_id, struct tickets_scan *scan)
{
  db_stmt_t *st = db_prepare(db, "SELECT event_id FROM voided_tickets WHERE code = ?");
  if (st)
    db_bind_text(st, 1, scan->code);
  int64_t voided_event = 0;
  int rc = db_int(st, &voided_event);
  scan->status = voided_event == 0          ? TICKETS_SCAN_UNKNOWN
                 : voided_event == event_id ? TICKETS_SCAN_CANCELLED
                                            : TICKETS_SCAN_OTHER_EVENT;
  return rc;
}

/*
 * Checks ticket t in at at: when it is not checked in (first), else when
 * it is, later than at (an earlier scan come later). 1 when it did, 0 when
 * another change came first, or a negative code.
 */
static int
check_in_at(db_t *db, const struct scanned *t, int64_t at, bool first)
{
  int changes = 0;
  int rc = first ? db_exec(db, "UPDATE tickets SET checked_in_at = ?"
                               " WHERE id = ? AND checked_in_at IS NULL",
                           &changes, "ii", at, t->id)
                 : db_exec(db, "UPDATE tickets SET checked_in_at = ?"
                               " WHERE id = ? AND checked_in_at > ?",
                           &changes, "iii", at, t->id, at);
  return rc < 0 ? rc : changes;
}

/* One scan, applied: see tickets_sync(). */
static int
apply(db_t *db, int64_t event_id, int64_t by, struct tickets_scan *scan, arena_t *arena)
{
  struct scanned t;
  int rc = find(db, scan->code, &t);
  if (rc == EVENTAPI_ENOTFOUND)
    return not_found(db, event_id, scan);
  if (rc < 0)
    return rc;
  if (t.event_id != event_id) {
    scan->status = TICKETS_SCAN_OTHER_EVENT;
    return 0;
  }
  struct tickets_door door = {.by = by, .device = scan->device};
  /* Each conditional update either takes effect or finds that another
   * change came first (on PostgreSQL, a scanner online at the same
   * instant); then the ticket is read again, a bounded number of times. */
  for (int round = 0; round < 4; round++) {
    if (round > 0 && (rc = find(db, scan->code, &t)) < 0)
      return rc == EVENTAPI_ENOTFOUND ? not_found(db, event_id, scan) : rc;
    if (t.checked_in_at == 0) {
      if ((rc = check_in_at(db, &t, scan->scanned_at, true)) < 0)
        return rc;
      if (rc == 0)
        continue;
      rc = tickets_audit_write(db, event_id, scan->code, TICKETS_CHECK_IN, &door,
                               scan->scanned_at);
      if (rc == 0)
        rc = signal_send(&tickets_checked_in, db,
                         &(struct tickets_check_in){t.id, scan->scanned_at});
      scan->status = TICKETS_SCAN_OK;
      scan->checked_in_at = scan->scanned_at;
      scan->checked_in_by = scan->device;
      return rc;
    }
    const char *first_device;
    if ((rc = tickets_checked_in_where(db, scan->code, arena, &first_device)) < 0)
      return rc;
    scan->checked_in_at = t.checked_in_at;
    scan->checked_in_by = first_device;
    if (scan->scanned_at == t.checked_in_at && strcmp(scan->device, first_device) == 0) {
      scan->status = TICKETS_SCAN_OK; /* this very scan, sent again */
      return 0;
    }
    if (scan->scanned_at >= t.checked_in_at) {
      scan->status = TICKETS_SCAN_ALREADY;
      return 0;
    }
    /* An earlier scan, come later: the check-in moves back to it. */
    if ((rc = check_in_at(db, &t, scan->scanned_at, false)) < 0)
      return rc;
    if (rc == 0)
      continue;
    scan->status = TICKETS_SCAN_OK;
    scan->checked_in_at = scan->scanned_at;
    scan->checked_in_by = scan->device;
    return tickets_audit_write(db, event_id, scan->code, TICKETS_CHECK_IN, &door,
                               scan->scanned_at);
  }
  /* Changed under it every round: it stands as the last read says. */
  scan->status = t.checked_in_at ? TICKETS_SCAN_ALREADY : TICKETS_SCAN_UNKNOWN;
  return 0;
}

int
tickets_sync(db_t *db, int64_t event_id, int64_t by, struct tickets_scan *scans, size_t n,
             arena_t *arena)
{
  for (size_t i = 0; i < n; i++) {
    scans[i].checked_in_at = 0;
    scans[i].checked_in_by = NULL;
    int rc = apply(db, event_id, by, &scans[i], arena);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int
tickets_feed(db_t *db, int64_t event_id, int64_t since, arena_t *arena,
             struct tickets_audit **out, size_t *count, bool *more, int64_t *cursor)
{
  *out = NULL;
  *count = 0;
  *more = false;
  *cursor = since;
  db_stmt_t *st = db_prepare(db, "SELECT " TICKETS_AUDIT_COLUMNS " FROM " TICKETS_AUDIT_FROM
                                 " WHERE a.event_id = ? AND a.version > ?"
                                 " ORDER BY a.version LIMIT ?");
  if (st) {
    db_bind_int(st, 1, event_id);
    db_bind_int(st, 2, since);
    db_bind_int(st, 3, TICKETS_FEED_MAX + 1);
  }
  void *list;
  int rc = db_rows(st, tickets_audit_read, sizeof **out, TICKETS_FEED_MAX + 1, arena, &list,
                   count);
  if (rc < 0)
    return rc;
  *out = list;
  if (*count > TICKETS_FEED_MAX) {
    *count = TICKETS_FEED_MAX;
    *more = true;
  }
  if (*count > 0) {
    *cursor = (*out)[*count - 1].version;
    return 0;
  }
  /* Nothing after since: a since past the door's own version (a device
   * that saw another database) is brought back to it. */
  st = db_prepare(db, "SELECT version FROM door_versions WHERE event_id = ?");
  if (st)
    db_bind_int(st, 1, event_id);
  int64_t version = 0;
  if ((rc = db_int(st, &version)) < 0)
    return rc;
  if (since > version)
    *cursor = version;
  return 0;
}

static int
read_type(db_stmt_t *st, arena_t *arena, void *out)
{
  struct tickets_type_stats *t = out;
  bool failed = false;
  t->id = db_column_int(st, 0);
  t->name = db_column_text_dup(st, 1, arena, &failed);
  t->confirmed = db_column_int(st, 2);
  t->checked_in = db_column_int(st, 3);
  return failed ? EVENTAPI_ENOMEM : 0;
}

static int
read_slot(db_stmt_t *st, arena_t *arena, void *out)
{
  (void)arena;
  struct tickets_slot_stats *s = out;
  s->start = db_column_int(st, 0);
  s->checked_in = db_column_int(st, 1);
  return 0;
}

static int
read_totals(db_stmt_t *st, arena_t *arena, void *out)
{
  (void)arena;
  struct tickets_stats *s = out;
  s->confirmed = db_column_int(st, 0);
  s->checked_in = db_column_int(st, 1);
  return 0;
}

/* The confirmed registrations of an event and their tickets, as FROM/WHERE
 * text with the event's ? first. */
#define CONFIRMED                                                                \
  " registrations r LEFT JOIN tickets t ON t.registration_id = r.id"            \
  " WHERE r.event_id = ? AND r.cancelled_at IS NULL AND r.is_waitlisted = 0"

int
tickets_stats(db_t *db, int64_t event_id, arena_t *arena, struct tickets_stats *out)
{
  memset(out, 0, sizeof *out);
  db_stmt_t *st = db_prepare(db, "SELECT count(r.id), count(t.checked_in_at) FROM" CONFIRMED);
  if (st)
    db_bind_int(st, 1, event_id);
  int rc = db_row(st, read_totals, NULL, out);
  if (rc < 0)
    return rc;
  st = db_prepare(db, "SELECT tt.id, tt.name, count(r.id), count(t.checked_in_at)"
                      " FROM ticket_types tt"
                      " LEFT JOIN registrations r ON r.ticket_type_id = tt.id"
                      " AND r.cancelled_at IS NULL AND r.is_waitlisted = 0"
                      " LEFT JOIN tickets t ON t.registration_id = r.id"
                      " WHERE tt.event_id = ? GROUP BY tt.id, tt.name ORDER BY tt.id");
  if (st)
    db_bind_int(st, 1, event_id);
  void *types;
  if ((rc = db_rows(st, read_type, sizeof *out->types, 0, arena, &types, &out->ntypes)) < 0)
    return rc;
  out->types = types;
  st = db_prepare(db, "SELECT (t.checked_in_at / ?) * ? AS slot, count(*) FROM" CONFIRMED
                      " AND t.checked_in_at IS NOT NULL GROUP BY slot ORDER BY slot");
  if (st) {
    db_bind_int(st, 1, TICKETS_SLOT_US);
    db_bind_int(st, 2, TICKETS_SLOT_US);
    db_bind_int(st, 3, event_id);
  }
  void *slots;
  if ((rc = db_rows(st, read_slot, sizeof *out->slots, 0, arena, &slots, &out->nslots)) < 0)
    return rc;
  out->slots = slots;
  return 0;
}
