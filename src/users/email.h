/*
 * email.h - Django's EmailValidator, as sign-up and the profile check an
 * email address.
 */
#ifndef EVENTAPI_USERS_EMAIL_H
#define EVENTAPI_USERS_EMAIL_H

#include <stdbool.h>

/*
 * Django's EmailValidator (without the IDN conversion of the domain): a
 * dot-atom or quoted local part, then a hostname, "localhost", or an
 * [IPv4] or [IPv6] literal (Python's ipaddress rules); at most 320
 * characters. Only ASCII is accepted: Django would also convert an
 * internationalised domain to punycode, and its case-insensitive regexes
 * match a few non-ASCII look-alikes (U+017F, U+212A, U+0130, U+0131); both
 * are refused here. NULL is not valid.
 */
bool users_email_valid(const char *email);

#endif
