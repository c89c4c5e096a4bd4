/*
 * urls.h - the registrations routes.
 */
#ifndef EVENTAPI_REGISTRATIONS_URLS_H
#define EVENTAPI_REGISTRATIONS_URLS_H

int registrations_urls_register(void);

#endif
