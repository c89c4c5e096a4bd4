/*
 * tickets_issue.c - a ticket's code: the one the view drew before its unit
 * of work, unless a ticket holds it already; then another, drawn in the
 * unit. Every code a random UUID (version 4), lower-case.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "core/arena.h"
#include "db/db.h"
#include "support/db.h"
#include "tickets/models.h"

static db_t *db;
static arena_t arena;

static void
setup(void)
{
  db = unit_db_open();
  unit_db_users();
  cr_assert_eq(db_exec(db, "INSERT INTO events (id, title, date_time, location, capacity,"
                           " created_at, organizer_id, search_text, location_key)"
                           " VALUES (7, 'Jazz Night', 0, 'Berlin', 0, 0, 1, '', '')",
                       NULL, NULL), 0);
  cr_assert_eq(db_exec(db, "INSERT INTO registrations (id, user_id, event_id, registered_at,"
                           " is_waitlisted) VALUES (70, 1, 7, 0, 0), (71, 2, 7, 0, 0)",
                       NULL, NULL), 0);
  cr_assert_eq(db_begin(db, DB_WRITE), 0);
}

static void
teardown(void)
{
  db_rollback(db);
  arena_free(&arena);
  unit_db_close();
}

TestSuite(tickets_issue, .init = setup, .fini = teardown);

/* Whether code is a lower-case UUID of version 4 (RFC 4122 variant). */
static bool
uuid4(const char *code)
{
  if (strlen(code) != TICKET_CODE_LEN)
    return false;
  for (size_t i = 0; i < TICKET_CODE_LEN; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    bool hex = isdigit((unsigned char)code[i]) || (code[i] >= 'a' && code[i] <= 'f');
    if (dash ? code[i] != '-' : !hex)
      return false;
  }
  return code[14] == '4' && strchr("89ab", code[19]) != NULL;
}

Test(tickets_issue, draws_random_version_4_codes)
{
  char a[TICKET_CODE_LEN + 1], b[TICKET_CODE_LEN + 1];
  tickets_draw_code(a);
  tickets_draw_code(b);
  cr_assert(uuid4(a), "%s", a);
  cr_assert(uuid4(b), "%s", b);
  cr_assert_str_neq(a, b);
}

Test(tickets_issue, the_code_drawn_before_the_unit_is_the_tickets)
{
  char drawn[TICKET_CODE_LEN + 1];
  tickets_draw_code(drawn);
  struct ticket t;
  cr_assert_eq(tickets_issue(db, 70, drawn, 5, &arena, &t), 0);
  cr_assert_str_eq(t.code, drawn);
  cr_assert_eq(t.registration_id, 70);
  cr_assert_str_eq(unit_db_text("SELECT code FROM tickets WHERE registration_id = ?", 70), drawn);
}

Test(tickets_issue, a_code_held_already_gives_way_to_another)
{
  char drawn[TICKET_CODE_LEN + 1];
  tickets_draw_code(drawn);
  struct ticket first, second;
  cr_assert_eq(tickets_issue(db, 70, drawn, 5, &arena, &first), 0);
  cr_assert_eq(tickets_issue(db, 71, drawn, 5, &arena, &second), 0);
  cr_assert_str_eq(first.code, drawn);
  cr_assert_str_neq(second.code, drawn);
  cr_assert(uuid4(second.code), "%s", second.code);
  cr_assert_str_eq(unit_db_text("SELECT code FROM tickets WHERE registration_id = ?", 71),
                   second.code);
  cr_assert_eq(unit_db_int("SELECT count(*) FROM tickets WHERE id >= ?", 0), 2);
}

Test(tickets_issue, without_a_drawn_code_one_is_drawn_in_the_unit)
{
  struct ticket t;
  cr_assert_eq(tickets_issue(db, 70, NULL, 5, &arena, &t), 0);
  cr_assert(uuid4(t.code), "%s", t.code);
}
