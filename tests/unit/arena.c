/*
 * Unit tests for core/arena: alignment, large blocks, strings, reuse.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"

static bool
aligned(const void *p)
{
  return (uintptr_t)p % _Alignof(max_align_t) == 0;
}

Test(arena, allocations_are_aligned_and_distinct)
{
  arena_t a = {0};
  char *previous = NULL;
  for (size_t size = 1; size < 100; size += 7) {
    char *p = arena_alloc(&a, size);
    cr_assert_not_null(p);
    cr_assert(aligned(p), "size %zu gave a misaligned block", size);
    memset(p, 0xAB, size); /* ASan reports a block that is too small */
    cr_assert_neq(p, previous);
    previous = p;
  }
  arena_free(&a);
  cr_assert_null(a.head);
}

Test(arena, blocks_do_not_overlap)
{
  arena_t a = {0};
  unsigned char *blocks[64];
  for (int i = 0; i < 64; i++) {
    blocks[i] = arena_alloc(&a, 100);
    cr_assert_not_null(blocks[i]);
    memset(blocks[i], i, 100);
  }
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 100; j++)
      cr_assert_eq(blocks[i][j], i, "block %d byte %d was overwritten", i, j);
  arena_free(&a);
}

Test(arena, large_allocations_get_their_own_chunk)
{
  arena_t a = {0};
  char *small = arena_alloc(&a, 16);
  char *large = arena_alloc(&a, 1 << 20);
  char *after = arena_alloc(&a, 16);
  cr_assert(small && large && after);
  cr_assert(aligned(large));
  memset(large, 'x', 1 << 20);
  cr_assert_eq(large[(1 << 20) - 1], 'x');
  memset(small, 's', 16);
  memset(after, 'a', 16);
  cr_assert_eq(small[15], 's');
  arena_free(&a);
}

Test(arena, impossible_sizes_fail_cleanly)
{
  arena_t a = {0};
  cr_assert_null(arena_alloc(&a, SIZE_MAX));
  cr_assert_null(arena_alloc(&a, SIZE_MAX - 8));
  cr_assert_null(arena_calloc(&a, SIZE_MAX / 2, 4));
  arena_free(&a);
}

Test(arena, calloc_zeroes)
{
  arena_t a = {0};
  /* Under ASan fresh malloc memory is filled with 0xbe, not zero. */
  int *numbers = arena_calloc(&a, 50, sizeof *numbers);
  cr_assert_not_null(numbers);
  for (int i = 0; i < 50; i++)
    cr_assert_eq(numbers[i], 0);
  arena_free(&a);
}

Test(arena, strings)
{
  arena_t a = {0};
  cr_assert_str_eq(arena_strdup(&a, "hello"), "hello");
  cr_assert_str_eq(arena_strdup(&a, ""), "");
  cr_assert_str_eq(arena_strndup(&a, "hello world", 5), "hello");
  cr_assert_str_eq(arena_printf(&a, "%s=%d", "capacity", 42), "capacity=42");
  cr_assert_str_eq(arena_printf(&a, "%s", ""), "");

  char long_text[10000];
  memset(long_text, 'z', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  char *copy = arena_printf(&a, "<%s>", long_text);
  cr_assert_not_null(copy);
  cr_assert_eq(strlen(copy), sizeof long_text + 1);
  cr_assert_eq(copy[0], '<');
  cr_assert_eq(copy[sizeof long_text], '>');
  arena_free(&a);
}

Test(arena, reusable_after_free)
{
  arena_t a = {0};
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 1000; i++) {
      char *s = arena_printf(&a, "round %d item %d", round, i);
      cr_assert_not_null(s);
    }
    cr_assert_not_null(a.head);
    arena_free(&a);
    cr_assert_null(a.head);
  }
  cr_assert_str_eq(arena_strdup(&a, "again"), "again");
  arena_free(&a);
}

static int disposed[3];
static int disposals;

static void
dispose(void *arg)
{
  disposed[disposals++] = *(int *)arg;
}

Test(arena, disposers_run_last_first_before_the_memory_goes)
{
  arena_t a = {0};
  for (int i = 1; i <= 3; i++) {
    int *value = arena_alloc(&a, sizeof *value);
    cr_assert_not_null(value);
    *value = i;
    cr_assert_eq(arena_defer(&a, dispose, value), 0);
  }
  arena_free(&a);
  cr_assert_eq(disposals, 3);
  cr_assert_eq(disposed[0], 3);
  cr_assert_eq(disposed[1], 2);
  cr_assert_eq(disposed[2], 1);
  /* Reused, then freed again: nothing runs twice. */
  arena_free(&a);
  cr_assert_eq(disposals, 3);
}
