/*
 * urls.h - the notifications routes; registering them also connects the
 * notifications app to the signals of the events and registrations apps.
 */
#ifndef EVENTAPI_NOTIFICATIONS_URLS_H
#define EVENTAPI_NOTIFICATIONS_URLS_H

int notifications_urls_register(void);

#endif
