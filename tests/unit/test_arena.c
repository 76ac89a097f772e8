/* Unit tests: the request arena and the buffer built on it. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

static int cleanup_order[8];
static int cleanup_n;

static void note_cleanup(void *p)
{
	cleanup_order[cleanup_n++] = (int)(intptr_t)p;
}

START_TEST(alloc_is_zeroed_and_aligned)
{
	struct arena *a = arena_new();
	ck_assert_ptr_nonnull(a);
	for (int i = 1; i < 200; i++) {
		unsigned char *p = arena_alloc(a, (size_t)i);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		for (int j = 0; j < i; j++)
			ck_assert_uint_eq(p[j], 0);
		memset(p, 0xAB, (size_t)i);
	}
	arena_free(a);
}
END_TEST

START_TEST(large_allocations_and_reset)
{
	struct arena *a = arena_new();
	char *small = arena_strdup(a, "before");
	char *big = arena_alloc(a, 1 << 20);
	ck_assert_ptr_nonnull(big);
	memset(big, 1, 1 << 20);
	/* The current block is still used for small allocations after a large one. */
	char *after = arena_strdup(a, "after");
	ck_assert_str_eq(small, "before");
	ck_assert_str_eq(after, "after");
	ck_assert_uint_ge(arena_used(a), (size_t)(1 << 20));
	arena_reset(a);
	ck_assert_uint_eq(arena_used(a), 0);
	/* Many resets do not grow memory: the first block is reused. */
	for (int i = 0; i < 1000; i++) {
		ck_assert_ptr_nonnull(arena_alloc(a, 100));
		arena_reset(a);
	}
	arena_free(a);
}
END_TEST

START_TEST(cleanups_run_newest_first_once)
{
	struct arena *a = arena_new();
	cleanup_n = 0;
	arena_cleanup_add(a, note_cleanup, (void *)(intptr_t)1);
	arena_cleanup_add(a, note_cleanup, (void *)(intptr_t)2);
	arena_cleanup_add(a, note_cleanup, (void *)(intptr_t)3);
	arena_reset(a);
	ck_assert_int_eq(cleanup_n, 3);
	ck_assert_int_eq(cleanup_order[0], 3);
	ck_assert_int_eq(cleanup_order[2], 1);
	arena_reset(a);
	ck_assert_int_eq(cleanup_n, 3);
	arena_cleanup_add(a, note_cleanup, (void *)(intptr_t)4);
	arena_free(a);
	ck_assert_int_eq(cleanup_n, 4);
	ck_assert_int_eq(cleanup_order[3], 4);
}
END_TEST

START_TEST(strings_and_printf)
{
	struct arena *a = arena_new();
	ck_assert_str_eq(arena_strndup(a, "abcdef", 3), "abc");
	ck_assert_ptr_null(arena_strdup(a, NULL));
	char *s = arena_printf(a, "%s-%d", "x", 42);
	ck_assert_str_eq(s, "x-42");
	char longfmt[1000];
	memset(longfmt, 'q', sizeof(longfmt) - 1);
	longfmt[sizeof(longfmt) - 1] = '\0';
	ck_assert_str_eq(arena_printf(a, "%s", longfmt), longfmt);
	ck_assert_ptr_null(arena_calloc(a, SIZE_MAX / 2, 4));
	ck_assert_ptr_null(arena_alloc(a, SIZE_MAX));
	arena_free(a);
}
END_TEST

START_TEST(buf_grows_and_escapes)
{
	struct arena *a = arena_new();
	struct buf b;
	buf_init(&b, a);
	for (int i = 0; i < 10000; i++)
		buf_addc(&b, 'x');
	ck_assert_uint_eq(b.len, 10000);
	ck_assert_uint_eq(strlen(b.data), 10000);
	buf_clear(&b);
	const char *in = "<a href=\"x\" onclick='y'>&`=</a>";
	buf_add_html(&b, in, strlen(in));
	ck_assert_str_eq(b.data,
	    "&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;&#96;&#61;&lt;/a&gt;");
	buf_clear(&b);
	buf_add_url(&b, "a b/c?d=é&", 11);
	ck_assert_str_eq(b.data, "a%20b%2Fc%3Fd%3D%C3%A9%26");
	buf_clear(&b);
	buf_printf(&b, "%d:%s", 7, "seven");
	ck_assert_str_eq(b.data, "7:seven");
	ck_assert_int_eq(b.failed, 0);
	arena_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("arena");
	TCase *t = tcase_create("arena");
	tcase_add_test(t, alloc_is_zeroed_and_aligned);
	tcase_add_test(t, large_allocations_and_reset);
	tcase_add_test(t, cleanups_run_newest_first_once);
	tcase_add_test(t, strings_and_printf);
	tcase_add_test(t, buf_grows_and_escapes);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
