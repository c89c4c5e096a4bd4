/*
 * urls.h - the events app's routes.
 */
#ifndef EVENTAPI_EVENTS_URLS_H
#define EVENTAPI_EVENTS_URLS_H

int events_urls_register(void);

#endif
