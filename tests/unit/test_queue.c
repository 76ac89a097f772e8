/*
 * test_queue.c: unit tests of the pure parts of core/queue.c: what a lease
 * allows (queue_classify), the notice sentences, and the X-Accel-Redirect
 * target of an item image.  The database parts are tested through nginx in
 * tests/integration/t_labeling.c.
 */
#include <check.h>

#include <string.h>

#include "arena.h"
#include "queue.h"

#define ME 7
#define OTHER 9
/* Two well-formed lease tokens (43 base64url characters). */
#define TOKEN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOKEN_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

/* An unlabeled item leased to user under token. */
static struct queue_facts leased(long long user, const char *token)
{
	struct queue_facts f = { .found = 1, .lease_user = user, .lease_token = token, .history = 1 };
	return f;
}

START_TEST(own_lease_ok_for_every_action)
{
	struct queue_facts f = leased(ME, TOKEN_A);

	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_OK);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SKIP, ME, TOKEN_A), QUEUE_OK);
	ck_assert_int_eq(queue_classify(&f, QUEUE_STEP, ME, TOKEN_A), QUEUE_OK);
}
END_TEST

START_TEST(own_item_other_token_is_wrong_lease)
{
	struct queue_facts f = leased(ME, TOKEN_A);

	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_B), QUEUE_WRONG_LEASE);
	/* tampered: one character changed, too short, too long, junk, none */
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"), QUEUE_WRONG_LEASE);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, "AAAA"), QUEUE_WRONG_LEASE);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A "A"), QUEUE_WRONG_LEASE);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, "<script>"), QUEUE_WRONG_LEASE);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, ""), QUEUE_WRONG_LEASE);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, NULL), QUEUE_WRONG_LEASE);
}
END_TEST

START_TEST(missing_item)
{
	struct queue_facts f = { 0 };

	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_NO_ITEM);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SKIP, ME, TOKEN_A), QUEUE_NO_ITEM);
}
END_TEST

START_TEST(someone_elses_item)
{
	struct queue_facts f = leased(OTHER, TOKEN_B);

	/* never held by me: not mine at all */
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_B), QUEUE_NOT_HELD);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_NOT_HELD);
	/* held by me before, went to someone else: stale */
	f.ever_held = 1;
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_STALE);
	ck_assert_int_eq(queue_classify(&f, QUEUE_STEP, ME, TOKEN_A), QUEUE_STALE);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SKIP, ME, TOKEN_A), QUEUE_STALE);
}
END_TEST

START_TEST(released_item)
{
	struct queue_facts f = leased(0, NULL);

	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_NOT_HELD);
	f.ever_held = 1;    /* released by Pause, or a skip in another tab */
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_STALE);
	f.skipped = 1;      /* the second click on Skip */
	ck_assert_int_eq(queue_classify(&f, QUEUE_SKIP, ME, TOKEN_A), QUEUE_ALREADY);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_STALE);
}
END_TEST

START_TEST(labeled_item)
{
	struct queue_facts f = { .found = 1, .labeled = 1, .history = 1 };

	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_NOT_HELD);
	f.ever_held = 1;    /* labeled by someone else after my lease ran out */
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_STALE);
	f.answered_by_token = 1;   /* my own answer under this lease: a double submit */
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, TOKEN_A), QUEUE_ALREADY);
	ck_assert_int_eq(queue_classify(&f, QUEUE_SKIP, ME, TOKEN_A), QUEUE_ALREADY);
	/* ...but only with a well-formed token */
	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, ME, "x"), QUEUE_STALE);
}
END_TEST

START_TEST(user_zero_never_matches)
{
	struct queue_facts f = leased(0, NULL);

	ck_assert_int_eq(queue_classify(&f, QUEUE_SUBMIT, 0, TOKEN_A), QUEUE_NOT_HELD);
}
END_TEST

START_TEST(notices_are_fixed_sentences)
{
	ck_assert_ptr_nonnull(strstr(queue_notice_text("stale"), "went to someone else"));
	ck_assert_ptr_nonnull(strstr(queue_notice_text("paused"), "paused"));
	ck_assert_ptr_null(queue_notice_text(NULL));
	ck_assert_ptr_null(queue_notice_text(""));
	ck_assert_ptr_null(queue_notice_text("STALE"));
	ck_assert_ptr_null(queue_notice_text("stale "));
	ck_assert_ptr_null(queue_notice_text("<b>hi</b>"));
}
END_TEST

START_TEST(accel_uri_encodes)
{
	struct arena *a = arena_new();

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(queue_accel_uri(a, "/_datastore/", "uploads/7-ab/cat.png"),
	    "/_datastore/uploads/7-ab/cat.png");
	ck_assert_str_eq(queue_accel_uri(a, "/_datastore/", "a b/c?d#e%f.jpg"),
	    "/_datastore/a%20b/c%3Fd%23e%25f.jpg");
	ck_assert_str_eq(queue_accel_uri(a, "/_datastore/", "\xc3\xa9t\xc3\xa9.png"),
	    "/_datastore/%C3%A9t%C3%A9.png");
	ck_assert_str_eq(queue_accel_uri(a, "/_datastore/", "x+y&z;=.png"),
	    "/_datastore/x%2By%26z%3B%3D.png");
	ck_assert_str_eq(queue_accel_uri(a, "/p/", ""), "/p/");
	arena_free(a);
}
END_TEST

START_TEST(labels_parse)
{
	struct arena *a = arena_new();
	struct queue_label *l;
	size_t n;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(queue_labels_parse(a, NULL, &l, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(queue_labels_parse(a, "", &l, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* "cat", "<b>&", "", an accented name */
	ck_assert_int_eq(queue_labels_parse(a, "12:636174,7:3C623E26,900:,5:C3A974C3A9", &l, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(l[0].id, 12);
	ck_assert_str_eq(l[0].name, "cat");
	ck_assert_int_eq(l[1].id, 7);
	ck_assert_str_eq(l[1].name, "<b>&");
	ck_assert_int_eq(l[2].id, 900);
	ck_assert_str_eq(l[2].name, "");
	ck_assert_str_eq(l[3].name, "\xc3\xa9t\xc3\xa9");
	ck_assert_int_eq(queue_labels_parse(a, "1:2c,2:2C", &l, &n), 0);
	ck_assert_str_eq(l[0].name, ",");
	/* malformed: odd hex, no id, no colon, trailing comma, junk, NUL byte */
	ck_assert_int_eq(queue_labels_parse(a, "1:636", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, ":63", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, "0:63", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, "163", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, "1:63,", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, "1:63,,2:64", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, "1:6G", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, "1:6300", &l, &n), -1);
	ck_assert_int_eq(queue_labels_parse(a, "99999999999999999999999:63", &l, &n), -1);
	arena_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("queue");
	TCase *t = tcase_create("queue");

	tcase_add_test(t, own_lease_ok_for_every_action);
	tcase_add_test(t, own_item_other_token_is_wrong_lease);
	tcase_add_test(t, missing_item);
	tcase_add_test(t, someone_elses_item);
	tcase_add_test(t, released_item);
	tcase_add_test(t, labeled_item);
	tcase_add_test(t, user_zero_never_matches);
	tcase_add_test(t, notices_are_fixed_sentences);
	tcase_add_test(t, accel_uri_encodes);
	tcase_add_test(t, labels_parse);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
