/*
 * validators.h - Django's user validators, with Django's messages: the
 * username's, and the four default password validators. The email's is
 * users/email.h, the common-password list users/common_passwords.h.
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

/*
 * Runs Django's four default validators in Django's order
 * (UserAttributeSimilarity, MinimumLength(8), CommonPassword, Numeric) and
 * appends each failing one's message (a json string) to messages, a json
 * array (NULL: only counted). Any attribute may be NULL. Returns the number
 * of messages added, or EVENTAPI_ENOMEM (then messages may hold some of
 * them: a negative result is a failure, never "no messages").
 */
int users_password_validate(const char *password, const char *username,
                            const char *email, const char *first_name,
                            const char *last_name, json_t *messages);

#endif
