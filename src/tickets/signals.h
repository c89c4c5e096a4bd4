/*
 * signals.h - what the tickets app tells other apps (metrics) through
 * db/signal.h: sent by its models inside the write transaction of the
 * change; app.c connects the receivers.
 */
#ifndef EVENTAPI_TICKETS_SIGNALS_H
#define EVENTAPI_TICKETS_SIGNALS_H

#include <stdint.h>

#include "db/signal.h"

/* tickets_checked_in, with struct tickets_check_in: the ticket was checked
 * in at the door, now (once: never for a second scan). */
struct tickets_check_in {
  int64_t ticket_id;
  int64_t now;
};
extern struct signal tickets_checked_in;

/* tickets_check_in_undone, with struct tickets_check_in: a check-in of the
 * ticket was undone at now (a wrong scan). */
extern struct signal tickets_check_in_undone;

#endif
