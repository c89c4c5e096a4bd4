/*
 * signals.c - the tickets app's signals (see signals.h).
 */
#include "tickets/signals.h"

struct signal tickets_checked_in = SIGNAL("tickets_checked_in");
struct signal tickets_check_in_undone = SIGNAL("tickets_check_in_undone");
