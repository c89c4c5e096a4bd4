/*
 * commands.h - the users app's management commands, as Django keeps them in
 * django.contrib.auth's management/commands: `eventapi createsuperuser` and
 * `eventapi changepassword`. main.c parses the options and owns the
 * terminal; these check, store and say what they did.
 *
 * Both run on the calling thread's connection (db_thread()) of a database
 * the caller has migrated, after app_setup(): a password is checked by
 * exactly the validators sign-up uses (users_password_check), with the same
 * common-password list.
 */
#ifndef EVENTAPI_USERS_COMMANDS_H
#define EVENTAPI_USERS_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

/*
 * Asks for a password on the terminal without echo, into buf (NUL-ended,
 * without the line's end). Returns 0, or -1 when there is no terminal.
 */
typedef int (*users_prompt_fn)(const char *prompt, char *buf, size_t len);

/*
 * Creates an admin. username and email are checked as sign-up checks them
 * (valid, not taken) before any password is asked for. The password is
 * password when not NULL, else asked twice through prompt, up to three
 * times, until both agree and the validators pass. Says what it did on out
 * and why it refused on stderr ("eventapi: password: This password is too
 * common."). Returns the exit status: 0, 1 refused or failed, 2 no
 * terminal to ask on.
 */
int users_cmd_createsuperuser(const char *username, const char *email, const char *password,
                              users_prompt_fn prompt, FILE *out);

/*
 * Sets the password of the user named username (case-insensitively; any
 * role, inactive users too): the way back in for an admin who lost theirs.
 * The old password is not asked for. The new one is given or asked as for
 * createsuperuser, checked against the user's own username, names and
 * email. Returns the exit status as users_cmd_createsuperuser.
 */
int users_cmd_changepassword(const char *username, const char *password,
                             users_prompt_fn prompt, FILE *out);

#endif
