/*
 * validators.c - Django's username validator, and its four default
 * password validators run in Django's order with Django's messages (see
 * validators.h). The pieces they stand on have files of their own:
 * core/unicode (Python's notions of characters), users/email,
 * users/common_passwords, users/similarity.
 */
#include "users/validators.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "core/unicode.h"
#include "users/common_passwords.h"
#include "users/similarity.h"

#define MIN_LENGTH 8

/* Django's UnicodeUsernameValidator: ^[\w.@+-]+\Z */
bool
users_username_valid(const char *username)
{
  const unsigned char *bytes = (const unsigned char *)username;
  size_t len, at = 0;

  if (username == NULL || username[0] == '\0')
    return false;
  len = strlen(username);
  while (at < len) {
    uint32_t cp;
    size_t used = text_utf8_next(bytes + at, len - at, &cp);
    if (used == 0)
      return false;
    at += used;
    if (cp != '.' && cp != '@' && cp != '+' && cp != '-' && !unicode_is_word(cp))
      return false;
  }
  return true;
}

/* Appends text to messages (NULL: none kept). 0 or EVENTAPI_ENOMEM. */
static int
add_message(json_t *messages, const char *text)
{
  if (messages != NULL &&
      json_array_append_new(messages, json_string(text)) != 0)
    return EVENTAPI_ENOMEM;
  return 0;
}

/*
 * Appends Django's messages for password to messages. Returns how many were
 * added, or EVENTAPI_ENOMEM (then messages may hold some of them): a caller
 * must treat a negative result as a failure, never as "no messages".
 */
int
users_password_validate(const char *password, const char *username,
                        const char *email, const char *first_name,
                        const char *last_name, json_t *messages)
{
  /* Django's default user_attributes, with their verbose names. */
  const struct {
    const char *verbose_name;
    const char *value;
  } attributes[] = {
    { "username", username }, { "first name", first_name },
    { "last name", last_name }, { "email address", email },
  };
  uint32_t *cps;
  size_t len;
  char *normalized;
  bool numeric;
  int added = 0;

  if (password == NULL)
    password = "";

  /* 1. UserAttributeSimilarityValidator: the first similar attribute only,
   * on the lower-cased password. */
  cps = users_similarity_key(password, &len);
  if (cps == NULL)
    return EVENTAPI_ENOMEM;
  for (size_t i = 0; i < sizeof attributes / sizeof attributes[0]; i++) {
    const char *value = attributes[i].value;
    char text[64];

    if (value == NULL || value[0] == '\0')
      continue;
    bool similar;
    if (users_similar_to(cps, len, value, &similar) < 0) {
      free(cps);
      return EVENTAPI_ENOMEM;
    }
    if (similar) {
      snprintf(text, sizeof text, "The password is too similar to the %s.",
               attributes[i].verbose_name);
      if (add_message(messages, text) < 0) {
        free(cps);
        return EVENTAPI_ENOMEM;
      }
      added++;
      break;
    }
  }
  free(cps);

  /* 2. MinimumLengthValidator(8), counted in code points. */
  cps = unicode_decode(password, false, &len);
  if (cps == NULL)
    return EVENTAPI_ENOMEM;
  numeric = len > 0;
  for (size_t i = 0; i < len && numeric; i++)
    numeric = unicode_is_digit(cps[i]);
  free(cps);
  if (len < MIN_LENGTH) {
    if (add_message(messages, "This password is too short. It must contain "
                              "at least 8 characters.") < 0)
      return EVENTAPI_ENOMEM;
    added++;
  }

  /* 3. CommonPasswordValidator: password.lower().strip() in the list. */
  normalized = unicode_lower_strip(password);
  if (normalized == NULL)
    return EVENTAPI_ENOMEM;
  if (users_password_is_common(normalized)) {
    if (add_message(messages, "This password is too common.") < 0) {
      free(normalized);
      return EVENTAPI_ENOMEM;
    }
    added++;
  }
  free(normalized);

  /* 4. NumericPasswordValidator: Python's str.isdigit(). */
  if (numeric) {
    if (add_message(messages, "This password is entirely numeric.") < 0)
      return EVENTAPI_ENOMEM;
    added++;
  }
  return added;
}
