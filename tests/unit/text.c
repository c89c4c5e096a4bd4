/*
 * Unit tests for core/text: UTF-8 validity, case folding, hex, comma lists.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

static bool
valid(const char *s)
{
  return text_valid_utf8(s, strlen(s));
}

Test(text, valid_utf8)
{
  cr_assert(valid(""));
  cr_assert(valid("plain ascii ~\x7f"));
  cr_assert(valid("caf\xc3\xa9"));                /* é, 2 bytes */
  cr_assert(valid("\xe2\x82\xac"));               /* €, 3 bytes */
  cr_assert(valid("\xf0\x9f\x8e\x89"));           /* 🎉, 4 bytes */
  cr_assert(valid("\xc2\x80"));                   /* U+0080, lowest 2-byte */
  cr_assert(valid("\xe0\xa0\x80"));               /* U+0800, lowest 3-byte */
  cr_assert(valid("\xed\x9f\xbf"));               /* U+D7FF, before surrogates */
  cr_assert(valid("\xee\x80\x80"));               /* U+E000, after surrogates */
  cr_assert(valid("\xef\xbf\xbf"));               /* U+FFFF */
  cr_assert(valid("\xf0\x90\x80\x80"));           /* U+10000 */
  cr_assert(valid("\xf4\x8f\xbf\xbf"));           /* U+10FFFF, the last */
}

Test(text, invalid_utf8)
{
  static const char *const bad[] = {
    "\x80",                 /* lone continuation byte */
    "a\xbf",                /* continuation after ASCII */
    "\xc0\xaf",             /* overlong '/' */
    "\xc1\xbf",             /* overlong U+007F */
    "\xe0\x80\xaf",         /* overlong '/' in 3 bytes */
    "\xe0\x9f\xbf",         /* overlong U+07FF */
    "\xf0\x80\x80\xaf",     /* overlong '/' in 4 bytes */
    "\xf0\x8f\xbf\xbf",     /* overlong U+FFFF */
    "\xed\xa0\x80",         /* U+D800, a surrogate */
    "\xed\xbf\xbf",         /* U+DFFF, a surrogate */
    "\xf4\x90\x80\x80",     /* U+110000, beyond Unicode */
    "\xf5\x80\x80\x80",     /* lead byte F5 */
    "\xff",                 /* never in UTF-8 */
    "\xfe\xff",             /* a UTF-16 byte-order mark */
    "\xc3",                 /* truncated 2-byte */
    "\xe2\x82",             /* truncated 3-byte */
    "\xf0\x9f\x8e",         /* truncated 4-byte */
    "\xe2\x82x",            /* ASCII where a continuation belongs */
    "\xc3\xa9\xc3",         /* good, then truncated */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_not(valid(bad[i]), "case %zu accepted", i);
}

Test(text, nul_and_length_bound)
{
  cr_assert_not(text_valid_utf8("a\0b", 3));
  cr_assert_not(text_valid_utf8("\0", 1));
  /* len stops the check: the truncated tail past it does not count. */
  cr_assert(text_valid_utf8("ok\xe2\x82", 2));
  cr_assert_not(text_valid_utf8("\xe2\x82\xac", 2));
  cr_assert(text_valid_utf8("\xe2\x82\xac", 3));
}

Test(text, utf8_length)
{
  cr_assert_eq(text_utf8_length(""), 0);
  cr_assert_eq(text_utf8_length("abc"), 3);
  cr_assert_eq(text_utf8_length("caf\xc3\xa9"), 4);
  cr_assert_eq(text_utf8_length("\xe2\x82\xac\xf0\x9f\x8e\x89!"), 3);
}

static void
expect_fold(const char *input, const char *expected)
{
  char *folded = text_fold(input);
  cr_assert_not_null(folded, "fold(\"%s\") failed", input);
  cr_assert_str_eq(folded, expected);
  free(folded);
}

Test(text, fold_ascii)
{
  expect_fold("", "");
  expect_fold("Alice.Smith+Tag@Example.COM", "alice.smith+tag@example.com");
  expect_fold("already lower 123 @.+-_", "already lower 123 @.+-_");
}

Test(text, fold_unicode)
{
  expect_fold("\xc3\x84\xc3\x96\xc3\x9c", "\xc3\xa4\xc3\xb6\xc3\xbc"); /* ÄÖÜ */
  expect_fold("Stra\xc3\x9f" "e", "stra\xc3\x9f" "e");                 /* ß stays */
  expect_fold("\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90",      /* МОСКВА */
              "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0");
  expect_fold("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8"); /* Deseret 𐐀 -> 𐐨 */
  expect_fold("\xe2\x84\xaa", "k");                    /* Kelvin sign */
  expect_fold("\xc8\xba", "\xe2\xb1\xa5");             /* Ⱥ -> ⱥ grows a byte */
}

Test(text, fold_merges_both_sigmas)
{
  /* ΣΑΣ, σας and σασ differ only in case, so they fold alike. */
  expect_fold("\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x83");
  expect_fold("\xcf\x83\xce\xb1\xcf\x82", "\xcf\x83\xce\xb1\xcf\x83");
  expect_fold("\xcf\x83\xce\xb1\xcf\x83", "\xcf\x83\xce\xb1\xcf\x83");
}

Test(text, fold_ignores_the_process_locale)
{
  cr_assert_not_null(setlocale(LC_ALL, "C"));
  expect_fold("\xc3\x84", "\xc3\xa4");
  if (setlocale(LC_CTYPE, "tr_TR.UTF-8"))
    expect_fold("I", "i"); /* not Turkish dotless ı */
}

Test(text, fold_refuses_bad_utf8)
{
  cr_assert_null(text_fold("abc\xff"));
  cr_assert_null(text_fold("\xc0\xaf"));
  cr_assert_null(text_fold("\xed\xa0\x80"));
  cr_assert_null(text_fold("truncated \xe2\x82"));
}

static void *
fold_many(void *unused)
{
  (void)unused;
  for (int i = 0; i < 2000; i++) {
    char *folded = text_fold("\xc3\x84pfel \xce\xa3");
    if (folded == NULL || strcmp(folded, "\xc3\xa4pfel \xcf\x83") != 0) {
      free(folded);
      return "wrong fold";
    }
    free(folded);
  }
  return NULL;
}

Test(text, fold_from_many_threads)
{
  pthread_t threads[8];
  for (int i = 0; i < 8; i++)
    cr_assert_eq(pthread_create(&threads[i], NULL, fold_many, NULL), 0);
  for (int i = 0; i < 8; i++) {
    void *result;
    pthread_join(threads[i], &result);
    cr_assert_null(result, "thread %d: %s", i, (char *)result);
  }
}

Test(text, hex)
{
  char out[16];
  text_hex((const unsigned char *)"\x00\x01\xab\xff\x7f", 5, out);
  cr_assert_str_eq(out, "0001abff7f");
  text_hex(NULL, 0, out);
  cr_assert_str_eq(out, "");
}

/* The items text_list_next() finds in list, joined by '|'. */
static void
list_items(const char *list, char *out, size_t size)
{
  size_t used = 0, count = 0;
  const char *item;
  size_t len;
  out[0] = '\0';
  for (const char *p = list; text_list_next(&p, &item, &len); count++)
    used += (size_t)snprintf(out + used, size - used, "%s%.*s", count ? "|" : "", (int)len, item);
}

Test(text, comma_lists)
{
  char out[64];
  list_items("a.example, .b.example ,\tc", out, sizeof out);
  cr_assert_str_eq(out, "a.example|.b.example|c");
  cr_assert_eq(text_list_capacity("a.example, .b.example ,\tc"), 3);
  list_items("", out, sizeof out);
  cr_assert_str_eq(out, "");
  cr_assert_eq(text_list_capacity(""), 1);
  list_items(" , x,,y,", out, sizeof out); /* empty items are items; a last comma ends the list */
  cr_assert_str_eq(out, "|x||y");
  cr_assert_eq(text_list_capacity(" , x,,y,"), 5);
}

Test(text, latin1_to_utf8)
{
  char out[16];
  cr_assert_eq(text_latin1_to_utf8("caf\xe9 \xa9", 6, out, sizeof out), 8);
  cr_assert_str_eq(out, "caf\xc3\xa9 \xc2\xa9");
  cr_assert(text_valid_utf8(out, strlen(out)));
  /* Cut before a character that does not fit, never inside one. */
  cr_assert_eq(text_latin1_to_utf8("ab\xff", 3, out, 4), 2);
  cr_assert_str_eq(out, "ab");
  cr_assert_eq(text_latin1_to_utf8("abc", 3, out, 1), 0);
  cr_assert_str_eq(out, "");
}

Test(text, utf8_prefix_ends_between_characters)
{
  cr_assert_eq(text_utf8_prefix("ab\xc3\xa9", 3), 2);
  cr_assert_eq(text_utf8_prefix("ab\xc3\xa9", 4), 4);
  cr_assert_eq(text_utf8_prefix("ab\xc3\xa9", 100), 4);
  cr_assert_eq(text_utf8_prefix("\xf0\x9f\x8e\xb5x", 3), 0);
  cr_assert_eq(text_utf8_prefix("abc", 0), 0);
}

Test(text, utf8_repair_replaces_what_is_not_utf8)
{
  char out[32];
  cr_assert_eq(text_utf8_repair("a\xe2\x80" "b\xff\xc3\xa9", 7, out, sizeof out), 13);
  cr_assert_str_eq(out, "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd\xc3\xa9");
  cr_assert(text_valid_utf8(out, strlen(out)));
  /* Cut before a character that does not fit, never inside one. */
  cr_assert_eq(text_utf8_repair("ab\xff", 3, out, 5), 2);
  cr_assert_str_eq(out, "ab");
}
