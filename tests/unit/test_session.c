/* Unit tests: session and CSRF tokens, the safe-next rule, passwords. */
#include <check.h>
#include <string.h>

#include "auth.h"
#include "arena.h"
#include "session.h"

START_TEST(tokens_are_random_and_well_formed)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];

	ck_assert_int_eq(token_new(a), 0);
	ck_assert_int_eq(token_new(b), 0);
	ck_assert_uint_eq(strlen(a), TOKEN_LEN);
	ck_assert_str_ne(a, b);
	ck_assert(token_syntax_ok(a));
	ck_assert(!token_syntax_ok(NULL));
	ck_assert(!token_syntax_ok(""));
	char c[TOKEN_LEN + 2];
	memcpy(c, a, TOKEN_LEN);
	c[TOKEN_LEN] = 'x';
	c[TOKEN_LEN + 1] = '\0';
	ck_assert(!token_syntax_ok(c));          /* too long */
	c[TOKEN_LEN - 1] = '\0';
	ck_assert(!token_syntax_ok(c));          /* too short */
	memcpy(c, a, TOKEN_LEN + 1);
	c[5] = '=';
	ck_assert(!token_syntax_ok(c));          /* not base64url */
}
END_TEST

START_TEST(hash_is_sha256)
{
	unsigned char h[32];
	/* SHA-256("abc") */
	static const unsigned char want[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	token_hash("abc", h);
	ck_assert_mem_eq(h, want, 32);
}
END_TEST

START_TEST(base64url)
{
	char out[16];
	base64url_encode((const unsigned char *)"\xfb\xff", 2, out);
	ck_assert_str_eq(out, "-_8");
	base64url_encode((const unsigned char *)"foobar", 6, out);
	ck_assert_str_eq(out, "Zm9vYmFy");
	base64url_encode((const unsigned char *)"f", 1, out);
	ck_assert_str_eq(out, "Zg");
}
END_TEST

START_TEST(csrf_compare)
{
	ck_assert(secure_equal("abc", "abc"));
	ck_assert(!secure_equal("abc", "abd"));
	ck_assert(!secure_equal("ab", "abc"));
	ck_assert(!secure_equal("abcd", "abc"));
	ck_assert(!secure_equal("", "abc"));
	ck_assert(!secure_equal(NULL, "abc"));
	ck_assert(!secure_equal("abc", NULL));
}
END_TEST

START_TEST(safe_next)
{
	ck_assert(next_is_safe("/projects"));
	ck_assert(next_is_safe("/projects/3?tab=data&x=%2F"));
	ck_assert(!next_is_safe(NULL));
	ck_assert(!next_is_safe(""));
	ck_assert(!next_is_safe("//evil.example"));
	ck_assert(!next_is_safe("/\\evil.example"));
	ck_assert(!next_is_safe("/a\\b"));
	ck_assert(!next_is_safe("https://evil.example/"));
	ck_assert(!next_is_safe("javascript:alert(1)"));
	ck_assert(!next_is_safe("\t//evil.example"));
	ck_assert(!next_is_safe("/ok\r\nSet-Cookie: x=y"));
	ck_assert(!next_is_safe("/with space"));
	ck_assert(!next_is_safe("evil.example"));
}
END_TEST

START_TEST(passwords)
{
	char h[256], h2[256];
	ck_assert_int_eq(auth_hash_password("correct horse", 3, h, sizeof(h)), 0);
	ck_assert_int_eq(strncmp(h, "$y$", 3), 0);
	ck_assert(auth_verify_password("correct horse", h));
	ck_assert(!auth_verify_password("correct horsE", h));
	ck_assert(!auth_verify_password("", h));
	ck_assert(!auth_verify_password("x", "not a hash"));
	ck_assert(!auth_verify_password("x", NULL));
	/* Salted: the same password hashes differently. */
	ck_assert_int_eq(auth_hash_password("correct horse", 3, h2, sizeof(h2)), 0);
	ck_assert_str_ne(h, h2);
	/* Output that would not fit is refused, not truncated. */
	ck_assert_int_eq(auth_hash_password("x", 3, h, 10), -1);
}
END_TEST

START_TEST(email_normalize)
{
	struct arena *a = arena_new();
	ck_assert_str_eq(auth_email_normalize(a, "  Ada@Example.COM "), "ada@example.com");
	ck_assert_ptr_null(auth_email_normalize(a, "no-at-sign"));
	ck_assert_ptr_null(auth_email_normalize(a, "@example.com"));
	ck_assert_ptr_null(auth_email_normalize(a, "a@"));
	ck_assert_ptr_null(auth_email_normalize(a, "a@b@c"));
	ck_assert_ptr_null(auth_email_normalize(a, "a b@c.d"));
	ck_assert_ptr_null(auth_email_normalize(a, "<x>@c.d"));
	ck_assert_ptr_null(auth_email_normalize(a, NULL));
	arena_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("session");
	TCase *t = tcase_create("session");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, tokens_are_random_and_well_formed);
	tcase_add_test(t, hash_is_sha256);
	tcase_add_test(t, base64url);
	tcase_add_test(t, csrf_compare);
	tcase_add_test(t, safe_next);
	tcase_add_test(t, passwords);
	tcase_add_test(t, email_normalize);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
