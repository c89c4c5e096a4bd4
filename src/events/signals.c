#include "events/signals.h"

events_places_opened_fn events_places_opened;
