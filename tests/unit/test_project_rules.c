/*
 * test_project_rules.c: unit tests of core/project_rules.c: names, labels,
 * links, descriptions, upload file names and display text.
 */
#include <check.h>

#include <string.h>

#include "project_rules.h"

static char err[512];

/* Check a NUL-terminated string with one of the (s, len, err) checks. */
#define OK(fn, s) ck_assert_msg(fn((s), strlen(s), err, sizeof(err)) == 0, \
	"%s(\"%s\") refused: %s", #fn, (s), err)
#define BAD(fn, s, needle) do { \
	err[0] = '\0'; \
	ck_assert_msg(fn((s), strlen(s), err, sizeof(err)) == -1, "%s(\"%s\") accepted", #fn, (s)); \
	ck_assert_msg(strstr(err, (needle)) != NULL, "%s(\"%s\"): \"%s\" lacks \"%s\"", \
	    #fn, (s), err, (needle)); \
} while (0)

/* A string of n copies of unit (n * strlen(unit) + 1 bytes, static). */
static const char *repeat(const char *unit, size_t n)
{
	static char buf[8192];
	size_t u = strlen(unit);

	ck_assert(n * u < sizeof(buf));
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * u, unit, u);
	buf[n * u] = '\0';
	return buf;
}

START_TEST(trim_ascii_space)
{
	size_t n;
	const char *s = rules_trim(" \t\r\n cat \v\f", 11, &n);

	ck_assert_uint_eq(n, 3);
	ck_assert(strncmp(s, "cat", 3) == 0);
	s = rules_trim("   ", 3, &n);
	ck_assert_uint_eq(n, 0);
	s = rules_trim(NULL, 0, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(s, "");
	/* inner space stays; a non-breaking space is not trimmed */
	s = rules_trim(" a b ", 5, &n);
	ck_assert_uint_eq(n, 3);
	s = rules_trim("\xc2\xa0x", 3, &n);
	ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(utf8_counting)
{
	ck_assert_int_eq(rules_utf8_count("", 0), 0);
	ck_assert_int_eq(rules_utf8_count("abc", 3), 3);
	ck_assert_int_eq(rules_utf8_count("\xc3\xa9t\xc3\xa9", 5), 3);          /* été */
	ck_assert_int_eq(rules_utf8_count("\xe7\x8c\xab", 3), 1);               /* 猫 */
	ck_assert_int_eq(rules_utf8_count("\xf0\x9f\x90\x88", 4), 1);           /* 🐈 */
	ck_assert_int_eq(rules_utf8_count("\xc0\xaf", 2), -1);                  /* overlong '/' */
	ck_assert_int_eq(rules_utf8_count("\xe0\x80\xaf", 3), -1);              /* overlong */
	ck_assert_int_eq(rules_utf8_count("\xed\xa0\x80", 3), -1);              /* surrogate */
	ck_assert_int_eq(rules_utf8_count("\xf4\x90\x80\x80", 4), -1);          /* > U+10FFFF */
	ck_assert_int_eq(rules_utf8_count("\xe7\x8c", 2), -1);                  /* truncated */
	ck_assert_int_eq(rules_utf8_count("\xff", 1), -1);
	ck_assert_int_eq(rules_utf8_count("a\x80", 2), -1);                     /* lone continuation */
}
END_TEST

START_TEST(names)
{
	OK(project_name_check, "Cats and dogs");
	OK(project_name_check, "x");
	OK(project_name_check, "<script>alert(\"x\")</script> & 'quotes'");
	OK(project_name_check, repeat("a", 100));
	OK(project_name_check, repeat("\xe7\x8c\xab", 100));     /* 100 code points, 300 bytes */
	BAD(project_name_check, "", "Enter a name");
	BAD(project_name_check, repeat("a", 101), "at most 100");
	BAD(project_name_check, repeat("\xe7\x8c\xab", 101), "101 characters");
	BAD(project_name_check, "tab\there", "control characters");
	BAD(project_name_check, "bell\x07", "control characters");
	BAD(project_name_check, "del\x7f", "control characters");
	BAD(project_name_check, "c1\xc2\x85", "control characters");   /* U+0085 */
	BAD(project_name_check, "bad\xff", "UTF-8");
	/* an embedded NUL counts as a control character */
	ck_assert_int_eq(project_name_check("a\0b", 3, err, sizeof(err)), -1);
}
END_TEST

START_TEST(team_names)
{
	OK(team_name_check, "Birds team 2");
	OK(team_name_check, repeat("a", 140));
	OK(team_name_check, repeat("\xe7\x8c\xab", 140));
	BAD(team_name_check, "", "Enter a team name");
	BAD(team_name_check, repeat("a", 141), "at most 140");
	BAD(team_name_check, "line\nbreak", "control characters");
	BAD(team_name_check, "bad\xff", "UTF-8");
}
END_TEST

START_TEST(label_names)
{
	OK(project_label_check, "cat");
	OK(project_label_check, "<b>\"bold\"</b>");
	OK(project_label_check, repeat("b", 64));
	OK(project_label_check, repeat("\xc3\xa9", 64));
	BAD(project_label_check, "", "Enter a label name");
	BAD(project_label_check, repeat("b", 65), "at most 64");
	BAD(project_label_check, "new\nline", "control characters");
}
END_TEST

START_TEST(label_sameness)
{
	ck_assert(project_label_same("Cat", "cAT"));
	ck_assert(project_label_same("a-B_c 1", "A-b_C 1"));
	ck_assert(!project_label_same("cat", "cats"));
	/* only ASCII folds; other bytes compare exactly (MariaDB is the final guard) */
	ck_assert(!project_label_same("\xc3\xa9", "\xc3\x89"));     /* é / É */
	ck_assert(project_label_same("\xc3\xa9t\xc3\xa9", "\xc3\xa9T\xc3\xa9"));
}
END_TEST

START_TEST(label_lists)
{
	const char *ok[] = { "cat", "dog", "\xc3\xa9l\xc3\xa9phant" };
	const char *dup[] = { "cat", "dog", "DOG" };
	const char *empty[] = { "cat", "" };
	const char *many[101];
	size_t bad = 99;

	ck_assert_int_eq(project_labels_check(ok, 3, 100, &bad, err, sizeof(err)), 0);
	ck_assert_int_eq(project_labels_check(ok, 0, 100, &bad, err, sizeof(err)), -1);
	ck_assert(strstr(err, "at least one") != NULL);
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(project_labels_check(dup, 3, 100, &bad, err, sizeof(err)), -1);
	ck_assert_uint_eq(bad, 2);
	ck_assert_msg(strstr(err, "listed twice") != NULL && strstr(err, "DOG") != NULL, "%s", err);
	ck_assert_int_eq(project_labels_check(empty, 2, 100, &bad, err, sizeof(err)), -1);
	ck_assert_uint_eq(bad, 1);
	ck_assert_msg(strstr(err, "Label 2") != NULL, "%s", err);
	for (size_t i = 0; i < 101; i++)
		many[i] = "x";
	ck_assert_int_eq(project_labels_check(many, 101, 100, &bad, err, sizeof(err)), -1);
	ck_assert_uint_eq(bad, 101);
	ck_assert_msg(strstr(err, "at most 100") != NULL, "%s", err);
	ck_assert_int_eq(project_labels_check(ok, 3, 2, &bad, err, sizeof(err)), -1);
}
END_TEST

START_TEST(links)
{
	OK(project_url_check, "");
	OK(project_url_check, "https://example.com");
	OK(project_url_check, "http://example.com/guide?x=1#top");
	OK(project_url_check, "HTTPS://Example.COM/a%20b");
	OK(project_url_check, "https://user@example.com:8443/p");
	OK(project_url_check, "https://ex\xc3\xa4mple.com/\xc3\xa4");
	BAD(project_url_check, "javascript:alert(1)", "only http and https links are allowed");
	BAD(project_url_check, "JavaScript:alert(1)", "only http and https links are allowed");
	BAD(project_url_check, "data:text/html,<script>alert(1)</script>", "only http and https");
	BAD(project_url_check, "file:///etc/passwd", "only http and https");
	BAD(project_url_check, "vbscript:msgbox", "only http and https");
	BAD(project_url_check, "ftp://example.com/", "only http and https");
	BAD(project_url_check, "/relative/path", "only http and https");
	BAD(project_url_check, "//example.com/x", "only http and https");
	BAD(project_url_check, "example.com", "only http and https");
	BAD(project_url_check, " javascript:x", "only http and https");   /* callers trim first */
	BAD(project_url_check, "http:/example.com", "only http and https");
	BAD(project_url_check, "https://", "no host");
	BAD(project_url_check, "https:///path", "no host");
	BAD(project_url_check, "https://user@/path", "no host");
	BAD(project_url_check, "https://:80/", "no host");
	BAD(project_url_check, "https://example.com/a b", "spaces");
	BAD(project_url_check, "https://example.com/\x01", "control characters");
	BAD(project_url_check, "https://example.com\\@evil.com", "backslashes");
	BAD(project_url_check, "https://example.com/\xff", "UTF-8");
	char long_url[PROJECT_URL_MAX + 2];
	memset(long_url, 'a', sizeof(long_url));
	memcpy(long_url, "https://e.com/", 14);
	long_url[PROJECT_URL_MAX] = '\0';
	OK(project_url_check, long_url);                  /* exactly 2048 bytes */
	long_url[PROJECT_URL_MAX] = 'a';
	long_url[PROJECT_URL_MAX + 1] = '\0';
	BAD(project_url_check, long_url, "longer than 2048");
}
END_TEST

START_TEST(descriptions)
{
	OK(project_description_check, "");
	OK(project_description_check, "Two lines\r\nand\ta tab.");
	OK(project_description_check, repeat("d", 2000));
	BAD(project_description_check, repeat("d", 2001), "at most 2000");
	BAD(project_description_check, "esc\x1b[31m", "control characters");
	BAD(project_description_check, "\xc3(", "UTF-8");
}
END_TEST

/* Sanitize raw; expect success with `want`, or (want NULL) a refusal whose
 * reason contains `needle`. */
static void upload_case(const char *raw, const char *want, const char *needle)
{
	char out[UPLOAD_NAME_MAX + 1];
	int rc;

	err[0] = '\0';
	rc = upload_name_sanitize(raw, out, sizeof(out), err, sizeof(err));
	if (want != NULL) {
		ck_assert_msg(rc == 0, "\"%s\" refused: %s", raw, err);
		ck_assert_str_eq(out, want);
	} else {
		ck_assert_msg(rc == -1, "\"%s\" accepted as \"%s\"", raw, out);
		ck_assert_msg(strstr(err, needle) != NULL, "\"%s\": \"%s\" lacks \"%s\"", raw, err, needle);
	}
}

START_TEST(upload_names)
{
	upload_case("cat.png", "cat.png", NULL);
	upload_case("../../x.png", "x.png", NULL);
	upload_case("a\\b.png", "b.png", NULL);
	upload_case("C:\\Users\\me\\Pictures\\dog.jpg", "dog.jpg", NULL);
	upload_case("dir/sub/\xe7\x8c\xab.png", "\xe7\x8c\xab.png", NULL);
	upload_case("with space & <tag>.png", "with space & <tag>.png", NULL);
	upload_case("", NULL, "no name");
	upload_case(NULL, NULL, "no name");
	upload_case("dir/", NULL, "no name");
	upload_case("a\\", NULL, "no name");
	upload_case(".", NULL, "not a file name");
	upload_case("x/..", NULL, "not a file name");
	upload_case(".hidden.png", NULL, "starting with '.'");
	upload_case("../.htaccess", NULL, "starting with '.'");
	upload_case("tab\there.png", NULL, "control characters");
	upload_case("nl\n.png", NULL, "control characters");
	upload_case("c1\xc2\x9b.png", NULL, "control characters");
	upload_case("bad\xff.png", NULL, "UTF-8");
	upload_case(repeat("n", 201), NULL, "longer than 200");

	char name[256];
	memset(name, 'n', 196);
	memcpy(name + 196, ".png", 5);                   /* exactly 200 bytes */
	upload_case(name, name, NULL);
	/* a small output buffer is refused, never overrun */
	char small[4];
	ck_assert_int_eq(upload_name_sanitize("cat.png", small, sizeof(small), err, sizeof(err)), -1);
}
END_TEST

static void folder_case(const char *name, const char *want)
{
	char out[UPLOAD_FOLDER_MAX + 1];
	size_t n = upload_folder_default(name, out, sizeof(out));

	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(upload_folders)
{
	folder_case("Cats & Dogs 2026", "cats-dogs-2026");
	folder_case("street_signs.v2", "street_signs.v2");
	folder_case("  --Hello--World--  ", "hello-world");
	folder_case("../etc/passwd", "etc-passwd");
	folder_case("..", "");
	folder_case(".hidden", "hidden");
	folder_case("Caf\xc3\xa9 cr\xc3\xa8me", "caf-cr-me");
	folder_case("\xe7\x8c\xab", "");
	folder_case("", "");
	folder_case(NULL, "");
	folder_case("a\tb\\c/d", "a-b-c-d");
	folder_case("end.", "end");
	/* at most UPLOAD_FOLDER_MAX bytes; no '-' or '.' left at the cut */
	folder_case(repeat("ab ", 40), "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-a");
	char hundred[101];
	memset(hundred, 'x', 100);
	hundred[100] = '\0';
	folder_case(hundred, repeat("x", UPLOAD_FOLDER_MAX));
	char small[4];
	ck_assert_uint_eq(upload_folder_default("abcdef", small, sizeof(small)), 3);
	ck_assert_str_eq(small, "abc");
}
END_TEST

START_TEST(display_text)
{
	char out[64];

	rules_display("plain", 40, out, sizeof(out));
	ck_assert_str_eq(out, "plain");
	rules_display("a\tb\x01" "c\xff" "d", 40, out, sizeof(out));
	ck_assert_str_eq(out, "a?b?c?d");
	rules_display("\xe7\x8c\xab\xe7\x8c\xab\xe7\x8c\xab", 2, out, sizeof(out));
	ck_assert_str_eq(out, "\xe7\x8c\xab\xe7\x8c\xab...");
	rules_display(NULL, 10, out, sizeof(out));
	ck_assert_str_eq(out, "");
	rules_display(repeat("z", 200), 1000, out, sizeof(out));
	ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
	/* a multi-byte character is never cut in half */
	rules_display(repeat("\xc3\xa9", 100), 1000, out, 8);
	ck_assert_str_eq(out, "\xc3\xa9\xc3\xa9\xc3\xa9");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("project_rules");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, trim_ascii_space);
	tcase_add_test(tc, utf8_counting);
	tcase_add_test(tc, names);
	tcase_add_test(tc, team_names);
	tcase_add_test(tc, label_names);
	tcase_add_test(tc, label_sameness);
	tcase_add_test(tc, label_lists);
	tcase_add_test(tc, links);
	tcase_add_test(tc, descriptions);
	tcase_add_test(tc, upload_names);
	tcase_add_test(tc, upload_folders);
	tcase_add_test(tc, display_text);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
