/*
 * t_labeling.c: the labeling queue, page and answers through nginx: the
 * queue under concurrency (many labelers at once, thousands of leases,
 * never a duplicate hand-out), the same item again within a lease, lease
 * expiry, skip, double submit, stale leases, bad and tampered submits,
 * pause/start, the item image route, the states a project can be in, and
 * CSRF.  Projects are made with SQL (fast, any size) with the test task
 * plugin "testtask"; the image test goes through the wizard.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")

#define STALE_SENTENCE "Your time on that image ran out and it went to someone else"
#define MP_BOUNDARY "----labeld-labeling-7d2e41c0"

/* ------------------------------------------------------------ helpers */

/* A name no earlier run or test used. */
static const char *uniq(const char *prefix)
{
	static unsigned counter;

	return itest_fmt("%s %ld-%ld-%u", prefix, (long)time(NULL), (long)getpid(), ++counter);
}

static long sql_long(const char *q)
{
	char *out = SQL_QUERY("%s", q);
	return strtol(out, NULL, 10);
}

/* A project of task `task` in `state` with nitems items (paths
 * "<folder>/N.png", 64 x 48, no files) and three labels cat, dog, bird,
 * made with SQL in the default datastore.  Returns its id. */
static long make_project(const char *task, const char *state, long nitems)
{
	const char *name = uniq("Queue");
	char *out;
	long id;

	out = SQL_QUERY(
	    "INSERT INTO datasets (name, description, datastore_id, path, kind, source) "
	    "SELECT %s, '', id, 'queue-test', 'input', 'datastore' FROM datastores WHERE is_default = 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, %s, LAST_INSERT_ID(), '', %s); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1), (@p, 'dog', 2), (@p, 'bird', 3); "
	    "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT @p, CONCAT('queue-test/', @p, '/', seq, '.png'), 64, 48, 'png' FROM seq_1_to_%ld; "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, %ld); "
	    "SELECT @p;",
	    sql_str(name), sql_str(name), sql_str(task), sql_str(state), nitems, nitems);
	id = strtol(out, NULL, 10);
	CHECK(id > 0, "make_project: no project id (%s)", out);
	ITEST_SERVE(id);
	return id;
}

/* The id of label `name` of project p. */
static long label_id(long p, const char *name)
{
	return sql_long(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND name = %s",
	    p, sql_str(name)));
}

/* A new labeler (not an admin) with the test user's password; returns a
 * signed-in client.  *email_out gets the address when not NULL. */
static struct client *new_labeler(const char **email_out)
{
	return NEW_LABELER(email_out);
}

static struct client *signed_in(const char *email, const char *password)
{
	struct client *c = CLIENT(NULL);

	SIGN_IN_OK(c, email, password);
	return c;
}

static long user_id(const char *email)
{
	return sql_long(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
}

/* One shown labeling page. */
struct page {
	struct resp *r;
	long item;          /* the item in the form's action */
	char *lease;
	char *csrf;
	char *action;
};

/* GET /projects/p/label, which must show an item; returns the page. */
static struct page label_page(struct client *c, long p)
{
	struct page pg = { 0 };
	long proj = 0;

	pg.r = GET(c, itest_fmt("/projects/%ld/label", p));
	CHECK_STATUS(pg.r, 200);
	pg.action = html_str(pg.r, "//form[@id='labelform']/@action");
	CHECK(pg.action != NULL, "project %ld: no labeling form: %s", p, resp_snip(pg.r));
	CHECK(sscanf(pg.action, "/projects/%ld/items/%ld", &proj, &pg.item) == 2 && proj == p &&
	    pg.item > 0, "labeling form action %s", pg.action);
	pg.lease = html_form_input(pg.r, "labelform", "lease");
	pg.csrf = html_form_input(pg.r, "labelform", "csrf");
	CHECK(is_base64url(pg.lease, 43), "lease token %s", pg.lease ? pg.lease : "(none)");
	CHECK(pg.csrf != NULL && strlen(pg.csrf) == 43, "no csrf in the labeling form");
	return pg;
}

/* Submit label `label` (NULL: none) on a shown page. */
static struct resp *submit(struct client *c, const struct page *pg, const char *label)
{
	return POST_FORM(c, pg->action, "csrf", pg->csrf, "lease", pg->lease, "label", label,
	    "action", "submit");
}

static struct resp *skip(struct client *c, const struct page *pg)
{
	return POST_FORM(c, pg->action, "csrf", pg->csrf, "lease", pg->lease, "action", "skip");
}

static const char *next_url(long p)
{
	return itest_fmt("/projects/%ld/label", p);
}

static long annotations_of(long item)
{
	return sql_long(itest_fmt("SELECT COUNT(*) FROM annotations WHERE item_id = %ld", item));
}

/* The visible text of a page's main part, white space collapsed. */
static const char *text_of(struct resp *r)
{
	char *t = html_str(r, "//main"), *o;

	if (t == NULL)
		return "";
	o = t;
	for (const char *p = t; *p != '\0'; p++) {
		int space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
		if (space && (o == t || o[-1] == ' '))
			continue;
		*o++ = space ? ' ' : *p;
	}
	*o = '\0';
	return t;
}

#define CHECK_TEXT(r, needle) CHECK(strstr(text_of(r), (needle)) != NULL, \
	"%s %s (status %ld): page lacks \"%s\": %s", (r)->method, (r)->url, (r)->status, \
	(needle), resp_snip(r))

/* ------------------------------------------------------------ the page */

/* The page shows the image, the editor inside the one form, the buttons,
 * progress, the script; a JS-free submit (radio + button) stores the
 * answer with labeler, lease and time, in one go with the counters. */
static void labeling_page_and_submit(void)
{
	long p = make_project("testtask", "running", 3), cat = label_id(p, "cat");
	const char *email;
	struct client *c = new_labeler(&email);
	struct page pg = label_page(c, p);
	struct resp *r = pg.r;
	long first = pg.item;

	CHECK(html_count(r, "//form[@id='labelform' and @method='post' and @data-input-mode='choose']") == 1,
	    "no form#labelform with data-input-mode=choose");
	CHECK(html_count(r, "//form[@id='labelform']//img[@src='/projects/%ld/items/%ld/image']", p, first) == 1,
	    "no image of item %ld", first);
	CHECK(html_count(r, "//form[@id='labelform']//input[@type='radio' and @name='label']") == 3,
	    "the test editor's three radio buttons are missing");
	CHECK(html_count(r, "//form[@id='labelform']//button[@name='action' and @value='submit']") >= 1,
	    "no Submit button");
	CHECK(html_count(r, "//form[@id='labelform']//button[@name='action' and @value='skip']") == 1,
	    "no Skip button");
	CHECK(html_count(r, "//script[@src='/static/labeld.js' and @defer]") == 1, "labeld.js not loaded");
	/* The labeling pages' own small stylesheet, not the rest of the site's. */
	CHECK(html_count(r, "//link[@rel='stylesheet' and @href='/static/base.css']") == 1 &&
	    html_count(r, "//link[@rel='stylesheet' and @href='/static/label.css']") == 1 &&
	    html_count(r, "//link[@rel='stylesheet']") == 2, "the labeling page does not link base.css + label.css");
	CHECK(html_count(r, "//script[not(@src)]") == 0, "an inline script");
	CHECK(html_count(r, "//*[@style]") == 0, "a style attribute");
	CHECK_TEXT(r, "You labeled 0 today");
	CHECK_TEXT(r, "The project is 0% done");
	CHECK(html_count(r, "//form[@id='labelform' and @data-prefetch='/projects/%ld/items/%ld/image']",
	    p, first + 1) == 1, "no prefetch of the next image");

	r = submit(c, &pg, itest_fmt("%ld", cat));
	CHECK_REDIRECT(r, 303, next_url(p));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(i.state, ' ', a.labeler_id = %ld, ' ', a.lease_token = %s, ' ', "
	    "JSON_VALUE(a.data, '$.label'), ' ', a.is_current, ' ', a.created_at > NOW() - INTERVAL 1 MINUTE, ' ', "
	    "i.lease_user IS NULL AND i.lease_token IS NULL) FROM items i JOIN annotations a ON a.item_id = i.id "
	    "WHERE i.id = %ld", user_id(email), sql_str(pg.lease), first),
	    itest_fmt("labeled 1 1 %ld 1 1 1", cat));
	CHECK(sql_long(itest_fmt("SELECT items_labeled FROM project_counters WHERE project_id = %ld", p)) == 1,
	    "project_counters not counted");
	CHECK(sql_long(itest_fmt("SELECT labeled FROM labeler_days WHERE project_id = %ld AND user_id = %ld "
	    "AND day = UTC_DATE()", p, user_id(email))) == 1, "labeler_days not counted");
	/* The annotation is the answer's only record (sql/006_answer_events.sql). */
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_events WHERE item_id = %ld AND kind = 'labeled'", first)) == 0,
	    "an item_events labeled row repeats the annotation");

	pg = label_page(c, p);
	CHECK(pg.item != first, "the labeled item %ld was handed out again", first);
	CHECK_TEXT(pg.r, "You labeled 1 today");
	CHECK_TEXT(pg.r, "The project is 33% done");
}

/* Coming back within the lease gives the same item under the same lease,
 * even from many requests of the same labeler at once. */
static void labeling_same_item_again(void)
{
	long p = make_project("testtask", "running", 5);
	struct client *c = new_labeler(NULL);
	struct page a = label_page(c, p), b = label_page(c, p);

	CHECK(a.item == b.item, "second visit got item %ld, first %ld", b.item, a.item);
	CHECK_STREQ(b.lease, a.lease);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'leased'", p)) == 1,
	    "a second lease was written");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND lease_user IS NOT NULL", p)) == 1,
	    "more than one item leased");
}

/* An editor step (no action) shows the page again with what was typed,
 * changes nothing, and keeps the lease. */
static void labeling_editor_step(void)
{
	long p = make_project("testtask", "running", 2), dog = label_id(p, "dog");
	struct client *c = new_labeler(NULL);
	struct page pg = label_page(c, p);
	struct resp *r = POST_FORM(c, pg.action, "csrf", pg.csrf, "lease", pg.lease,
	    "label", itest_fmt("%ld", dog));

	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_form_input(r, "labelform", "lease"), pg.lease);
	CHECK(annotations_of(pg.item) == 0, "an editor step stored an answer");
	CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", dog)), 303, next_url(p));
}

/* ------------------------------------------------------------ leases */

/* An expired lease returns the item to the queue; the first holder's
 * late answer is refused with the stale sentence, nothing is stored for
 * them, the new holder's answer is kept.  An expired lease that nobody
 * took is still good. */
static void labeling_lease_expiry(void)
{
	long p = make_project("testtask", "running", 3), cat = label_id(p, "cat");
	struct client *a = new_labeler(NULL), *b = new_labeler(NULL);
	struct page pa = label_page(a, p), pb;
	struct resp *r;

	SQL("UPDATE items SET lease_until = NOW(6) - INTERVAL 1 SECOND WHERE id = %ld", pa.item);
	pb = label_page(b, p);
	CHECK(pb.item == pa.item, "the expired item %ld did not go to the next labeler (got %ld)",
	    pa.item, pb.item);
	CHECK(strcmp(pb.lease, pa.lease) != 0, "the new lease reuses the old token");

	r = submit(a, &pa, itest_fmt("%ld", cat));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label?notice=stale", p));
	CHECK(annotations_of(pa.item) == 0, "the stale answer was stored");
	r = GET(a, itest_fmt("/projects/%ld/label?notice=stale", p));
	CHECK_STATUS(r, 200);
	CHECK_TEXT(r, STALE_SENTENCE);
	CHECK(html_count(r, "//form[@id='labelform']") == 1, "no next item with the stale notice");
	/* the notice is a fixed code: anything else shows nothing */
	r = GET(a, itest_fmt("/projects/%ld/label?notice=%s", p, url_enc("<b>pwned</b>")));
	CHECK_STATUS(r, 200);
	CHECK_BODY_LACKS(r, "pwned");

	CHECK_REDIRECT(submit(b, &pb, itest_fmt("%ld", cat)), 303, next_url(p));
	CHECK(annotations_of(pb.item) == 1, "the new holder's answer is missing");

	/* a's current lease runs out, nobody takes it: the answer counts */
	pa = label_page(a, p);
	SQL("UPDATE items SET lease_until = NOW(6) - INTERVAL 1 SECOND WHERE id = %ld", pa.item);
	CHECK_REDIRECT(submit(a, &pa, itest_fmt("%ld", cat)), 303, next_url(p));
	CHECK(annotations_of(pa.item) == 1, "an expired but untaken lease lost its answer");
}

/* Which item comes next: expired leases first, the oldest lease first,
 * then the items nobody has held, in id order; an item held under a lease
 * in force is never handed out (sql/007_queue_free.sql). */
static void labeling_queue_order(void)
{
	long p = make_project("testtask", "running", 6), first_free;
	struct client *a = new_labeler(NULL), *b = new_labeler(NULL), *c = new_labeler(NULL);
	struct page pa = label_page(a, p), pb = label_page(b, p), pc = label_page(c, p), pg;

	CHECK(pa.item < pb.item && pb.item < pc.item, "first leases not in id order: %ld %ld %ld",
	    pa.item, pb.item, pc.item);
	/* b's lease ran out 5 s ago, c's 9 s ago; a's is in force. */
	SQL("UPDATE items SET lease_until = NOW(6) - INTERVAL 5 SECOND WHERE id = %ld", pb.item);
	SQL("UPDATE items SET lease_until = NOW(6) - INTERVAL 9 SECOND WHERE id = %ld", pc.item);
	pg = label_page(new_labeler(NULL), p);
	CHECK(pg.item == pc.item, "the oldest expired lease (item %ld) was not handed out first (got %ld)",
	    pc.item, pg.item);
	pg = label_page(new_labeler(NULL), p);
	CHECK(pg.item == pb.item, "the other expired lease (item %ld) did not come next (got %ld)",
	    pb.item, pg.item);
	first_free = sql_long(itest_fmt("SELECT MIN(id) FROM items WHERE project_id = %ld AND "
	    "id NOT IN (%ld, %ld, %ld)", p, pa.item, pb.item, pc.item));
	pg = label_page(new_labeler(NULL), p);
	CHECK(pg.item == first_free, "after the expired leases, not the first item nobody held "
	    "(%ld): got %ld", first_free, pg.item);
	/* a comes back within its lease: its own item, nobody else's. */
	pg = label_page(a, p);
	CHECK(pg.item == pa.item && strcmp(pg.lease, pa.lease) == 0, "the holder lost its lease");
}

/* Skip gives the item back to others, and never to the skipper again. */
static void labeling_skip(void)
{
	long p = make_project("testtask", "running", 2);
	const char *email;
	struct client *a = new_labeler(&email), *b = new_labeler(NULL);
	struct page pa = label_page(a, p), pa2, pb;
	long skipped = pa.item;

	CHECK_REDIRECT(skip(a, &pa), 303, next_url(p));
	CHECK_REDIRECT(skip(a, &pa), 303, next_url(p));     /* a second click: no harm */
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_skips WHERE item_id = %ld AND user_id = %ld",
	    skipped, user_id(email))) == 1, "the skip was not remembered once");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_events WHERE item_id = %ld AND kind = 'skipped'",
	    skipped)) == 1, "no (or two) item_events skipped rows");
	CHECK(sql_long(itest_fmt("SELECT lease_user IS NULL FROM items WHERE id = %ld", skipped)) == 1,
	    "the skipped item is still leased");
	pa2 = label_page(a, p);
	CHECK(pa2.item != skipped, "the skipper got the skipped item %ld again", skipped);
	pb = label_page(b, p);
	CHECK(pb.item == skipped, "another labeler did not get the skipped item (got %ld)", pb.item);
	/* a skips the last one too: nothing left for a, though b holds one */
	CHECK_REDIRECT(skip(a, &pa2), 303, next_url(p));
	struct resp *r = GET(a, next_url(p));
	CHECK_STATUS(r, 200);
	CHECK_TEXT(r, "Nothing left to label");
}

/* A double submit stores one answer and answers like the first. */
static void labeling_double_submit(void)
{
	long p = make_project("testtask", "running", 3), dog = label_id(p, "dog");
	struct client *c = new_labeler(NULL);
	struct page pg = label_page(c, p);

	CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", dog)), 303, next_url(p));
	CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", dog)), 303, next_url(p));
	CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", label_id(p, "cat"))), 303, next_url(p));
	CHECK(annotations_of(pg.item) == 1, "a double submit stored %ld answers", annotations_of(pg.item));
	CHECK(sql_long(itest_fmt("SELECT items_labeled FROM project_counters WHERE project_id = %ld", p)) == 1,
	    "a double submit counted twice");
}

/* What CALL labeld_answer_batch(p, [item, user, token], 1) says: the
 * MariaDB error number, "0" when it stored the answer. */
static const char *answer_call(long p, long item, long user, const char *token)
{
	return SQL_QUERY("DELIMITER //\nBEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLEXCEPTION "
	    "GET DIAGNOSTICS CONDITION 1 @e = MYSQL_ERRNO; SET @e = 0; "
	    "CALL labeld_answer_batch(%ld, '[{\"i\":%ld,\"u\":%ld,\"t\":\"%s\",\"d\":\"{}\"}]', 1); "
	    "END//\nDELIMITER ;\nSELECT @e", p, item, user, token);
}

/* The one lease guard (labeld_leases_end, sql/012_answer_one_path.sql),
 * which every answer passes alone or in a batch, tells a repeated lease
 * token apart: the lease that stored its answer is refused as a duplicate
 * (1062: labeld answers "already answered", as for every double submit),
 * a token the item was never leased under as 1644 (classified as stale or
 * not held), and neither stores anything. */
static void labeling_answer_repeat_token(void)
{
	long p = make_project("testtask", "running", 2), dog = label_id(p, "dog");
	struct client *c = new_labeler(NULL);
	struct page pg = label_page(c, p);
	long user = sql_long(itest_fmt("SELECT lease_user FROM items WHERE id = %ld", pg.item));
	char tampered[44];

	CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", dog)), 303, next_url(p));
	CHECK_STREQ(answer_call(p, pg.item, user, pg.lease), "1062");
	snprintf(tampered, sizeof(tampered), "%s", pg.lease);
	tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
	CHECK_STREQ(answer_call(p, pg.item, user, tampered), "1644");
	CHECK(annotations_of(pg.item) == 1, "a repeated token stored %ld answers", annotations_of(pg.item));
	CHECK(sql_long(itest_fmt("SELECT items_labeled FROM project_counters WHERE project_id = %ld", p)) == 1,
	    "a repeated token was counted");
	/* And the labeler's own double submit still answers as before. */
	CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", dog)), 303, next_url(p));
}

/* Bad submits are refused with a message, and the labeler's own lease and
 * work stay as they were. */
static void labeling_bad_submits(void)
{
	long p = make_project("testtask", "running", 4), q = make_project("testtask", "running", 2);
	long cat = label_id(p, "cat");
	struct client *a = new_labeler(NULL), *b = new_labeler(NULL);
	struct page pa = label_page(a, p), pb = label_page(b, p), qa = label_page(a, q);
	char tampered[44];
	struct resp *r;

	/* a tampered token: one character changed; none at all; junk */
	strcpy(tampered, pa.lease);
	tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
	r = POST_FORM(a, pa.action, "csrf", pa.csrf, "lease", tampered, "label", itest_fmt("%ld", cat),
	    "action", "submit");
	CHECK_STATUS(r, 409);
	CHECK_TEXT(r, "Nothing was saved");
	r = POST_FORM(a, pa.action, "csrf", pa.csrf, "label", itest_fmt("%ld", cat), "action", "submit");
	CHECK_STATUS(r, 409);
	r = POST_FORM(a, pa.action, "csrf", pa.csrf, "lease", "'; DROP TABLE items; --",
	    "label", itest_fmt("%ld", cat), "action", "skip");
	CHECK_STATUS(r, 409);

	/* someone else's item, with their lease or a's */
	r = POST_FORM(a, pb.action, "csrf", pa.csrf, "lease", pb.lease, "label", itest_fmt("%ld", cat),
	    "action", "submit");
	CHECK_STATUS(r, 403);
	CHECK_TEXT(r, "not reserved for you");
	r = POST_FORM(a, pb.action, "csrf", pa.csrf, "lease", pa.lease, "action", "skip");
	CHECK_STATUS(r, 403);

	/* another project's item under this project's URL; unknown items */
	r = POST_FORM(a, itest_fmt("/projects/%ld/items/%ld", p, qa.item), "csrf", pa.csrf,
	    "lease", qa.lease, "label", itest_fmt("%ld", cat), "action", "submit");
	CHECK_STATUS(r, 404);
	r = POST_FORM(a, itest_fmt("/projects/%ld/items/999999999", p), "csrf", pa.csrf,
	    "lease", pa.lease, "action", "submit");
	CHECK_STATUS(r, 404);
	r = POST_FORM(a, itest_fmt("/projects/%ld/items/abc", p), "csrf", pa.csrf,
	    "lease", pa.lease, "action", "submit");
	CHECK_STATUS(r, 404);
	r = POST_FORM(a, itest_fmt("/projects/999999999/items/%ld", pa.item), "csrf", pa.csrf,
	    "lease", pa.lease, "action", "submit");
	CHECK_STATUS(r, 404);

	/* the plugin refuses the answer: 422, the page again with the lease */
	r = POST_FORM(a, pa.action, "csrf", pa.csrf, "lease", pa.lease, "label", "999999999",
	    "action", "submit");
	CHECK_STATUS(r, 422);
	CHECK(strstr(html_str(r, "//p[contains(@class,'flash') and contains(@class,'error')]") ?: "",
	    "not one of this project's labels") != NULL, "no message for an unknown label: %s", resp_snip(r));
	CHECK_STREQ(html_form_input(r, "labelform", "lease"), pa.lease);
	r = POST_FORM(a, pa.action, "csrf", pa.csrf, "lease", pa.lease, "action", "submit");
	CHECK_STATUS(r, 422);
	CHECK(html_count(r, "//p[contains(@class,'flash') and contains(@class,'error') and contains(., 'Choose a label')]") == 1,
	    "no message for a missing label");
	r = POST_FORM(a, pa.action, "csrf", pa.csrf, "lease", pa.lease, "label", itest_fmt("%ld", cat),
	    "label", itest_fmt("%ld", label_id(p, "dog")), "action", "submit");
	CHECK_STATUS(r, 422);

	/* nothing was stored, and both labelers still hold their items */
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM annotations WHERE project_id IN (%ld, %ld)", p, q)) == 0,
	    "a refused submit stored something");
	CHECK(label_page(a, p).item == pa.item, "a lost the lease after refused submits");
	CHECK(label_page(b, p).item == pb.item, "b lost the lease after a's refused submits");
	CHECK_REDIRECT(submit(a, &pa, itest_fmt("%ld", cat)), 303, next_url(p));
	CHECK_REDIRECT(submit(b, &pb, itest_fmt("%ld", cat)), 303, next_url(p));
	CHECK_REDIRECT(submit(a, &qa, itest_fmt("%ld", label_id(q, "cat"))), 303, next_url(q));
}

/* CSRF: a submit, a skip or a pause without the session's token changes
 * nothing. */
static void labeling_csrf(void)
{
	long p = make_project("testtask", "running", 2), cat = label_id(p, "cat");
	struct client *c = new_labeler(NULL), *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	struct page pg = label_page(c, p);
	struct resp *r;

	r = POST_FORM(c, pg.action, "lease", pg.lease, "label", itest_fmt("%ld", cat), "action", "submit");
	CHECK_STATUS(r, 403);
	r = POST_FORM(c, pg.action, "csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "lease", pg.lease,
	    "label", itest_fmt("%ld", cat), "action", "submit");
	CHECK_STATUS(r, 403);
	r = POST_FORM(c, pg.action, "csrf", "x", "lease", pg.lease, "action", "skip");
	CHECK_STATUS(r, 403);
	r = POST_FORM(admin, itest_fmt("/projects/%ld/state", p), "csrf", pg.csrf, "state", "paused");
	CHECK_STATUS(r, 403);   /* another session's token */
	CHECK(annotations_of(pg.item) == 0, "a submit without CSRF token was stored");
	CHECK_STREQ(SQL_QUERY("SELECT state FROM projects WHERE id = %ld", p), "running");
	CHECK(label_page(c, p).item == pg.item, "the lease changed");
}

/* ------------------------------------------------------------ pause/start */

static struct resp *set_state(struct client *c, long p, const char *state)
{
	struct resp *r = GET(c, "/projects");

	CHECK_STATUS(r, 200);
	return POST_FORM(c, itest_fmt("/projects/%ld/state", p), "csrf", html_logout_csrf(r),
	    "state", state);
}

/* Pause ends every lease and hands out nothing; labelers see it; a late
 * answer is refused; only admins may toggle; Start resumes. */
static void labeling_pause_start(void)
{
	long p = make_project("testtask", "running", 4), cat = label_id(p, "cat");
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	struct client *a = new_labeler(NULL), *b = new_labeler(NULL);
	struct client *user = signed_in(USER_EMAIL, USER_PASSWORD);
	struct page pa;

	ITEST_JOIN(USER_EMAIL);
	pa = label_page(a, p);
	struct resp *r;

	label_page(b, p);
	r = GET(admin, itest_fmt("/projects/%ld", p));
	CHECK(html_count(r, "//a[@href='/projects/%ld/label' and normalize-space(.)='Label data']", p) == 1,
	    "no Label data link on the details page");
	CHECK(html_count(r, "//form[@action='/projects/%ld/state']//button[@name='state' and @value='paused']", p) == 1,
	    "no Pause button for the admin");
	r = GET(user, itest_fmt("/projects/%ld", p));
	CHECK(html_count(r, "//a[@href='/projects/%ld/label']", p) == 1, "no Label data link for a labeler");
	CHECK(html_count(r, "//form[@action='/projects/%ld/state']", p) == 0, "a labeler sees the Pause form");

	/* only admins */
	r = set_state(user, p, "paused");
	CHECK_STATUS(r, 403);
	CHECK_STREQ(SQL_QUERY("SELECT state FROM projects WHERE id = %ld", p), "running");
	r = set_state(admin, p, "sideways");
	CHECK_STATUS(r, 422);

	r = set_state(admin, p, "paused");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld?saved=paused", p));
	CHECK_STREQ(SQL_QUERY("SELECT state FROM projects WHERE id = %ld", p), "paused");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND "
	    "(lease_user IS NOT NULL OR lease_token IS NOT NULL OR lease_until IS NOT NULL)", p)) == 0,
	    "Pause left leases");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'released'", p)) == 2,
	    "Pause did not record two released leases");
	r = GET(admin, itest_fmt("/projects/%ld", p));
	CHECK(html_count(r, "//form[@action='/projects/%ld/state']//button[@value='running' and normalize-space(.)='Start']", p) == 1,
	    "no Start button on a paused project");
	CHECK(html_count(r, "//h1/span[contains(@class,'state') and normalize-space(.)='Paused']") == 1,
	    "the details page does not say Paused");

	r = GET(a, next_url(p));
	CHECK_STATUS(r, 200);
	CHECK_TEXT(r, "This project is paused");
	CHECK(html_count(r, "//form[@id='labelform']") == 0, "a paused project handed out an item");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND lease_user IS NOT NULL", p)) == 0,
	    "a paused project leased an item");
	r = submit(a, &pa, itest_fmt("%ld", cat));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label?notice=paused", p));
	CHECK(annotations_of(pa.item) == 0, "an answer was stored in a paused project");
	r = GET(a, itest_fmt("/projects/%ld/label?notice=paused", p));
	CHECK_TEXT(r, "your answer was not saved");

	/* pausing twice is harmless; Start resumes */
	CHECK_REDIRECT(set_state(admin, p, "paused"), 303, itest_fmt("/projects/%ld?saved=paused", p));
	CHECK_REDIRECT(set_state(admin, p, "running"), 303, itest_fmt("/projects/%ld?saved=started", p));
	CHECK_STREQ(SQL_QUERY("SELECT state FROM projects WHERE id = %ld", p), "running");
	pa = label_page(a, p);
	CHECK_REDIRECT(submit(a, &pa, itest_fmt("%ld", cat)), 303, next_url(p));

	/* an initializing project cannot be paused */
	long init = make_project("testtask", "initializing", 1);
	CHECK_STATUS(set_state(admin, init, "paused"), 409);
	CHECK_STATUS(set_state(admin, 999999999, "paused"), 404);
}

/* The page for the states where no item can be shown. */
static void labeling_project_states(void)
{
	struct client *c = new_labeler(NULL);
	long p;
	struct resp *r;

	p = make_project("testtask", "initializing", 1);
	r = GET(c, next_url(p));
	CHECK_STATUS(r, 200);
	CHECK_TEXT(r, "still being set up");
	p = make_project("testtask", "failed", 1);
	r = GET(c, next_url(p));
	CHECK_STATUS(r, 200);
	CHECK_TEXT(r, "could not be set up");
	p = make_project("nosuchtask", "running", 1);
	r = GET(c, next_url(p));
	CHECK_STATUS(r, 503);
	CHECK_TEXT(r, "nosuchtask");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND lease_user IS NOT NULL", p)) == 0,
	    "an item was leased for a missing task type");
	CHECK_STATUS(GET(c, "/projects/999999999/label"), 404);
	CHECK_STATUS(GET(c, "/projects/0/label"), 404);
	CHECK_STATUS(GET(c, "/projects/x1/label"), 404);

	/* the empty queue says so and counts the labeler's work */
	p = make_project("testtask", "running", 1);
	struct page pg = label_page(c, p);
	CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", label_id(p, "bird"))), 303, next_url(p));
	r = GET(c, next_url(p));
	CHECK_STATUS(r, 200);
	CHECK_TEXT(r, "Nothing left to label");
	CHECK_TEXT(r, "You labeled 1 image of this project today and 1 in all");
	CHECK_TEXT(r, "100% done");
}

/* ------------------------------------------------------------ images */

/* A file of tests/fixtures/images/ (owned by the running test). */
static char *fixture(const char *rel, size_t *len)
{
	char *path = itest_fmt("%s/tests/fixtures/images/%s", ENV("LABELD_TEST_SRCDIR"), rel);
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	CHECK(f != NULL, "cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = itest_keep(malloc((size_t)n + 1));
	CHECK(data != NULL && fread(data, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* A project from one uploaded image through the wizard (the real path
 * into the default datastore); returns its id once it runs. */
static long uploaded_project(struct client *admin, const char *file)
{
	struct resp *r = GET(admin, "/projects");
	const char *loc, *csrf = html_logout_csrf(r);
	long draft, id;
	size_t len;
	char *png = fixture(file, &len), *body, *d;
	size_t blen;
	FILE *m;

	r = POST_FORM(admin, "/projects/drafts", "csrf", csrf);
	loc = resp_header(r, "Location");
	CHECK(r->status == 303 && loc && sscanf(loc, "/projects/drafts/%ld/", &draft) == 1, "no draft");
	d = itest_fmt("/projects/drafts/%ld", draft);
	CHECK_REDIRECT(POST_FORM(admin, itest_fmt("%s/name", d), "csrf", csrf, "name", uniq("Images"),
	    "task", "testtask", "go", "next"), 303, itest_fmt("%s/data", d));
	CHECK_REDIRECT(POST_FORM(admin, itest_fmt("%s/data", d), "csrf", csrf, "source", "upload", "go", "next"),
	    303, itest_fmt("%s/upload", d));
	m = open_memstream(&body, &blen);
	CHECK(m != NULL, "open_memstream");
	fprintf(m, "--" MP_BOUNDARY "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
	    "--" MP_BOUNDARY "\r\nContent-Disposition: form-data; name=\"ds_name\"\r\n\r\n%s\r\n"
	    "--" MP_BOUNDARY "\r\nContent-Disposition: form-data; name=\"ds_description\"\r\n\r\n\r\n"
	    "--" MP_BOUNDARY "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"%s\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n", csrf, uniq("Image set"), file);
	fwrite(png, 1, len, m);
	fprintf(m, "\r\n--" MP_BOUNDARY "\r\nContent-Disposition: form-data; name=\"go\"\r\n\r\nnext\r\n"
	    "--" MP_BOUNDARY "--\r\n");
	fclose(m);
	itest_keep(body);
	r = POST_RAW(admin, itest_fmt("%s/upload", d), "multipart/form-data; boundary=" MP_BOUNDARY, body, blen);
	CHECK_REDIRECT(r, 303, itest_fmt("%s/confirm", d));
	CHECK_REDIRECT(POST_FORM(admin, itest_fmt("%s/confirm", d), "csrf", csrf, "go", "create"),
	    303, itest_fmt("%s/labels", d));
	CHECK_REDIRECT(POST_FORM(admin, itest_fmt("%s/labels", d), "csrf", csrf, "label", "one",
	    "label", "two", "go", "next"), 303, itest_fmt("%s/instructions", d));
	CHECK_REDIRECT(POST_FORM(admin, itest_fmt("%s/instructions", d), "csrf", csrf,
	    "instructions_url", "", "description", "", "go", "next"), 303, itest_fmt("%s/review", d));
	r = POST_FORM(admin, itest_fmt("%s/review", d), "csrf", csrf, "go", "create");
	loc = resp_header(r, "Location");
	CHECK(r->status == 303 && loc && sscanf(loc, "/projects/%ld", &id) == 1, "no project: %s", resp_snip(r));
	for (int waited = 0; ; waited += 100) {
		char *state = SQL_QUERY("SELECT state FROM projects WHERE id = %ld", id);
		if (strcmp(state, "running") == 0)
			break;
		CHECK(strcmp(state, "failed") != 0 && waited < 60000, "project %ld: %s", id, state);
		itest_sleep_ms(100);
	}
	ITEST_SERVE(id);
	return id;
}

/* The image route: the bytes (through nginx's X-Accel-Redirect for the
 * default datastore, from labeld for another local datastore), only for a
 * signed-in user, only the item of this project. */
static void labeling_item_image(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	struct client *c = new_labeler(NULL), *anon = CLIENT(NULL);
	long p = uploaded_project(admin, "horse.png"), other = make_project("testtask", "running", 1);
	struct page pg = label_page(c, p);
	char *src = html_str(pg.r, "//form[@id='labelform']//img/@src");
	size_t len;
	char *png = fixture("horse.png", &len);
	struct resp *r;

	CHECK_STREQ(src, itest_fmt("/projects/%ld/items/%ld/image", p, pg.item));
	r = GET(c, src);
	CHECK_STATUS(r, 200);
	CHECK_STREQ(resp_header(r, "Content-Type"), "image/png");
	CHECK(r->len == len && memcmp(r->body, png, len) == 0, "the image bytes differ (%zu, want %zu)", r->len, len);
	CHECK(resp_header(r, "X-Accel-Redirect") == NULL, "X-Accel-Redirect leaked to the browser");
	CHECK(resp_header(r, "Cache-Control") != NULL && strstr(resp_header(r, "Cache-Control"), "private") != NULL,
	    "Cache-Control %s", resp_header(r, "Cache-Control") ?: "(none)");

	/* signed out: to the sign-in page; another project's id: 404 */
	r = GET(anon, src);
	CHECK_STATUS(r, 303);
	CHECK(strncmp(resp_header(r, "Location") ?: "", "/login", 6) == 0, "signed out: Location %s",
	    resp_header(r, "Location") ?: "(none)");
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld/items/%ld/image", other, pg.item)), 404);
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld/items/999999999/image", p)), 404);
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld/items/-1/image", p)), 404);
	CHECK_STATUS(GET(c, "/_datastore/anything.png"), 404);

	/* a local datastore outside nginx's reach: labeld sends the bytes */
	const char *dir = itest_fmt("%s/tests/fixtures/images", ENV("LABELD_TEST_SRCDIR"));
	char *out = SQL_QUERY(
	    "INSERT INTO datastores (name, kind, local_path) VALUES (%s, 'local', %s); "
	    "INSERT INTO datasets (name, description, datastore_id, path) VALUES (%s, '', LAST_INSERT_ID(), ''); "
	    "INSERT INTO projects (name, task, dataset_id, description, state) VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO items (project_id, path, width, height, format) VALUES (@p, 'horse.png', 400, 400, 'png'); "
	    "SELECT CONCAT(@p, ' ', LAST_INSERT_ID());",
	    sql_str(uniq("Fixtures")), sql_str(dir), sql_str(uniq("Fixture set")), sql_str(uniq("Fixture project")));
	long fp = 0, fi = 0;
	CHECK(sscanf(out, "%ld %ld", &fp, &fi) == 2, "fixture project: %s", out);
	/* (an item the labeler never held: only an admin sees it) */
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld/items/%ld/image", fp, fi)), 404);
	r = GET(admin, itest_fmt("/projects/%ld/items/%ld/image", fp, fi));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(resp_header(r, "Content-Type"), "image/png");
	CHECK(r->len == len && memcmp(r->body, png, len) == 0, "labeld sent other bytes (%zu, want %zu)", r->len, len);
	SQL("UPDATE items SET path = 'no-such-file.png' WHERE id = %ld", fi);
	CHECK_STATUS(GET(admin, itest_fmt("/projects/%ld/items/%ld/image", fp, fi)), 404);
}

/* A running project of task testtask over a local datastore that is not
 * the default one (labeld sends its files itself) at directory dir, with
 * one item per path; returns its id, the item ids in *items (in order). */
static long files_project(const char *dir, const char *const *paths, size_t n, long *items)
{
	char *out = SQL_QUERY(
	    "INSERT INTO datastores (name, kind, local_path) VALUES (%s, 'local', %s); "
	    "INSERT INTO datasets (name, description, datastore_id, path) VALUES (%s, '', LAST_INSERT_ID(), ''); "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1), (@p, 'dog', 2); "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, %zu); "
	    "SELECT @p;", sql_str(uniq("Files")), sql_str(dir), sql_str(uniq("File set")),
	    sql_str(uniq("Files project")), n);
	long p = strtol(out, NULL, 10);

	CHECK(p > 0, "files_project: %s", out);
	for (size_t i = 0; i < n; i++)
		items[i] = sql_long(itest_fmt("INSERT INTO items (project_id, path, width, height, format) "
		    "VALUES (%ld, %s, 64, 48, 'png'); SELECT LAST_INSERT_ID();", p, sql_str(paths[i])));
	ITEST_SERVE(p);
	return p;
}

static const char *image_url(long p, long item)
{
	return itest_fmt("/projects/%ld/items/%ld/image", p, item);
}

/* Symlinks in the default datastore: nginx follows none (disable_symlinks
 * on), so labeld hands nginx only files reached without one and streams a
 * symlink that stays inside the datastore itself; one that leads out is
 * never followed (404). */
static void labeling_image_symlinks(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	const char *root = ENV("LABELD_TEST_DEFAULT_DATASTORE");
	long p = uploaded_project(admin, "horse.png"), plain, inside, outside;
	char *path = SQL_QUERY("SELECT path FROM items WHERE project_id = %ld", p);
	const char *dir = itest_fmt("links-%ld", (long)getpid());
	char *conf, *loc;
	size_t len, clen;
	char *png = fixture("horse.png", &len);
	struct resp *r;
	FILE *f;

	plain = sql_long(itest_fmt("SELECT id FROM items WHERE project_id = %ld", p));
	CHECK(mkdir(itest_fmt("%s/%s", root, dir), 0755) == 0, "mkdir: %s", strerror(errno));
	CHECK(symlink(itest_fmt("../%s", path), itest_fmt("%s/%s/inside.png", root, dir)) == 0,
	    "symlink: %s", strerror(errno));
	CHECK(symlink(itest_fmt("%s/tests/fixtures/images/horse.png", ENV("LABELD_TEST_SRCDIR")),
	    itest_fmt("%s/%s/outside.png", root, dir)) == 0, "symlink: %s", strerror(errno));
	inside = sql_long(itest_fmt("INSERT INTO items (project_id, path, width, height, format) "
	    "VALUES (%ld, '%s/inside.png', 400, 400, 'png'); SELECT LAST_INSERT_ID();", p, dir));
	outside = sql_long(itest_fmt("INSERT INTO items (project_id, path, width, height, format) "
	    "VALUES (%ld, '%s/outside.png', 400, 400, 'png'); SELECT LAST_INSERT_ID();", p, dir));

	r = GET(admin, image_url(p, plain));
	CHECK_STATUS(r, 200);
	CHECK(r->len == len && memcmp(r->body, png, len) == 0, "plain file: other bytes");
	r = GET(admin, image_url(p, inside));
	CHECK_STATUS(r, 200);
	CHECK(r->len == len && memcmp(r->body, png, len) == 0, "symlink inside: other bytes (%zu)", r->len);
	r = GET(admin, image_url(p, outside));
	CHECK_STATUS(r, 404);
	CHECK(r->len < 8 || memcmp(r->body, "\x89PNG", 4) != 0, "a symlink out of the datastore was followed");

	/* and nginx itself would not follow one: the site's datastore location */
	f = fopen(itest_fmt("%s/../nginx/labeld.conf", ENV("LABELD_TEST_RUN_DIR")), "r");
	CHECK(f != NULL, "the stack's nginx site config: %s", strerror(errno));
	conf = itest_keep(malloc(1 << 16));
	clen = fread(conf, 1, (1 << 16) - 1, f);
	conf[clen] = '\0';
	fclose(f);
	loc = strstr(conf, "location ^~ /_datastore/ {");
	CHECK(loc != NULL && strstr(loc, "disable_symlinks on") != NULL &&
	    strstr(loc, "disable_symlinks on") < strstr(loc, "}"),
	    "the /_datastore/ location lacks disable_symlinks on");
	unlink(itest_fmt("%s/%s/inside.png", root, dir));
	unlink(itest_fmt("%s/%s/outside.png", root, dir));
	rmdir(itest_fmt("%s/%s", root, dir));
}

/* Who sees an image (docs/labeling.md): a labeler the item they hold, the
 * one their page prefetches, and those they answered; nothing else, and
 * forged ids get the same 404 as ids that do not exist.  Admins see all. */
static void labeling_image_access(void)
{
	static const char *const files[] = {
		"astronaut.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "horse.png",
	};
	const char *dir = itest_fmt("%s/tests/fixtures/images", ENV("LABELD_TEST_SRCDIR"));
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	struct client *one = new_labeler(NULL), *two = new_labeler(NULL);
	long it[6], qit[1], p = files_project(dir, files, 6, it), q = files_project(dir, files + 5, 1, qit);
	struct page a, b;
	char *pre;

	/* one holds it[0] and may prefetch it[1]; two holds it[1] (the next
	 * free item) and may prefetch it[2]. */
	a = label_page(one, p);
	CHECK(a.item == it[0], "one got item %ld, want %ld", a.item, it[0]);
	pre = html_str(a.r, "//form[@id='labelform']/@data-prefetch");
	CHECK_STREQ(pre, image_url(p, it[1]));
	b = label_page(two, p);
	CHECK(b.item == it[1], "two got item %ld, want %ld", b.item, it[1]);
	CHECK_STREQ(html_str(b.r, "//form[@id='labelform']/@data-prefetch"), image_url(p, it[2]));

	/* what the pages show */
	CHECK_STATUS(GET(one, html_str(a.r, "//form[@id='labelform']//img/@src")), 200);
	CHECK_STATUS(GET(one, pre), 200);
	CHECK_STATUS(GET(two, image_url(p, it[1])), 200);
	CHECK_STATUS(GET(two, image_url(p, it[2])), 200);

	/* forged: another labeler's leased item, unanswered items of the
	 * project, an item of another project (also one the labeler holds
	 * there, under this project's id), ids that do not exist */
	CHECK_STATUS(GET(two, image_url(p, it[0])), 404);
	CHECK_STATUS(GET(one, image_url(p, it[2])), 404);
	for (int i = 3; i < 6; i++) {
		CHECK_STATUS(GET(one, image_url(p, it[i])), 404);
		CHECK_STATUS(GET(two, image_url(p, it[i])), 404);
	}
	CHECK_STATUS(GET(one, image_url(q, qit[0])), 404);
	label_page(one, q);
	CHECK_STATUS(GET(one, image_url(q, qit[0])), 200);
	CHECK_STATUS(GET(one, image_url(p, qit[0])), 404);
	CHECK_STATUS(GET(one, image_url(q, it[0])), 404);
	CHECK_STATUS(GET(one, image_url(p, 999999999)), 404);
	CHECK_STATUS(GET(one, "/projects/999999999/items/1/image"), 404);
	CHECK_STATUS(GET(one, itest_fmt("/projects/%ld/items/0/image", p)), 404);
	CHECK_STATUS(GET(one, itest_fmt("/projects/%ld/items/x/image", p)), 404);
	/* the same page for a forged id as for one that does not exist */
	CHECK_STREQ(text_of(GET(two, image_url(p, it[0]))), text_of(GET(two, image_url(p, 999999999))));

	/* answered: still visible to the one who answered; the prefetch
	 * allowance ended with the lease it came with */
	CHECK_REDIRECT(submit(one, &a, itest_fmt("%ld", label_id(p, "cat"))), 303, next_url(p));
	CHECK_STATUS(GET(one, image_url(p, it[0])), 200);
	CHECK_STATUS(GET(two, image_url(p, it[0])), 404);
	CHECK_STATUS(GET(one, image_url(p, it[1])), 404);
	/* a skipped item is not answered */
	CHECK_REDIRECT(skip(two, &b), 303, next_url(p));
	CHECK_STATUS(GET(two, image_url(p, it[1])), 404);

	/* admins: every item of the project, by its own project only */
	for (int i = 0; i < 6; i++)
		CHECK_STATUS(GET(admin, image_url(p, it[i])), 200);
	CHECK_STATUS(GET(admin, image_url(q, qit[0])), 200);
	CHECK_STATUS(GET(admin, image_url(p, qit[0])), 404);
	CHECK_STATUS(GET(admin, image_url(p, 999999999)), 404);
}

/* A file of a local datastore that is not the default one, larger than
 * labeld's pieces: streamed whole with its Content-Length (HEAD: the
 * headers only). */
static void labeling_image_streamed(void)
{
	const char *dir = itest_fmt("%s/stream-%ld", ENV("LABELD_TEST_DATASTORE_ROOT"), (long)getpid());
	const char *file = itest_fmt("%s/big.bmp", dir);
	static const char *const paths[] = { "big.bmp", "gone.bmp" };
	size_t n = (size_t)5 << 20;
	char *data = itest_keep(malloc(n));
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	long it[2], p;
	struct resp *r;
	FILE *f;

	CHECK(data != NULL, "out of memory");
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + (i >> 16));
	CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
	f = fopen(file, "wb");
	CHECK(f != NULL && fwrite(data, 1, n, f) == n && fclose(f) == 0, "cannot write %s", file);
	p = files_project(dir, paths, 2, it);
	SQL("UPDATE items SET format = 'bmp' WHERE project_id = %ld", p);
	r = GET(admin, image_url(p, it[0]));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(resp_header(r, "Content-Type"), "image/bmp");
	CHECK_STREQ(resp_header(r, "Content-Length"), itest_fmt("%zu", n));
	CHECK(r->len == n && memcmp(r->body, data, n) == 0, "labeld sent other bytes (%zu, want %zu)", r->len, n);
	CHECK(strstr(resp_header(r, "Cache-Control") ?: "", "private") != NULL, "Cache-Control %s",
	    resp_header(r, "Cache-Control") ?: "(none)");
	r = HEAD(admin, image_url(p, it[0]));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(resp_header(r, "Content-Length"), itest_fmt("%zu", n));
	CHECK(r->len == 0, "HEAD: %zu bytes of body", r->len);
	CHECK_STATUS(GET(admin, image_url(p, it[1])), 404);
	unlink(file);
	rmdir(dir);
}

/* An Azure Blob datastore (Azurite, an allowed host): the blob streamed;
 * a missing one answered 502 without the service's words. */
static void labeling_image_blob(void)
{
	const char *az = ENV("LABELD_TEST_AZURITE");
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	size_t len;
	char *png = fixture("horse.png", &len);
	char *out = SQL_QUERY(
	    "INSERT INTO datastores (name, kind, blob_endpoint, blob_account, blob_container, blob_key) "
	    "VALUES (%s, 'azureblob', %s, %s, %s, %s); "
	    "INSERT INTO datasets (name, description, datastore_id, path) VALUES (%s, '', LAST_INSERT_ID(), ''); "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO items (project_id, path, width, height, format) VALUES "
	    "(@p, 'top/horse.png', 400, 400, 'png'), (@p, 'top/no-such.png', 4, 4, 'png'); "
	    "SELECT @p, MIN(id), MAX(id) FROM items WHERE project_id = @p;",
	    sql_str(uniq("Blobs")), sql_str(az), sql_str(strrchr(az, '/') + 1),
	    sql_str(ENV("LABELD_TEST_AZURITE_CONTAINER")), sql_str(ENV("LABELD_TEST_AZURITE_KEY")),
	    sql_str(uniq("Blob set")), sql_str(uniq("Blob project")));
	long p = 0, have = 0, missing = 0;
	struct resp *r;

	CHECK(sscanf(out, "%ld %ld %ld", &p, &have, &missing) == 3, "blob project: %s", out);
	r = GET(admin, image_url(p, have));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(resp_header(r, "Content-Type"), "image/png");
	CHECK_STREQ(resp_header(r, "Content-Length"), itest_fmt("%zu", len));
	CHECK(r->len == len && memcmp(r->body, png, len) == 0, "labeld sent other bytes (%zu, want %zu)", r->len, len);
	r = GET(admin, image_url(p, missing));
	CHECK_STATUS(r, 502);
	CHECK_STREQ(resp_header(r, "Cache-Control"), "no-store");
	CHECK_BODY_LACKS(r, "404");
	CHECK_BODY_LACKS(r, "BlobNotFound");
}

/* One GET on its own libcurl handle (threads: the harness is not
 * thread-safe). */
struct slow_get {
	pthread_t tid;
	const char *url;
	const char *cookie;
	long status;
};

static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static void *slow_get_run(void *arg)
{
	struct slow_get *g = arg;
	CURL *c = curl_easy_init();

	g->status = -1;
	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, g->url);
	curl_easy_setopt(c, CURLOPT_COOKIE, g->cookie);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
	curl_easy_cleanup(c);
	return NULL;
}

/* At most blob_max_fetches (2 in the test stack) image fetches from blob
 * storage at once per labeld process: with two waiting on a blob service
 * that never answers, the next image gets 503 with Retry-After at once,
 * while other pages still answer; the two end with 502 when the service
 * goes away. */
static void labeling_image_blob_busy(void)
{
	const char *base = ENV("LABELD_TEST_URL_A");
	long pid = 0;
	int port = itest_badhttp_start(&pid);
	struct client *admin = CLIENT(base);
	char *cookie = itest_fmt("labeld_session=%s", SIGN_IN_OK(admin, ADMIN_EMAIL, ADMIN_PASSWORD));
	char *out = SQL_QUERY(
	    "INSERT INTO datastores (name, kind, blob_endpoint, blob_account, blob_container, blob_key) "
	    "VALUES (%s, 'azureblob', %s, 'acct', 'slow', 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='); "
	    "INSERT INTO datasets (name, description, datastore_id, path) VALUES (%s, '', LAST_INSERT_ID(), ''); "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO items (project_id, path, width, height, format) VALUES (@p, 'a.png', 4, 4, 'png'); "
	    "SELECT @p, LAST_INSERT_ID();", sql_str(uniq("Slow blobs")),
	    sql_str(itest_fmt("http://localhost:%d/acct", port)), sql_str(uniq("Slow set")),
	    sql_str(uniq("Slow project")));
	long p = 0, item = 0;
	struct slow_get g[2];
	struct resp *r = NULL;

	CHECK(sscanf(out, "%ld %ld", &p, &item) == 2, "slow project: %s", out);
	for (int i = 0; i < 2; i++) {
		g[i] = (struct slow_get){ .url = itest_fmt("%s%s", base, image_url(p, item)), .cookie = cookie };
		CHECK(pthread_create(&g[i].tid, NULL, slow_get_run, &g[i]) == 0, "pthread_create");
	}
	/* both fetches are waiting in labeld-a once a third one is refused */
	for (int waited = 0; waited < 10000; waited += 100) {
		itest_sleep_ms(100);
		r = GET(admin, image_url(p, item));
		if (r->status == 503)
			break;
	}
	CHECK_STATUS(r, 503);
	CHECK_STREQ(resp_header(r, "Retry-After"), "2");
	CHECK_STREQ(resp_header(r, "Cache-Control"), "no-store");
	CHECK_STATUS(GET(admin, "/projects"), 200);
	itest_badhttp_stop(pid);
	for (int i = 0; i < 2; i++) {
		pthread_join(g[i].tid, NULL);
		CHECK(g[i].status == 502, "a waiting fetch ended with %ld, want 502", g[i].status);
	}
	/* the slots are free again */
	CHECK_STATUS(GET(admin, image_url(p, item)), 502);
}

/* ------------------------------------------------------------ concurrency */

/* One labeler thread: its own libcurl handle and session; labels until
 * the queue is empty.  Results are collected here and checked by the main
 * thread (the harness is not thread-safe). */
struct worker {
	pthread_t tid;
	const char *base;
	char cookie[128];
	long project;
	long label;
	long *items;            /* every item this labeler labeled, in order */
	size_t n, cap;
	long requests;
	char error[512];        /* the first problem, or "" */
};

struct tbuf {
	char *p;
	size_t n;
};

static size_t tbuf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct tbuf *b = arg;
	size_t len = size * nmemb;
	char *p = realloc(b->p, b->n + len + 1);

	if (p == NULL)
		return 0;
	memcpy(p + b->n, data, len);
	b->n += len;
	p[b->n] = '\0';
	b->p = p;
	return len;
}

/* One request of a worker; the status, or -1 (error filled). */
static long worker_req(struct worker *w, CURL *c, const char *path, const char *post,
    struct tbuf *body, char *location, size_t loclen)
{
	char *url = NULL, *loc = NULL;
	long status = -1;
	CURLcode rc;

	free(body->p);
	body->p = NULL;
	body->n = 0;
	if (asprintf(&url, "%s%s", w->base, path) < 0)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tbuf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_COOKIE, w->cookie);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (post != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	w->requests++;
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(w->error, sizeof(w->error), "%s %s: %s", post ? "POST" : "GET", path,
		    curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		location[0] = '\0';
		if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != NULL) {
			const char *path_part = strstr(loc, "://");
			path_part = path_part ? strchr(path_part + 3, '/') : loc;
			snprintf(location, loclen, "%s", path_part ? path_part : "");
		}
	}
	free(url);
	return status;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	CURL *c = curl_easy_init();
	struct tbuf body = { 0 };
	char path[128], next[128], loc[256], lease[64], csrf[64], post[512], action[128];
	long status, item;

	if (c == NULL) {
		snprintf(w->error, sizeof(w->error), "curl_easy_init failed");
		return NULL;
	}
	snprintf(next, sizeof(next), "/projects/%ld/label", w->project);
	for (int guard = 0; guard < 100000 && w->error[0] == '\0'; guard++) {
		status = worker_req(w, c, next, NULL, &body, loc, sizeof(loc));
		if (status < 0)
			break;
		if (status != 200) {
			snprintf(w->error, sizeof(w->error), "GET %s: status %ld", next, status);
			break;
		}
		if (strstr(body.p, "Nothing left to label") != NULL)
			break;
		snprintf(action, sizeof(action), "action=\"/projects/%ld/items/", w->project);
		const char *a = strstr(body.p, action);
		if (a == NULL || sscanf(a + strlen(action), "%ld", &item) != 1 ||
		    !text_after(body.p, "name=\"lease\" value=\"", lease, sizeof(lease)) ||
		    !text_after(body.p, "name=\"csrf\" value=\"", csrf, sizeof(csrf))) {
			snprintf(w->error, sizeof(w->error), "GET %s: no labeling form", next);
			break;
		}
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 256;
			long *v = realloc(w->items, cap * sizeof(*v));
			if (v == NULL) {
				snprintf(w->error, sizeof(w->error), "out of memory");
				break;
			}
			w->items = v;
			w->cap = cap;
		}
		w->items[w->n++] = item;
		snprintf(path, sizeof(path), "/projects/%ld/items/%ld", w->project, item);
		snprintf(post, sizeof(post), "csrf=%s&lease=%s&label=%ld&action=submit", csrf, lease, w->label);
		status = worker_req(w, c, path, post, &body, loc, sizeof(loc));
		if (status < 0)
			break;
		if (status != 303 || strcmp(loc, next) != 0) {
			snprintf(w->error, sizeof(w->error), "POST %s: status %ld, Location %s", path, status, loc);
			break;
		}
		/* Every third answer is sent again after its 303: answered
		 * like the first, stored once (the checks after the run). */
		if (w->n % 3 == 0) {
			status = worker_req(w, c, path, post, &body, loc, sizeof(loc));
			if (status < 0)
				break;
			if (status != 303 || strcmp(loc, next) != 0) {
				snprintf(w->error, sizeof(w->error), "POST %s again: status %ld, Location %s",
				    path, status, loc);
				break;
			}
		}
	}
	free(body.p);
	curl_easy_cleanup(c);
	return NULL;
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static void workers_free(void *arg)
{
	struct worker *w = arg;

	for (size_t i = 0; w[i].base != NULL; i++)
		free(w[i].items);
	free(w);
}

/* Many labelers at once, thousands of leases: every item is handed out
 * once and labeled exactly once; no two labelers ever hold the same item;
 * double submits mixed in change nothing. */
static void labeling_queue_concurrency(void)
{
	long nitems = itest_env_long("LABELD_TEST_QUEUE_ITEMS", 2000);
	long nthreads = itest_env_long("LABELD_TEST_QUEUE_LABELERS", 8);
	long p = make_project("testtask", "running", nitems), cat = label_id(p, "cat");
	struct worker *w = calloc((size_t)nthreads + 1, sizeof(*w));
	struct timespec t0, t1;
	long *all, total = 0;

	CHECK(w != NULL, "out of memory");
	itest_defer(workers_free, w);
	for (long i = 0; i < nthreads; i++) {
		struct client *c = new_labeler(NULL);
		w[i].base = c->base;
		w[i].project = p;
		w[i].label = cat;
		snprintf(w[i].cookie, sizeof(w[i].cookie), "labeld_session=%s",
		    client_cookie(c, "labeld_session"));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < nthreads; i++)
		CHECK(pthread_create(&w[i].tid, NULL, worker_run, &w[i]) == 0, "pthread_create");
	for (long i = 0; i < nthreads; i++)
		pthread_join(w[i].tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	long requests = 0;
	for (long i = 0; i < nthreads; i++) {
		CHECK(w[i].error[0] == '\0', "labeler %ld: %s", i, w[i].error);
		total += (long)w[i].n;
		requests += w[i].requests;
	}
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	itest_note("%ld labelers labeled %ld items with %ld requests in %.1f s (%.0f req/s)",
	    nthreads, total, requests, secs, (double)requests / secs);
	CHECK(total == nitems, "the labelers labeled %ld items, the project has %ld", total, nitems);
	all = itest_keep(malloc((size_t)total * sizeof(*all)));
	CHECK(all != NULL, "out of memory");
	for (long i = 0, k = 0; i < nthreads; i++) {
		CHECK(w[i].n > 0, "labeler %ld got nothing", i);
		for (size_t j = 0; j < w[i].n; j++)
			all[k++] = w[i].items[j];
	}
	qsort(all, (size_t)total, sizeof(*all), long_cmp);
	for (long i = 1; i < total; i++)
		CHECK(all[i] != all[i - 1], "item %ld was handed out twice", all[i]);

	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM annotations WHERE project_id = %ld", p)) == nitems,
	    "not one annotation per item");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM (SELECT item_id FROM annotations WHERE project_id = %ld "
	    "GROUP BY item_id HAVING COUNT(*) <> 1) x", p)) == 0, "an item has two annotations");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND state <> 'labeled'", p)) == 0,
	    "items left unlabeled");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'leased'", p)) == nitems,
	    "an item was leased more than once");
	CHECK(sql_long(itest_fmt("SELECT items_labeled FROM project_counters WHERE project_id = %ld", p)) == nitems,
	    "project_counters.items_labeled is off");
	CHECK(sql_long(itest_fmt("SELECT SUM(labeled) FROM labeler_days WHERE project_id = %ld", p)) == nitems,
	    "labeler_days do not add up");
}

/* One tab of a labeler: a single GET of the labeling page. */
struct tab {
	struct worker w;
	pthread_t tid;
	long item;
	char lease[64];
};

static void *tab_get(void *arg)
{
	struct tab *t = arg;
	CURL *c = curl_easy_init();
	struct tbuf body = { 0 };
	char path[128], loc[256], needle[64];
	const char *a;
	long status;

	if (c == NULL) {
		snprintf(t->w.error, sizeof(t->w.error), "curl_easy_init failed");
		return NULL;
	}
	snprintf(path, sizeof(path), "/projects/%ld/label", t->w.project);
	status = worker_req(&t->w, c, path, NULL, &body, loc, sizeof(loc));
	snprintf(needle, sizeof(needle), "action=\"/projects/%ld/items/", t->w.project);
	if (status >= 0 && (status != 200 || (a = strstr(body.p, needle)) == NULL ||
	    sscanf(a + strlen(needle), "%ld", &t->item) != 1 ||
	    !text_after(body.p, "name=\"lease\" value=\"", t->lease, sizeof(t->lease))))
		snprintf(t->w.error, sizeof(t->w.error), "GET %s: status %ld, no labeling form", path, status);
	free(body.p);
	curl_easy_cleanup(c);
	return NULL;
}

/* Many requests of ONE labeler at once: they all get the same item under
 * the same lease (a labeler's requests take turns in the queue). */
static void labeling_one_labeler_many_tabs(void)
{
	enum { TABS = 6 };
	long p = make_project("testtask", "running", 50);
	struct client *c = new_labeler(NULL);
	struct tab tabs[TABS];

	memset(tabs, 0, sizeof(tabs));
	for (int i = 0; i < TABS; i++) {
		tabs[i].w.base = c->base;
		tabs[i].w.project = p;
		snprintf(tabs[i].w.cookie, sizeof(tabs[i].w.cookie), "labeld_session=%s",
		    client_cookie(c, "labeld_session"));
	}
	for (int i = 0; i < TABS; i++)
		CHECK(pthread_create(&tabs[i].tid, NULL, tab_get, &tabs[i]) == 0, "pthread_create");
	for (int i = 0; i < TABS; i++)
		pthread_join(tabs[i].tid, NULL);
	for (int i = 0; i < TABS; i++) {
		CHECK(tabs[i].w.error[0] == '\0', "tab %d: %s", i, tabs[i].w.error);
		CHECK(tabs[i].item == tabs[0].item && strcmp(tabs[i].lease, tabs[0].lease) == 0,
		    "tab %d got item %ld, tab 0 item %ld", i, tabs[i].item, tabs[0].item);
	}
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'leased'", p)) == 1,
	    "one labeler's tabs leased more than one item");
}

/* One POST of a burst: waits for the others, then sends. */
struct burst {
	struct worker w;
	pthread_barrier_t *go;
	char path[128], post[512], loc[256];
	long status;
};

static void *burst_post(void *arg)
{
	struct burst *b = arg;
	CURL *c = curl_easy_init();
	struct tbuf body = { 0 };

	pthread_barrier_wait(b->go);
	if (c == NULL) {
		snprintf(b->w.error, sizeof(b->w.error), "curl_easy_init failed");
		return NULL;
	}
	b->status = worker_req(&b->w, c, b->path, b->post, &body, b->loc, sizeof(b->loc));
	free(body.p);
	curl_easy_cleanup(c);
	return NULL;
}

/* Many answers sent at the same moment, half of them twice at once (a
 * double click), so that batches hold an item twice or an item another
 * batch just stored: the batch's guard refuses, each answer is stored
 * alone through the same procedure, which says "already answered" for the
 * second of a pair, so each item is stored exactly once and every POST
 * answers like the first (303 to the next item).  With combine = off
 * (./stack runs these tests both ways) the pairs race in single
 * transactions instead.  (A tampered or stale lease is refused earlier, by the
 * page's own check: labeling_bad_submits.) */
static void labeling_mixed_batches(void)
{
	enum { N = 16, ROUNDS = 4, T = N + N / 2 };
	long p = make_project("testtask", "running", N * ROUNDS), cat = label_id(p, "cat");
	struct client *cl[N];
	struct burst b[T];
	pthread_t t[T];
	pthread_barrier_t go;
	long stored = 0;

	for (int i = 0; i < N; i++)
		cl[i] = new_labeler(NULL);
	for (int round = 0; round < ROUNDS; round++) {
		long items[T];

		CHECK(pthread_barrier_init(&go, NULL, T) == 0, "pthread_barrier_init");
		for (int i = 0, k = 0; i < N; i++) {
			struct page pg = label_page(cl[i], p);
			/* Labelers 0, 2, 4, ... send their answer twice. */
			for (int twice = 0; twice <= (i % 2 == 0); twice++, k++) {
				memset(&b[k], 0, sizeof(b[k]));
				b[k].w.base = cl[i]->base;
				b[k].go = &go;
				snprintf(b[k].w.cookie, sizeof(b[k].w.cookie), "labeld_session=%s",
				    client_cookie(cl[i], "labeld_session"));
				snprintf(b[k].path, sizeof(b[k].path), "%s", pg.action);
				snprintf(b[k].post, sizeof(b[k].post), "csrf=%s&lease=%s&label=%ld&action=submit",
				    pg.csrf, pg.lease, cat);
				items[k] = pg.item;
			}
		}
		for (int k = 0; k < T; k++)
			CHECK(pthread_create(&t[k], NULL, burst_post, &b[k]) == 0, "pthread_create");
		for (int k = 0; k < T; k++)
			pthread_join(t[k], NULL);
		pthread_barrier_destroy(&go);
		for (int k = 0; k < T; k++) {
			CHECK(b[k].w.error[0] == '\0', "POST %d: %s", k, b[k].w.error);
			CHECK(b[k].status == 303 && strcmp(b[k].loc, next_url(p)) == 0,
			    "round %d: POST %d of item %ld got %ld %s", round, k, items[k], b[k].status, b[k].loc);
			CHECK_STREQ(SQL_QUERY("SELECT CONCAT(i.state, ' ', COUNT(a.id)) FROM items i "
			    "LEFT JOIN annotations a ON a.item_id = i.id WHERE i.id = %ld GROUP BY i.id", items[k]),
			    "labeled 1");
		}
		stored += N;
	}
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM annotations WHERE project_id = %ld", p)) == stored,
	    "not one annotation per answer");
	CHECK(sql_long(itest_fmt("SELECT items_labeled FROM project_counters WHERE project_id = %ld", p)) == stored,
	    "project_counters.items_labeled is off");
	CHECK(sql_long(itest_fmt("SELECT SUM(labeled) FROM labeler_days WHERE project_id = %ld", p)) == stored,
	    "labeler_days do not add up");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'labeled'",
	    p)) == 0, "answers of a batch wrote item_events labeled rows");
}

/* A renamed label shows on the very next labeling page, whichever worker
 * answers it: each worker keeps the labels it showed last, but only for the
 * project's meta_version it read them at. */
static void labeling_label_rename_shown(void)
{
	long p = make_project("testtask", "running", 5);
	long cat = label_id(p, "cat"), dog = label_id(p, "dog"), bird = label_id(p, "bird");
	struct client *c = new_labeler(NULL);
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	const char *before = itest_fmt("value=\"%ld\"> cat</label>", cat);
	const char *after = itest_fmt("value=\"%ld\"> kitten</label>", cat);
	struct resp *r;

	/* Three times as many pages as the test server has workers, so that
	 * workers have the old labels kept. */
	for (int i = 0; i < 24; i++)
		CHECK_BODY_HAS(label_page(c, p).r, before);
	r = GET(admin, "/projects");
	CHECK_STATUS(r, 200);
	CHECK_REDIRECT(POST_FORM(admin, itest_fmt("/projects/%ld/labels", p), "csrf", html_logout_csrf(r),
	    itest_fmt("label-%ld", cat), "kitten", itest_fmt("label-%ld", dog), "dog",
	    itest_fmt("label-%ld", bird), "bird", "go", "save"),
	    303, itest_fmt("/projects/%ld?saved=labels", p));
	for (int i = 0; i < 24; i++) {
		r = label_page(c, p).r;
		CHECK_BODY_HAS(r, after);
		CHECK_BODY_LACKS(r, before);
	}
}

/* ------------------------------------------------------------ plugins */

/* A client of one labeld process (its nginx server base) signed in. */
static struct client *signed_in_at(const char *base, const char *email, const char *password)
{
	struct client *c = CLIENT(base);

	SIGN_IN_OK(c, email, password);
	return c;
}

/* A task plugin without a required op (noeditor.so lacks editor_view) is
 * refused at load: its project's labeling page says the task type is not
 * available, on both processes, instead of calling the missing op (which
 * took the process down), and other projects are labeled as usual. */
static void labeling_refused_plugin(void)
{
	const char *urls[2] = { ENV("LABELD_TEST_URL_A"), ENV("LABELD_TEST_URL_B") };
	long bad = make_project("noeditor", "running", 2);
	long good = make_project("testtask", "running", 4);
	const char *email;

	new_labeler(&email);
	for (size_t i = 0; i < 2; i++) {
		struct client *c = signed_in_at(urls[i], email, USER_PASSWORD);
		struct resp *r = GET(c, next_url(bad));
		struct page pg;
		CHECK_STATUS(r, 503);
		CHECK_TEXT(r, "Task type not available");
		CHECK_TEXT(r, "(the plugin \"noeditor\") is not loaded");
		pg = label_page(c, good);
		CHECK_REDIRECT(submit(c, &pg, itest_fmt("%ld", label_id(good, "dog"))), 303,
		    next_url(good));
		CHECK_STATUS(GET(c, "/healthz"), 200);
	}
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND "
	    "lease_user IS NOT NULL", bad)) == 0, "an item of the refused task type was leased");
	CHECK(sql_long(itest_fmt("SELECT items_labeled FROM project_counters WHERE project_id = %ld",
	    good)) == 2, "the two answers through both processes were not both counted");
}

/* SIGHUP to every labeld of the stack ($LABELD_TEST_LABELD_PIDFILES). */
static void sighup_labelds(void)
{
	char *files = itest_keep(strdup(ENV("LABELD_TEST_LABELD_PIDFILES"))), *save = NULL;

	for (char *f = strtok_r(files, " ", &save); f != NULL; f = strtok_r(NULL, " ", &save)) {
		FILE *fp = fopen(f, "r");
		long pid = 0;
		CHECK(fp != NULL, "%s: %s", f, strerror(errno));
		CHECK(fscanf(fp, "%ld", &pid) == 1 && pid > 1, "%s: no pid", f);
		fclose(fp);
		CHECK(kill((pid_t)pid, SIGHUP) == 0, "SIGHUP to labeld %ld: %s", pid, strerror(errno));
	}
}

/* Clean-up: take the example plugin out of the labelds' plugin folder again
 * and reload, so that a later run (the labeling tests run twice) starts
 * without it. */
static void example_plugin_remove(void *arg)
{
	const char *dir = getenv("LABELD_TEST_PLUGINS_DIR");

	(void)arg;
	if (dir == NULL || itest_shell(itest_fmt("rm -rf '%s/yesno.so' '%s/yesno'", dir, dir)) != 0)
		itest_cleanup_error("could not remove the example plugin from %s", dir ? dir : "?");
	else
		sighup_labelds();
}

/* The example plugin as installed with labeld (var/prefix/share/doc/labeld/
 * examples/plugins/yesno), built out of tree by ./stack against that
 * staging install through pkg-config, is
 * installed with its own Makefile into the running labelds' plugin
 * directory; before SIGHUP its project's page says the task type is not
 * available, after SIGHUP both processes show its editor, refuse a missing
 * answer with its sentence and store {"answer": ..., "label": ...}. */
static void labeling_example_plugin(void)
{
	const char *urls[2] = { ENV("LABELD_TEST_URL_A"), ENV("LABELD_TEST_URL_B") };
	long p = make_project("yesno", "running", 3), cat = label_id(p, "cat");
	const char *email;
	struct client *c[2];
	struct resp *r;
	struct page pg;
	int rc;

	new_labeler(&email);
	for (size_t i = 0; i < 2; i++) {
		c[i] = signed_in_at(urls[i], email, USER_PASSWORD);
		r = GET(c[i], next_url(p));
		CHECK_STATUS(r, 503);
		CHECK_TEXT(r, "Task type not available");
	}
	rc = itest_shell(itest_fmt("PKG_CONFIG_PATH='%s/lib/pkgconfig' make -s -C '%s' "
	    "-f '%s/share/doc/labeld/examples/plugins/yesno/Makefile' install PLUGINDIR='%s'",
	    ENV("LABELD_TEST_PREFIX"), ENV("LABELD_TEST_EXAMPLE_BUILD"), ENV("LABELD_TEST_PREFIX"),
	    ENV("LABELD_TEST_PLUGINS_DIR")));
	itest_defer(example_plugin_remove, NULL);
	CHECK(rc == 0, "make install of the example plugin failed (exit %d)", rc);
	sighup_labelds();
	for (size_t i = 0; i < 2; i++) {
		/* The reload runs on the signal thread: wait for it (10 s at most). */
		for (int t = 0; (r = GET(c[i], next_url(p)))->status == 503 && t < 100; t++)
			itest_sleep_ms(100);
		CHECK_STATUS(r, 200);
		CHECK(html_count(r, "//form[@id='labelform' and @data-input-mode='choose']"
		    "//fieldset[contains(@class,'yesno')]/legend[normalize-space(.)="
		    "'Does this image show cat?']") == 1, "%s: no yesno question: %s", urls[i],
		    resp_snip(r));
		CHECK(html_count(r, "//form[@id='labelform']//input[@type='radio' and @name='answer']") == 3,
		    "%s: not three answers", urls[i]);
		CHECK(html_count(r, "//input[@name='answer' and @value='unsure' and @data-key='3']") == 1,
		    "%s: no \"unsure\" on key 3", urls[i]);
	}
	pg = label_page(c[0], p);
	r = POST_FORM(c[0], pg.action, "csrf", pg.csrf, "lease", pg.lease, "action", "submit");
	CHECK_STATUS(r, 422);
	CHECK(html_count(r, "//p[contains(@class,'flash') and contains(@class,'error') and "
	    "contains(., 'Choose Yes, No or Unsure.')]") == 1, "no sentence for a missing answer: %s",
	    resp_snip(r));
	r = POST_FORM(c[0], pg.action, "csrf", pg.csrf, "lease", pg.lease, "answer", "unsure",
	    "action", "submit");
	CHECK_REDIRECT(r, 303, next_url(p));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(JSON_VALUE(data, '$.answer'), ' ', JSON_VALUE(data, '$.label')) "
	    "FROM annotations WHERE item_id = %ld AND is_current = 1", pg.item),
	    itest_fmt("unsure %ld", cat));
}

/* ------------------------------------------------------------ registry */

const struct itest_case itest_labeling_cases[] = {
	ITEST(labeling_page_and_submit),
	ITEST(labeling_same_item_again),
	ITEST(labeling_editor_step),
	ITEST(labeling_lease_expiry),
	ITEST(labeling_queue_order),
	ITEST(labeling_skip),
	ITEST(labeling_double_submit),
	ITEST(labeling_answer_repeat_token),
	ITEST(labeling_bad_submits),
	ITEST(labeling_csrf),
	ITEST(labeling_pause_start),
	ITEST(labeling_project_states),
	ITEST(labeling_item_image),
	ITEST(labeling_image_access),
	ITEST(labeling_image_streamed),
	ITEST(labeling_image_symlinks),
	ITEST(labeling_image_blob),
	ITEST(labeling_image_blob_busy),
	ITEST(labeling_queue_concurrency),
	ITEST(labeling_one_labeler_many_tabs),
	ITEST(labeling_mixed_batches),
	ITEST(labeling_label_rename_shown),
	ITEST(labeling_refused_plugin),
	ITEST(labeling_example_plugin),
};
const size_t itest_labeling_ncases = sizeof(itest_labeling_cases) / sizeof(itest_labeling_cases[0]);
