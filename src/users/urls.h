/*
 * urls.h - the users app's routes, with the original system's aliases.
 */
#ifndef EVENTAPI_USERS_URLS_H
#define EVENTAPI_USERS_URLS_H

int users_urls_register(void);

#endif
