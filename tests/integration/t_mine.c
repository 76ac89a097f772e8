/*
 * t_mine.c: a labeler's own recent answers (docs/review.md, "A labeler's
 * own answers") through nginx: Back opens the newest answer that can still
 * change, a change records a new answer while the history keeps the old
 * one (and moves the classes' counts), changes are refused once a review
 * approved, rejected or holds the answer and for anyone else's answer, My
 * answers lists them newest first with their status and keyset pages, the
 * box editor's steps work without JavaScript, and the labeler who gets a
 * rejected image again sees the rejection's reason.  Projects, approvals
 * and rejections are made with SQL (the rejection as review_reject makes
 * it: the reject routes are tested with the review pages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")

/* ------------------------------------------------------------ helpers */

/* The number a query (one value) gives. */
static long num(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

#define Q1(sql, x) num(itest_fmt(sql, (x)))
#define Q2(sql, x, y) num(itest_fmt(sql, (x), (y)))

/* A running project of task `task` with nitems items (64 x 48, no files)
 * and the labels cat, dog, bird, served by the tests' team. */
static long project_new(const char *task, long nitems)
{
	return SQL_PROJECT("mine-test", task, nitems, 64, 48);
}

static long label_of(long p, const char *name)
{
	return num(itest_fmt("SELECT id FROM labels WHERE name = %s AND project_id = %ld", sql_str(name), p));
}

/* A new labeler, signed in; *uid gets their id. */
static struct client *labeler(long *uid)
{
	const char *email;
	struct client *c = NEW_LABELER(&email);

	*uid = num(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
	return c;
}

/* The labeling page of p (it must show an item): its form's action, lease
 * and CSRF token; returns the item. */
struct shown {
	struct resp *r;
	long item;
	char *action, *lease, *csrf;
};

static struct shown label_page(struct client *c, long p)
{
	struct shown s = { 0 };
	long pp = 0;

	s.r = GET(c, itest_fmt("/projects/%ld/label", p));
	CHECK_STATUS(s.r, 200);
	s.action = html_str(s.r, "//form[@id='labelform']/@action");
	CHECK(s.action != NULL && sscanf(s.action, "/projects/%ld/items/%ld", &pp, &s.item) == 2 &&
	    pp == p, "no labeling form: %s", resp_snip(s.r));
	s.lease = html_form_input(s.r, "labelform", "lease");
	s.csrf = html_form_input(s.r, "labelform", "csrf");
	return s;
}

/* Label the next item of p with label id `label`; returns the item. */
static long answer(struct client *c, long p, long label)
{
	struct shown s = label_page(c, p);
	struct resp *r = POST_FORM(c, s.action, "csrf", s.csrf, "lease", s.lease, "label",
	    itest_fmt("%ld", label), "action", "submit");

	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", p));
	return s.item;
}

/* The current answer (annotation id) of item. */
static long current_of(long item)
{
	return Q1("SELECT id FROM annotations WHERE item_id = %ld AND is_current = 1", item);
}

static char *csrf_of(struct client *c)
{
	char *t = html_logout_csrf(GET(c, "/account"));

	CHECK(t != NULL, "no CSRF token on /account");
	return t;
}

/* Approve item's answer as review_approve does. */
static void approve(long p, long item)
{
	SQL("UPDATE project_counters SET items_approved = items_approved + 1, "
	    "change_seq = LAST_INSERT_ID(change_seq + 1) WHERE project_id = %ld; "
	    "UPDATE annotations SET approved_seq = LAST_INSERT_ID() WHERE item_id = %ld AND is_current = 1; "
	    "UPDATE items SET phase = 'approved', version = version + 1 WHERE id = %ld; "
	    "INSERT INTO item_events (item_id, project_id, kind) VALUES (%ld, %ld, 'approved')",
	    p, item, item, item, p);
}

/* Reject item's answer with reason (NULL: none) as review_reject does, in
 * one transaction with every counter it keeps. */
static void reject(long p, long item, const char *reason)
{
	SQL("START TRANSACTION; "
	    "INSERT INTO labeler_days (project_id, user_id, day, rejected) "
	    "SELECT %ld, labeled_by, UTC_DATE(), 1 FROM items WHERE id = %ld "
	    "ON DUPLICATE KEY UPDATE rejected = rejected + 1; "
	    "UPDATE project_counters SET items_labeled = items_labeled - 1, "
	    "items_requeued = items_requeued + 1, rejections = rejections + 1, "
	    "change_seq = LAST_INSERT_ID(change_seq + 1) WHERE project_id = %ld; "
	    "UPDATE label_counts lc JOIN answer_labels al ON al.label_id = lc.label_id "
	    "AND al.item_id = %ld SET lc.answers = lc.answers - 1 WHERE lc.project_id = %ld; "
	    "DELETE FROM answer_labels WHERE item_id = %ld; "
	    "UPDATE annotations SET is_current = 0, withdrawn_seq = COALESCE(withdrawn_seq, "
	    "LAST_INSERT_ID()) WHERE item_id = %ld AND is_current = 1; "
	    "UPDATE items SET state = 'unlabeled', phase = 'requeued', lease_user = NULL, "
	    "lease_until = NULL, lease_token = NULL, review_user = NULL, review_until = NULL, "
	    "review_token = NULL, version = version + 1 WHERE id = %ld; "
	    "INSERT INTO item_events (item_id, project_id, kind, reason) VALUES (%ld, %ld, 'rejected', %s); "
	    "COMMIT",
	    p, item, p, item, p, item, item, item, item, p, reason ? sql_str(reason) : "NULL");
}

/* label_counts of label l. */
static long count_of(long p, long l)
{
	return Q2("SELECT COALESCE((SELECT answers FROM label_counts WHERE project_id = %ld "
	    "AND label_id = %ld), 0)", p, l);
}

/* ------------------------------------------------------------ the tests */

/* Back opens the newest answer in its editor, prefilled; Save records a new
 * answer (relabel = 1), withdraws the old one (the history keeps both),
 * moves the class counts and leaves the totals; then back to the labeling
 * page, which says so.  The old answer is "replaced" from then on. */
static void mine_back_relabel(void)
{
	long p = project_new("multiclass", 4), uid, cat, dog, bird, a, b, old, fresh;
	struct client *c = labeler(&uid);
	char *csrf;
	struct resp *r;

	cat = label_of(p, "cat");
	dog = label_of(p, "dog");
	bird = label_of(p, "bird");
	a = answer(c, p, cat);
	b = answer(c, p, dog);
	old = current_of(b);
	CHECK(current_of(a) < old, "answers out of order");

	/* The labeling page: a plain Back link, and My answers. */
	r = GET(c, itest_fmt("/projects/%ld/label", p));
	CHECK(html_count(r, "//a[@id='back-button' and @href='/projects/%ld/back']", p) == 1,
	    "no Back link on the labeling page");
	CHECK(html_count(r, "//a[@href='/projects/%ld/mine']", p) == 1, "no My answers link");

	r = GET(c, itest_fmt("/projects/%ld/back", p));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/mine/%ld", p, old));
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld", p, old));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@id='labelform' and @action='/projects/%ld/mine/%ld']", p, old) == 1,
	    "the editor's form does not post to the answer: %s", resp_snip(r));
	CHECK(html_count(r, "//form[@id='labelform']//input[@name='label' and @value='%ld' and @checked]",
	    dog) == 1, "the editor is not prefilled with the answer (dog)");
	CHECK(html_count(r, "//form[@id='labelform']//input[@name='label' and @checked]") == 1,
	    "more than the answer's label checked");
	CHECK(html_count(r, "//form[@id='labelform']//input[@name='lease']") == 0,
	    "the answer's editor carries a lease");
	CHECK_STREQ(html_form_input(r, "labelform", "back"), itest_fmt("/projects/%ld/label", p));

	CHECK(count_of(p, dog) == 1 && count_of(p, bird) == 0, "label counts before");
	csrf = html_form_input(r, "labelform", "csrf");
	/* A plain form post, as without JavaScript. */
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, old), "csrf", csrf,
	    "back", itest_fmt("/projects/%ld/label", p), "label", itest_fmt("%ld", bird),
	    "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label?notice=changed", p));
	fresh = current_of(b);
	CHECK(fresh > old, "no new answer");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', is_current, withdrawn_seq IS NOT NULL, relabel, "
	    "labeler_id = %ld, JSON_EXTRACT(data, '$.label')) FROM annotations WHERE item_id = %ld "
	    "ORDER BY id", uid, b),
	    itest_fmt("0 1 0 1 %ld\n1 0 1 1 %ld", dog, bird));
	CHECK(count_of(p, dog) == 0 && count_of(p, bird) == 1 && count_of(p, cat) == 1,
	    "the classes' counts did not move: dog %ld bird %ld cat %ld", count_of(p, dog),
	    count_of(p, bird), count_of(p, cat));
	CHECK(Q1("SELECT items_labeled FROM project_counters WHERE project_id = %ld", p) == 2,
	    "items_labeled changed");
	CHECK(Q1("SELECT SUM(labeled) FROM labeler_days WHERE project_id = %ld", p) == 2,
	    "the labeler's count changed");
	CHECK_STREQ(SQL_QUERY("SELECT GROUP_CONCAT(label_id) FROM answer_labels WHERE item_id = %ld",
	    b), itest_fmt("%ld", bird));
	CHECK(Q1("SELECT COUNT(*) FROM items WHERE id = %ld AND phase = 'labeled' "
	    "AND state = 'labeled'", b) == 1, "the item left its phase");
	r = GET(c, itest_fmt("/projects/%ld/label?notice=changed", p));
	CHECK_BODY_HAS(r, "Your answer was changed.");

	/* The old answer can no longer change, by GET or POST. */
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld", p, old));
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, "You changed this answer since");
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, old), "csrf", csrf,
	    "label", itest_fmt("%ld", cat), "action", "submit");
	CHECK_STATUS(r, 409);
	CHECK(Q1("SELECT COUNT(*) FROM annotations WHERE item_id = %ld", b) == 2,
	    "a refused change wrote an answer");

	/* Back again: the new answer; from My answers the editor returns there. */
	r = GET(c, itest_fmt("/projects/%ld/back", p));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/mine/%ld", p, fresh));
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld?back=/projects/%ld/mine", p, fresh, p));
	CHECK_STREQ(html_form_input(r, "labelform", "back"), itest_fmt("/projects/%ld/mine", p));
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld?back=https://evil.example/", p, fresh));
	CHECK_STREQ(html_form_input(r, "labelform", "back"), itest_fmt("/projects/%ld/label", p));
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, fresh), "csrf", csrf,
	    "back", itest_fmt("/projects/%ld/mine", p), "label", itest_fmt("%ld", cat),
	    "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/mine?saved=1", p));
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, current_of(b)), "csrf", csrf,
	    "back", "//evil.example/x", "label", itest_fmt("%ld", dog), "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label?notice=changed", p));
	CHECK(Q1("SELECT COUNT(*) FROM annotations WHERE item_id = %ld", b) == 4, "four answers kept");
	CHECK(count_of(p, dog) == 1 && count_of(p, cat) == 1 && count_of(p, bird) == 0,
	    "counts after three changes");

	/* A refused answer (no label) shows the editor again, saves nothing. */
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, current_of(b)), "csrf", csrf,
	    "action", "submit");
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "Choose a label.");
	CHECK(Q1("SELECT COUNT(*) FROM annotations WHERE item_id = %ld", b) == 4, "a refusal wrote");
}

/* No change once a review approved the answer or holds it under a review
 * lease in force, and none of someone else's answer (404); Back passes
 * over those; someone without answers has nothing to go back to. */
static void mine_refused(void)
{
	long p = project_new("multiclass", 4), uid, uid2, cat, a, b, c3, aa, ab, ac;
	struct client *c = labeler(&uid), *other = labeler(&uid2);
	char *csrf = csrf_of(c), *csrf2 = csrf_of(other);
	struct resp *r;

	cat = label_of(p, "cat");
	a = answer(c, p, cat);
	b = answer(c, p, cat);
	c3 = answer(c, p, cat);
	aa = current_of(a);
	ab = current_of(b);
	ac = current_of(c3);
	approve(p, c3);
	SQL("UPDATE items SET review_user = %ld, review_until = NOW(6) + INTERVAL 1 HOUR, "
	    "review_token = 'minetestreviewtokenAAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = %ld", uid2, b);

	r = GET(c, itest_fmt("/projects/%ld/mine/%ld", p, ac));
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, "approved this answer");
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld", p, ab));
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, "looking at this answer right now");
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, ac), "csrf", csrf,
	    "label", itest_fmt("%ld", label_of(p, "dog")), "action", "submit");
	CHECK_STATUS(r, 409);
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, ab), "csrf", csrf,
	    "label", itest_fmt("%ld", label_of(p, "dog")), "action", "submit");
	CHECK_STATUS(r, 409);
	CHECK(Q2("SELECT COUNT(*) FROM annotations WHERE item_id IN (%ld, %ld)", b, c3) == 2,
	    "a refused change wrote an answer");
	CHECK(Q2("SELECT answers FROM label_counts WHERE project_id = %ld AND label_id = %ld", p,
	    cat) == 3, "a refused change moved a count");

	/* Back passes over the approved and the reviewed answer. */
	r = GET(c, itest_fmt("/projects/%ld/back", p));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/mine/%ld", p, aa));
	/* A review lease that ran out no longer holds the answer. */
	SQL("UPDATE items SET review_until = NOW(6) - INTERVAL 1 SECOND WHERE id = %ld", b);
	r = GET(c, itest_fmt("/projects/%ld/back", p));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/mine/%ld", p, ab));

	/* Someone else's answer: not theirs to see or change. */
	r = GET(other, itest_fmt("/projects/%ld/mine/%ld", p, aa));
	CHECK_STATUS(r, 404);
	r = POST_FORM(other, itest_fmt("/projects/%ld/mine/%ld", p, aa), "csrf", csrf2,
	    "label", itest_fmt("%ld", label_of(p, "dog")), "action", "submit");
	CHECK_STATUS(r, 404);
	CHECK(current_of(a) == aa, "someone else changed the answer");
	r = GET(other, itest_fmt("/projects/%ld/back", p));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "Nothing to go back to");
	r = GET(other, itest_fmt("/projects/%ld/mine", p));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "You have not answered anything in this project yet.");
}

/* My answers: newest first, each with its image (lazy), classes, time and
 * status, Change only where a change is allowed; keyset pages of 50. */
static void mine_list(void)
{
	long p = project_new("multiclass", 60), uid, cat, dog, it[4];
	size_t n;
	struct client *c = labeler(&uid);
	char **st, **more;
	struct resp *r;

	cat = label_of(p, "cat");
	dog = label_of(p, "dog");
	for (int i = 0; i < 4; i++)
		it[i] = answer(c, p, i % 2 ? dog : cat);
	approve(p, it[0]);
	reject(p, it[1], NULL);
	SQL("UPDATE items SET review_user = %ld, review_until = NOW(6) + INTERVAL 1 HOUR WHERE id = %ld",
	    uid, it[2]);
	r = GET(c, itest_fmt("/projects/%ld/mine", p));
	CHECK_STATUS(r, 200);
	st = html_strs(r, "//table[contains(@class, 'mine')]//tr[contains(@class, 'answer')]/@class", &n);
	CHECK(n == 4, "%zu rows, want 4", n);
	CHECK_STREQ(st[0], "answer status-open");
	CHECK_STREQ(st[1], "answer status-review");
	CHECK_STREQ(st[2], "answer status-rejected");
	CHECK_STREQ(st[3], "answer status-approved");
	for (int i = 0; i < 4; i++)
		CHECK(html_count(r, "//tbody/tr[%d]//img[@loading='lazy' and @src='/projects/%ld/items/%ld/image']",
		    4 - i, p, it[i]) == 1, "row %d lacks the image of item %ld", 4 - i, it[i]);
	CHECK(html_count(r, "//a[text()='Change']") == 1, "Change links: want 1");
	CHECK(html_count(r, "//a[text()='Change' and @href='/projects/%ld/mine/%ld?back=/projects/%ld/mine']",
	    p, current_of(it[3]), p) == 1, "no Change link for the open answer");
	CHECK_STREQ(html_str(r, "//tbody/tr[1]/td[@class='classes']"), "dog");
	CHECK_STREQ(html_str(r, "//tbody/tr[4]/td[@class='classes']"), "cat");
	CHECK_BODY_HAS(r, "Under review");
	CHECK_BODY_HAS(r, "Rejected");
	CHECK_BODY_HAS(r, "Approved");
	CHECK(html_count(r, "//a[@rel='next']") == 0, "an Older link on the only page");

	/* 50 a page: 52 answers more make 56, two pages (50 + 6). */
	SQL("INSERT INTO annotations (item_id, project_id, labeler_id, data, created_at) "
	    "SELECT i.id, %ld, %ld, JSON_OBJECT('label', %ld), NOW(6) FROM items i "
	    "WHERE i.project_id = %ld AND i.state = 'unlabeled' AND i.phase = 'queued' "
	    "ORDER BY i.id LIMIT 52", p, uid, dog, p);
	r = GET(c, itest_fmt("/projects/%ld/mine", p));
	CHECK(html_count(r, "//tr[contains(@class, 'answer')]") == 50, "the first page is not 50 rows");
	more = html_strs(r, "//a[@rel='next']/@href", &n);
	CHECK(n == 1, "no Older link");
	CHECK_STREQ(more[0], itest_fmt("/projects/%ld/mine?before=%ld", p,
	    Q2("SELECT id FROM annotations WHERE project_id = %ld AND labeler_id = %ld "
	    "ORDER BY id DESC LIMIT 49, 1", p, uid)));
	r = GET(c, more[0]);
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//tr[contains(@class, 'answer')]") == 6, "the second page is not 6 rows");
	CHECK(html_count(r, "//a[@rel='next']") == 0, "an Older link on the last page");
	CHECK(html_count(r, "//tr[contains(@class, 'answer')][last()]//img[@src='/projects/%ld/items/%ld/image']",
	    p, it[0]) == 1, "the last page does not end with the oldest answer");
	/* Exactly 50 left: one page, no Older link. */
	r = GET(c, itest_fmt("/projects/%ld/mine?before=%ld", p,
	    Q2("SELECT id FROM annotations WHERE project_id = %ld AND labeler_id = %ld "
	    "ORDER BY id LIMIT 50, 1", p, uid)));
	CHECK(html_count(r, "//tr[contains(@class, 'answer')]") == 50 &&
	    html_count(r, "//a[@rel='next']") == 0, "50 left: want 50 rows and no Older link");
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld/mine?before=abc", p)), 400);
}

/* The labeler who gets a rejected image again sees the reason, escaped,
 * on a fresh lease and on the page of the lease they hold; an image sent
 * back without a reason says so; other images say nothing. */
static void mine_reject_reason(void)
{
	long p = project_new("multiclass", 2), uid, cat, a;
	struct client *c = labeler(&uid);
	struct shown s;
	struct resp *r;
	const char *reason = "<b>Too blurry</b> & \"dark\"";

	cat = label_of(p, "cat");
	s = label_page(c, p);
	CHECK_BODY_LACKS(s.r, "sent back by a reviewer");
	a = answer(c, p, cat);
	answer(c, p, cat);
	reject(p, a, reason);
	CHECK(Q1("SELECT items_labeled FROM project_counters WHERE project_id = %ld", p) == 1,
	    "the rejection's counters");
	s = label_page(c, p);
	CHECK(s.item == a, "the rejected item was not handed out again (%ld, want %ld)", s.item, a);
	CHECK_BODY_HAS(s.r, "This image was sent back by a reviewer: "
	    "&lt;b&gt;Too blurry&lt;/b&gt; &amp; &quot;dark&quot;");
	CHECK_BODY_LACKS(s.r, "<b>Too blurry");
	/* The held lease's page reads it in its one statement. */
	r = GET(c, itest_fmt("/projects/%ld/label", p));
	CHECK_BODY_HAS(r, "&lt;b&gt;Too blurry&lt;/b&gt;");
	/* The later rejection's reason counts; none given says so. */
	r = POST_FORM(c, s.action, "csrf", s.csrf, "lease", s.lease, "label", itest_fmt("%ld", cat),
	    "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", p));
	reject(p, a, NULL);
	s = label_page(c, p);
	CHECK(s.item == a, "the item rejected again was not handed out");
	CHECK_BODY_HAS(s.r, "This image was sent back by a reviewer.");
	CHECK_BODY_LACKS(s.r, "Too blurry");
	/* The rejected answer: My answers says so, no change. */
	r = GET(c, itest_fmt("/projects/%ld/mine", p));
	CHECK(html_count(r, "//tr[contains(@class, 'status-rejected')]") == 2, "rejected answers");
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld", p,
	    Q1("SELECT MIN(id) FROM annotations WHERE item_id = %ld", a)));
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, "rejected this answer");
}

/* The box editor without JavaScript: a click on the image (pt.x, pt.y) is
 * a step of the answer's editor, posted to the editor, saving nothing;
 * Save then stores the boxes. */
static void mine_boxes_nojs(void)
{
	long p = project_new("bbox", 2), uid, cat, dog, aid;
	struct client *c = labeler(&uid);
	struct shown s = label_page(c, p);
	struct resp *r;
	char *csrf;

	cat = label_of(p, "cat");
	dog = label_of(p, "dog");
	r = POST_FORM(c, s.action, "csrf", s.csrf, "lease", s.lease, "zoom", "fit",
	    "box", itest_fmt("2,3,20,10,%ld", cat), "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", p));
	aid = current_of(s.item);
	r = GET(c, itest_fmt("/projects/%ld/back", p));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/mine/%ld", p, aid));
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld", p, aid));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//input[@type='hidden' and @name='box' and @value='2,3,20,10,%ld']", cat) == 1,
	    "the editor lacks the stored box: %s", resp_snip(r));
	CHECK(html_count(r, "//input[@type='image' and @formaction='/projects/%ld/mine/%ld#bbox-at']",
	    p, aid) == 1, "the image's clicks do not go to the answer's editor");
	csrf = html_form_input(r, "labelform", "csrf");
	/* A first corner: shown again with the corner, nothing saved. */
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, aid), "csrf", csrf, "zoom", "fit",
	    "box", itest_fmt("2,3,20,10,%ld", cat), "label", itest_fmt("%ld", dog),
	    "pt.x", "5", "pt.y", "5");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//input[@name='corner']") == 1, "no corner after a click");
	CHECK(html_count(r, "//input[@name='box' and @value='2,3,20,10,%ld']", cat) == 1,
	    "the box was lost in the step");
	CHECK(Q1("SELECT COUNT(*) FROM annotations WHERE item_id = %ld", s.item) == 1, "a step saved");
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, aid), "csrf", csrf, "zoom", "fit",
	    "box", itest_fmt("2,3,20,10,%ld", cat), "box", itest_fmt("30,20,10,10,%ld", dog),
	    "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label?notice=changed", p));
	CHECK(Q1("SELECT JSON_LENGTH(data, '$.boxes') FROM annotations WHERE item_id = %ld "
	    "AND is_current = 1 AND relabel = 1", s.item) == 2, "the change did not store two boxes");
	CHECK(count_of(p, dog) == 1 && count_of(p, cat) == 1, "box classes not counted");
}

/* Several classes (multilabel): the editor opens with each of the answer's
 * classes checked, and a change with another set moves every count. */
static void mine_multilabel(void)
{
	long p = project_new("multilabel", 2), uid, cat, dog, bird, aid;
	struct client *c = labeler(&uid);
	struct shown s = label_page(c, p);
	struct resp *r;

	cat = label_of(p, "cat");
	dog = label_of(p, "dog");
	bird = label_of(p, "bird");
	r = POST_FORM(c, s.action, "csrf", s.csrf, "lease", s.lease, "label", itest_fmt("%ld", cat),
	    "label", itest_fmt("%ld", bird), "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", p));
	aid = current_of(s.item);
	r = GET(c, itest_fmt("/projects/%ld/mine/%ld", p, aid));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//input[@type='checkbox' and @name='label' and @checked]") == 2 &&
	    html_count(r, "//input[@name='label' and @value='%ld' and @checked]", cat) == 1 &&
	    html_count(r, "//input[@name='label' and @value='%ld' and @checked]", bird) == 1,
	    "the editor does not show cat and bird checked: %s", resp_snip(r));
	r = GET(c, itest_fmt("/projects/%ld/mine", p));
	CHECK_STREQ(html_str(r, "//tbody/tr[1]/td[@class='classes']"), "cat, bird");
	r = POST_FORM(c, itest_fmt("/projects/%ld/mine/%ld", p, aid), "csrf", s.csrf,
	    "label", itest_fmt("%ld", dog), "action", "submit");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label?notice=changed", p));
	CHECK(count_of(p, cat) == 0 && count_of(p, bird) == 0 && count_of(p, dog) == 1,
	    "counts after the change: cat %ld bird %ld dog %ld", count_of(p, cat), count_of(p, bird),
	    count_of(p, dog));
}

const struct itest_case itest_mine_cases[] = {
	ITEST(mine_back_relabel),
	ITEST(mine_refused),
	ITEST(mine_list),
	ITEST(mine_reject_reason),
	ITEST(mine_boxes_nojs),
	ITEST(mine_multilabel),
};
const size_t itest_mine_ncases = sizeof(itest_mine_cases) / sizeof(itest_mine_cases[0]);
