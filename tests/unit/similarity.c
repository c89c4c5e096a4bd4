/*
 * Unit tests for users/similarity: the measure of Django's
 * UserAttributeSimilarityValidator.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "users/similarity.h"

/* Whether password is too similar to value. */
static bool
similar(const char *password, const char *value)
{
  size_t len;
  uint32_t *key = users_similarity_key(password, &len);
  bool answer = false;
  cr_assert_not_null(key);
  cr_assert_eq(users_similar_to(key, len, value, &answer), 0);
  free(key);
  return answer;
}

Test(similarity, the_same_and_close)
{
  cr_assert(similar("johnsmith", "johnsmith"));
  cr_assert(similar("JohnSmith1", "johnsmith")); /* lower-cased, 0.7 reached */
  cr_assert(similar("htimsnhoj", "johnsmith"));  /* quick_ratio ignores order */
}

Test(similarity, different)
{
  cr_assert_not(similar("correct-horse", "alice"));
  cr_assert_not(similar("x", "johnsmith"));
}

Test(similarity, parts_of_the_value)
{
  /* The parts of an email address count on their own. */
  cr_assert(similar("averylongname7", "averylongname@example.com"));
  /* A part far shorter than the password is not compared. */
  cr_assert_not(similar("abababababababababab", "ab"));
}
