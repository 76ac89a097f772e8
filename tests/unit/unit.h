/*
 * unit.h: the shared main of the Check unit tests.  Each test file defines
 * `static Suite *suite(void)` and includes this header last; the program runs
 * the suite and ends with the line "N passed, N failed" that ./stack test
 * sums up.  Exit status 0 only when nothing failed.
 */
#ifndef LABELD_UNIT_H
#define LABELD_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static Suite *suite(void);

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int run = srunner_ntests_run(sr);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("%d passed, %d failed\n", run - failed, failed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
