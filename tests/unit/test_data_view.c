/*
 * test_data_view.c: the Data tab's cursors ("<microseconds>,<id>") and
 * phase names, as data_view.c reads them from the URL.
 */
#include <check.h>

#include "data_view.h"

START_TEST(cursor_good)
{
	long long us = -1, id = -1;

	ck_assert_int_eq(data_cursor_parse("0,1", &us, &id), 0);
	ck_assert(us == 0 && id == 1);
	ck_assert_int_eq(data_cursor_parse("1767225600000250,987654", &us, &id), 0);
	ck_assert(us == 1767225600000250LL && id == 987654);
	/* 18 digits: the largest DATETIME(6) (year 9999) fits. */
	ck_assert_int_eq(data_cursor_parse("253402300799999999,999999999999999999", &us, &id), 0);
	ck_assert(us == 253402300799999999LL && id == 999999999999999999LL);
}
END_TEST

START_TEST(cursor_bad)
{
	static const char *const bad[] = {
		"", ",", "1", "1,", ",1", "1,0", "-1,2", "1,-2", "1,2,3", "1 ,2", "1, 2", "+1,2",
		"1,2x", "a,1", "1.5,2", "1234567890123456789,1", "1,1234567890123456789",
	};
	long long us, id;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(data_cursor_parse(bad[i], &us, &id) < 0, "\"%s\" was taken", bad[i]);
	ck_assert_int_eq(data_cursor_parse(NULL, &us, &id), -1);
}
END_TEST

START_TEST(phases)
{
	static const char *const good[] = { "queued", "skipped", "requeued", "labeled", "approved" };
	static const char *const bad[] = { "", "all", "Labeled", "labeled ", "unlabeled", "leased",
	    "approved'", "rejected" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert(data_phase_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!data_phase_valid(bad[i]), "\"%s\" was taken", bad[i]);
	ck_assert(!data_phase_valid(NULL));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("data_view");
	TCase *t = tcase_create("url");
	tcase_add_test(t, cursor_good);
	tcase_add_test(t, cursor_bad);
	tcase_add_test(t, phases);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
