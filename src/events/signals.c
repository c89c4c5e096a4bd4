#include "events/signals.h"

events_places_opened_fn events_places_opened;
events_changed_fn events_changed;
events_deleting_fn events_deleting;
