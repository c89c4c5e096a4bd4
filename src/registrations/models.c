#include "registrations/models.h"

#include <string.h>

#include "core/error.h"
#include "core/jsonutil.h"
#include "core/timefmt.h"
#include "events/live.h"
#include "events/rules.h"
#include "events/signals.h"
#include "registrations/serializers.h"
#include "registrations/signals.h"
#include "users/signals.h"

#define REGISTRATION_COLUMNS                                                    \
  "r.id, r.user_id, r.event_id, r.ticket_type_id, r.registered_at, r.is_waitlisted," \
  " r.cancelled_at, e.organizer_id, t.id, t.code, t.issued_at, t.checked_in_at,"  \
  " r.offer_expires_at"
#define REGISTRATION_FROM                                                       \
  " FROM registrations r JOIN events e ON e.id = r.event_id"                    \
  " LEFT JOIN tickets t ON t.registration_id = r.id"

static int
read_registration(db_stmt_t *st, arena_t *arena, void *out)
{
  struct registration *r = out;
  memset(r, 0, sizeof *r);
  r->id = db_column_int(st, 0);
  r->user_id = db_column_int(st, 1);
  r->event_id = db_column_int(st, 2);
  r->ticket_type_id = db_column_int_or(st, 3, 0);
  r->registered_at = db_column_int(st, 4);
  r->is_waitlisted = db_column_int(st, 5) != 0;
  r->cancelled_at = db_column_int_or(st, 6, 0);
  r->organizer_id = db_column_int(st, 7);
  r->offer_expires_at = db_column_int_or(st, 12, 0);
  r->has_ticket = !db_column_is_null(st, 8);
  if (r->has_ticket) {
    struct ticket *t = &r->ticket;
    t->id = db_column_int(st, 8);
    t->code = arena_strdup(arena, db_column_text(st, 9));
    t->issued_at = db_column_int(st, 10);
    t->checked_in_at = db_column_int_or(st, 11, 0);
    t->registration_id = r->id;
    t->event_id = r->event_id;
    t->ticket_type_id = r->ticket_type_id;
    t->user_id = r->user_id;
    t->organizer_id = r->organizer_id;
    if (t->code == NULL)
      return EVENTAPI_ENOMEM;
  }
  return 0;
}

int
registrations_get(db_t *db, int64_t id, arena_t *arena, struct registration *out)
{
  db_stmt_t *st = db_prepare(db, "SELECT " REGISTRATION_COLUMNS REGISTRATION_FROM
                                 " WHERE r.id = ?");
  if (st)
    db_bind_int(st, 1, id);
  return db_row(st, read_registration, arena, out);
}

/* What a registration checks of its event before it is made. */
struct target {
  int64_t date_time;
  enum visibility visibility;
  int64_t organizer_id;
  bool has_ticket_types;
  int64_t ticket_type_event;  /* the asked ticket type's event; 0 when it does not exist */
  bool registered;            /* the user holds an active registration already */
};

/*
 * Reads, in one statement, what registering user_id for event_id with
 * ticket_type_id (0: none) must check. 0, EVENTAPI_ENOTFOUND for no such
 * event, or a database error.
 */
static int
read_target(db_t *db, int64_t event_id, int64_t ticket_type_id, int64_t user_id,
            struct target *out)
{
  db_stmt_t *st = db_prepare(db,
      "SELECT e.date_time, e.visibility, e.organizer_id,"
      " EXISTS (SELECT 1 FROM ticket_types t WHERE t.event_id = e.id),"
      " (SELECT t.event_id FROM ticket_types t WHERE t.id = ?),"
      " " EVENTS_SQL_REGISTRANT_OF("e")
      " FROM events e WHERE e.id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, ticket_type_id);
  db_bind_int(st, 2, user_id);
  db_bind_int(st, 3, event_id);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    out->date_time = db_column_int(st, 0);
    if (events_visibility_parse(db_column_text(st, 1), &out->visibility) < 0)
      out->visibility = VISIBILITY_PRIVATE; /* fail closed */
    out->organizer_id = db_column_int(st, 2);
    out->has_ticket_types = db_column_int(st, 3) != 0;
    out->ticket_type_event = db_column_int_or(st, 4, 0);
    out->registered = db_column_int(st, 5) != 0;
    rc = 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_ENOTFOUND;
  }
  db_reset(st);
  return rc;
}

int
registrations_check(db_t *db, const struct principal *who, int64_t event_id,
                    enum field_result ticket_type, int64_t ticket_type_id, int64_t now,
                    json_t *errors, arena_t *arena)
{
  struct target t;
  bool given = ticket_type == FIELD_SET;
  int rc = read_target(db, event_id, given ? ticket_type_id : 0, who->id, &t);
  if (rc == 0 && !events_may_see(who, t.visibility, t.organizer_id, t.registered))
    rc = EVENTAPI_ENOTFOUND; /* API.md: private events are 404 to others */
  if (rc < 0)
    return rc;
  if (given && t.ticket_type_event != event_id) {
    /* Another event's ticket type, or none at all. */
    if (t.ticket_type_event != 0)
      json_error_add(errors, "non_field_errors",
                     "This ticket type does not belong to the selected event.");
    else
      registrations_invalid_pk(errors, "ticket_type", ticket_type_id, arena);
  } else if (ticket_type == FIELD_ABSENT && t.has_ticket_types) {
    /* API.md: required when the event has ticket types. */
    json_error_add(errors, "ticket_type", "This field is required.");
  }
  if (!json_errors_any(errors)) {
    if (t.date_time <= now)
      json_error_add(errors, "non_field_errors", "This event has already started.");
    else if (t.registered)
      json_error_add(errors, "non_field_errors", "You are already registered for this event.");
  }
  return json_errors_any(errors) ? EVENTAPI_EINVAL : 0;
}

/*
 * Takes one place of the event and of the ticket type, or none: the
 * conditional UPDATEs succeed only below the limits (0: unlimited), and the
 * first is undone when the second finds no room. 0 with *taken (false:
 * full), or a negative code.
 */
static int
take_place(db_t *db, int64_t event_id, int64_t ticket_type_id, bool *taken)
{
  /* Whatever happens here changes the event's availability (a place, or
   * the waitlist): its live streams are told once this commits. */
  int told = events_live_changed_on_commit(db, event_id);
  if (told < 0)
    return told; /* out of memory, or (PostgreSQL's NOTIFY) the database */
  int changes = 0;
  *taken = false;
  int rc = db_exec(db,
      "UPDATE events SET confirmed_count = confirmed_count + 1, seats_version = seats_version + 1"
      " WHERE id = ? AND (capacity = 0 OR confirmed_count < capacity)",
      &changes, "i", event_id);
  if (rc == 0 && changes == 0) {
    /* Full. A cancellation frees a place and promotes the waitlist under
     * the event's row lock, which a failed UPDATE does not take (PostgreSQL,
     * READ COMMITTED): take it, and look again, so that the cancellation
     * either ran before (its place is seen here) or runs after this commits
     * (and promotes this registration). SQLite's write transactions run one
     * at a time: there the second look finds the same. */
    rc = db_exec(db, "UPDATE events SET seats_version = seats_version + 1 WHERE id = ?",
                 &changes, "i", event_id);
    if (rc == 0 && changes == 0)
      return EVENTAPI_ENOTFOUND; /* deleted since it was read */
    if (rc == 0)
      rc = db_exec(db,
          "UPDATE events SET confirmed_count = confirmed_count + 1, seats_version = seats_version + 1"
          " WHERE id = ? AND (capacity = 0 OR confirmed_count < capacity)",
          &changes, "i", event_id);
  }
  if (rc < 0 || changes == 0)
    return rc;
  *taken = ticket_type_id == 0;
  if (*taken)
    return 0;
  rc = db_exec(db,
      "UPDATE ticket_types SET confirmed_count = confirmed_count + 1"
      " WHERE id = ? AND (quantity = 0 OR confirmed_count < quantity)",
      &changes, "i", ticket_type_id);
  *taken = rc == 0 && changes == 1;
  if (rc < 0 || *taken)
    return rc;
  /* No room for this ticket type, or no such ticket type any more. */
  rc = db_exec(db, "UPDATE ticket_types SET confirmed_count = confirmed_count WHERE id = ?",
               &changes, "i", ticket_type_id);
  if (rc == 0 && changes == 0)
    return EVENTAPI_ENOTFOUND;
  if (rc == 0)
    rc = db_exec(db, "UPDATE events SET confirmed_count = confirmed_count - 1 WHERE id = ?",
                 NULL, "i", event_id);
  return rc < 0 ? rc : 0;
}

static int
free_place(db_t *db, int64_t event_id, int64_t ticket_type_id)
{
  int told = events_live_changed_on_commit(db, event_id);
  if (told < 0)
    return told; /* out of memory, or (PostgreSQL's NOTIFY) the database */
  int rc = db_exec(db, "UPDATE events SET confirmed_count = confirmed_count - 1,"
                       " seats_version = seats_version + 1"
                       " WHERE id = ? AND confirmed_count > 0", NULL, "i", event_id);
  if (rc == 0 && ticket_type_id)
    rc = db_exec(db, "UPDATE ticket_types SET confirmed_count = confirmed_count - 1"
                     " WHERE id = ? AND confirmed_count > 0", NULL, "i", ticket_type_id);
  return rc;
}

int
registrations_create(db_t *db, struct registration *r, const char *drawn_code, int64_t now,
                     arena_t *arena)
{
  bool taken;
  int rc = take_place(db, r->event_id, r->ticket_type_id, &taken);
  if (rc < 0)
    return rc;
  r->registered_at = now;
  r->is_waitlisted = !taken;
  r->cancelled_at = 0;
  db_stmt_t *st = db_prepare(db,
      "INSERT INTO registrations (user_id, event_id, ticket_type_id, registered_at, is_waitlisted)"
      " VALUES (?, ?, ?, ?, ?) RETURNING id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, r->user_id);
  db_bind_int(st, 2, r->event_id);
  if (r->ticket_type_id)
    db_bind_int(st, 3, r->ticket_type_id);
  else
    db_bind_null(st, 3);
  db_bind_int(st, 4, now);
  db_bind_int(st, 5, r->is_waitlisted);
  rc = db_step_id(st, &r->id);
  if (rc < 0)
    return rc; /* the caller rolls back: the place taken goes with it */
  r->has_ticket = !r->is_waitlisted;
  if (r->has_ticket) {
    rc = tickets_issue(db, r->id, drawn_code, now, arena, &r->ticket);
    r->ticket.event_id = r->event_id;
    r->ticket.ticket_type_id = r->ticket_type_id;
    r->ticket.user_id = r->user_id;
  }
  if (rc == 0)
    rc = signal_send(r->is_waitlisted ? &registrations_waitlisted : &registrations_confirmed, db,
                     &(struct registrations_change){r->id, now, arena});
  return rc;
}

int
registrations_cancel(db_t *db, const struct registration *r, int64_t now, arena_t *arena)
{
  /* The event's availability changes (events/availability.h): its row is
   * changed first, as every other change of places does, so that on
   * PostgreSQL the row locks are always taken event first. */
  int rc = db_exec(db, "UPDATE events SET seats_version = seats_version + 1 WHERE id = ?", NULL,
                   "i", r->event_id);
  if (rc == 0)
    rc = events_live_changed_on_commit(db, r->event_id);
  if (rc < 0)
    return rc;
  /* Whether it holds a place is read from the row as cancelled, not from r:
   * a promotion may have committed since r was read (on PostgreSQL, whose
   * UPDATE waits for the promoter's row lock, then sees its change). */
  db_stmt_t *st = db_prepare(db, "UPDATE registrations SET cancelled_at = ?"
                                 " WHERE id = ? AND cancelled_at IS NULL"
                                 " RETURNING is_waitlisted, ticket_type_id, offer_expires_at");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, now);
  db_bind_int(st, 2, r->id);
  rc = db_step(st);
  bool waitlisted = false, offered = false;
  int64_t ticket_type_id = 0;
  if (rc == DB_ROW) {
    waitlisted = db_column_int(st, 0) != 0;
    ticket_type_id = db_column_int_or(st, 1, 0);
    offered = waitlisted && !db_column_is_null(st, 2); /* an offer holds a place */
    rc = 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_ENOTFOUND; /* cancelled meanwhile */
  }
  db_reset(st);
  if (rc < 0)
    return rc;
  if ((rc = signal_send(&registrations_cancelled, db,
                        &(struct registrations_change){r->id, now, arena})) < 0)
    return rc;
  if (waitlisted && !offered)
    return 0;
  if ((!offered && (rc = tickets_void(db, r->id, now)) < 0) ||
      (rc = free_place(db, r->event_id, ticket_type_id)) < 0)
    return rc;
  return registrations_promote(db, r->event_id, now, arena, NULL);
}

/*
 * The oldest waitlisted registration of event_id whose ticket type has
 * room: 0 with *found (and its *id and *ticket_type_id), or a negative code.
 */
static int
next_in_line(db_t *db, int64_t event_id, int64_t *id, int64_t *ticket_type_id, bool *found)
{
  db_stmt_t *st = db_prepare(db,
      "SELECT r.id, r.ticket_type_id FROM registrations r"
      " LEFT JOIN ticket_types t ON t.id = r.ticket_type_id"
      " WHERE r.event_id = ? AND r.cancelled_at IS NULL AND r.is_waitlisted = 1"
      " AND r.offer_expires_at IS NULL"
      " AND (r.ticket_type_id IS NULL OR t.quantity = 0 OR t.confirmed_count < t.quantity)"
      " ORDER BY r.registered_at, r.id LIMIT 1");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, event_id);
  int rc = db_step(st);
  *found = rc == DB_ROW;
  if (*found) {
    *id = db_column_int(st, 0);
    *ticket_type_id = db_column_int_or(st, 1, 0);
  }
  db_reset(st);
  return rc < 0 ? rc : 0;
}

/*
 * How event_id's freed places go: *hours, 0 when at once (with a ticket),
 * else held as offers for that many hours; and *starts, when the event
 * starts. 0, EVENTAPI_ENOTFOUND, or a database error.
 */
static int
offer_terms(db_t *db, int64_t event_id, int64_t *hours, int64_t *starts)
{
  db_stmt_t *st = db_prepare(db, "SELECT waitlist_offer_hours, date_time FROM events"
                                 " WHERE id = ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, event_id);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *hours = db_column_int_or(st, 0, 0);
    *starts = db_column_int(st, 1);
    rc = 0;
  } else if (rc == DB_DONE) {
    rc = EVENTAPI_ENOTFOUND;
  }
  db_reset(st);
  return rc;
}

/*
 * Gives registration id (waitlisted, holding no offer) the place just taken
 * for it: confirmed with a ticket (deadline 0), or held for it until
 * deadline. *given is false when it was cancelled, promoted or offered
 * meanwhile (PostgreSQL re-checks the condition after waiting for its row
 * lock): the caller gives the place back.
 */
static int
give_place(db_t *db, int64_t id, int64_t deadline, int64_t now, arena_t *arena, bool *given)
{
  int changes = 0;
  int rc = deadline
      ? db_exec(db, "UPDATE registrations SET offer_expires_at = ?"
                    " WHERE id = ? AND cancelled_at IS NULL AND is_waitlisted = 1"
                    " AND offer_expires_at IS NULL", &changes, "ii", deadline, id)
      : db_exec(db, "UPDATE registrations SET is_waitlisted = 0"
                    " WHERE id = ? AND cancelled_at IS NULL AND is_waitlisted = 1"
                    " AND offer_expires_at IS NULL", &changes, "i", id);
  *given = rc == 0 && changes > 0;
  if (!*given)
    return rc;
  struct ticket ticket;
  if (!deadline)
    rc = tickets_issue(db, id, NULL, now, arena, &ticket);
  if (rc == 0)
    rc = signal_send(deadline ? &registrations_offered : &registrations_promoted, db,
                     &(struct registrations_change){id, now, arena});
  return rc;
}

int
registrations_promote(db_t *db, int64_t event_id, int64_t now, arena_t *arena, int *promoted)
{
  int count = 0;
  int64_t hours = 0, starts = 0, deadline = 0;
  int rc = offer_terms(db, event_id, &hours, &starts);
  if (promoted)
    *promoted = 0;
  if (rc == EVENTAPI_ENOTFOUND)
    return 0; /* deleted: nobody waits for it */
  if (rc < 0)
    return rc;
  if (hours) {
    /* An offer runs out at the event's start at the latest; once it has
     * started, freed places are offered to nobody. */
    if (starts <= now)
      return 0;
    deadline = now + hours * 3600 * INT64_C(1000000);
    if (deadline > starts)
      deadline = starts;
  }
  int64_t id, ticket_type_id;
  bool found, taken, given;
  while ((rc = next_in_line(db, event_id, &id, &ticket_type_id, &found)) == 0 && found) {
    if ((rc = take_place(db, event_id, ticket_type_id, &taken)) < 0 || !taken)
      break; /* an error, or the event is full */
    if ((rc = give_place(db, id, deadline, now, arena, &given)) < 0)
      break;
    if (!given) {
      /* Cancelled (or given a place) since the look: the place goes back
       * and the next in line is looked for. */
      if ((rc = free_place(db, event_id, ticket_type_id)) < 0)
        break;
      continue;
    }
    count++;
  }
  if (promoted)
    *promoted = count;
  return rc < 0 ? rc : 0;
}

int
registrations_accept(db_t *db, struct registration *r, int64_t now, arena_t *arena)
{
  int changes = 0;
  int rc = db_exec(db, "UPDATE registrations SET is_waitlisted = 0, offer_expires_at = NULL"
                       " WHERE id = ? AND cancelled_at IS NULL AND is_waitlisted = 1"
                       " AND offer_expires_at > ?", &changes, "ii", r->id, now);
  if (rc == 0 && changes == 0)
    return EVENTAPI_ECONFLICT; /* no offer, or not any more */
  if (rc == 0)
    rc = tickets_issue(db, r->id, NULL, now, arena, &r->ticket);
  if (rc == 0)
    rc = signal_send(&registrations_promoted, db,
                     &(struct registrations_change){r->id, now, arena});
  if (rc < 0)
    return rc;
  r->is_waitlisted = false;
  r->offer_expires_at = 0;
  r->has_ticket = true;
  r->ticket.event_id = r->event_id;
  r->ticket.ticket_type_id = r->ticket_type_id;
  r->ticket.user_id = r->user_id;
  r->ticket.organizer_id = r->organizer_id;
  return 0;
}

/*
 * Ends the offer that registration id holds: declined (expired false),
 * while it runs, or expired, once it has run out at now. The registration
 * is cancelled and told by signal (an expiry by registrations_offer_expired
 * first), and its held place is freed and passed down the line. *ended
 * says whether it was still there to end.
 */
static int
end_offer(db_t *db, int64_t id, bool expired, int64_t now, arena_t *arena, bool *ended)
{
  db_stmt_t *st = db_prepare(db, expired
      ? "UPDATE registrations SET cancelled_at = ?"
        " WHERE id = ? AND cancelled_at IS NULL AND is_waitlisted = 1"
        " AND offer_expires_at <= ? RETURNING event_id, ticket_type_id"
      : "UPDATE registrations SET cancelled_at = ?"
        " WHERE id = ? AND cancelled_at IS NULL AND is_waitlisted = 1"
        " AND offer_expires_at > ? RETURNING event_id, ticket_type_id");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, now);
  db_bind_int(st, 2, id);
  db_bind_int(st, 3, now);
  int rc = db_step(st);
  int64_t event_id = 0, ticket_type_id = 0;
  *ended = rc == DB_ROW;
  if (*ended) {
    event_id = db_column_int(st, 0);
    ticket_type_id = db_column_int_or(st, 1, 0);
  }
  db_reset(st);
  if (rc < 0 || !*ended)
    return rc < 0 ? rc : 0;
  struct registrations_change change = {id, now, arena};
  rc = 0;
  if (expired)
    rc = signal_send(&registrations_offer_expired, db, &change);
  if (rc == 0)
    rc = signal_send(&registrations_cancelled, db, &change);
  if (rc == 0)
    rc = free_place(db, event_id, ticket_type_id);
  if (rc == 0)
    rc = registrations_promote(db, event_id, now, arena, NULL);
  return rc;
}

int
registrations_decline(db_t *db, const struct registration *r, int64_t now, arena_t *arena)
{
  bool ended;
  int rc = end_offer(db, r->id, false, now, arena, &ended);
  return rc == 0 && !ended ? EVENTAPI_ECONFLICT : rc;
}

/* Offers ended a unit of work: a bound on its work. */
#define EXPIRE_BATCH 16

int
registrations_expire_offers(db_t *db, int64_t now, arena_t *arena, bool *more)
{
  *more = false;
  int64_t ids[EXPIRE_BATCH];
  size_t count = 0;
  db_stmt_t *st = db_prepare(db,
      "SELECT id FROM registrations WHERE offer_expires_at <= ? AND cancelled_at IS NULL"
      " AND is_waitlisted = 1 AND offer_expires_at IS NOT NULL"
      " ORDER BY offer_expires_at, id LIMIT ?");
  if (st == NULL)
    return EVENTAPI_EDB;
  db_bind_int(st, 1, now);
  db_bind_int(st, 2, EXPIRE_BATCH);
  int rc;
  while ((rc = db_step(st)) == DB_ROW && count < EXPIRE_BATCH)
    ids[count++] = db_column_int(st, 0);
  db_reset(st);
  if (rc < 0)
    return rc;
  rc = 0;
  bool ended;
  for (size_t i = 0; rc == 0 && i < count; i++)
    rc = end_offer(db, ids[i], true, now, arena, &ended);
  *more = rc == 0 && count == EXPIRE_BATCH;
  return rc;
}

/* A registration with its user's details (the organizer's list). */
static int
read_registration_with_user(db_stmt_t *st, arena_t *arena, void *out)
{
  struct registration *r = out;
  int rc = read_registration(st, arena, r);
  if (rc < 0)
    return rc;
  r->username = arena_strdup(arena, db_column_text(st, 13));
  r->email = arena_strdup(arena, db_column_text(st, 14));
  r->first_name = arena_strdup(arena, db_column_text(st, 15));
  r->last_name = arena_strdup(arena, db_column_text(st, 16));
  return r->username && r->email && r->first_name && r->last_name ? 0 : EVENTAPI_ENOMEM;
}

/* The rows of st, read with read, into *out and *count. */
static int
list(db_stmt_t *st, db_row_fn read, arena_t *arena, struct registration **out, size_t *count)
{
  void *items;
  int rc = db_rows(st, read, sizeof **out, 0, arena, &items, count);
  *out = items;
  return rc;
}

int
registrations_list_user(db_t *db, int64_t user_id, int64_t limit, int64_t offset,
                        arena_t *arena, struct registration **out, size_t *count,
                        int64_t *total)
{
  void *items;
  int rc = db_page(db, "SELECT count(*) FROM registrations"
                   " WHERE user_id = ? AND cancelled_at IS NULL",
                   "SELECT " REGISTRATION_COLUMNS REGISTRATION_FROM
                   " WHERE r.user_id = ? AND r.cancelled_at IS NULL"
                   " ORDER BY r.registered_at DESC, r.id DESC LIMIT ? OFFSET ?",
                   limit, offset, read_registration, sizeof **out, arena, &items, count, total,
                   "i", user_id);
  *out = items;
  return rc;
}

int
registrations_list_event(db_t *db, int64_t event_id, arena_t *arena,
                         struct registration **out, size_t *count)
{
  db_stmt_t *st = db_prepare(db, "SELECT " REGISTRATION_COLUMNS ","
                                 " u.username, u.email, u.first_name, u.last_name"
                                 REGISTRATION_FROM " JOIN users u ON u.id = r.user_id"
                                 " WHERE r.event_id = ? AND r.cancelled_at IS NULL"
                                 " ORDER BY r.registered_at, r.id");
  if (st)
    db_bind_int(st, 1, event_id);
  return list(st, read_registration_with_user, arena, out, count);
}

/* ---- receivers ---- */

int
registrations_on_places_opened(db_t *db, const void *payload)
{
  const struct events_places *opened = payload;
  return registrations_promote(db, opened->event_id, time_now_us(), opened->arena, NULL);
}

int
registrations_on_user_deleting(db_t *db, const void *payload)
{
  const struct users_deletion *deletion = payload;
  int64_t *ids;
  size_t count;
  int rc = db_ints(db, "SELECT id FROM registrations WHERE user_id = ? AND cancelled_at IS NULL"
                       " ORDER BY id",
                   deletion->user_id, deletion->arena, &ids, &count);
  for (size_t i = 0; rc == 0 && i < count; i++) {
    struct registration r;
    if ((rc = registrations_get(db, ids[i], deletion->arena, &r)) == 0)
      rc = registrations_cancel(db, &r, deletion->now, deletion->arena);
    if (rc == EVENTAPI_ENOTFOUND)
      rc = 0; /* cancelled meanwhile */
  }
  return rc;
}
