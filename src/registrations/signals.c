/*
 * signals.c - the registrations app's signals (see signals.h).
 */
#include "registrations/signals.h"

struct signal registrations_confirmed = SIGNAL("registrations_confirmed");
struct signal registrations_waitlisted = SIGNAL("registrations_waitlisted");
struct signal registrations_promoted = SIGNAL("registrations_promoted");
struct signal registrations_cancelled = SIGNAL("registrations_cancelled");
struct signal registrations_offered = SIGNAL("registrations_offered");
struct signal registrations_offer_expired = SIGNAL("registrations_offer_expired");
