/*
 * signals.c - the events app's signals (see signals.h).
 */
#include "events/signals.h"

struct signal events_places_opened = SIGNAL("events_places_opened");
struct signal events_changed = SIGNAL("events_changed");
struct signal events_deleting = SIGNAL("events_deleting");
