/*
 * signals.c - the events app's signals (see signals.h).
 */
#include "events/signals.h"

struct signal events_places_opened = SIGNAL("events_places_opened");
struct signal events_created = SIGNAL("events_created");
struct signal events_changed = SIGNAL("events_changed");
struct signal events_updated = SIGNAL("events_updated");
struct signal events_deleting = SIGNAL("events_deleting");
