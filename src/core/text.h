/*
 * text.h - small string helpers: UTF-8 checks, case folding, hex, comma lists.
 */
#ifndef EVENTAPI_CORE_TEXT_H
#define EVENTAPI_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..len) is well-formed UTF-8 without NUL bytes. */
bool text_valid_utf8(const char *s, size_t len);

/*
 * The length of the well-formed UTF-8 sequence at s[0..len) (len > 0) with
 * its code point in *cp, or 0 when there is none there (overlong, surrogate,
 * above U+10FFFF, truncated, a stray continuation byte). NUL is a one-byte
 * character.
 */
size_t text_utf8_next(const unsigned char *s, size_t len, uint32_t *cp);

/* Number of Unicode code points in the valid UTF-8 string s. */
size_t text_utf8_length(const char *s);

/*
 * Lower-cases the UTF-8 string s (Unicode-aware, locale independent) into a
 * new malloc'd string the caller frees; NULL on allocation failure or bad
 * UTF-8. Used for case-insensitive uniqueness of usernames and emails.
 */
char *text_fold(const char *s);

/*
 * Writes s[0..len) read as ISO-8859-1 (each byte the code point of its
 * value, as Django reads HTTP header values) as UTF-8 into out, cut before
 * a character that would not fit, and NUL-terminated (size > 0). Returns
 * the length written.
 */
size_t text_latin1_to_utf8(const char *s, size_t len, char *out, size_t size);

/*
 * The length of the longest prefix of the valid UTF-8 string s that has at
 * most max bytes and ends between characters: what "%.*s" may show of it
 * without cutting a character in two.
 */
size_t text_utf8_prefix(const char *s, size_t max);

/*
 * Writes s[0..len) into out with each byte that does not begin a
 * well-formed UTF-8 character (NUL included) replaced by U+FFFD; cut before
 * a character that would not fit, NUL-terminated (size > 0). Returns the
 * length written.
 */
size_t text_utf8_repair(const char *s, size_t len, char *out, size_t size);

/* Writes 2*len lowercase hex digits and a NUL into out. */
void text_hex(const unsigned char *bytes, size_t len, char *out);

/*
 * Walks a comma-separated list (a setting such as ALLOWED_HOSTS): false at
 * its end; else true with the next item at *item, *len bytes long, spaces
 * and tabs around it trimmed (0 for an empty item), and *pos moved past
 * it and its comma. Start with *pos at the list.
 */
bool text_list_next(const char **pos, const char **item, size_t *len);

/* Room for every item text_list_next() finds in list: one more than its commas. */
size_t text_list_capacity(const char *list);

#endif
