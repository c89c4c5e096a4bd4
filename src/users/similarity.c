/*
 * similarity.c - Django's UserAttributeSimilarityValidator's measure (see
 * similarity.h).
 */
#include "users/similarity.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/unicode.h"

#define MAX_SIMILARITY_NUM 7 /* max_similarity = 0.7 = 7 / 10 */
#define MAX_SIMILARITY_DEN 10

static int
compare_code_points(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return (x > y) - (x < y);
}

/*
 * Python's SequenceMatcher(a, b).quick_ratio() >= 0.7, in integers:
 * 2 * M / (len(a) + len(b)) where M is the size of the multiset
 * intersection. Both arrays must be sorted. Empty against empty is 1.0.
 */
static bool
quick_ratio_reaches(const uint32_t *a, size_t a_len, const uint32_t *b,
                    size_t b_len)
{
  size_t i = 0, j = 0, matches = 0;

  while (i < a_len && j < b_len) {
    if (a[i] < b[j]) {
      i++;
    } else if (a[i] > b[j]) {
      j++;
    } else {
      matches++;
      i++;
      j++;
    }
  }
  return 2 * matches * MAX_SIMILARITY_DEN >=
         MAX_SIMILARITY_NUM * (a_len + b_len);
}

/*
 * Django's exceeds_maximum_length_ratio(): a part far shorter than the
 * password is not compared. pwd_len >= 10 * value_len and
 * value_len < max_similarity / 2 * pwd_len.
 */
static bool
exceeds_length_ratio(size_t password_len, size_t value_len)
{
  return password_len >= 10 * value_len &&
         2 * MAX_SIMILARITY_DEN * value_len < MAX_SIMILARITY_NUM * password_len;
}

uint32_t *
users_similarity_key(const char *password, size_t *len)
{
  uint32_t *cps = unicode_decode(password, true, len);
  if (cps)
    qsort(cps, *len, sizeof *cps, compare_code_points);
  return cps;
}

int
users_similar_to(const uint32_t *password, size_t password_len, const char *value,
                 bool *similar)
{
  size_t value_len;
  uint32_t *lowered = unicode_decode(value, true, &value_len);
  uint32_t *part;
  size_t start = 0;

  *similar = false;
  if (lowered == NULL)
    return EVENTAPI_ENOMEM;
  part = malloc((value_len + 1) * sizeof *part);
  if (part == NULL) {
    free(lowered);
    return EVENTAPI_ENOMEM;
  }

  /* re.split(r'\W+', value) + [value]: the pieces, then the whole. */
  for (size_t i = 0; i <= value_len + 1 && !*similar; i++) {
    size_t part_start, part_len;

    if (i == value_len + 1) {
      part_start = 0;
      part_len = value_len;
    } else if (i == value_len || !unicode_is_word(lowered[i])) {
      part_start = start;
      part_len = i - start;
      while (i + 1 < value_len && !unicode_is_word(lowered[i + 1]))
        i++; /* one separator run */
      start = i + 1;
    } else {
      continue;
    }
    if (exceeds_length_ratio(password_len, part_len))
      continue;
    memcpy(part, lowered + part_start, part_len * sizeof *part);
    qsort(part, part_len, sizeof *part, compare_code_points);
    *similar = quick_ratio_reaches(password, password_len, part, part_len);
  }
  free(part);
  free(lowered);
  return 0;
}
