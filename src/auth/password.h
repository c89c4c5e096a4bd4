/*
 * password.h - argon2id password hashes (libsodium).
 */
#ifndef EVENTAPI_AUTH_PASSWORD_H
#define EVENTAPI_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

/*
 * Sets the cost of new hashes (defaults: libsodium's interactive limits).
 * Verification always uses the parameters stored in the hash itself.
 */
void password_set_limits(unsigned long long opslimit, size_t memlimit);

/*
 * Hashes password with argon2id into out, a NUL-terminated "$argon2id$..."
 * string. Returns 0, or EVENTAPI_ENOMEM when the memory cost cannot be met.
 */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);

/* True when password matches hash; false for a malformed hash. */
bool password_verify(const char *hash, const char *password);

/*
 * Spends the time of one verification without a real hash, so that a login
 * for an unknown user takes as long as one with a wrong password.
 */
void password_burn(const char *password);

#endif
