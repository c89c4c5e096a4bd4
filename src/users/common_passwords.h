/*
 * common_passwords.h - the list of Django's CommonPasswordValidator: the
 * passwords too common to accept, loaded once at start-up and then only
 * read (from any thread).
 */
#ifndef EVENTAPI_USERS_COMMON_PASSWORDS_H
#define EVENTAPI_USERS_COMMON_PASSWORDS_H

#include <stdbool.h>

/*
 * Loads the common-password list (one per line, optionally gzip-compressed,
 * as Django ships it), each entry read as Python's line.lower().strip().
 * Without a list (NULL, or no such file), a short built-in list of the most
 * common passwords is used. Returns 0, EVENTAPI_EIO for a list that cannot
 * be read or holds nothing (the list in force stays), or EVENTAPI_ENOMEM.
 * Call once at start-up, before threads.
 */
int users_common_passwords_load(const char *path);
void users_common_passwords_free(void);

/* Whether normalized (a password as password.lower().strip()) is on the list. */
bool users_password_is_common(const char *normalized);

#endif
