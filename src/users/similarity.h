/*
 * similarity.h - the measure of Django's UserAttributeSimilarityValidator:
 * a password is too similar to a user's attribute when Python's
 * SequenceMatcher(a, b).quick_ratio() reaches 0.7 against the attribute or
 * one of its \W+-separated parts (the parts far shorter than the password
 * left out), both lower-cased.
 */
#ifndef EVENTAPI_USERS_SIMILARITY_H
#define EVENTAPI_USERS_SIMILARITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The lower-cased password as the sorted code points users_similar_to()
 * compares (*len of them), malloc'd: the caller frees it. NULL when out of
 * memory.
 */
uint32_t *users_similarity_key(const char *password, size_t *len);

/*
 * Whether the password of key (users_similarity_key) is too similar to
 * value: 0 with the answer in *similar, or EVENTAPI_ENOMEM.
 */
int users_similar_to(const uint32_t *key, size_t len, const char *value, bool *similar);

#endif
