/*
 * jwt.h - SimpleJWT-compatible tokens (libjwt), HS256 only.
 *
 * Claims: token_type ("access" or "refresh"), exp, iat, jti (32 hex digits),
 * user_id, and token_generation: the user's token generation when the token
 * was issued, which a password change or a deactivation moves on, ending
 * every token issued before (the users app compares it). Tokens with any
 * other alg, a bad signature, a wrong token_type, missing or mistyped claims,
 * or an exp in the past are refused. A token without token_generation (one
 * issued before the claim existed) reads as generation 0, the initial one.
 */
#ifndef EVENTAPI_AUTH_JWT_H
#define EVENTAPI_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

enum token_type { TOKEN_ACCESS, TOKEN_REFRESH };

struct token_claims {
  enum token_type type;
  int64_t user_id;
  int64_t generation; /* token_generation; 0 when the token has none */
  int64_t iat;      /* seconds since the epoch */
  int64_t exp;      /* seconds since the epoch */
  char jti[33];
};

/*
 * Issues a token of type for user_id at its token generation (>= 0), valid
 * for lifetime seconds from now (seconds since the epoch), signed with key.
 * On success *out is a malloc'd string the caller frees, and claims (if not
 * NULL) receives what was signed. Returns 0, EVENTAPI_EINVAL or
 * EVENTAPI_ENOMEM.
 */
int auth_token_issue(const char *key, size_t keylen, enum token_type type,
                     int64_t user_id, int64_t generation, int64_t now,
                     int64_t lifetime, char **out, struct token_claims *claims);

/*
 * Verifies token against key and expected type at time now. Returns 0 with
 * *claims filled, EVENTAPI_EEXPIRED for a well-signed but expired token,
 * or EVENTAPI_EINVAL for anything else.
 */
int auth_token_verify(const char *key, size_t keylen, const char *token,
                      enum token_type expected, int64_t now,
                      struct token_claims *claims);

/*
 * As auth_token_verify, remembering the tokens this thread verified (a
 * small table by a BLAKE2b digest of the whole token): a token seen again
 * is not parsed or signed again, only its expiry checked. What a token
 * says cannot change, so the memo never goes stale; whether its user may
 * still use it is for the caller to check, as with auth_token_verify.
 */
int auth_token_verify_remembered(const char *key, size_t keylen, const char *token,
                                 enum token_type expected, int64_t now,
                                 struct token_claims *claims);

#endif
