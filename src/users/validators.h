/*
 * validators.h - Django's user field validators, with Django's messages.
 */
#ifndef EVENTAPI_USERS_VALIDATORS_H
#define EVENTAPI_USERS_VALIDATORS_H

#include <jansson.h>
#include <stdbool.h>

/*
 * Django's UnicodeUsernameValidator: 1 or more letters, digits and @ . + - _
 * (letters and digits in the Unicode sense). Length is checked separately.
 */
bool users_username_valid(const char *username);

/* Django's EmailValidator (without the IDN conversion of the domain). */
bool users_email_valid(const char *email);

/*
 * Loads the common-password list (one per line, optionally gzip-compressed,
 * as Django ships it). Without a list, or with NULL, a short built-in list of
 * the most common passwords is used. Returns 0 or EVENTAPI_EIO.
 * Call once at start-up, before threads.
 */
int users_common_passwords_load(const char *path);
void users_common_passwords_free(void);

/*
 * Runs Django's four default validators in Django's order
 * (UserAttributeSimilarity, MinimumLength(8), CommonPassword, Numeric) and
 * appends each failing one's message (a json string) to messages, a json
 * array. Any attribute may be NULL. Returns the number of messages added,
 * or EVENTAPI_ENOMEM (negative: a failure, never "no messages").
 */
int users_password_validate(const char *password, const char *username,
                            const char *email, const char *first_name,
                            const char *last_name, json_t *messages);

#endif
