/*
 * models.h - tickets: the proof of a confirmed registration, with a random
 * UUID code, checked in once at the door.
 */
#ifndef EVENTAPI_TICKETS_MODELS_H
#define EVENTAPI_TICKETS_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db/db.h"

#define TICKET_CODE_LEN 36

struct ticket {
  int64_t id;
  const char *code;
  int64_t registration_id;
  int64_t issued_at;
  int64_t checked_in_at;   /* 0: not checked in */
  /* From the registration: */
  int64_t event_id;
  int64_t ticket_type_id;  /* 0: none */
  int64_t user_id;
  int64_t organizer_id;    /* the event's */
  /* Who it belongs to, for the door: */
  const char *username, *first_name, *last_name;   /* the holder's */
  const char *ticket_type_name;                    /* NULL: none */
  const char *event_title;
};

/* What a check-in audit row records. */
enum tickets_door_action { TICKETS_CHECK_IN, TICKETS_UNDO };

/* Who did something at the door: the user, and the device they named ("": none). */
struct tickets_door {
  int64_t by;
  const char *device;
};

#define TICKETS_DEVICE_MAX 100 /* characters of a device's name */

/* A row of the check-in audit. */
struct tickets_audit {
  int64_t id;
  const char *ticket_code;
  int64_t event_id;
  enum tickets_door_action action;
  int64_t by;              /* 0: that user is gone */
  const char *by_username; /* NULL: that user is gone */
  const char *device;
  int64_t at;
  int64_t version;         /* of the event's door (0: none) */
};

/* The columns tickets_audit_read() reads, and the rows they come from. */
#define TICKETS_AUDIT_COLUMNS                                                   \
  "a.id, a.ticket_code, a.event_id, a.action, a.by_id, u.username, a.device,"  \
  " a.created_at, a.version"
#define TICKETS_AUDIT_FROM "check_in_audit a LEFT JOIN users u ON u.id = a.by_id"

/* A db_row_fn reading TICKETS_AUDIT_COLUMNS into a struct tickets_audit. */
int tickets_audit_read(db_stmt_t *st, arena_t *arena, void *out);

/*
 * Writes the audit row of what door did to the ticket of code (of
 * event_id) at at, with the event's next door version, in the change's
 * unit of work.
 */
int tickets_audit_write(db_t *db, int64_t event_id, const char *code,
                        enum tickets_door_action action, const struct tickets_door *door,
                        int64_t at);

/*
 * The device that checked the ticket of code in, as its latest check-in
 * audit row says ("" when none does), into *device (arena memory).
 */
int tickets_checked_in_where(db_t *db, const char *code, arena_t *arena, const char **device);

/*
 * A new ticket code, a random UUID (version 4: 122 random bits from
 * libsodium's randombytes_buf, the kernel's generator), into out. A view
 * draws the code before its unit of work, so that the writer, which runs
 * every unit in turn, does not wait on the system call.
 */
void tickets_draw_code(char out[TICKET_CODE_LEN + 1]);

/*
 * Issues the ticket of registration_id (into out), with the code drawn
 * (tickets_draw_code(), or NULL to draw one here); should a ticket hold it
 * already, with another drawn here.
 */
int tickets_issue(db_t *db, int64_t registration_id, const char *drawn, int64_t now,
                  arena_t *arena, struct ticket *out);

/* The ticket of code (of an active registration). 0 or EVENTAPI_ENOTFOUND. */
int tickets_get(db_t *db, const char *code, arena_t *arena, struct ticket *out);

/* Ticket id (of an active registration). 0 or EVENTAPI_ENOTFOUND. */
int tickets_get_id(db_t *db, int64_t id, arena_t *arena, struct ticket *out);

/*
 * One page of the user's tickets, newest first: at most limit from offset
 * into *out (arena memory, *count of them), and the number of all of them
 * in *total. Run it in a read transaction for the two to agree.
 */
int tickets_list_user(db_t *db, int64_t user_id, int64_t limit, int64_t offset, arena_t *arena,
                      struct ticket **out, size_t *count, int64_t *total);

/*
 * Checks ticket t in at now, once: 0 when this call did it (writes its
 * audit row, for door, and sends tickets_checked_in), or EVENTAPI_ECONFLICT
 * when it was already checked in (*first gets when; no audit row). One
 * conditional UPDATE: two scanners at once cannot both succeed.
 */
int tickets_check_in(db_t *db, const struct ticket *t, const struct tickets_door *door,
                     int64_t now, int64_t *first);

/*
 * Undoes ticket t's check-in: 0 when this call did it (and wrote its audit
 * row, for door, at now, and sent tickets_check_in_undone),
 * EVENTAPI_ECONFLICT when it is not checked in.
 * One conditional UPDATE, as tickets_check_in.
 */
int tickets_undo_check_in(db_t *db, const struct ticket *t, const struct tickets_door *door,
                          int64_t now);

/*
 * One page of event_id's check-in audit, newest first: at most limit from
 * offset into *out (arena memory, *count of them), and the number of all
 * of them in *total. Run it in a read transaction for the two to agree.
 */
int tickets_audit_list(db_t *db, int64_t event_id, int64_t limit, int64_t offset,
                       arena_t *arena, struct tickets_audit **out, size_t *count,
                       int64_t *total);

/* Removes the ticket of a registration cancelled at now, keeping its code
 * (voided_tickets). */
int tickets_void(db_t *db, int64_t registration_id, int64_t now);

#endif
