/*
 * signals.h - connects the notifications app to the signals of the events
 * and registrations apps: each change writes its notifications in its own
 * transaction, and wakes this process's worker.
 */
#ifndef EVENTAPI_NOTIFICATIONS_SIGNALS_H
#define EVENTAPI_NOTIFICATIONS_SIGNALS_H

void notifications_signals_connect(void);

#endif
