/*
 * urls.h - the tickets routes, with the original's check-in alias.
 */
#ifndef EVENTAPI_TICKETS_URLS_H
#define EVENTAPI_TICKETS_URLS_H

int tickets_urls_register(void);

#endif
