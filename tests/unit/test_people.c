/* Unit tests: the pure helpers of people.c (mailto links, the password
 * rule, the status of a person). */
#include <check.h>
#include <string.h>

#include "arena.h"
#include "people.h"

START_TEST(mailto_is_percent_encoded)
{
	struct arena *a = arena_new();
	char *m;

	ck_assert_ptr_nonnull(a);
	m = people_mailto(a, "ann+x@example.org", "Hi & welcome?",
	    "Open: https://l.example/invite/AbC-_1?x=1&y=2\nBye #1\r\n100% \xc3\xa9");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m, "mailto:ann%2Bx@example.org?subject=Hi%20%26%20welcome%3F"
	    "&body=Open%3A%20https%3A%2F%2Fl.example%2Finvite%2FAbC-_1%3Fx%3D1%26y%3D2"
	    "%0D%0ABye%20%231%0D%0A100%25%20%C3%A9");
	/* a bare CR is a line break too; the address keeps its '@' only */
	m = people_mailto(a, "a\"b@c", "", "x\ry");
	ck_assert_str_eq(m, "mailto:a%22b@c?subject=&body=x%0D%0Ay");
	arena_free(a);
}
END_TEST

START_TEST(password_rule)
{
	ck_assert_ptr_nonnull(people_password_problem(NULL, NULL));
	ck_assert_ptr_nonnull(people_password_problem("", ""));
	ck_assert_ptr_nonnull(strstr(people_password_problem("1234567", "1234567"), "too short"));
	ck_assert_ptr_null(people_password_problem("12345678", "12345678"));
	ck_assert_ptr_nonnull(strstr(people_password_problem("12345678", "12345679"), "not the same"));
	ck_assert_ptr_nonnull(people_password_problem("12345678", NULL));
	char big[PASSWORD_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_nonnull(strstr(people_password_problem(big, big), "too long"));
	big[PASSWORD_MAX] = '\0';
	ck_assert_ptr_null(people_password_problem(big, big));
}
END_TEST

START_TEST(status_order)
{
	ck_assert_str_eq(people_status(1, 1, 1), "removed");
	ck_assert_str_eq(people_status(0, 1, 0), "disabled");
	ck_assert_str_eq(people_status(0, 0, 0), "invited");
	ck_assert_str_eq(people_status(0, 0, 1), "active");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("people");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, mailto_is_percent_encoded);
	tcase_add_test(tc, password_rule);
	tcase_add_test(tc, status_order);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
