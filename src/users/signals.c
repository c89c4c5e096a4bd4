/*
 * signals.c - the users app's signals (see signals.h).
 */
#include "users/signals.h"

struct signal users_deleting = SIGNAL("users_deleting");
