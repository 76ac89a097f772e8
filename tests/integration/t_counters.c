/*
 * t_counters.c: the counters of docs/review.md (project_counters,
 * label_counts, labeler_days, answer_labels) stay exact while labelers
 * label and skip and reviewers reject and approve at the same time, all
 * over HTTP; at the end a full recount (COUNTERS_CHECK,
 * tests/integration/counters_recount.sql) must find every counter equal to
 * the rows.  `./stack` runs these tests a second time with combine = off,
 * as the labeling tests.
 *
 * The labelers and reviewers are threads, each with its own curl handle
 * and session (the itest client and its CHECK macros belong to the main
 * thread); a thread records its first error and stops, and the main thread
 * checks them after the join.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")

/* How many of each run at once, and how many review requests each
 * reviewer sends while the labelers work. */
enum { LABELERS = 4, REVIEWERS = 2, REVIEW_ROUNDS = 40 };

/* A multiclass ("testtask") project of n items (paths only) with the
 * labels cat, dog and bird, served by the tests' team; its id. */
static long counted_project(long n)
{
	return SQL_PROJECT("counters", "testtask", n, 32, 32);
}

/* One thread: a labeler or a reviewer, with its session. */
struct actor {
	pthread_t tid;
	const char *base;
	long project;
	int index;
	char cookie[128];
	char csrf[64];
	long labels[3];          /* labelers: the project's label ids */
	volatile int *reviewing; /* nonzero while reviewers still work */
	long answers, skips, reviews;
	char error[512];
};

/* The body of one response: a memory stream curl writes into. */
struct body {
	char *p;
	size_t n;
};

/* GET path (form NULL) or POST form as actor w; the status, or -1 with
 * w->error set.  The body is left in *b (replaced; NUL-terminated). */
static long act(struct actor *w, CURL *c, const char *path, const char *form, struct body *b)
{
	char url[512];
	long status = 0;
	CURLcode rc;
	FILE *out;

	free(b->p);
	b->p = NULL;
	if ((out = open_memstream(&b->p, &b->n)) == NULL) {
		snprintf(w->error, sizeof(w->error), "open_memstream failed");
		return -1;
	}
	snprintf(url, sizeof(url), "%s%s", w->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_COOKIE, w->cookie);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);   /* curl's own fwrite */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (form != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	rc = curl_easy_perform(c);
	fclose(out);
	if (rc != CURLE_OK) {
		snprintf(w->error, sizeof(w->error), "%s %s: %s", form ? "POST" : "GET", path,
		    curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* Copy the value of the hidden input `name` of page into out (size len);
 * 0 when it is not there. */
static int hidden(const char *page, const char *name, char *out, size_t len)
{
	char needle[64];
	const char *v, *end;

	snprintf(needle, sizeof(needle), "name=\"%s\" value=\"", name);
	if (page == NULL || (v = strstr(page, needle)) == NULL)
		return 0;
	v += strlen(needle);
	end = strchr(v, '"');
	if (end == NULL || (size_t)(end - v) >= len)
		return 0;
	snprintf(out, len, "%.*s", (int)(end - v), v);
	return 1;
}

/* A labeler: takes the next item and answers it (one of three labels) or
 * skips it (one item in five, never the same one for two labelers, so
 * every item gets answered in the end), until nothing is left and the
 * reviewers (who put rejected items back) are done. */
static void *labeler_run(void *arg)
{
	struct actor *w = arg;
	CURL *c = curl_easy_init();
	struct body b = { 0 };
	char path[128], action[128], post[128], form[512], lease[64], csrf[64];
	long item, status;

	if (c == NULL) {
		snprintf(w->error, sizeof(w->error), "curl_easy_init failed");
		return NULL;
	}
	snprintf(path, sizeof(path), "/projects/%ld/label", w->project);
	snprintf(action, sizeof(action), "action=\"/projects/%ld/items/", w->project);
	for (int guard = 0; guard < 20000; guard++) {
		const char *a;

		if ((status = act(w, c, path, NULL, &b)) != 200) {
			if (status > 0)
				snprintf(w->error, sizeof(w->error), "GET %s: status %ld", path, status);
			break;
		}
		if (strstr(b.p, "Nothing left to label") != NULL) {
			if (!*w->reviewing)
				break;
			usleep(20000);
			continue;
		}
		if ((a = strstr(b.p, action)) == NULL || sscanf(a + strlen(action), "%ld", &item) != 1 ||
		    !hidden(b.p, "lease", lease, sizeof(lease)) || !hidden(b.p, "csrf", csrf, sizeof(csrf))) {
			snprintf(w->error, sizeof(w->error), "GET %s: no labeling form", path);
			break;
		}
		if ((item + w->index) % 5 == 0) {
			snprintf(form, sizeof(form), "csrf=%s&lease=%s&action=skip", csrf, lease);
			w->skips++;
		} else {
			snprintf(form, sizeof(form), "csrf=%s&lease=%s&label=%ld&action=submit", csrf, lease,
			    w->labels[(item + w->index) % 3]);
			w->answers++;
		}
		snprintf(post, sizeof(post), "/projects/%ld/items/%ld", w->project, item);
		if ((status = act(w, c, post, form, &b)) != 303) {
			if (status > 0)
				snprintf(w->error, sizeof(w->error), "POST %s (%s): status %ld", post,
				    strstr(form, "action=skip") ? "skip" : "submit", status);
			break;
		}
	}
	free(b.p);
	curl_easy_cleanup(c);
	return NULL;
}

/* Up to max item ids of the Data tab's page in body (its checkboxes),
 * starting at a random one; how many. */
static size_t page_items(const char *body, long *ids, size_t max, unsigned *seed)
{
	static const char box[] = "name=\"item\" value=\"";
	long all[256];
	size_t n = 0, k = 0;

	for (const char *p = body; p != NULL && n < 256 && (p = strstr(p, box)) != NULL; n++) {
		p += strlen(box);
		all[n] = strtol(p, NULL, 10);
	}
	for (size_t from = n > 0 ? rand_r(seed) % n : 0; k < max && k < n; k++)
		ids[k] = all[(from + k) % n];
	return k;
}

/* A reviewer: REVIEW_ROUNDS times, takes answered items from the Data tab
 * (waiting for review, or approved ones) and rejects or approves them, by
 * turns several at once on the Data tab and one on its item page, while
 * the labelers answer (and answer again what was rejected). */
static void *reviewer_run(void *arg)
{
	static const struct {
		const char *state, *verdict;
		int many;
	} turns[] = {
		{ "labeled", "reject", 1 }, { "labeled", "approve", 0 },
		{ "labeled", "approve", 1 }, { "approved", "reject", 0 },
	};
	struct actor *w = arg;
	CURL *c = curl_easy_init();
	struct body b = { 0 };
	unsigned seed = (unsigned)(w->index * 7919 + time(NULL));
	char path[128], form[512];
	long ids[3], status;

	if (c == NULL) {
		snprintf(w->error, sizeof(w->error), "curl_easy_init failed");
		return NULL;
	}
	for (int round = 0, idle = 0; round < REVIEW_ROUNDS && idle < 1000; ) {
		const char *verdict = turns[round % 4].verdict;
		int many = turns[round % 4].many;
		size_t n;

		snprintf(path, sizeof(path), "/projects/%ld/data?state=%s", w->project,
		    turns[round % 4].state);
		if ((status = act(w, c, path, NULL, &b)) != 200) {
			if (status > 0)
				snprintf(w->error, sizeof(w->error), "GET %s: status %ld", path, status);
			break;
		}
		if ((n = page_items(b.p, ids, many ? 3 : 1, &seed)) == 0) {
			idle++;
			usleep(10000);
			continue;
		}
		if (many) {
			snprintf(path, sizeof(path), "/projects/%ld/data/review", w->project);
			snprintf(form, sizeof(form), "csrf=%s&action=%s&reason=round+%d&back=%%2Fprojects"
			    "%%2F%ld%%2Fdata", w->csrf, verdict, round, w->project);
			for (size_t k = 0; k < n; k++)
				snprintf(form + strlen(form), sizeof(form) - strlen(form), "&item=%ld", ids[k]);
		} else {
			snprintf(path, sizeof(path), "/projects/%ld/items/%ld/review", w->project, ids[0]);
			snprintf(form, sizeof(form), "csrf=%s&action=%s&reason=round+%d", w->csrf, verdict,
			    round);
		}
		if ((status = act(w, c, path, form, &b)) != 303) {
			if (status > 0)
				snprintf(w->error, sizeof(w->error), "POST %s (%s): status %ld", path, verdict,
				    status);
			break;
		}
		w->reviews++;
		round++;
	}
	free(b.p);
	curl_easy_cleanup(c);
	return NULL;
}

/* A signed-in client's session cookie and CSRF token, for a thread. */
static void session_of(struct client *c, struct actor *w)
{
	struct resp *r = GET(c, "/projects");
	const char *csrf = html_logout_csrf(r);

	CHECK(csrf != NULL, "no CSRF token on /projects");
	snprintf(w->cookie, sizeof(w->cookie), "labeld_session=%s", client_cookie(c, "labeld_session"));
	snprintf(w->csrf, sizeof(w->csrf), "%s", csrf);
	w->base = c->base;
}

/* Whether this build has the Data tab's review form: a POST of it with
 * no item selected, as reviewer w, answers anything but 404. */
static bool review_forms(long p, const struct actor *w)
{
	struct client *c = CLIENT(NULL);
	struct resp *r;

	CLIENT_SET_COOKIE(c, "labeld_session", strchr(w->cookie, '=') + 1);
	r = POST_FORM(c, itest_fmt("/projects/%ld/data/review", p), "csrf", w->csrf,
	    "action", "approve", "back", itest_fmt("/projects/%ld/data", p));
	return r->status != 404;
}

static long count(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

/* Labelers label and skip while reviewers reject and approve; then every
 * item is answered and every counter equals a full recount. */
static void counters_exact(void)
{
	long n = itest_env_long("LABELD_TEST_COUNTERS_ITEMS", 240);
	long p = counted_project(n);
	struct actor *w = itest_keep(calloc(LABELERS + REVIEWERS, sizeof(*w)));
	volatile int reviewing = 1;
	const char *user_hash = sql_str(ENV("LABELD_TEST_USER_EMAIL"));
	long answers = 0, skips = 0, reviews = 0;
	int reviewers;

	CHECK(w != NULL, "out of memory");
	for (int i = 0; i < LABELERS + REVIEWERS; i++) {
		struct client *c = CLIENT(NULL);

		w[i].project = p;
		w[i].index = i;
		w[i].reviewing = &reviewing;
		if (i < LABELERS) {
			const char *email = itest_fmt("%s@example.com", itest_uniq("counter"));

			SQL("INSERT INTO users (email, password_hash) SELECT %s, password_hash FROM users "
			    "WHERE email = %s", sql_str(email), user_hash);
			ITEST_JOIN(email);
			SIGN_IN_OK(c, email, ENV("LABELD_TEST_USER_PASSWORD"));
			for (int k = 0; k < 3; k++)
				w[i].labels[k] = count(itest_fmt("SELECT id FROM labels WHERE project_id = %ld "
				    "AND position = %d", p, k + 1));
		} else {
			SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
		}
		session_of(c, &w[i]);
	}
	/* The reviewers use the Data tab's review forms (docs/review.md); a
	 * build without them (404) runs the labelers alone and says so. */
	reviewers = review_forms(p, &w[LABELERS]) ? REVIEWERS : 0;
	if (reviewers == 0)
		itest_note("counters_exact: POST /projects/%ld/data/review answers 404: "
		    "no reviewers in this run, labeling and skipping only", p);
	for (int i = 0; i < LABELERS + reviewers; i++)
		CHECK(pthread_create(&w[i].tid, NULL, i < LABELERS ? labeler_run : reviewer_run,
		    &w[i]) == 0, "pthread_create");
	for (int i = LABELERS; i < LABELERS + reviewers; i++)
		pthread_join(w[i].tid, NULL);
	reviewing = 0;
	for (int i = 0; i < LABELERS; i++)
		pthread_join(w[i].tid, NULL);
	/* A labeler may have found nothing left while another still held the
	 * last items, and then that one skipped them: two more rounds of the
	 * labelers one after the other answer what any of them skipped. */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < LABELERS; i++)
			labeler_run(&w[i]);
	for (int i = 0; i < LABELERS + REVIEWERS; i++) {
		CHECK(w[i].error[0] == '\0', "%s %d: %s", i < LABELERS ? "labeler" : "reviewer", i,
		    w[i].error);
		answers += w[i].answers;
		skips += w[i].skips;
		reviews += w[i].reviews;
	}
	itest_note("counters_exact: %ld answers, %ld skips, %ld review requests", answers, skips,
	    reviews);
	/* The run did what it says: everything answered, some of it skipped,
	 * rejected (and answered again) and approved. */
	CHECK(count(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld "
	    "AND phase NOT IN ('labeled', 'approved')", p)) == 0, "items left unanswered");
	CHECK(count(itest_fmt("SELECT COUNT(*) FROM annotations WHERE project_id = %ld", p)) == answers,
	    "%ld answers were sent, the project has another number of annotations", answers);
	CHECK(count(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld "
	    "AND kind = 'skipped'", p)) == skips, "%ld skips were sent, another number is recorded", skips);
	CHECK(reviewers == 0 || count(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld "
	    "AND kind = 'rejected'", p)) > 0, "nothing was rejected");
	CHECK(reviewers == 0 || count(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld "
	    "AND kind = 'approved'", p)) > 0, "nothing was approved");
	COUNTERS_CHECK(p);
}

/* The recount sees a counter that is off, whichever it is: a project whose
 * counters are exact, then each counter changed by one in turn (and put
 * back) must be named with both values. */
static void counters_recount_finds(void)
{
	long p = counted_project(6);
	struct client *c = CLIENT(NULL);
	const char *email = itest_fmt("%s@example.com", itest_uniq("recount"));
	long cat;
	static const struct {
		const char *change, *undo, *named;
	} off[] = {
		{ "UPDATE project_counters SET items_labeled = items_labeled + 1 WHERE project_id = @p",
		  "UPDATE project_counters SET items_labeled = items_labeled - 1 WHERE project_id = @p",
		  "project_counters.items_labeled\t2\t1" },
		{ "UPDATE project_counters SET items_skipped = items_skipped + 1 WHERE project_id = @p",
		  "UPDATE project_counters SET items_skipped = items_skipped - 1 WHERE project_id = @p",
		  "project_counters.items_skipped\t2\t1" },
		{ "UPDATE label_counts SET answers = answers + 1 WHERE project_id = @p",
		  "UPDATE label_counts SET answers = answers - 1 WHERE project_id = @p",
		  "(vs answer_labels)\t2\t1" },
		{ "UPDATE labeler_days SET skipped = skipped + 1 WHERE project_id = @p",
		  "UPDATE labeler_days SET skipped = skipped - 1 WHERE project_id = @p",
		  "labeler_days.skipped of user" },
		{ "UPDATE items SET phase = 'approved' WHERE project_id = @p AND phase = 'labeled'",
		  "UPDATE items SET phase = 'labeled' WHERE project_id = @p AND phase = 'approved'",
		  "project_counters.items_approved\t0\t1" },
		{ "DELETE FROM answer_labels WHERE project_id = @p",
		  "INSERT INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by) "
		  "SELECT @p, JSON_VALUE(a.data, '$.label'), i.answered_at, i.id, i.labeled_by FROM items i "
		  "JOIN annotations a ON a.item_id = i.id AND a.is_current = 1 WHERE i.project_id = @p",
		  "classes of current answers missing from answer_labels\t0\t1" },
	};

	SQL("INSERT INTO users (email, password_hash) SELECT %s, password_hash FROM users "
	    "WHERE email = %s", sql_str(email), sql_str(ENV("LABELD_TEST_USER_EMAIL")));
	ITEST_JOIN(email);
	SIGN_IN_OK(c, email, ENV("LABELD_TEST_USER_PASSWORD"));
	cat = count(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND name = 'cat'", p));
	/* One answer and one skip, over HTTP. */
	for (int k = 0; k < 2; k++) {
		struct resp *r = GET(c, itest_fmt("/projects/%ld/label", p));
		char *action = html_str(r, "//form[@id='labelform']/@action");

		CHECK_STATUS(r, 200);
		CHECK(action != NULL, "no labeling form: %s", resp_snip(r));
		r = POST_FORM(c, action, "csrf", html_form_input(r, "labelform", "csrf"),
		    "lease", html_form_input(r, "labelform", "lease"),
		    "label", k == 0 ? itest_fmt("%ld", cat) : NULL, "action", k == 0 ? "submit" : "skip");
		CHECK_STATUS(r, 303);
	}
	COUNTERS_CHECK(p);
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		char *out;

		SQL("SET @p = %ld; %s", p, off[i].change);
		out = COUNTERS_RECOUNT(p);
		SQL("SET @p = %ld; %s", p, off[i].undo);
		CHECK(strstr(out, off[i].named) != NULL, "after \"%s\" the recount says: \"%s\"",
		    off[i].change, out);
	}
	COUNTERS_CHECK(p);
}

const struct itest_case itest_counters_cases[] = {
	ITEST(counters_recount_finds),
	ITEST(counters_exact),
};

const size_t itest_counters_ncases = sizeof(itest_counters_cases) / sizeof(itest_counters_cases[0]);
