/*
 * decimal.h - decimal numbers as Python writes and DRF's DecimalField reads
 * them, without floating-point arithmetic on the value.
 *
 * DRF turns whatever a client sent into text (str(): a JSON number is a
 * Python float first, written as the shortest text that reads back as the
 * same double) and parses that text as a Python Decimal, whose digits and
 * exponent decide the field's checks. These two steps are here, so that
 * every decimal field reads its input exactly as DRF does.
 */
#ifndef EVENTAPI_CORE_DECIMAL_H
#define EVENTAPI_CORE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define DECIMAL_REPR_MAX 32            /* "-1.2345678901234567e-308" and a NUL */
#define DECIMAL_MESSAGE_MAX 96         /* the longest of DRF's messages below */
#define DECIMAL_MAX_STRING_LENGTH 1000 /* DRF's DecimalField.MAX_STRING_LENGTH */

/*
 * Writes value as Python's repr(float) (= str(float)) does into out: the
 * shortest digits that read back as the same double, in fixed notation
 * with at least one decimal ("0.3", "1000.0", "0.0001") when the decimal
 * exponent is from -4 to 15, else in exponent notation ("1e-05", "1e+16",
 * "1.5e+300"); "inf", "-inf", "nan" for the rest. Returns the length.
 */
size_t decimal_repr(double value, char out[DECIMAL_REPR_MAX]);

/* A DRF DecimalField(max_digits, decimal_places): both at most 18. */
struct decimal_rules {
  int max_digits;
  int decimal_places;
};

/*
 * Reads text as DRF's DecimalField.to_internal_value does: white space
 * around it is dropped; more than DECIMAL_MAX_STRING_LENGTH characters is
 * "String value too large."; it must then be a Python Decimal literal
 * (sign, digits with an optional point, an optional exponent; underscores
 * are ignored, as Python does), else, and for infinities and NaNs, "A valid
 * number is required."; then the digit checks, in DRF's order, on the
 * Decimal's digits and exponent as written ("1.50" has two places, "1e3"
 * none): "Ensure that there are no more than N digits in total.", "... N
 * decimal places.", "... N digits before the decimal point." (max_digits -
 * decimal_places).
 *
 * Returns 0 with *scaled = the value times 10^decimal_places (exact, since
 * the checks passed; a negative zero is 0), or EVENTAPI_EINVAL with the
 * message written into message. Range checks (min_value, max_value) are the
 * caller's. text is a NUL-terminated string.
 */
int decimal_parse(const char *text, const struct decimal_rules *rules, int64_t *scaled,
                  char message[DECIMAL_MESSAGE_MAX]);

#endif
