/*
 * test_teams.c: the "Email team" link (team_mailto): every address
 * percent-encoded, joined by commas, and no link at all past the limit.
 */
#include <check.h>
#include <string.h>

#include "arena.h"
#include "teams_model.h"

START_TEST(mailto_encoding)
{
	struct arena *a = arena_new();
	const char *e[] = { "a+tag@example.com", "b&c?d%e@example.com", "f,g h@example.com",
	    "z\xc3\xab@example.com", "x.y_z-w~v@example.com" };
	int too_long = -1;
	char *m = team_mailto(a, e, 5, TEAM_MAILTO_MAX, &too_long);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(too_long, 0);
	ck_assert_str_eq(m, "mailto:a%2Btag@example.com,b%26c%3Fd%25e@example.com,"
	    "f%2Cg%20h@example.com,z%C3%AB@example.com,x.y_z-w~v@example.com");
	m = team_mailto(a, e, 1, TEAM_MAILTO_MAX, &too_long);
	ck_assert_str_eq(m, "mailto:a%2Btag@example.com");
	arena_free(a);
}
END_TEST

START_TEST(mailto_limit)
{
	struct arena *a = arena_new();
	const char *e[] = { "abcd@example.com", "efgh@example.com" };
	int too_long = -1;
	/* "mailto:" 7 + 16 + "," 1 + 16 = 40 bytes */
	char *m = team_mailto(a, e, 2, 40, &too_long);

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(strlen(m), 40);
	ck_assert_int_eq(too_long, 0);
	m = team_mailto(a, e, 2, 39, &too_long);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(too_long, 1);
	/* Encoding counts: "+" is three bytes. */
	const char *plus[] = { "a+b@example.com" };
	ck_assert_ptr_null(team_mailto(a, plus, 1, 7 + 15 + 1, &too_long));
	ck_assert_ptr_nonnull(team_mailto(a, plus, 1, 7 + 15 + 2, &too_long));
	arena_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("teams");
	TCase *t = tcase_create("mailto");
	tcase_add_test(t, mailto_encoding);
	tcase_add_test(t, mailto_limit);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
