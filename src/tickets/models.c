#include "tickets/models.h"

#include <stdbool.h>
#include <string.h>
#include <sodium.h>

#include "core/error.h"
#include "tickets/signals.h"

#define TICKET_COLUMNS                                                          \
  "t.id, t.code, t.registration_id, t.issued_at, t.checked_in_at,"             \
  " r.event_id, r.ticket_type_id, r.user_id, e.organizer_id,"                 \
  " u.username, u.first_name, u.last_name, tt.name, e.title"
#define TICKET_FROM                                                             \
  " FROM tickets t JOIN registrations r ON r.id = t.registration_id"           \
  " JOIN events e ON e.id = r.event_id JOIN users u ON u.id = r.user_id"       \
  " LEFT JOIN ticket_types tt ON tt.id = r.ticket_type_id"

static int
read_ticket(db_stmt_t *st, arena_t *arena, void *out)
{
  struct ticket *t = out;
  t->id = db_column_int(st, 0);
  t->code = arena_strdup(arena, db_column_text(st, 1));
  t->registration_id = db_column_int(st, 2);
  t->issued_at = db_column_int(st, 3);
  t->checked_in_at = db_column_int_or(st, 4, 0);
  t->event_id = db_column_int(st, 5);
  t->ticket_type_id = db_column_int_or(st, 6, 0);
  t->user_id = db_column_int(st, 7);
  t->organizer_id = db_column_int(st, 8);
  t->username = arena_strdup(arena, db_column_text(st, 9));
  t->first_name = arena_strdup(arena, db_column_text(st, 10));
  t->last_name = arena_strdup(arena, db_column_text(st, 11));
  t->ticket_type_name =
    db_column_is_null(st, 12) ? NULL : arena_strdup(arena, db_column_text(st, 12));
  t->event_title = arena_strdup(arena, db_column_text(st, 13));
  return t->code && t->username && t->first_name && t->last_name && t->event_title
             ? 0 : EVENTAPI_ENOMEM;
}

void
tickets_draw_code(char out[TICKET_CODE_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char bytes[16];

  randombytes_buf(bytes, sizeof bytes);
  bytes[6] = (unsigned char)((bytes[6] & 0x0F) | 0x40); /* version 4 */
  bytes[8] = (unsigned char)((bytes[8] & 0x3F) | 0x80); /* RFC 4122's variant */
  for (int i = 0, at = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[at++] = '-';
    out[at++] = hex[bytes[i] >> 4];
    out[at++] = hex[bytes[i] & 0x0F];
  }
  out[TICKET_CODE_LEN] = '\0';
}

int
tickets_issue(db_t *db, int64_t registration_id, const char *drawn, int64_t now,
              arena_t *arena, struct ticket *out)
{
  char *code = arena_alloc(arena, TICKET_CODE_LEN + 1);
  if (code == NULL)
    return EVENTAPI_ENOMEM;
  /* API.md: codes are random UUIDs (version 4); the unique index is the
   * last word. A clash (never seen in practice) inserts nothing rather than
   * failing, which would abort the whole transaction on PostgreSQL, and
   * another code is drawn. */
  int rc = DB_DONE; /* (0) nothing inserted yet */
  bool inserted = false;
  for (int attempt = 0; attempt < 3 && rc == DB_DONE && !inserted; attempt++) {
    if (attempt == 0 && drawn && strlen(drawn) == TICKET_CODE_LEN)
      memcpy(code, drawn, TICKET_CODE_LEN + 1);
    else
      tickets_draw_code(code);
    db_stmt_t *st = db_prepare(db, "INSERT INTO tickets (code, registration_id, issued_at)"
                                   " VALUES (?, ?, ?) ON CONFLICT (code) DO NOTHING RETURNING id");
    if (st == NULL)
      return EVENTAPI_EDB;
    db_bind_text(st, 1, code);
    db_bind_int(st, 2, registration_id);
    db_bind_int(st, 3, now);
    if ((rc = db_step(st)) == DB_ROW) {
      out->id = db_column_int(st, 0);
      inserted = true;
      rc = 0;
    }
    db_reset(st);
  }
  if (rc == 0 && !inserted)
    rc = EVENTAPI_ECONSTRAINT;
  if (rc == 0) {
    out->code = code;
    out->registration_id = registration_id;
    out->issued_at = now;
    out->checked_in_at = 0;
  }
  return rc;
}

int
tickets_get(db_t *db, const char *code, arena_t *arena, struct ticket *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " TICKET_COLUMNS TICKET_FROM
                                 " WHERE t.code = ? AND r.cancelled_at IS NULL");
  if (st)
    db_bind_text(st, 1, code);
  return db_row(st, read_ticket, arena, out);
}

int
tickets_get_id(db_t *db, int64_t id, arena_t *arena, struct ticket *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " TICKET_COLUMNS TICKET_FROM
                                 " WHERE t.id = ? AND r.cancelled_at IS NULL");
  if (st)
    db_bind_int(st, 1, id);
  return db_row(st, read_ticket, arena, out);
}

int
tickets_list_user(db_t *db, int64_t user_id, int64_t limit, int64_t offset, arena_t *arena,
                  struct ticket **out, size_t *count, int64_t *total)
{
  void *list;
  int rc = db_page(db, "SELECT count(*)" TICKET_FROM
                   " WHERE r.user_id = ? AND r.cancelled_at IS NULL",
                   "SELECT " TICKET_COLUMNS TICKET_FROM
                   " WHERE r.user_id = ? AND r.cancelled_at IS NULL"
                   " ORDER BY t.issued_at DESC, t.id DESC LIMIT ? OFFSET ?",
                   limit, offset, read_ticket, sizeof **out, arena, &list, count, total, "i",
                   user_id);
  *out = list;
  return rc;
}

int
tickets_audit_write(db_t *db, int64_t event_id, const char *code, enum tickets_door_action action,
                    const struct tickets_door *door, int64_t at)
{
  /* The event's next door version: the row is written (and so locked, on
   * PostgreSQL) by every change at its door, which takes the numbers one
   * after another in commit order. */
  db_stmt_t *st = db_prepare(db, "INSERT INTO door_versions (event_id, version) VALUES (?, 1)"
                                 " ON CONFLICT (event_id) DO UPDATE"
                                 " SET version = door_versions.version + 1 RETURNING version");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, event_id);
  int64_t version;
  int rc = db_step_id(st, &version);
  if (rc < 0)
    return rc;
  return db_exec(db, "INSERT INTO check_in_audit"
                     " (event_id, ticket_code, action, by_id, device, created_at, version)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", NULL, "issisii", event_id, code,
                 action == TICKETS_CHECK_IN ? "check_in" : "undo", door->by,
                 door->device ? door->device : "", at, version);
}

int
tickets_checked_in_where(db_t *db, const char *code, arena_t *arena, const char **device)
{
  *device = "";
  db_stmt_t *st = db_prepare(db, "SELECT device FROM check_in_audit"
                                 " WHERE ticket_code = ? AND action = 'check_in'"
                                 " ORDER BY version DESC LIMIT 1");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_text(st, 1, code);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    bool failed = false;
    const char *found = db_column_text_dup(st, 0, arena, &failed);
    rc = failed ? EVENTAPI_ENOMEM : 0;
    if (found)
      *device = found;
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

int
tickets_check_in(db_t *db, const struct ticket *t, const struct tickets_door *door, int64_t now,
                 int64_t *first)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE tickets SET checked_in_at = ? WHERE id = ? AND checked_in_at IS NULL",
                   &changes, "ii", now, t->id);
  if (rc < 0)
    return rc;
  db_stmt_t *st = db_prepare(db, "SELECT checked_in_at FROM tickets WHERE id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, t->id);
  rc = db_step(st);
  if (rc == DB_ROW)
    *first = db_column_int(st, 0);
  db_reset(st);
  if (rc < 0)
    return rc;
  if (changes != 1)
    return EVENTAPI_ECONFLICT;
  rc = tickets_audit_write(db, t->event_id, t->code, TICKETS_CHECK_IN, door, now);
  return rc < 0 ? rc : signal_send(&tickets_checked_in, db, &(struct tickets_check_in){t->id, now});
}

int
tickets_undo_check_in(db_t *db, const struct ticket *t, const struct tickets_door *door,
                      int64_t now)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE tickets SET checked_in_at = NULL"
                       " WHERE id = ? AND checked_in_at IS NOT NULL", &changes, "i", t->id);
  if (rc < 0)
    return rc;
  if (changes != 1)
    return EVENTAPI_ECONFLICT;
  rc = tickets_audit_write(db, t->event_id, t->code, TICKETS_UNDO, door, now);
  return rc < 0 ? rc
                : signal_send(&tickets_check_in_undone, db, &(struct tickets_check_in){t->id, now});
}

int
tickets_audit_read(db_stmt_t *st, arena_t *arena, void *out)
{
  struct tickets_audit *a = out;
  a->id = db_column_int(st, 0);
  a->ticket_code = arena_strdup(arena, db_column_text(st, 1));
  a->event_id = db_column_int(st, 2);
  const char *action = db_column_text(st, 3);
  a->action = action && strcmp(action, "undo") == 0 ? TICKETS_UNDO : TICKETS_CHECK_IN;
  a->by = db_column_int_or(st, 4, 0);
  a->by_username = db_column_is_null(st, 5) ? NULL : arena_strdup(arena, db_column_text(st, 5));
  a->device = arena_strdup(arena, db_column_text(st, 6));
  a->at = db_column_int(st, 7);
  a->version = db_column_int_or(st, 8, 0);
  return a->ticket_code && a->device ? 0 : EVENTAPI_ENOMEM;
}

int
tickets_audit_list(db_t *db, int64_t event_id, int64_t limit, int64_t offset, arena_t *arena,
                   struct tickets_audit **out, size_t *count, int64_t *total)
{
  void *list;
  int rc = db_page(db, "SELECT count(*) FROM check_in_audit WHERE event_id = ?",
                   "SELECT " TICKETS_AUDIT_COLUMNS " FROM " TICKETS_AUDIT_FROM
                   " WHERE a.event_id = ? ORDER BY a.created_at DESC, a.id DESC"
                   " LIMIT ? OFFSET ?",
                   limit, offset, tickets_audit_read, sizeof **out, arena, &list, count, total,
                   "i", event_id);
  *out = list;
  return rc;
}

int
tickets_void(db_t *db, int64_t registration_id, int64_t now)
{
  /* Its code is kept: a scan of it is then "cancelled", not "unknown". */
  int rc = db_exec(db, "INSERT INTO voided_tickets (code, event_id, voided_at)"
                       " SELECT t.code, r.event_id, ? FROM tickets t"
                       " JOIN registrations r ON r.id = t.registration_id"
                       " WHERE t.registration_id = ? ON CONFLICT (code) DO NOTHING",
                   NULL, "ii", now, registration_id);
  if (rc < 0)
    return rc;
  return db_exec(db, "DELETE FROM tickets WHERE registration_id = ?", NULL, "i", registration_id);
}
