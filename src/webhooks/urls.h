/*
 * urls.h - the webhooks app's routes.
 */
#ifndef EVENTAPI_WEBHOOKS_URLS_H
#define EVENTAPI_WEBHOOKS_URLS_H

int webhooks_urls_register(void);

#endif
