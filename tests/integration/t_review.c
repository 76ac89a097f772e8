/*
 * t_review.c: the review queue and reviewers (issue 14, docs/review.md):
 * reviewers marked on a team's page, the next answered item under a
 * review lease (never the same item to two reviewers, never one's own
 * answer, a skip not offered to that reviewer again), expired leases taken
 * over, stale tokens refused with nothing changed, approve and reject
 * round trips with the counters equal to a full recount, unmarking a
 * reviewer ending their lease, and exports of approved items only.
 *
 * Every answer is made through the labeling page by a labeler of the
 * project's own team; every review through the review page.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")
#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define EXPORT_WAIT_MS 60000

/* ------------------------------------------------------------ helpers */

static long num(const char *fmt_sql)
{
	return strtol(SQL_QUERY("%s", fmt_sql), NULL, 10);
}

/* One project to review: its id, its team, its labels. */
struct rproject {
	long id, team, cat, dog;
};

/* A running project of task testtask with n items and the labels cat and
 * dog, and a team of its own that serves it (made with SQL). */
static struct rproject project_new(long n)
{
	struct rproject p;
	char *name = itest_uniq("Review");

	p.id = num(itest_fmt(
	    "INSERT INTO datasets (name, description, datastore_id, path, kind, source) "
	    "SELECT %s, '', id, 'review-test', 'input', 'datastore' FROM datastores WHERE is_default = 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1), (@p, 'dog', 2); "
	    "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT @p, CONCAT('review-test/', @p, '/', seq, '.png'), 64, 48, 'png' FROM seq_1_to_%ld; "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, %ld); "
	    "INSERT INTO teams (name, project_id) VALUES (%s, @p); "
	    "INSERT INTO project_teams (project_id, team_id) VALUES (@p, LAST_INSERT_ID()); "
	    "SELECT @p;", sql_str(name), sql_str(name), n, n, sql_str(itest_fmt("%s team", name))));
	CHECK(p.id > 0, "no project made");
	p.team = num(itest_fmt("SELECT id FROM teams WHERE project_id = %ld", p.id));
	p.cat = num(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND name = 'cat'", p.id));
	p.dog = num(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND name = 'dog'", p.id));
	return p;
}

/* A person in p's team (a reviewer when reviewer), signed in; *uid gets
 * their id. */
static struct client *person(const struct rproject *p, const char *name, int reviewer, long *uid)
{
	char *email = itest_fmt("%s@example.com", itest_uniq("review"));
	struct client *c = CLIENT(NULL);

	SQL("INSERT INTO users (email, display_name, password_hash, activated_at) "
	    "SELECT %s, %s, password_hash, NOW(6) FROM users WHERE email = %s",
	    sql_str(email), sql_str(name), sql_str(USER_EMAIL));
	*uid = num(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
	SQL("INSERT INTO team_members (team_id, user_id, reviewer) VALUES (%ld, %ld, %d)",
	    p->team, *uid, reviewer);
	SIGN_IN_OK(c, email, USER_PASSWORD);
	return c;
}

/* Label n items of p through the labeling page with label; returns the
 * items in the order labeled (owned by the test). */
static long *label_n(struct client *c, const struct rproject *p, long n, long label)
{
	long *items = itest_keep(calloc((size_t)n + 1, sizeof(*items)));

	CHECK(items != NULL, "out of memory");
	for (long i = 0; i < n; i++) {
		struct resp *r = GET(c, itest_fmt("/projects/%ld/label", p->id));
		char *action = html_str(r, "//form[@id='labelform']/@action");
		long proj = 0;

		CHECK(r->status == 200 && action != NULL, "no labeling form: %s", resp_snip(r));
		CHECK(sscanf(action, "/projects/%ld/items/%ld", &proj, &items[i]) == 2, "action %s", action);
		r = POST_FORM(c, action, "csrf", html_form_input(r, "labelform", "csrf"),
		    "lease", html_form_input(r, "labelform", "lease"),
		    "label", itest_fmt("%ld", label), "action", "submit");
		CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", p->id));
	}
	return items;
}

/* One review page with an item. */
struct rpage {
	struct resp *r;
	long item;
	char *action, *token, *csrf;
};

/* GET the review page of p: an item (returned), or none (item 0: the
 * page must say nothing is left). */
static struct rpage review_page(struct client *c, const struct rproject *p)
{
	struct rpage pg = { 0 };
	long proj = 0;

	pg.r = GET(c, itest_fmt("/projects/%ld/review", p->id));
	CHECK_STATUS(pg.r, 200);
	pg.action = html_str(pg.r, "//form[@id='reviewform']/@action");
	if (pg.action == NULL) {
		CHECK_BODY_HAS(pg.r, "Nothing left to review");
		CHECK(html_count(pg.r, "//a[@href='/projects/%ld/data']", p->id) == 1,
		    "the empty review queue does not link the Data tab");
		return pg;
	}
	CHECK(sscanf(pg.action, "/projects/%ld/review/%ld", &proj, &pg.item) == 2 && proj == p->id,
	    "review form action %s", pg.action);
	pg.token = html_form_input(pg.r, "reviewform", "token");
	pg.csrf = html_form_input(pg.r, "reviewform", "csrf");
	CHECK(is_base64url(pg.token, 43), "review token %s", pg.token ? pg.token : "(none)");
	return pg;
}

/* Send a verdict on a shown page (reason may be NULL). */
static struct resp *verdict(struct client *c, const struct rpage *pg, const char *action,
    const char *reason)
{
	return POST_FORM(c, pg->action, "csrf", pg->csrf, "token", pg->token, "action", action,
	    "reason", reason);
}

/* A verdict that must succeed (303 back to the queue). */
static void verdict_ok(struct client *c, const struct rproject *p, const struct rpage *pg,
    const char *action, const char *reason)
{
	struct resp *r = verdict(c, pg, action, reason);

	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/review", p->id));
}

/* The counters of p equal a full recount of its items, events and
 * classes. */
static void counters_exact(const struct rproject *p)
{
	long id = p->id;
	char *kept = SQL_QUERY("SELECT CONCAT_WS(' ', items_labeled, items_skipped, items_requeued, "
	    "items_approved, rejections) FROM project_counters WHERE project_id = %ld", id);
	char *count = SQL_QUERY("SELECT CONCAT_WS(' ', "
	    "(SELECT COUNT(*) FROM items WHERE project_id = %ld AND state = 'labeled'), "
	    "(SELECT COUNT(*) FROM items WHERE project_id = %ld AND phase = 'skipped'), "
	    "(SELECT COUNT(*) FROM items WHERE project_id = %ld AND phase = 'requeued'), "
	    "(SELECT COUNT(*) FROM items WHERE project_id = %ld AND phase = 'approved'), "
	    "(SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'rejected'))",
	    id, id, id, id, id);

	CHECK_STREQ(kept, count);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM label_counts lc WHERE lc.project_id = %ld AND "
	    "lc.answers <> (SELECT COUNT(*) FROM answer_labels al WHERE al.project_id = %ld "
	    "AND al.label_id = lc.label_id)", id, id)) == 0, "label_counts differ from answer_labels");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM answer_labels al JOIN items i ON i.id = al.item_id "
	    "WHERE al.project_id = %ld AND i.state <> 'labeled'", id)) == 0,
	    "answer_labels keeps classes of items without an answer");
	CHECK(num(itest_fmt("SELECT COALESCE(SUM(approved), 0) FROM labeler_days WHERE project_id = %ld",
	    id)) == num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld "
	    "AND kind = 'approved'", id)), "labeler_days.approved differs from the approvals");
	CHECK(num(itest_fmt("SELECT COALESCE(SUM(rejected), 0) FROM labeler_days WHERE project_id = %ld",
	    id)) == num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld "
	    "AND kind = 'rejected'", id)), "labeler_days.rejected differs from the rejections");
}

/* ------------------------------------------------------------ the page */

/* The page shows the answer (class name), who answered, and the three
 * buttons; asking again gives the same item under the same lease; a
 * labeler of the project who is no reviewer gets 403. */
static void review_page_shows_answer(void)
{
	struct rproject p = project_new(2);
	long lab, rev, plain;
	struct client *labeler = person(&p, "Rita Labeler", 0, &lab);
	struct client *reviewer = person(&p, "Rex Reviewer", 1, &rev);
	struct client *member = person(&p, "Max Member", 0, &plain);
	struct rpage a, b;

	label_n(labeler, &p, 1, p.dog);
	a = review_page(reviewer, &p);
	CHECK(a.item > 0, "no item to review");
	CHECK_STREQ(html_str(a.r, "//ul[@id='answer-classes']/li"), "dog");
	CHECK(strstr(html_str(a.r, "//p[@id='answered-by']"), "Rita Labeler") != NULL,
	    "the page does not say who answered");
	CHECK(html_count(a.r, "//form[@id='reviewform']//button[@name='action' and @value='approve']") == 1 &&
	    html_count(a.r, "//form[@id='reviewform']//button[@name='action' and @value='skip']") == 1 &&
	    html_count(a.r, "//form[@id='reviewform']//button[@name='action' and @value='reject']") == 2,
	    "the three actions (and the hidden default reject) are not on the page");
	CHECK(html_count(a.r, "//img[@src='/projects/%ld/items/%ld/image']", p.id, a.item) == 1,
	    "the page does not show the item's image");
	b = review_page(reviewer, &p);
	CHECK(b.item == a.item && strcmp(b.token, a.token) == 0,
	    "asking again gave item %ld (token changed: %d), not %ld", b.item,
	    strcmp(b.token, a.token) != 0, a.item);
	CHECK_STATUS(GET(member, itest_fmt("/projects/%ld/review", p.id)), 403);
	CHECK_STATUS(GET(labeler, itest_fmt("/projects/%ld/review", p.id)), 403);
	/* A paused project is reviewed as a running one. */
	SQL("UPDATE projects SET state = 'paused' WHERE id = %ld", p.id);
	b = review_page(reviewer, &p);
	CHECK(b.item == a.item, "a paused project's review page lost the item");
	verdict_ok(reviewer, &p, &b, "approve", NULL);
	CHECK(num(itest_fmt("SELECT phase = 'approved' FROM items WHERE id = %ld", a.item)) == 1,
	    "the approval in a paused project was not stored");
	counters_exact(&p);
}

/* ------------------------------------------------------------ concurrency */

/* One reviewer thread: reviews (approves) until nothing is left. */
struct rworker {
	pthread_t tid;
	const char *base;
	char cookie[128];
	long project;
	long items[512];
	size_t n;
	char error[256];
};

struct body {
	char *p;
	size_t n;
};

static size_t body_add(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	char *p = realloc(b->p, b->n + size * nmemb + 1);

	if (p == NULL)
		return 0;
	memcpy(p + b->n, data, size * nmemb);
	b->n += size * nmemb;
	p[b->n] = '\0';
	b->p = p;
	return size * nmemb;
}

static void *rworker_run(void *arg)
{
	struct rworker *w = arg;
	CURL *c = curl_easy_init();
	struct body b = { 0 };
	char url[256], action[128], rest[100], token[64], csrf[64], post[256];
	long status = 0;

	for (int guard = 0; c != NULL && guard < 2000 && w->error[0] == '\0'; guard++) {
		snprintf(url, sizeof(url), "%s/projects/%ld/review", w->base, w->project);
		b.n = 0;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_COOKIE, w->cookie);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_add);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
			snprintf(w->error, sizeof(w->error), "GET review page: %ld", status);
			break;
		}
		if (b.p != NULL && strstr(b.p, "Nothing left to review") != NULL)
			break;
		/* The review form is the only form posting to /projects/. */
		if (!text_after(b.p, "action=\"/projects/", rest, sizeof(rest)) ||
		    !text_after(b.p, "name=\"token\" value=\"", token, sizeof(token)) ||
		    !text_after(b.p, "name=\"csrf\" value=\"", csrf, sizeof(csrf)) ||
		    sscanf(rest, "%*d/review/%ld", &w->items[w->n]) != 1 ||
		    w->n + 1 >= sizeof(w->items) / sizeof(w->items[0])) {
			snprintf(w->error, sizeof(w->error), "no review form on the page");
			break;
		}
		w->n++;
		snprintf(action, sizeof(action), "/projects/%s", rest);
		snprintf(url, sizeof(url), "%s%s", w->base, action);
		snprintf(post, sizeof(post), "csrf=%s&token=%s&action=approve", csrf, token);
		b.n = 0;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 303) {
			snprintf(w->error, sizeof(w->error), "POST %s: %ld", action, status);
			break;
		}
	}
	free(b.p);
	if (c != NULL)
		curl_easy_cleanup(c);
	return NULL;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Four reviewers at once over 120 answers: each answer is reviewed once,
 * by one reviewer; every item ends approved, the counters exact. */
static void review_concurrent_never_same_item(void)
{
	enum { NREV = 4, NITEMS = 120 };
	struct rproject p = project_new(NITEMS);
	struct rworker *w = itest_keep(calloc(NREV, sizeof(*w)));
	long lab, uid, all[NITEMS], total = 0;
	struct client *labeler = person(&p, "Labeler", 0, &lab);

	CHECK(w != NULL, "out of memory");
	label_n(labeler, &p, NITEMS, p.cat);
	for (int i = 0; i < NREV; i++) {
		struct client *c = person(&p, "Reviewer", 1, &uid);
		w[i].base = c->base;
		w[i].project = p.id;
		snprintf(w[i].cookie, sizeof(w[i].cookie), "labeld_session=%s",
		    client_cookie(c, "labeld_session"));
	}
	for (int i = 0; i < NREV; i++)
		CHECK(pthread_create(&w[i].tid, NULL, rworker_run, &w[i]) == 0, "pthread_create");
	for (int i = 0; i < NREV; i++)
		pthread_join(w[i].tid, NULL);
	for (int i = 0; i < NREV; i++) {
		CHECK(w[i].error[0] == '\0', "reviewer %d: %s", i, w[i].error);
		for (size_t k = 0; k < w[i].n; k++) {
			CHECK(total < NITEMS, "more reviews than answers");
			all[total++] = w[i].items[k];
		}
	}
	itest_note("%d reviewers: %zu, %zu, %zu, %zu items", NREV, w[0].n, w[1].n, w[2].n, w[3].n);
	CHECK(total == NITEMS, "%ld items reviewed, %d answered", total, NITEMS);
	qsort(all, NITEMS, sizeof(all[0]), cmp_long);
	for (int i = 1; i < NITEMS; i++)
		CHECK(all[i] != all[i - 1], "item %ld was given to two reviewers", all[i]);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND phase = 'approved'",
	    p.id)) == NITEMS, "not every item is approved");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'approved'",
	    p.id)) == NITEMS, "an item was approved twice");
	counters_exact(&p);
}

/* ------------------------------------------------------------ rules */

/* A reviewer never gets their own answers; another reviewer does. */
static void review_own_answers_never_offered(void)
{
	struct rproject p = project_new(5);
	long lab, r1, r2;
	struct client *labeler = person(&p, "Labeler", 0, &lab);
	struct client *rev = person(&p, "Reviewer one", 1, &r1);
	struct client *rev2 = person(&p, "Reviewer two", 1, &r2);
	long *own = label_n(rev, &p, 3, p.cat), *other = label_n(labeler, &p, 2, p.dog);
	struct rpage pg;

	for (int i = 0; i < 2; i++) {
		pg = review_page(rev, &p);
		CHECK(pg.item == other[i], "reviewer got item %ld, want %ld (not one of their own)",
		    pg.item, other[i]);
		verdict_ok(rev, &p, &pg, "approve", NULL);
	}
	pg = review_page(rev, &p);
	CHECK(pg.item == 0, "the reviewer was offered their own answer %ld", pg.item);
	pg = review_page(rev2, &p);
	CHECK(pg.item == own[0], "the other reviewer got %ld, want %ld", pg.item, own[0]);
}

/* A skip: the item is not offered to that reviewer again, but to another;
 * the skip is recorded; nothing of the answer changes. */
static void review_skip(void)
{
	struct rproject p = project_new(3);
	long lab, r1, r2;
	struct client *labeler = person(&p, "Labeler", 0, &lab);
	struct client *rev = person(&p, "Reviewer one", 1, &r1);
	struct client *rev2 = person(&p, "Reviewer two", 1, &r2);
	long *items = label_n(labeler, &p, 2, p.cat);
	struct rpage pg = review_page(rev, &p), next;

	CHECK(pg.item == items[0], "first review item %ld, want the oldest answer %ld", pg.item, items[0]);
	verdict_ok(rev, &p, &pg, "skip", NULL);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM review_skips WHERE user_id = %ld AND item_id = %ld",
	    r1, pg.item)) == 1, "the skip is not remembered");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE item_id = %ld AND user_id = %ld "
	    "AND kind = 'review_skipped'", pg.item, r1)) == 1, "no review_skipped event");
	CHECK(num(itest_fmt("SELECT CONCAT(phase, review_user IS NULL) = 'labeled1' FROM items "
	    "WHERE id = %ld", pg.item)) == 1, "the skipped item changed phase or kept its lease");
	next = review_page(rev, &p);
	CHECK(next.item == items[1], "after the skip the reviewer got %ld, want %ld", next.item, items[1]);
	verdict_ok(rev, &p, &next, "approve", NULL);
	next = review_page(rev, &p);
	CHECK(next.item == 0, "the skipped item %ld was offered to its skipper again", next.item);
	next = review_page(rev2, &p);
	CHECK(next.item == items[0], "the other reviewer got %ld, want the skipped %ld", next.item,
	    items[0]);
	/* The same skip again: the lease is gone, nothing changes. */
	CHECK_STATUS(verdict(rev, &pg, "skip", NULL), 409);
	counters_exact(&p);
}

/* A review lease that ran out is taken over by the next reviewer; the
 * first reviewer's token is then stale: 409, and nothing changes. */
static void review_lease_taken_over(void)
{
	struct rproject p = project_new(2);
	long lab, r1, r2;
	struct client *labeler = person(&p, "Labeler", 0, &lab);
	struct client *rev = person(&p, "Reviewer one", 1, &r1);
	struct client *rev2 = person(&p, "Reviewer two", 1, &r2);
	long *items = label_n(labeler, &p, 1, p.cat);
	struct rpage a = review_page(rev, &p), b;
	struct resp *r;
	char *before;

	CHECK(a.item == items[0], "no review lease on the answer");
	b = review_page(rev2, &p);
	CHECK(b.item == 0, "a second reviewer got item %ld under a live lease", b.item);
	SQL("UPDATE items SET review_until = NOW(6) - INTERVAL 1 SECOND WHERE id = %ld", a.item);
	b = review_page(rev2, &p);
	CHECK(b.item == a.item && strcmp(b.token, a.token) != 0,
	    "the expired lease was not taken over (item %ld)", b.item);
	before = SQL_QUERY("SELECT CONCAT_WS(' ', i.phase, i.review_user, i.version, c.items_approved, "
	    "c.rejections, c.change_seq, (SELECT COUNT(*) FROM item_events e WHERE e.item_id = i.id)) "
	    "FROM items i JOIN project_counters c ON c.project_id = i.project_id WHERE i.id = %ld", a.item);
	const char *acts[] = { "approve", "reject", "skip" };
	for (size_t k = 0; k < 3; k++) {
		r = verdict(rev, &a, acts[k], "too late");
		CHECK_STATUS(r, 409);
		CHECK_BODY_HAS(r, "review lease has ended");
		CHECK(html_count(r, "//a[@href='/projects/%ld/review']", p.id) == 1,
		    "the 409 page does not lead back to the queue");
	}
	/* A forged token, and none at all. */
	r = POST_FORM(rev2, b.action, "csrf", b.csrf, "token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "action", "approve");
	CHECK_STATUS(r, 409);
	r = POST_FORM(rev2, b.action, "csrf", b.csrf, "action", "approve");
	CHECK_STATUS(r, 409);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', i.phase, i.review_user, i.version, c.items_approved, "
	    "c.rejections, c.change_seq, (SELECT COUNT(*) FROM item_events e WHERE e.item_id = i.id)) "
	    "FROM items i JOIN project_counters c ON c.project_id = i.project_id WHERE i.id = %ld", a.item),
	    before);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM review_skips WHERE item_id = %ld", a.item)) == 0,
	    "a stale skip was remembered");
	verdict_ok(rev2, &p, &b, "approve", NULL);
	counters_exact(&p);
}

/* Approve and reject: the approved item stays; the rejected one goes back
 * to the queue (phase requeued) with its reason, is labeled again and
 * comes back to review; a bad action or a too long reason changes
 * nothing; the counters equal a recount at every step. */
static void review_round_trips(void)
{
	struct rproject p = project_new(3);
	long lab, rev_id;
	struct client *labeler = person(&p, "Labeler", 0, &lab);
	struct client *rev = person(&p, "Reviewer", 1, &rev_id);
	long *items = label_n(labeler, &p, 3, p.cat), again;
	struct rpage pg;
	struct resp *r;
	char *longreason = itest_keep(malloc(1100));

	pg = review_page(rev, &p);
	CHECK(pg.item == items[0], "review item %ld, want %ld", pg.item, items[0]);
	verdict_ok(rev, &p, &pg, "approve", NULL);
	counters_exact(&p);
	CHECK(num(itest_fmt("SELECT a.approved_seq IS NOT NULL FROM annotations a WHERE a.item_id = %ld "
	    "AND a.is_current = 1", items[0])) == 1, "the approved answer has no approved_seq");

	pg = review_page(rev, &p);
	CHECK(pg.item == items[1], "review item %ld, want %ld", pg.item, items[1]);
	r = verdict(rev, &pg, "destroy", NULL);
	CHECK_STATUS(r, 422);
	CHECK(longreason != NULL, "out of memory");
	memset(longreason, 'x', 1001);
	longreason[1001] = '\0';
	r = verdict(rev, &pg, "reject", longreason);
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "at most 1000 characters");
	CHECK(num(itest_fmt("SELECT phase = 'labeled' FROM items WHERE id = %ld", pg.item)) == 1,
	    "a refused verdict changed the item");
	verdict_ok(rev, &p, &pg, "reject", "  The cat is a dog.  ");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS('|', phase, state, review_user IS NULL) FROM items "
	    "WHERE id = %ld", pg.item), "requeued|unlabeled|1");
	CHECK_STREQ(SQL_QUERY("SELECT reason FROM item_events WHERE item_id = %ld AND kind = 'rejected' "
	    "AND user_id = %ld", pg.item, rev_id), "The cat is a dog.");
	counters_exact(&p);

	/* The third item, then nothing: the rejected one waits for a labeler. */
	pg = review_page(rev, &p);
	CHECK(pg.item == items[2], "review item %ld, want %ld", pg.item, items[2]);
	verdict_ok(rev, &p, &pg, "approve", NULL);
	pg = review_page(rev, &p);
	CHECK(pg.item == 0, "item %ld offered for review while requeued", pg.item);

	/* Labeled again: back in the review queue, and its new answer is the
	 * one shown. */
	again = label_n(labeler, &p, 1, p.dog)[0];
	CHECK(again == items[1], "the labeler got item %ld, want the rejected %ld", again, items[1]);
	pg = review_page(rev, &p);
	CHECK(pg.item == items[1], "the relabeled item is not back in review (%ld)", pg.item);
	CHECK_STREQ(html_str(pg.r, "//ul[@id='answer-classes']/li"), "dog");
	verdict_ok(rev, &p, &pg, "reject", "");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE item_id = %ld AND kind = 'rejected' "
	    "AND reason IS NULL", items[1])) == 1, "an empty reason was stored as a reason");
	counters_exact(&p);
	CHECK(num(itest_fmt("SELECT CONCAT_WS(' ', items_approved, items_requeued, rejections) = '2 1 2' "
	    "FROM project_counters WHERE project_id = %ld", p.id)) == 1, "counters after the round trips");
}

/* ------------------------------------------------------------ reviewers */

/* The team page marks reviewers; Make reviewer opens the review queue to
 * a labeler, Not reviewer closes it and ends their review lease in the
 * same change, so another reviewer gets the item at once. */
static void review_unmark_ends_lease(void)
{
	struct rproject p = project_new(2);
	long lab, r1, r2;
	struct client *labeler = person(&p, "Labeler", 0, &lab);
	struct client *rev = person(&p, "Reviewer one", 0, &r1);
	struct client *rev2 = person(&p, "Reviewer two", 1, &r2);
	struct client *admin = CLIENT(NULL);
	struct rpage a, b;
	struct resp *r;
	const char *path = itest_fmt("/admin/teams/%ld/members/reviewer", p.team);
	char *csrf;

	label_n(labeler, &p, 1, p.cat);
	SIGN_IN_OK(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
	CHECK_STATUS(GET(rev, itest_fmt("/projects/%ld/review", p.id)), 403);
	r = GET(admin, itest_fmt("/admin/teams/%ld", p.team));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='member-list']//tr[@data-user-id='%ld']//span[contains(@class,"
	    "'reviewer-mark')]", r2) == 1, "the team page does not mark the reviewer");
	CHECK(html_count(r, "//table[@id='member-list']//tr[@data-user-id='%ld']//span[contains(@class,"
	    "'reviewer-mark')]", r1) == 0, "the team page marks a labeler as reviewer");
	CHECK_STREQ(html_str(r, "//form[@id='reviewer-%ld']/input[@name='reviewer']/@value", r1), "1");
	csrf = html_form_input(r, itest_fmt("reviewer-%ld", r1), "csrf");
	r = POST_FORM(admin, path, "csrf", csrf, "user", itest_fmt("%ld", r1), "reviewer", "1");
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/teams/%ld?saved=reviewer&l=0#members", p.team));
	a = review_page(rev, &p);
	CHECK(a.item > 0, "the new reviewer gets nothing to review");

	/* Not reviewer: the lease ends with the mark. */
	r = POST_FORM(admin, path, "csrf", csrf, "user", itest_fmt("%ld", r1), "reviewer", "0");
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/teams/%ld?saved=unreviewer&l=1#members", p.team));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS('|', IFNULL(review_user, 'none'), IFNULL(review_token, 'none')) "
	    "FROM items WHERE id = %ld", a.item), "none|none");
	CHECK_STATUS(GET(rev, itest_fmt("/projects/%ld/review", p.id)), 403);
	CHECK_STATUS(verdict(rev, &a, "approve", NULL), 403);
	b = review_page(rev2, &p);
	CHECK(b.item == a.item, "the other reviewer did not get the freed item (%ld)", b.item);
	r = GET(admin, itest_fmt("/admin/teams/%ld?saved=unreviewer&l=1", p.team));
	CHECK_BODY_HAS(r, "1 review in progress was ended.");

	/* Refused marks. */
	r = POST_FORM(admin, path, "csrf", csrf, "user", itest_fmt("%ld", r1), "reviewer", "yes");
	CHECK_STATUS(r, 422);
	r = POST_FORM(admin, itest_fmt("/admin/teams/%ld/members/reviewer", p.team), "csrf", csrf,
	    "user", ENV("LABELD_TEST_ADMIN_EMAIL"), "reviewer", "1");
	CHECK_STATUS(r, 422);
	{
		char *email = NULL;
		long outsider = num(itest_fmt("INSERT INTO users (email, password_hash) VALUES (%s, '') "
		    "RETURNING id", sql_str(email = itest_fmt("%s@example.com", itest_uniq("outsider")))));
		r = POST_FORM(admin, path, "csrf", csrf, "user", itest_fmt("%ld", outsider), "reviewer", "1");
		CHECK_STATUS(r, 409);
		CHECK(num(itest_fmt("SELECT COUNT(*) FROM team_members WHERE user_id = %ld", outsider)) == 0,
		    "marking a non-member put them in the team");
	}
}

/* ------------------------------------------------------------ exports */

/* Start an export of p as admin (delta "1" or NULL, approved-only) and
 * wait for it; returns the file's text and the row's numbers. */
static char *export_run(struct client *admin, const struct rproject *p, const char *delta,
    long *items, long *removed, long *is_delta)
{
	struct resp *r = GET(admin, itest_fmt("/projects/%ld/exports", p->id));
	long before = num(itest_fmt("SELECT IFNULL(MAX(id), 0) FROM exports WHERE project_id = %ld", p->id));
	long id;
	char *state = NULL, *vals;

	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@id='exportform']//input[@name='approved_only']") == 1,
	    "the Export form has no approved-only choice");
	r = POST_FORM(admin, itest_fmt("/projects/%ld/exports", p->id), "csrf", html_logout_csrf(r),
	    "format", "manifest", "delta", delta, "approved_only", "1");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/exports", p->id));
	id = num(itest_fmt("SELECT IFNULL(MAX(id), 0) FROM exports WHERE project_id = %ld", p->id));
	CHECK(id > before, "no export queued");
	for (int waited = 0; ; waited += 200) {
		r = GET(admin, itest_fmt("/projects/%ld/exports", p->id));
		state = html_str(r, "//tr[@data-export-id='%ld']/@data-state", id);
		CHECK(state != NULL, "export %ld not listed", id);
		if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0)
			break;
		CHECK(waited < EXPORT_WAIT_MS, "export %ld still %s", id, state);
		itest_sleep_ms(200);
	}
	CHECK(strcmp(state, "done") == 0, "export %ld failed: %s", id,
	    SQL_QUERY("SELECT IFNULL(error, '') FROM exports WHERE id = %ld", id));
	CHECK(html_count(r, "//tr[@data-export-id='%ld']//*[contains(@class,'approved-only')]", id) == 1,
	    "the export list does not say the export is of approved items only");
	vals = SQL_QUERY("SELECT CONCAT_WS(' ', items, removed, delta, approved_only) FROM exports "
	    "WHERE id = %ld", id);
	long ao = 0;
	CHECK(sscanf(vals, "%ld %ld %ld %ld", items, removed, is_delta, &ao) == 4 && ao == 1,
	    "export row %s", vals);
	r = GET(admin, itest_fmt("/projects/%ld/exports/%ld/download", p->id, id));
	CHECK_STATUS(r, 200);
	return r->body;
}

/* The lines of a manifest that name item path `n` (…/N.png) of p, and
 * whether one says removed. */
static int lines_of(const char *text, const struct rproject *p, long item, int *removed)
{
	char *path = SQL_QUERY("SELECT SUBSTRING_INDEX(path, '/', -2) FROM items WHERE id = %ld", item);
	int n = 0;

	*removed = 0;
	(void)p;
	for (const char *l = text; l != NULL && *l != '\0'; ) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char *line = itest_fmt("%.*s", (int)len, l);
		if (strstr(line, itest_fmt("%s\"", path)) != NULL) {
			n++;
			if (strstr(line, "\"removed\": true") != NULL || strstr(line, "\"removed\":true") != NULL)
				*removed = 1;
		}
		l = e ? e + 1 : NULL;
	}
	return n;
}

/* Approved items only: a full export holds the approved items and nothing
 * else; a delta of approved items holds the approvals since, and an
 * approved item rejected since as removed. */
static void review_exports_approved_only(void)
{
	struct rproject p = project_new(4);
	long lab, rev_id, items, removed, delta;
	struct client *labeler = person(&p, "Labeler", 0, &lab);
	struct client *rev = person(&p, "Reviewer", 1, &rev_id);
	struct client *admin = CLIENT(NULL);
	long *it = label_n(labeler, &p, 4, p.cat);
	struct rpage pg;
	char *text;
	int rm;

	SIGN_IN_OK(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
	for (int i = 0; i < 2; i++) {   /* approve items 0 and 1 */
		pg = review_page(rev, &p);
		CHECK(pg.item == it[i], "review item %ld, want %ld", pg.item, it[i]);
		verdict_ok(rev, &p, &pg, "approve", NULL);
	}
	text = export_run(admin, &p, NULL, &items, &removed, &delta);
	CHECK(items == 2 && removed == 0 && delta == 0, "approved-only export: %ld items, %ld removed, "
	    "delta %ld (want 2, 0, 0)", items, removed, delta);
	for (int i = 0; i < 4; i++)
		CHECK(lines_of(text, &p, it[i], &rm) == (i < 2 ? 1 : 0) && !rm,
		    "item %d (%ld) is %s the approved-only export", i, it[i], i < 2 ? "missing from" : "in");

	/* Item 2 approved, item 0 rejected (after its approval), item 3
	 * rejected before any approval. */
	pg = review_page(rev, &p);
	CHECK(pg.item == it[2], "review item %ld, want %ld", pg.item, it[2]);
	verdict_ok(rev, &p, &pg, "approve", NULL);
	pg = review_page(rev, &p);
	CHECK(pg.item == it[3], "review item %ld, want %ld", pg.item, it[3]);
	verdict_ok(rev, &p, &pg, "reject", "not approved ever");
	/* Item 0, approved in the first export, is rejected now.  The
	 * review queue offers only answers waiting for review; rejecting an
	 * approved answer is the Data tab's (POST /projects/:id/data/review,
	 * not on this branch), so it is done here as review_reject does it:
	 * the answer withdrawn under the next change number, the item
	 * requeued, the counters and classes with it. */
	SQL("UPDATE project_counters SET items_labeled = items_labeled - 1, "
	    "items_approved = items_approved - 1, items_requeued = items_requeued + 1, "
	    "rejections = rejections + 1, change_seq = LAST_INSERT_ID(change_seq + 1) "
	    "WHERE project_id = %ld; SET @seq = LAST_INSERT_ID(); "
	    "UPDATE label_counts SET answers = answers - 1 WHERE project_id = %ld AND label_id = %ld; "
	    "DELETE FROM answer_labels WHERE item_id = %ld; "
	    "UPDATE annotations SET is_current = 0, withdrawn_seq = @seq WHERE item_id = %ld "
	    "AND is_current = 1; "
	    "UPDATE items SET state = 'unlabeled', phase = 'requeued', version = version + 1 "
	    "WHERE id = %ld; "
	    "INSERT INTO labeler_days (project_id, user_id, day, rejected) VALUES (%ld, %ld, UTC_DATE(), 1) "
	    "ON DUPLICATE KEY UPDATE rejected = rejected + 1; "
	    "INSERT INTO item_events (item_id, project_id, user_id, kind) VALUES (%ld, %ld, %ld, 'rejected')",
	    p.id, p.id, p.cat, it[0], it[0], it[0], p.id, lab, it[0], p.id, rev_id);
	text = export_run(admin, &p, "1", &items, &removed, &delta);
	CHECK(delta == 1 && items == 1 && removed == 1, "approved-only delta: %ld items, %ld removed, "
	    "delta %ld (want 1, 1, 1)", items, removed, delta);
	CHECK(lines_of(text, &p, it[2], &rm) == 1 && !rm, "the new approval is not in the delta");
	CHECK(lines_of(text, &p, it[0], &rm) == 1 && rm, "the approval rejected since is not removed");
	CHECK(lines_of(text, &p, it[1], &rm) == 0, "an unchanged approval is in the delta");
	CHECK(lines_of(text, &p, it[3], &rm) == 0, "an item never approved is in the delta");
	counters_exact(&p);

	/* Nothing changed since: an empty delta. */
	text = export_run(admin, &p, "1", &items, &removed, &delta);
	CHECK(delta == 1 && items == 0 && removed == 0, "empty approved-only delta: %ld items, %ld "
	    "removed", items, removed);
}

const struct itest_case itest_review_cases[] = {
	ITEST(review_page_shows_answer),
	ITEST(review_own_answers_never_offered),
	ITEST(review_skip),
	ITEST(review_lease_taken_over),
	ITEST(review_round_trips),
	ITEST(review_unmark_ends_lease),
	ITEST(review_concurrent_never_same_item),
	ITEST(review_exports_approved_only),
};
const size_t itest_review_ncases = sizeof(itest_review_cases) / sizeof(itest_review_cases[0]);
