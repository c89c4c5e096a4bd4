/*
 * hosts.h - ALLOWED_HOSTS: which Host headers the server answers, as
 * Django's setting of that name.
 *
 * Links in answers (pagination, image URLs) are built from the Host header
 * when PUBLIC_URL is unset, so a forged Host could plant links to another
 * site in a shared cache. Only listed hosts are served. A pattern is a name
 * ("api.example.com", "127.0.0.1", "[::1]"), a name with a leading dot
 * (".example.com": it and every subdomain) or "*" (any). Matching is
 * case-insensitive and ignores the port, as Django's validate_host does.
 *
 * Configured once before the server starts; read-only after.
 */
#ifndef EVENTAPI_HTTP_HOSTS_H
#define EVENTAPI_HTTP_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

/* Sets the comma-separated patterns. Returns 0 or EVENTAPI_ENOMEM. */
int http_hosts_configure(const char *patterns);
void http_hosts_free(void);

/*
 * Whether host (a Host header's value) may be served. When it may not,
 * writes Django's explanation ("Invalid HTTP_HOST header: 'x'. You may need
 * to add 'x' to ALLOWED_HOSTS.") into why[whylen].
 */
bool http_hosts_allow(const char *host, char *why, size_t whylen);

#endif
