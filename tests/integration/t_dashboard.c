/*
 * t_dashboard.c: a project's Dashboard tab (issue 14, docs/review.md
 * "Dashboard").  Two labelers label and skip over HTTP, one keeps a lease;
 * the page's numbers must equal a full recount of the items and
 * annotations made here with SQL COUNTs (the page itself reads only
 * counters), in the table behind each chart as in the chart; the 30 days
 * of the day chart; the median seconds per item for known times; a
 * labeler's name escaped; who may see the page and its tab; Pause and
 * Start from the Dashboard.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")

#define SCRIPT_NAME "<script>alert('dash')</script>"

/* ------------------------------------------------------------ helpers */

static const char *stamp(void)
{
	static unsigned counter;

	return itest_fmt("%ld-%ld-%u", (long)time(NULL), (long)getpid(), ++counter);
}

static long num(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

/* A running project of the test task with n items and the classes cat,
 * dog, bird (bird never answered here), made with SQL; the test labelers'
 * team serves it. */
static long project_new(long n)
{
	return SQL_PROJECT("dash-test", "testtask", n, 64, 48);
}

/* A new person with the test user's password and display name `name`, in
 * the test labelers' team when join (a reviewer of its projects when
 * reviewer); *email (may be NULL) gets the address.  Returns a signed-in
 * client. */
static struct client *person(const char *name, int join, int reviewer, const char **email)
{
	const char *e = itest_fmt("dash-%s@example.com", stamp());
	struct client *c = CLIENT(NULL);

	SQL("INSERT INTO users (email, display_name, password_hash, activated_at) "
	    "SELECT %s, %s, password_hash, NOW(6) FROM users WHERE email = %s",
	    sql_str(e), sql_str(name), sql_str(USER_EMAIL));
	if (join)
		ITEST_JOIN(e);
	if (reviewer)
		SQL("UPDATE team_members m JOIN users u ON u.id = m.user_id SET m.reviewer = 1 "
		    "WHERE u.email = %s", sql_str(e));
	SIGN_IN_OK(c, e, USER_PASSWORD);
	if (email != NULL)
		*email = e;
	return c;
}

static long user_id(const char *email)
{
	return num(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
}

/* Take the next item of project p and answer it with class `label` (a
 * label name), or skip it when label is NULL, the lease handed out `ago`
 * ms before the answer (so the answer has a known time); returns the
 * item. */
static long answer_after(struct client *c, long p, const char *label, long ago)
{
	struct resp *r = GET(c, itest_fmt("/projects/%ld/label", p));
	const char *action, *lease, *csrf;
	long proj = 0, item = 0;

	CHECK_STATUS(r, 200);
	action = html_str(r, "//form[@id='labelform']/@action");
	CHECK(action != NULL && sscanf(action, "/projects/%ld/items/%ld", &proj, &item) == 2 &&
	    proj == p, "no labeling form: %s", resp_snip(r));
	lease = html_form_input(r, "labelform", "lease");
	csrf = html_form_input(r, "labelform", "csrf");
	if (ago > 0)
		SQL("UPDATE items SET leased_at = leased_at - INTERVAL %ld MICROSECOND WHERE id = %ld",
		    ago * 1000, item);
	if (label == NULL) {
		r = POST_FORM(c, action, "csrf", csrf, "lease", lease, "action", "skip");
	} else {
		long lid = num(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND name = %s",
		    p, sql_str(label)));
		r = POST_FORM(c, action, "csrf", csrf, "lease", lease, "label", itest_fmt("%ld", lid),
		    "action", "submit");
	}
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", p));
	return item;
}

static long answer(struct client *c, long p, const char *label)
{
	return answer_after(c, p, label, 0);
}

/* The median seconds the page must show for labeler uid in project p,
 * recounted from their answers' times (annotations.ms) by the bucket rule
 * of sql/018_labeler_stats.sql: the bucket of the answer of rank
 * (N + 1) / 2, shown as 100 * 1.2^(b + 0.5) ms rounded down, in seconds
 * with the tenths cut off. */
static const char *median_of(long p, long uid)
{
	return SQL_QUERY("SELECT CONCAT(m DIV 1000, '.', m MOD 1000 DIV 100) FROM (SELECT "
	    "FLOOR(100 * POW(1.2, b + 0.5)) m FROM (SELECT b, ROW_NUMBER() OVER (ORDER BY b) r, "
	    "COUNT(*) OVER () n FROM (SELECT LEAST(63, GREATEST(0, FLOOR(LOG(1.2, GREATEST(ms, 1) / 100)))) b "
	    "FROM annotations WHERE project_id = %ld AND labeler_id = %ld AND relabel = 0 "
	    "AND ms IS NOT NULL) x) y WHERE r = (n + 1) DIV 2) z", p, uid);
}

/* A number as the page shows it, its thousands' gaps removed. */
static long page_num(struct resp *r, const char *xpath)
{
	char *s = html_str(r, "%s", xpath), *o;

	CHECK(s != NULL, "the page has no %s", xpath);
	o = s;
	for (char *q = s; *q; q++)
		if (*q >= '0' && *q <= '9')
			*o++ = *q;
	*o = '\0';
	CHECK(o != s, "%s is \"%s\", not a number", xpath, html_str(r, "%s", xpath));
	return strtol(s, NULL, 10);
}

/* The progress table's count of kind. */
static long progress_of(struct resp *r, const char *kind)
{
	return page_num(r, itest_fmt("//table[@id='progress-table']//tr[@data-kind='%s']/td[1]", kind));
}

/* The live leases of p are in the phase's count unless `leased`. */
#define LIVE "COALESCE(lease_until > NOW(6), 0)"

/* ------------------------------------------------------------ tests */

/* The numbers of the page equal a recount of the items and annotations,
 * in the charts and in the tables behind them. */
static void dashboard_numbers(void)
{
	long p = project_new(9);
	const char *ea, *eb;
	struct client *a = person(SCRIPT_NAME, 1, 0, &ea);
	struct client *b = person("Bea Dash", 1, 0, &eb);
	struct client *rev = person("Rita Reviewer", 1, 1, NULL);
	struct resp *r;
	long ua, ub;

	/* Known seconds per answer (each some ms more: the requests' own
	 * time): a 4.2, 1.9, 2.4 (the middle, 2.4, in bucket 17, [2.22, 2.66)
	 * s, shown as 2.4); b 1.9, 3.5 (an even count: the lower, 1.9, in
	 * bucket 16, [1.85, 2.22) s, shown as 2.0). */
	answer_after(a, p, "cat", 4200);
	answer_after(a, p, "cat", 1900);
	answer_after(a, p, "dog", 2400);
	answer_after(b, p, "dog", 1900);
	answer_after(b, p, "cat", 3500);
	/* b holds a lease: one item "leased"; then a skips another. */
	CHECK_STATUS(GET(b, itest_fmt("/projects/%ld/label", p)), 200);
	answer(a, p, NULL);
	ua = user_id(ea);
	ub = user_id(eb);

	r = GET(rev, itest_fmt("/projects/%ld/dashboard", p));
	CHECK_STATUS(r, 200);

	/* Progress: every item once, as a recount says. */
	struct { const char *kind, *where; } kinds[] = {
		{ "approved", "phase = 'approved'" },
		{ "labeled", "phase = 'labeled'" },
		{ "leased", "state = 'unlabeled' AND " LIVE },
		{ "requeued", "phase = 'requeued' AND NOT " LIVE },
		{ "skipped", "phase = 'skipped' AND NOT " LIVE },
		{ "queued", "phase = 'queued' AND NOT " LIVE },
	};
	long sum = 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		long want = num(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND %s",
		    p, kinds[i].where));
		long got = progress_of(r, kinds[i].kind);
		CHECK(got == want, "%s: the page says %ld, a recount %ld", kinds[i].kind, got, want);
		sum += got;
		/* The bar draws a segment for each count that is not 0, and its
		 * title names the same number. */
		CHECK(html_count(r, "//svg[@id='progress-bar']/rect[@data-kind='%s']", kinds[i].kind) ==
		    (got > 0), "%s: %ld items but %d segments", kinds[i].kind, got,
		    html_count(r, "//svg[@id='progress-bar']/rect[@data-kind='%s']", kinds[i].kind));
	}
	CHECK(progress_of(r, "labeled") == 5 && progress_of(r, "leased") == 1 &&
	    progress_of(r, "skipped") == 1 && progress_of(r, "queued") == 2,
	    "the progress is not 5 labeled, 1 leased, 1 skipped, 2 queued");
	CHECK(sum == 9 && progress_of(r, "total") == 9, "the parts add up to %ld, not 9", sum);
	CHECK_STREQ(html_str(r, "//svg[@id='progress-bar']/rect[@data-kind='labeled']/title"),
	    "Labeled: 5 (55.6%)");
	CHECK(html_count(r, "//svg[@id='progress-bar' and @role='img']/title") == 1 &&
	    html_count(r, "//svg[@id='progress-bar']/desc[contains(., 'Leased: 1 (11.1%%).')]") == 1,
	    "the bar has no title or no description with the numbers");
	CHECK_STREQ(html_str(r, "//strong[@id='percent']"), "55.5%");   /* 5/9, rounded down */
	CHECK(page_num(r, "//strong[@id='rejections']") ==
	    num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'rejected'", p)),
	    "rejections differ from a recount");

	/* Classes: in label order, bird with 0; the chart and the table agree
	 * with a recount of the current annotations. */
	const char *classes[] = { "cat", "dog", "bird" };
	CHECK(html_count(r, "//table[@id='classes-table']/tbody/tr") == 3, "not three classes");
	for (int i = 0; i < 3; i++) {
		long want = num(itest_fmt("SELECT COUNT(*) FROM annotations a JOIN labels l "
		    "ON l.id = JSON_VALUE(a.data, '$.label') WHERE a.project_id = %ld AND a.is_current = 1 "
		    "AND l.name = %s", p, sql_str(classes[i])));
		CHECK_STREQ(html_str(r, "//table[@id='classes-table']/tbody/tr[%d]/th", i + 1), classes[i]);
		CHECK(page_num(r, itest_fmt("//table[@id='classes-table']/tbody/tr[%d]/td", i + 1)) == want,
		    "class %s: the table differs from a recount (%ld)", classes[i], want);
		CHECK_STREQ(html_str(r, "//svg[@id='classes-chart']/rect[%d]/title", i + 1),
		    itest_fmt("%s: %ld", classes[i], want));
	}
	CHECK(html_count(r, "//svg[@id='classes-chart' and @role='img']/title") == 1 &&
	    html_count(r, "//svg[@id='classes-chart']/desc") == 1, "the class chart has no title or desc");

	/* Days: 30 of them, today last with every answer of this test. */
	CHECK(html_count(r, "//table[@id='days-table']/tbody/tr") == 30, "the day table has %d rows",
	    html_count(r, "//table[@id='days-table']/tbody/tr"));
	CHECK(html_count(r, "//svg[@id='days-chart']/rect[contains(@class,'day')]") == 30,
	    "the day chart has %d columns", html_count(r, "//svg[@id='days-chart']/rect[contains(@class,'day')]"));
	CHECK(html_count(r, "//svg[@id='days-chart' and @role='img']/title") == 1 &&
	    html_count(r, "//svg[@id='days-chart']/desc") == 1, "the day chart has no title or desc");
	const char *today = SQL_QUERY("SELECT DATE_FORMAT(UTC_DATE(), '%%Y-%%m-%%d')");
	const char *first = SQL_QUERY("SELECT DATE_FORMAT(UTC_DATE() - INTERVAL 29 DAY, '%%Y-%%m-%%d')");
	CHECK_STREQ(html_str(r, "//table[@id='days-table']/tbody/tr[30]/th"), today);
	CHECK_STREQ(html_str(r, "//table[@id='days-table']/tbody/tr[1]/th"), first);
	long today_n = num(itest_fmt("SELECT COUNT(*) FROM annotations WHERE project_id = %ld "
	    "AND DATE(created_at) = UTC_DATE()", p));
	CHECK(today_n == 5 && page_num(r, "//table[@id='days-table']/tbody/tr[30]/td") == today_n,
	    "today: the table says %ld, a recount %ld",
	    page_num(r, "//table[@id='days-table']/tbody/tr[30]/td"), today_n);
	CHECK(page_num(r, "//table[@id='days-table']/tbody/tr[29]/td") == 0, "yesterday is not 0");
	CHECK_STREQ(html_str(r, "//svg[@id='days-chart']/rect[@data-day='%s']/title", today),
	    itest_fmt("%s: 5", today));

	/* Labelers: their sums as a recount, the median of known times by
	 * the bucket rule, the last answer's time; names escaped. */
	CHECK(html_count(r, "//table[@id='labelers-table']/tbody/tr") == 2, "not two labelers");
	struct { long uid; const char *name, *median; } who[] = {
		{ ua, SCRIPT_NAME, "2.4" }, { ub, "Bea Dash", "2.0" },
	};
	for (int i = 0; i < 2; i++) {
		const char *row = itest_fmt("//table[@id='labelers-table']/tbody/tr[th=\"%s\"]", who[i].name);
		long answered = num(itest_fmt("SELECT COUNT(*) FROM annotations WHERE project_id = %ld "
		    "AND labeler_id = %ld", p, who[i].uid));
		long skipped = num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE project_id = %ld "
		    "AND user_id = %ld AND kind = 'skipped'", p, who[i].uid));
		CHECK(html_count(r, "%s", row) == 1, "no row for %s", who[i].name);
		CHECK(page_num(r, itest_fmt("%s/td[1]", row)) == answered, "%s: answered differs", who[i].name);
		CHECK(page_num(r, itest_fmt("%s/td[2]", row)) == skipped, "%s: skipped differs", who[i].name);
		CHECK(page_num(r, itest_fmt("%s/td[3]", row)) == 0 && page_num(r, itest_fmt("%s/td[4]", row)) == 0,
		    "%s: reviews that never happened", who[i].name);
		CHECK_STREQ(html_str(r, "%s/td[5]", row), median_of(p, who[i].uid));
		CHECK_STREQ(html_str(r, "%s/td[5]", row), who[i].median);
		CHECK_STREQ(html_str(r, "%s/td[6]", row), SQL_QUERY("SELECT DATE_FORMAT(MAX(created_at), "
		    "'%%Y-%%m-%%d %%H:%%i') FROM annotations WHERE project_id = %ld AND labeler_id = %ld",
		    p, who[i].uid));
	}
	CHECK(page_num(r, "//table[@id='labelers-table']/tbody/tr[1]/td[1]") == 3, "the most answers are not first");
	CHECK_BODY_HAS(r, "&lt;script&gt;alert(&#39;dash&#39;)&lt;/script&gt;");
	CHECK_BODY_LACKS(r, SCRIPT_NAME);
	/* A reviewer sees names, never addresses (docs/access.md). */
	CHECK_BODY_LACKS(r, ea);
	CHECK_BODY_LACKS(r, eb);
	/* Nor the Pause button, which is an admin's. */
	CHECK(html_count(r, "//form[@id='stateform']") == 0, "a reviewer got the Pause button");
	CHECK_STREQ(html_str(r, "//span[@id='project-state']"), "Running");
}

/* Who gets the page and the tab: reviewers and admins; 403 for the
 * project's other labelers, 404 for the rest. */
static void dashboard_access(void)
{
	long p = project_new(2);
	struct client *lab = person("Lab Only", 1, 0, NULL);
	struct client *rev = person("Rev Too", 1, 1, NULL);
	struct client *out = person("Out Side", 0, 0, NULL);
	struct client *adm = CLIENT(NULL);
	const char *path = itest_fmt("/projects/%ld/dashboard", p);
	const char *tab = itest_fmt("//nav[contains(@class,'tabs')]/a[@href='%s']", path);
	struct resp *r;

	SIGN_IN_OK(adm, ADMIN_EMAIL, ADMIN_PASSWORD);
	CHECK_STATUS(GET(rev, path), 200);
	CHECK_STATUS(GET(adm, path), 200);
	r = GET(lab, path);
	CHECK_STATUS(r, 403);
	CHECK_BODY_LACKS(r, "Answers per class");
	CHECK_STATUS(GET(out, path), 404);

	/* The tabs: Dashboard, Data and Review for reviewers and admins. */
	r = GET(lab, itest_fmt("/projects/%ld", p));
	CHECK(html_count(r, "%s", tab) == 0, "a labeler sees the Dashboard tab");
	CHECK(html_count(r, "//nav[contains(@class,'tabs')]/a") == 3, "a labeler sees %d tabs, not 3",
	    html_count(r, "//nav[contains(@class,'tabs')]/a"));
	r = GET(rev, itest_fmt("/projects/%ld", p));
	CHECK(html_count(r, "%s", tab) == 1, "a reviewer does not see the Dashboard tab");
	CHECK(html_count(r, "//nav[contains(@class,'tabs')]/a[@href='/projects/%ld/review']", p) == 1 &&
	    html_count(r, "//nav[contains(@class,'tabs')]/a[@href='/projects/%ld/data']", p) == 1,
	    "a reviewer does not see the Data and Review tabs");
	r = GET(rev, itest_fmt("/projects/%ld/team", p));
	CHECK(html_count(r, "%s", tab) == 1, "the Team tab hides the Dashboard from a reviewer");
	r = GET(lab, itest_fmt("/projects/%ld/exports", p));
	CHECK(html_count(r, "%s", tab) == 0, "the Exports tab shows a labeler the Dashboard");
}

/* An empty project: zeros, no division by zero; Pause and Start from the
 * Dashboard come back to it; an admin sees addresses. */
static void dashboard_empty_and_state(void)
{
	long p = project_new(0);
	struct client *adm = CLIENT(NULL);
	const char *path = itest_fmt("/projects/%ld/dashboard", p);
	struct resp *r;
	char *csrf;

	SIGN_IN_OK(adm, ADMIN_EMAIL, ADMIN_PASSWORD);
	r = GET(adm, path);
	CHECK_STATUS(r, 200);
	CHECK(progress_of(r, "total") == 0 && progress_of(r, "queued") == 0, "an empty project has items");
	CHECK_STREQ(html_str(r, "//strong[@id='percent']"), "0.0%");
	CHECK(html_count(r, "//svg[@id='progress-bar']/rect[@data-kind]") == 0, "segments of nothing");
	CHECK(html_count(r, "//table[@id='days-table']/tbody/tr") == 30, "not 30 days");
	CHECK(html_count(r, "//table[@id='labelers-table']") == 0, "a labelers' table of nobody");
	CHECK_BODY_HAS(r, "Nobody has labeled or skipped anything");

	csrf = html_form_input(r, "stateform", "csrf");
	CHECK(csrf != NULL, "an admin has no Pause button");
	CHECK_STREQ(html_form_input(r, "stateform", "back"), "dashboard");
	CHECK_REDIRECT(POST_FORM(adm, itest_fmt("/projects/%ld/state", p), "csrf", csrf, "back", "dashboard",
	    "state", "paused"), 303, itest_fmt("%s?saved=paused", path));
	r = GET(adm, itest_fmt("%s?saved=paused", path));
	CHECK_STREQ(html_str(r, "//span[@id='project-state']"), "Paused");
	CHECK_BODY_HAS(r, "The project is paused");
	CHECK(html_count(r, "//form[@id='stateform']//button[@value='running']") == 1, "no Start button");
	CHECK_REDIRECT(POST_FORM(adm, itest_fmt("/projects/%ld/state", p), "csrf", csrf, "back", "dashboard",
	    "state", "running"), 303, itest_fmt("%s?saved=started", path));
	/* Without back, Pause and Start return to the Details tab as before. */
	CHECK_REDIRECT(POST_FORM(adm, itest_fmt("/projects/%ld/state", p), "csrf", csrf, "state", "running"),
	    303, itest_fmt("/projects/%ld?saved=started", p));

	/* Admins see a labeler's address beside the name. */
	const char *e;
	struct client *lab = person("Addressed", 1, 0, &e);
	long p2 = project_new(2);
	answer(lab, p2, "dog");
	r = GET(adm, itest_fmt("/projects/%ld/dashboard", p2));
	CHECK_STREQ(html_str(r, "//table[@id='labelers-table']/tbody/tr[1]/th/span"), e);
	/* Answers with no known time (as before sql/018 without ms): no
	 * median. */
	SQL("DELETE FROM labeler_seconds WHERE project_id = %ld", p2);
	r = GET(adm, itest_fmt("/projects/%ld/dashboard", p2));
	CHECK_STREQ(html_str(r, "//table[@id='labelers-table']/tbody/tr[1]/td[5]"), "\xe2\x80\x93");
}

const struct itest_case itest_dashboard_cases[] = {
	ITEST(dashboard_numbers),
	ITEST(dashboard_access),
	ITEST(dashboard_empty_and_state),
};
const size_t itest_dashboard_ncases = sizeof(itest_dashboard_cases) / sizeof(itest_dashboard_cases[0]);
