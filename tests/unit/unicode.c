/*
 * Unit tests for core/unicode: Python's notions of characters, whatever
 * the process locale.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "core/unicode.h"

Test(unicode, digits_as_python_isdigit)
{
  cr_assert(unicode_is_digit('7'));
  cr_assert(unicode_is_digit(0x00B2));  /* superscript two */
  cr_assert(unicode_is_digit(0x0663));  /* Arabic-Indic three */
  cr_assert(unicode_is_digit(0x2460));  /* circled one */
  cr_assert_not(unicode_is_digit('a'));
  cr_assert_not(unicode_is_digit(0x00BD)); /* one half: numeric, not a digit */
}

Test(unicode, spaces_as_python_isspace)
{
  cr_assert(unicode_is_space(' '));
  cr_assert(unicode_is_space('\t'));
  cr_assert(unicode_is_space(0x1C));    /* a separator Python counts */
  cr_assert(unicode_is_space(0x00A0));
  cr_assert(unicode_is_space(0x3000));
  cr_assert_not(unicode_is_space(0x200B)); /* zero width space */
  cr_assert_not(unicode_is_space('x'));
}

Test(unicode, word_characters)
{
  cr_assert(unicode_is_word('_'));
  cr_assert(unicode_is_word('Z'));
  cr_assert(unicode_is_word(0x00E9));   /* e acute */
  cr_assert(unicode_is_word(0x00B2));   /* a digit to Python, not to glibc */
  cr_assert_not(unicode_is_word('-'));
  cr_assert_not(unicode_is_word(' '));
}

Test(unicode, lower_as_python)
{
  uint32_t out[2];
  cr_assert_eq(unicode_lower('A', out), 1);
  cr_assert_eq(out[0], 'a');
  cr_assert_eq(unicode_lower(0x00C4, out), 1); /* A umlaut */
  cr_assert_eq(out[0], 0x00E4);
  cr_assert_eq(unicode_lower(0x0130, out), 2); /* I with dot above */
  cr_assert_eq(out[0], 'i');
  cr_assert_eq(out[1], 0x0307);
}

Test(unicode, decode_and_encode)
{
  size_t n;
  uint32_t *cps = unicode_decode("a\xc3\xa9\xff", false, &n);
  cr_assert_not_null(cps);
  cr_assert_eq(n, 3);
  cr_assert_eq(cps[1], 0x00E9);
  cr_assert_eq(cps[2], 0xFFFD); /* a malformed byte */
  char *text = unicode_encode(cps, n);
  cr_assert_str_eq(text, "a\xc3\xa9\xef\xbf\xbd");
  free(text);
  free(cps);
}

Test(unicode, lower_strip)
{
  char *text = unicode_lower_strip("  \xc3\x84" "Bc\t\n");
  cr_assert_str_eq(text, "\xc3\xa4" "bc");
  free(text);
  text = unicode_lower_strip(" \xc2\xa0 ");
  cr_assert_str_eq(text, "");
  free(text);
}

Test(unicode, ignores_process_locale)
{
  setlocale(LC_ALL, "C");
  cr_assert(unicode_is_word(0x00E9));
  uint32_t out[2];
  unicode_lower(0x00C4, out);
  cr_assert_eq(out[0], 0x00E4);
}
