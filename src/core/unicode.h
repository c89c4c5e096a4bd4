/*
 * unicode.h - Python's notions of characters, for the validators that must
 * answer as Django does: \w, str.isdigit(), str.isspace(), str.lower(),
 * and strings as arrays of code points.
 *
 * Letters, digits and case are classified with a private C.UTF-8 locale
 * object, so the answers never depend on the process locale. Python's own
 * notions are kept where glibc's differ and they matter: str.isdigit() and
 * str.isspace() come from small tables. Thread-safe.
 */
#ifndef EVENTAPI_CORE_UNICODE_H
#define EVENTAPI_CORE_UNICODE_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The case and class tables of glibc's C.UTF-8, loaded once and never
 * freed: a locale object of its own, so that neither the process locale
 * nor other threads change a result. (locale_t)0 when the C.UTF-8 locale
 * is missing (Debian's libc-bin always ships it).
 */
locale_t unicode_locale(void);

/*
 * Python's \w: letters, digits and underscore, in the Unicode sense, as
 * glibc's C.UTF-8 classifies them, plus what Python's str.isdigit() accepts
 * (superscripts, circled digits...), which glibc leaves out. Without the
 * C.UTF-8 locale only ASCII counts, so nothing non-ASCII gets through.
 */
bool unicode_is_word(uint32_t cp);

/*
 * Python's str.isdigit() for one code point: Unicode Numeric_Type Decimal or
 * Digit (Unicode 14, as in Python 3.11). glibc's iswdigit knows only 0-9.
 */
bool unicode_is_digit(uint32_t cp);

/* Python's str.isspace() for one code point. */
bool unicode_is_space(uint32_t cp);

/*
 * Python's str.lower() for one code point, written to out (room for 2).
 * Returns the number of code points written. glibc gives the simple case
 * mapping; Python also applies the one unconditional special one, U+0130
 * (capital I with dot above) to "i" U+0307. (Python's final-sigma rule is
 * not followed: a final capital sigma lowers to U+03C3 here.)
 */
size_t unicode_lower(uint32_t cp, uint32_t out[2]);

/*
 * Decodes the UTF-8 string s into a malloc'd array of code points (count
 * in *count), each malformed byte becoming U+FFFD, lower-cased as Python's
 * str.lower() when lower is set. The caller frees it; NULL when out of
 * memory.
 */
uint32_t *unicode_decode(const char *s, bool lower, size_t *count);

/* Encodes cps[0..n) as a malloc'd NUL-terminated UTF-8 string, or NULL. */
char *unicode_encode(const uint32_t *cps, size_t n);

/*
 * Python's s.lower().strip() as a malloc'd UTF-8 string (bad bytes become
 * U+FFFD). NULL when out of memory.
 */
char *unicode_lower_strip(const char *s);

#endif
