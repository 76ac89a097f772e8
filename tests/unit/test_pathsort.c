/*
 * test_pathsort.c: the bounded-memory path sort of the init job: order and
 * duplicates in memory and through many runs on disk, paths longer than
 * the memory, odd bytes, an empty sorter, and a temporary directory that
 * cannot be used.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathsort.h"

/* A deterministic shuffle of 0..n-1 (a full-period LCG over n). */
static unsigned long shuffled(unsigned long i, unsigned long n)
{
	return (i * 7919ul + 13ul) % n;
}

/* Read everything back: the paths must be "p/%06lu.png" for 0..n-1 in
 * order, each once. */
static void expect_sequence(struct pathsort *s, unsigned long n)
{
	char err[256] = "", want[64];
	const char *p;
	unsigned long i = 0;
	int rc;

	while ((rc = pathsort_next(s, &p, err, sizeof(err))) == 1) {
		ck_assert_uint_lt(i, n);
		snprintf(want, sizeof(want), "p/%06lu.png", i);
		ck_assert_str_eq(p, want);
		i++;
	}
	ck_assert_msg(rc == 0, "pathsort_next: %s", err);
	ck_assert_uint_eq(i, n);
	/* The end stays the end. */
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 0);
}

START_TEST(in_memory_sorted_without_duplicates)
{
	struct pathsort *s = pathsort_new("/tmp", 1 << 20);
	char err[256], name[64];
	const unsigned long n = 5000;

	ck_assert_ptr_nonnull(s);
	for (unsigned long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "p/%06lu.png", shuffled(i, n));
		ck_assert_int_eq(pathsort_add(s, name, err, sizeof(err)), 0);
		if (i % 10 == 0)   /* every tenth twice */
			ck_assert_int_eq(pathsort_add(s, name, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(pathsort_finish(s, err, sizeof(err)), 0);
	ck_assert_uint_eq(pathsort_runs(s), 0);
	expect_sequence(s, n);
	ck_assert_uint_eq(pathsort_added(s), n + n / 10);
	ck_assert_uint_eq(pathsort_dropped(s), n / 10);
	pathsort_free(s);
}
END_TEST

START_TEST(many_runs_merged)
{
	/* The smallest memory (64 KiB): 48 KiB of paths per run, so 200 000
	 * paths of 13 bytes make about 60 runs; duplicates land in the same
	 * run and in different runs. */
	struct pathsort *s = pathsort_new("/tmp", 1);
	char err[256], name[64];
	const unsigned long n = 200000;

	ck_assert_ptr_nonnull(s);
	for (unsigned long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "p/%06lu.png", shuffled(i, n));
		ck_assert_msg(pathsort_add(s, name, err, sizeof(err)) == 0, "%s", err);
	}
	for (unsigned long i = 0; i < n; i += 1000) {
		snprintf(name, sizeof(name), "p/%06lu.png", i);
		ck_assert_int_eq(pathsort_add(s, name, err, sizeof(err)), 0);
		ck_assert_int_eq(pathsort_add(s, name, err, sizeof(err)), 0);
	}
	ck_assert_msg(pathsort_finish(s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_gt(pathsort_runs(s), 20);
	expect_sequence(s, n);
	ck_assert_uint_eq(pathsort_added(s), n + 2 * (n / 1000));
	ck_assert_uint_eq(pathsort_dropped(s), 2 * (n / 1000));
	pathsort_free(s);
}
END_TEST

START_TEST(long_paths_and_odd_bytes)
{
	/* Paths longer than a run's memory and than a cursor's buffer, and
	 * bytes a blob name may hold (newline, high bytes), sort by bytes. */
	struct pathsort *s = pathsort_new("/tmp", 1);
	char err[256];
	const char *p;
	size_t big = 200000;
	char *a = malloc(big + 1), *b = malloc(big + 1);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	memset(a, 'a', big);
	a[big] = '\0';
	memset(b, 'a', big);
	b[big - 1] = 'b';
	b[big] = '\0';
	ck_assert_int_eq(pathsort_add(s, "z\n.png", err, sizeof(err)), 0);
	ck_assert_int_eq(pathsort_add(s, b, err, sizeof(err)), 0);
	for (int i = 0; i < 20000; i++)
		ck_assert_int_eq(pathsort_add(s, "m/\xc3\xa9t\xc3\xa9.png", err, sizeof(err)), 0);
	ck_assert_int_eq(pathsort_add(s, a, err, sizeof(err)), 0);
	ck_assert_int_eq(pathsort_add(s, "\x01", err, sizeof(err)), 0);
	ck_assert_int_eq(pathsort_finish(s, err, sizeof(err)), 0);
	ck_assert_uint_gt(pathsort_runs(s), 1);
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 1);
	ck_assert_str_eq(p, "\x01");
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 1);
	ck_assert_str_eq(p, a);
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 1);
	ck_assert_str_eq(p, b);
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 1);
	ck_assert_str_eq(p, "m/\xc3\xa9t\xc3\xa9.png");
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 1);
	ck_assert_str_eq(p, "z\n.png");
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(pathsort_dropped(s), 19999);
	pathsort_free(s);
	free(a);
	free(b);
}
END_TEST

START_TEST(empty)
{
	struct pathsort *s = pathsort_new(NULL, 0);
	char err[256];
	const char *p;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pathsort_next(s, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(pathsort_added(s), 0);
	ck_assert_int_eq(pathsort_add(s, "late", err, sizeof(err)), -1);
	pathsort_free(s);
	pathsort_free(NULL);
}
END_TEST

START_TEST(unusable_tmp_dir)
{
	/* More than fits in memory, and nowhere to write the rest: a clear
	 * error naming the directory, not a crash or a silent loss. */
	struct pathsort *s = pathsort_new("/nonexistent/labeld-test", 1);
	char err[256] = "", name[64];
	int rc = 0;

	for (unsigned long i = 0; i < 100000 && rc == 0; i++) {
		snprintf(name, sizeof(name), "p/%06lu.png", i);
		rc = pathsort_add(s, name, err, sizeof(err));
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(err, "/nonexistent/labeld-test") != NULL, "%s", err);
	pathsort_free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pathsort");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, in_memory_sorted_without_duplicates);
	tcase_add_test(tc, many_runs_merged);
	tcase_add_test(tc, long_paths_and_odd_bytes);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, unusable_tmp_dir);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
