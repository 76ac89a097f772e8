/*
 * t_data.c: the Data tab and item pages (docs/review.md, "Data tab"):
 * filters and keyset paging at their edges (an empty project, one page,
 * exactly 48 and 49 items, rows deleted between two pages, the last page,
 * each filter and their pairs against a plain sorted query, bad
 * parameters), and Reject / Approve through both forms with the item's
 * history, the exports and the counters (compared with a full recount).
 *
 * The paging projects are made with SQL (items with phases, labelers,
 * answer times and classes set directly); the review round trip labels a
 * bbox project through the labeling page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define PAGE 48

/* ------------------------------------------------------------ helpers */

static long num_of(const char *sql)
{
	return strtol(SQL_QUERY("%s", sql), NULL, 10);
}

/* A signed-in admin. */
static struct client *admin(void)
{
	struct client *c = CLIENT(NULL);

	SIGN_IN_OK(c, ENV("LABELD_TEST_ADMIN_EMAIL"), ENV("LABELD_TEST_ADMIN_PASSWORD"));
	return c;
}

/* A running project of `task` with the classes cat, dog and bird and n
 * items (no files), made with SQL; served by the tests' team. */
static long project_new(const char *task, long n)
{
	return SQL_PROJECT("data-test", task, n, 80, 60);
}

/* The id of class `name` of project p. */
static long class_id(long p, const char *name)
{
	return num_of(itest_fmt("SELECT id FROM labels WHERE project_id = %ld AND name = '%s'", p, name));
}

/* Give every item of p an answer state by its number k (1..n, in id
 * order): phase phases[k % 5]; answered ones (not queued) by labeler a
 * (k odd) or b, k seconds after a fixed time (so times tie for no two
 * items... except where `ties`: then pairs share a time and the id
 * decides); current answers (labeled, approved) of class cat (k % 3 == 0),
 * dog (1) or bird (2), and bird too when k % 4 == 0. */
static void answers_set(long p, long a, long b, int ties)
{
	SQL("SET @k = 0; "
	    "UPDATE items SET phase = ELT((@k := @k + 1) %% 5 + 1, 'queued', 'skipped', 'requeued', "
	    "'labeled', 'approved') WHERE project_id = %ld ORDER BY id; "
	    "SET @k = 0; "
	    "UPDATE items SET labeled_by = IF(((@k := @k + 1)) %% 5 = 0, NULL, IF(@k %% 2 = 1, %ld, %ld)), "
	    "answered_at = IF(@k %% 5 = 0, '1970-01-01', "
	    "TIMESTAMP'2026-01-01 00:00:00' + INTERVAL (IF(%d, @k DIV 2, @k)) SECOND + INTERVAL 250 MICROSECOND), "
	    "state = IF(@k %% 5 >= 3, 'labeled', 'unlabeled') WHERE project_id = %ld ORDER BY id; "
	    "INSERT INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by) "
	    "SELECT i.project_id, l.id, i.answered_at, i.id, i.labeled_by FROM items i "
	    "JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS k FROM items WHERE project_id = %ld) n "
	    "ON n.id = i.id JOIN labels l ON l.project_id = i.project_id "
	    "AND (l.position = n.k %% 3 + 1 OR (l.position = 3 AND n.k %% 4 = 0)) "
	    "WHERE i.phase IN ('labeled', 'approved'); "
	    "INSERT INTO labeler_days (project_id, user_id, day, labeled) VALUES "
	    "(%ld, %ld, '2026-01-01', 1), (%ld, %ld, '2026-01-01', 1);",
	    p, a, b, ties, p, p, p, a, p, b);
}

/* The ids of the items shown on a Data tab page, in page order. */
static char **shown(struct resp *r, size_t *n)
{
	return html_strs(r, "//ul[@id='datagrid']/li/@data-item-id", n);
}

/* The href of the pager link rel (first, prev, next, last), or NULL. */
static char *pager(struct resp *r, const char *rel)
{
	return html_str(r, "//nav[@class='pager']/a[@rel='%s']/@href", rel);
}

/* The ids of a query's rows joined with spaces ("" for none). */
static char *ids_of(const char *sql)
{
	char *out = SQL_QUERY("%s", sql);

	for (char *c = out; *c; c++)
		if (*c == '\n')
			*c = ' ';
	return out;
}

static char *joined(char **v, size_t n)
{
	char *s = itest_fmt("%s", "");

	for (size_t i = 0; i < n; i++)
		s = itest_fmt("%s%s%s", s, i > 0 ? " " : "", v[i]);
	return s;
}

/* Walk the view from path by the pager's `rel` links (next or prev) to
 * its end; every id once, in display order (a walk back by prev is turned
 * round), joined.  *pages gets how many pages. */
static char *walk(struct client *c, const char *path, const char *rel, int *pages)
{
	int back = strcmp(rel, "prev") == 0;
	char *all = itest_fmt("%s", "");

	*pages = 0;
	while (path != NULL) {
		struct resp *r = GET(c, path);
		size_t n;
		char **v;
		CHECK_STATUS(r, 200);
		v = shown(r, &n);
		CHECK(n <= PAGE, "%s: %zu items on a page", path, n);
		CHECK(n > 0 || *pages == 0, "%s: an empty page after a %s link", path, rel);
		if (n > 0 && back)
			all = itest_fmt("%s%s%s", joined(v, n), all[0] ? " " : "", all);
		else if (n > 0)
			all = itest_fmt("%s%s%s", all, all[0] ? " " : "", joined(v, n));
		(*pages)++;
		CHECK(*pages < 1000, "%s links never end", rel);
		path = pager(r, rel);
	}
	return all;
}

#define walk_next(c, path, pages) walk((c), (path), "next", (pages))
#define walk_prev(c, path, pages) walk((c), (path), "prev", (pages))

/* ------------------------------------------------------------ paging */

/* A project without items: the page says so, no grid, no pager. */
static void data_empty_project(void)
{
	struct client *c = admin();
	long p = project_new("multiclass", 0);
	struct resp *r = GET(c, itest_fmt("/projects/%ld/data", p));
	size_t n;

	CHECK_STATUS(r, 200);
	shown(r, &n);
	CHECK(n == 0, "%zu items shown", n);
	CHECK(html_count(r, "//p[@id='data-empty']") == 1, "no empty-project sentence: %s", resp_snip(r));
	CHECK(html_count(r, "//nav[@class='pager']") == 0, "a pager on an empty project");
	/* The tab is current in the tab bar. */
	CHECK_STREQ(html_str(r, "//nav[@class='tabs']/a[@aria-current='page']"), "Data");
	r = GET(c, itest_fmt("/projects/%ld/data?last=1", p));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//ul[@id='datagrid']/li") == 0, "the last page of nothing shows items");
}

/* One page, 48 (exactly one page) and 49 (one more): the links, the
 * pages, the last page and the way back. */
static void data_page_edges(void)
{
	struct client *c = admin();
	long sizes[] = { 5, PAGE, PAGE + 1 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		long p = project_new("multiclass", sizes[s]), last;
		const char *base = itest_fmt("/projects/%ld/data", p);
		char *want = ids_of(itest_fmt("SELECT id FROM items WHERE project_id = %ld "
		    "ORDER BY answered_at DESC, id DESC", p));
		struct resp *r;
		size_t n;
		int pages;

		/* Every item never answered: all at the epoch, newest id first. */
		SQL("UPDATE items SET answered_at = '1970-01-01' WHERE project_id = %ld", p);
		r = GET(c, base);
		CHECK_STATUS(r, 200);
		shown(r, &n);
		CHECK((long)n == (sizes[s] < PAGE ? sizes[s] : PAGE), "%ld items: %zu on the first page",
		    sizes[s], n);
		CHECK(pager(r, "prev") == NULL && pager(r, "first") == NULL, "the first page links back");
		if (sizes[s] <= PAGE) {
			CHECK(html_count(r, "//nav[@class='pager']") == 0, "%ld items: a pager", sizes[s]);
			CHECK_STREQ(joined(shown(r, &n), n), want);
			continue;
		}
		CHECK(pager(r, "next") != NULL && pager(r, "last") != NULL, "49 items: no Next or Last");
		CHECK_STREQ(walk_next(c, base, &pages), want);
		CHECK(pages == 2, "49 items in %d pages", pages);
		/* The last page is the last 48 (the reversed query's first). */
		r = GET(c, pager(r, "last"));
		CHECK_STATUS(r, 200);
		shown(r, &n);
		CHECK(n == PAGE, "the last page holds %zu", n);
		CHECK(pager(r, "next") == NULL && pager(r, "last") == NULL, "the last page links on");
		CHECK(pager(r, "prev") != NULL && pager(r, "first") != NULL, "the last page links no way back");
		CHECK_STREQ(walk_prev(c, itest_fmt("%s?last=1", base), &pages), want);
		last = num_of(itest_fmt("SELECT MIN(id) FROM items WHERE project_id = %ld", p));
		CHECK_STREQ(shown(r, &n)[PAGE - 1], itest_fmt("%ld", last));
	}
}

/* Rows deleted between two pages, the cursor's own row too: the next page
 * starts right after it, nothing is skipped or shown twice, both ways. */
static void data_rows_deleted_between_pages(void)
{
	struct client *c = admin();
	long p = project_new("multiclass", 150);
	long a = num_of(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(ENV("LABELD_TEST_USER_EMAIL"))));
	long b = num_of(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(ENV("LABELD_TEST_ADMIN_EMAIL"))));
	const char *base = itest_fmt("/projects/%ld/data", p);
	struct resp *r;
	char **v, *next, *want;
	size_t n;
	int pages;

	answers_set(p, a, b, 1);    /* pairs share a time: the id decides */
	r = GET(c, base);
	CHECK_STATUS(r, 200);
	v = shown(r, &n);
	CHECK(n == PAGE, "first page: %zu", n);
	next = pager(r, "next");
	CHECK(next != NULL && strstr(next, "after=") != NULL, "no Next link with a cursor: %s",
	    next ? next : "none");
	/* Delete the cursor's item, the first two of the next page and one
	 * further on. */
	SQL("DELETE FROM items WHERE id IN (%s, "
	    "(SELECT id FROM (SELECT id FROM items WHERE project_id = %ld ORDER BY answered_at DESC, "
	    "id DESC LIMIT 1 OFFSET 48) x), "
	    "(SELECT id FROM (SELECT id FROM items WHERE project_id = %ld ORDER BY answered_at DESC, "
	    "id DESC LIMIT 1 OFFSET 49) y), "
	    "(SELECT id FROM (SELECT id FROM items WHERE project_id = %ld ORDER BY answered_at DESC, "
	    "id DESC LIMIT 1 OFFSET 70) z))", v[PAGE - 1], p, p, p);
	want = ids_of(itest_fmt("SELECT id FROM items WHERE project_id = %ld ORDER BY answered_at DESC, "
	    "id DESC LIMIT 1000 OFFSET 47", p));
	CHECK_STREQ(walk_next(c, next, &pages), want);
	/* The whole view both ways. */
	want = ids_of(itest_fmt("SELECT id FROM items WHERE project_id = %ld ORDER BY answered_at DESC, "
	    "id DESC", p));
	CHECK_STREQ(walk_next(c, base, &pages), want);
	CHECK(pages == 4, "146 items in %d pages", pages);
	CHECK_STREQ(walk_prev(c, itest_fmt("%s?last=1", base), &pages), want);
	/* Oldest first is the reverse. */
	want = ids_of(itest_fmt("SELECT id FROM items WHERE project_id = %ld ORDER BY answered_at, id", p));
	CHECK_STREQ(walk_next(c, itest_fmt("%s?sort=old", base), &pages), want);
	CHECK_STREQ(walk_prev(c, itest_fmt("%s?sort=old&last=1", base), &pages), want);
	/* A page whose rows are all gone: an empty page that links back. */
	SQL("DELETE FROM items WHERE project_id = %ld AND answered_at < (SELECT t FROM (SELECT "
	    "answered_at AS t FROM items WHERE project_id = %ld ORDER BY answered_at DESC, id DESC "
	    "LIMIT 1 OFFSET 10) q)", p, p);
	r = GET(c, next);
	CHECK_STATUS(r, 200);
	shown(r, &n);
	CHECK(n == 0, "%zu items after every row of the page went", n);
	CHECK(pager(r, "first") != NULL, "an emptied page does not link to the first");
}

/* Each filter and the pairs of them: exactly the items a plain sorted
 * query finds, in order, through every page. */
static void data_filters(void)
{
	struct client *c = admin();
	long p = project_new("multilabel", 260);
	long a = num_of(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(ENV("LABELD_TEST_USER_EMAIL"))));
	long b = num_of(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(ENV("LABELD_TEST_ADMIN_EMAIL"))));
	long bird = class_id(p, "bird"), cat = class_id(p, "cat");
	struct {
		const char *query;      /* of the Data tab */
		const char *where;      /* the same as SQL over items i */
	} cases[] = {
		{ "state=labeled", "i.phase = 'labeled'" },
		{ "state=requeued", "i.phase = 'requeued'" },
		{ "state=queued&sort=old", "i.phase = 'queued'" },
		{ "state=approved", "i.phase = 'approved'" },
		{ "state=skipped", "i.phase = 'skipped'" },
		{ itest_fmt("labeler=%ld", a), itest_fmt("i.labeled_by = %ld", a) },
		{ itest_fmt("labeler=%ld&state=requeued", b), itest_fmt("i.labeled_by = %ld AND i.phase = 'requeued'", b) },
		{ itest_fmt("class=%ld", bird), itest_fmt("EXISTS (SELECT 1 FROM answer_labels x WHERE x.item_id = i.id AND x.label_id = %ld)", bird) },
		{ itest_fmt("class=%ld&sort=old", cat), itest_fmt("EXISTS (SELECT 1 FROM answer_labels x WHERE x.item_id = i.id AND x.label_id = %ld)", cat) },
		{ itest_fmt("class=%ld&labeler=%ld", bird, a), itest_fmt("i.labeled_by = %ld AND EXISTS (SELECT 1 FROM answer_labels x WHERE x.item_id = i.id AND x.label_id = %ld)", a, bird) },
		{ itest_fmt("class=%ld&state=approved", bird), itest_fmt("i.phase = 'approved' AND EXISTS (SELECT 1 FROM answer_labels x WHERE x.item_id = i.id AND x.label_id = %ld)", bird) },
		{ itest_fmt("class=%ld&state=queued", bird), "FALSE" },
		{ itest_fmt("class=%ld&state=labeled&labeler=%ld", cat, b), itest_fmt("i.phase = 'labeled' AND i.labeled_by = %ld AND EXISTS (SELECT 1 FROM answer_labels x WHERE x.item_id = i.id AND x.label_id = %ld)", b, cat) },
		{ "state=all&class=&labeler=&sort=new", "TRUE" },
	};

	answers_set(p, a, b, 0);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		int old = strstr(cases[k].query, "sort=old") != NULL, pages;
		const char *path = itest_fmt("/projects/%ld/data?%s", p, cases[k].query);
		char *want = ids_of(itest_fmt("SELECT i.id FROM items i WHERE i.project_id = %ld AND %s "
		    "ORDER BY i.answered_at %s, i.id %s", p, cases[k].where, old ? "" : "DESC", old ? "" : "DESC"));
		char *got = walk_next(c, path, &pages);
		CHECK(strcmp(got, want) == 0, "%s: shows [%s], not [%s]", cases[k].query, got, want);
		CHECK_STREQ(walk_prev(c, itest_fmt("%s&last=1", path), &pages), want);
	}
	/* The filter form shows what is chosen, and both labelers. */
	struct resp *r = GET(c, itest_fmt("/projects/%ld/data?state=approved&class=%ld&labeler=%ld", p, bird, a));
	CHECK_STREQ(html_str(r, "//select[@name='state']/option[@selected]/@value"), "approved");
	CHECK_STREQ(html_str(r, "//select[@name='class']/option[@selected]"), "bird");
	CHECK_STREQ(html_str(r, "//select[@name='labeler']/option[@selected]/@value"), itest_fmt("%ld", a));
	CHECK(html_count(r, "//select[@name='labeler']/option[@value='%ld']", b) == 1, "labeler b not offered");
	/* Each item shows who answered it, and its image, loaded lazily. */
	r = GET(c, itest_fmt("/projects/%ld/data?class=%ld", p, bird));
	CHECK(html_count(r, "//ul[@id='datagrid']/li[1]//p[contains(@class, 'who')]") == 1, "no labeler shown");
	CHECK(html_count(r, "//ul[@id='datagrid']/li//img[@loading='lazy']") == PAGE, "no lazy images");
}

/* Bad parameters: 400 naming the parameter; the way out keeps the good
 * ones. */
static void data_bad_parameters(void)
{
	struct client *c = admin();
	long p = project_new("multiclass", 3), q = project_new("multiclass", 1);
	long cat = class_id(p, "cat");
	struct {
		const char *query, *param, *fixed;
	} cases[] = {
		{ itest_fmt("state=bogus&class=%ld", cat), "state", itest_fmt("?class=%ld", cat) },
		{ "class=abc&sort=old", "class", "?sort=old" },
		{ itest_fmt("class=%ld&state=labeled", class_id(q, "dog")), "class", "?state=labeled" },
		{ "labeler=-1&state=approved", "labeler", "?state=approved" },
		{ "sort=sideways&labeler=7", "sort", "?labeler=7" },
		{ "after=yesterday", "after", "" },
		{ "before=12,0", "before", "" },
		{ "after=1,2&before=1,2", "after", "" },
		{ "last=2&state=queued", "last", "?state=queued" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct resp *r = GET(c, itest_fmt("/projects/%ld/data?%s", p, cases[k].query));
		CHECK(r->status == 400, "%s: %ld, not 400", cases[k].query, r->status);
		CHECK_STREQ(html_str(r, "//p[@id='bad-param']/@data-param"), cases[k].param);
		CHECK_BODY_HAS(r, itest_fmt("\u201c%s\u201d", cases[k].param));
		CHECK_STREQ(html_str(r, "//p[@id='bad-param']/a/@href"),
		    itest_fmt("/projects/%ld/data%s", p, cases[k].fixed));
	}
}

/* ------------------------------------------------------------ reviews */

/* A labeler of the tests' team, signed in; *id gets their id. */
static struct client *labeler(long *id)
{
	const char *email = itest_uniq("data-labeler");
	struct client *c = CLIENT(NULL);

	email = itest_fmt("%s@example.com", email);
	SQL("INSERT INTO users (email, password_hash, display_name) SELECT %s, password_hash, %s "
	    "FROM users WHERE email = %s", sql_str(email), sql_str(itest_fmt("Labeler <%ld>", (long)rand() % 1000)),
	    sql_str(ENV("LABELD_TEST_USER_EMAIL")));
	ITEST_JOIN(email);
	SIGN_IN_OK(c, email, ENV("LABELD_TEST_USER_PASSWORD"));
	*id = num_of(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
	return c;
}

/* c labels the next item of bbox project p with one box of class cls
 * (k pixels in); returns the item id. */
static long label_box(struct client *c, long p, long cls, int k)
{
	struct resp *r = GET(c, itest_fmt("/projects/%ld/label", p));
	const char *action = html_str(r, "//form[@id='labelform']/@action");
	long proj = 0, item = 0;

	CHECK(action != NULL && sscanf(action, "/projects/%ld/items/%ld", &proj, &item) == 2,
	    "no labeling form: %s", resp_snip(r));
	r = POST_FORM(c, action, "csrf", html_form_input(r, "labelform", "csrf"),
	    "lease", html_form_input(r, "labelform", "lease"), "action", "submit",
	    "box", itest_fmt("%d,%d,30,20,%ld", k, k + 1, cls));
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/label", p));
	return item;
}

/* The counters of p equal a recount from the items, annotations and
 * events. */
static void counters_recounted(long p)
{
	char *got = SQL_QUERY("SELECT CONCAT_WS(' ', items_total, items_labeled, items_skipped, "
	    "items_requeued, items_approved, rejections) FROM project_counters WHERE project_id = %ld", p);
	char *want = SQL_QUERY("SELECT CONCAT_WS(' ', COUNT(*), SUM(phase IN ('labeled', 'approved')), "
	    "SUM(phase = 'skipped'), SUM(phase = 'requeued'), SUM(phase = 'approved'), "
	    "(SELECT COUNT(*) FROM item_events WHERE project_id = %ld AND kind = 'rejected')) "
	    "FROM items WHERE project_id = %ld", p, p);

	CHECK_STREQ(got, want);
	/* label_counts: the classes of the current answers' boxes. */
	got = SQL_QUERY("SELECT IFNULL(GROUP_CONCAT(label_id, ':', answers ORDER BY label_id), '') "
	    "FROM label_counts WHERE project_id = %ld AND answers <> 0", p);
	want = SQL_QUERY("SELECT IFNULL(GROUP_CONCAT(c, ':', n ORDER BY c), '') FROM (SELECT j.c, "
	    "COUNT(DISTINCT a.item_id) AS n FROM annotations a JOIN JSON_TABLE(a.data, '$.boxes[*]' "
	    "COLUMNS (c BIGINT PATH '$.label')) j WHERE a.project_id = %ld AND a.is_current = 1 "
	    "AND a.withdrawn_seq IS NULL GROUP BY j.c) x", p);
	CHECK_STREQ(got, want);
	got = SQL_QUERY("SELECT COUNT(*) FROM answer_labels WHERE project_id = %ld", p);
	want = SQL_QUERY("SELECT IFNULL(SUM(answers), 0) FROM label_counts WHERE project_id = %ld", p);
	CHECK_STREQ(got, want);
	/* labeler_days: answers, rejections and approvals per labeler. */
	got = SQL_QUERY("SELECT IFNULL(GROUP_CONCAT(u, ':', l, '/', r, '/', a ORDER BY u), '') FROM "
	    "(SELECT user_id AS u, SUM(labeled) AS l, SUM(rejected) AS r, SUM(approved) AS a "
	    "FROM labeler_days WHERE project_id = %ld GROUP BY user_id) x", p);
	want = SQL_QUERY("SELECT IFNULL(GROUP_CONCAT(u, ':', l, '/', r, '/', a ORDER BY u), '') FROM "
	    "(SELECT labeler_id AS u, COUNT(*) AS l, SUM(withdrawn_seq IS NOT NULL AND relabel = 0) AS r, "
	    "SUM(approved_seq IS NOT NULL) AS a FROM annotations WHERE project_id = %ld "
	    "GROUP BY labeler_id) x", p);
	CHECK_STREQ(got, want);
}

/* The Data tab's CSRF token and back value for path. */
static struct resp *data_page(struct client *c, const char *path)
{
	struct resp *r = GET(c, path);

	CHECK_STATUS(r, 200);
	CHECK(html_form_input(r, "reviewform", "csrf") != NULL, "no review form: %s", resp_snip(r));
	return r;
}

/* Wait for export id of p to finish and return its file. */
static struct resp *export_file(struct client *c, long p, long id)
{
	for (int waited = 0; ; waited += 200) {
		char *state = SQL_QUERY("SELECT state FROM exports WHERE id = %ld", id);
		if (strcmp(state, "done") == 0)
			break;
		CHECK(strcmp(state, "failed") != 0, "export %ld failed: %s", id,
		    SQL_QUERY("SELECT error FROM exports WHERE id = %ld", id));
		CHECK(waited < 60000, "export %ld still %s", id, state);
		itest_sleep_ms(200);
	}
	struct resp *r = GET(c, itest_fmt("/projects/%ld/exports/%ld/download", p, id));
	CHECK_STATUS(r, 200);
	return r;
}

/* Reject and approve through the Data tab's form and the item page's: the
 * notices, the history (reasons escaped), the grid's boxes, an export
 * without the rejected answers, and counters equal to a recount. */
static void data_review_round_trip(void)
{
	struct client *ad = admin();
	long p = project_new("bbox", 6), u1, u2, items[6];
	struct client *l1 = labeler(&u1), *l2 = labeler(&u2);
	long cat = class_id(p, "cat"), dog = class_id(p, "dog");
	const char *tab = itest_fmt("/projects/%ld/data", p);
	const char *reason = "Box too loose <b>really</b> & \"wrong\"";
	struct resp *r, *file;
	char *csrf, *back;
	long e;

	for (int k = 0; k < 6; k++)
		items[k] = label_box(k % 2 ? l2 : l1, p, k % 3 ? cat : dog, 2 + k);
	/* The grid draws each answer's box over its image. */
	r = data_page(ad, itest_fmt("%s?state=labeled", tab));
	CHECK(html_count(r, "//ul[@id='datagrid']/li") == 6, "6 answers, grid: %d",
	    html_count(r, "//ul[@id='datagrid']/li"));
	CHECK_STREQ(html_str(r, "//li[@data-item-id='%ld']//svg/@viewbox", items[0]), "0 0 80 60");
	CHECK_STREQ(html_str(r, "//li[@data-item-id='%ld']//svg/rect/@x", items[0]), "2");
	CHECK_STREQ(html_str(r, "//li[@data-item-id='%ld']//svg/rect/@width", items[0]), "30");
	CHECK_STREQ(html_str(r, "//li[@data-item-id='%ld']//p[@class='labels']", items[0]), "dog");
	csrf = html_form_input(r, "reviewform", "csrf");
	back = html_form_input(r, "reviewform", "back");
	CHECK_STREQ(back, itest_fmt("%s?state=labeled", tab));

	/* Nothing selected: 422, the reason kept. */
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "back", back, "action", "reject",
	    "reason", reason);
	CHECK_STATUS(r, 422);
	CHECK_STREQ(html_str(r, "//textarea[@name='reason']"), reason);
	CHECK_BODY_LACKS(r, "<b>really");
	/* Enter on a checkbox (the form's default button): 422, nothing
	 * changes, the ticked boxes stay ticked. */
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "back", back, "action", "choose",
	    "item", itest_fmt("%ld", items[1]), "reason", "kept");
	CHECK_STATUS(r, 422);
	CHECK_STREQ(html_str(r, "//form[@id='reviewform']/button[1]/@value"), "choose");
	CHECK_STREQ(html_str(r, "//input[@name='item'][@checked]/@value"), itest_fmt("%ld", items[1]));
	CHECK(html_count(r, "//input[@name='item'][@checked]") == 1, "other boxes ticked");
	CHECK(html_count(r, "//input[@id='select-all'][@checked]") == 0, "all ticked");
	CHECK_STREQ(html_str(r, "//textarea[@name='reason']"), "kept");
	/* A reason over 1000 characters: 422, nothing changes. */
	char longer[1102];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "back", back, "action", "reject",
	    "item", itest_fmt("%ld", items[0]), "reason", longer);
	CHECK_STATUS(r, 422);
	CHECK_STREQ(SQL_QUERY("SELECT phase FROM items WHERE id = %ld", items[0]), "labeled");
	/* A bad action and a bad item: 400. */
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "action", "delete",
	    "item", itest_fmt("%ld", items[0]));
	CHECK_STATUS(r, 400);
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "action", "approve", "item", "x1");
	CHECK_STATUS(r, 400);

	/* Reject two with a reason: back to the view with a notice. */
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "back", back, "action", "reject",
	    "item", itest_fmt("%ld", items[0]), "item", itest_fmt("%ld", items[1]), "reason", reason);
	CHECK_REDIRECT(r, 303, itest_fmt("%s&rejected=2", back));
	r = GET(ad, resp_header(r, "Location"));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//p[@class='flash ok']"), "2 answers rejected: the items are back in the queue.");
	CHECK(html_count(r, "//ul[@id='datagrid']/li") == 4, "4 left waiting");
	CHECK_STREQ(SQL_QUERY("SELECT GROUP_CONCAT(phase ORDER BY id) FROM items WHERE id IN (%ld, %ld)",
	    items[0], items[1]), "requeued,requeued");
	/* A back that is not this project's Data tab is not followed. */
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "back", "https://example.com/x",
	    "action", "approve", "item", itest_fmt("%ld", items[2]));
	CHECK_REDIRECT(r, 303, itest_fmt("%s?approved=1", tab));
	r = POST_FORM(ad, itest_fmt("%s/review", tab), "csrf", csrf, "back",
	    itest_fmt("/projects/%ld1/data", p), "action", "approve", "item", itest_fmt("%ld", items[2]));
	CHECK_REDIRECT(r, 303, itest_fmt("%s?approved=0", tab));

	/* All on this page (the page's items as `page` fields, no boxes
	 * ticked): approves the rest waiting on the labeled view. */
	r = data_page(ad, itest_fmt("%s?state=labeled", tab));
	{
		size_t n;
		char **ids = shown(r, &n), *body = itest_fmt("csrf=%s&back=%s&action=approve&all=1",
		    url_enc(csrf), url_enc(back));
		CHECK(n == 3, "%zu waiting", n);
		for (size_t i = 0; i < n; i++)
			body = itest_fmt("%s&page=%s", body, ids[i]);
		r = POST_RAW(ad, itest_fmt("%s/review", tab), "application/x-www-form-urlencoded",
		    body, strlen(body));
		CHECK_REDIRECT(r, 303, itest_fmt("%s&approved=3", back));
	}
	CHECK(num_of(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND phase = 'approved'", p)) == 4,
	    "4 approved");

	/* The item page: reject an approved answer with a reason, then look
	 * at the history. */
	const char *ipath = itest_fmt("/projects/%ld/items/%ld", p, items[2]);
	r = GET(ad, itest_fmt("%s?back=%s", ipath, url_enc(back)));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//span[@id='item-phase']/@data-phase"), "approved");
	CHECK_STREQ(html_str(r, "//form[@id='itemreview']//input[@name='back']/@value"), back);
	CHECK(html_count(r, "//form[@id='itemreview']//button[@value='approve']") == 0,
	    "Approve offered for an approved answer");
	r = POST_FORM(ad, itest_fmt("%s/review", ipath), "csrf", html_form_input(r, "itemreview", "csrf"),
	    "back", back, "action", "reject", "reason", reason);
	CHECK_REDIRECT(r, 303, itest_fmt("%s?done=rejected&back=%s", ipath, url_enc(back)));
	r = GET(ad, resp_header(r, "Location"));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//span[@id='item-phase']/@data-phase"), "requeued");
	CHECK_STREQ(html_str(r, "//p[@id='item-back']/a/@href"), back);
	{
		size_t n;
		char **kinds = html_strs(r, "//table[@id='history']/tbody/tr/@data-kind", &n);
		CHECK_STREQ(joined(kinds, n), "leased answered approved rejected");
	}
	CHECK_STREQ(html_str(r, "//table[@id='history']//tr[@data-kind='rejected']//span[@class='reason']"),
	    reason);
	CHECK_STREQ(html_str(r, "//table[@id='history']//tr[@data-kind='answered']/@data-state"), "withdrawn");
	CHECK_BODY_HAS(r, "Box too loose &lt;b&gt;really&lt;/b&gt; &amp; &quot;wrong&quot;");
	CHECK_BODY_LACKS(r, "<b>really");
	/* The labeler's name is escaped too. */
	CHECK_BODY_LACKS(r, "Labeler <");

	/* Label it again; approve it on its page. */
	long again = label_box(l1, p, cat, 20);
	CHECK(again == items[0] || again == items[1] || again == items[2], "the next item %ld is "
	    "not a rejected one", again);
	ipath = itest_fmt("/projects/%ld/items/%ld", p, again);
	r = GET(ad, ipath);
	CHECK_STREQ(html_str(r, "//span[@id='item-phase']/@data-phase"), "labeled");
	CHECK_STREQ(html_str(r, "//p[@id='item-back']/a/@href"), tab);
	r = POST_FORM(ad, itest_fmt("%s/review", ipath), "csrf", html_form_input(r, "itemreview", "csrf"),
	    "action", "approve");
	CHECK_REDIRECT(r, 303, itest_fmt("%s?done=approved&back=%s", ipath, url_enc(tab)));
	r = GET(ad, ipath);
	{
		size_t n;
		char **states = html_strs(r, "//table[@id='history']/tbody/tr[@data-kind='answered']/@data-state", &n);
		CHECK_STREQ(joined(states, n), "withdrawn approved");
	}

	/* An export has none of the rejected answers: the two still
	 * requeued are not in it. */
	r = GET(ad, itest_fmt("/projects/%ld/exports", p));
	r = POST_FORM(ad, itest_fmt("/projects/%ld/exports", p), "csrf", html_logout_csrf(r),
	    "format", "manifest");
	CHECK_REDIRECT(r, 303, itest_fmt("/projects/%ld/exports", p));
	e = num_of(itest_fmt("SELECT MAX(id) FROM exports WHERE project_id = %ld", p));
	file = export_file(ad, p, e);
	CHECK(num_of(itest_fmt("SELECT items FROM exports WHERE id = %ld", e)) == 4, "export of %s items, not 4",
	    SQL_QUERY("SELECT items FROM exports WHERE id = %ld", e));
	for (int k = 0; k < 3; k++) {
		char *path = SQL_QUERY("SELECT SUBSTRING_INDEX(path, '/', -1) FROM items WHERE id = %ld", items[k]);
		int requeued = strcmp(SQL_QUERY("SELECT phase FROM items WHERE id = %ld", items[k]), "requeued") == 0;
		CHECK((strstr(file->body, itest_fmt("/%s\"", path)) == NULL) == requeued,
		    "item %ld (%s) %s the export", items[k], path, requeued ? "is in" : "is not in");
	}
	counters_recounted(p);
	(void)u1;
	(void)u2;
}

/* A reviewer who is no admin: names but never addresses; an item's
 * history of every kind, in time order; Approve on the item page. */
static void data_reviewer_and_history(void)
{
	struct client *ad = admin(), *rv;
	long p = project_new("multiclass", 2), rid, nameless;
	long item = num_of(itest_fmt("SELECT MIN(id) FROM items WHERE project_id = %ld", p));
	long cat = class_id(p, "cat"), dog = class_id(p, "dog");
	const char *email = itest_fmt("%s@example.com", itest_uniq("nameless"));
	const char *ipath = itest_fmt("/projects/%ld/items/%ld", p, item);
	struct resp *r;
	size_t n;
	char **what;

	rv = labeler(&rid);
	SQL("UPDATE team_members m JOIN teams t ON t.id = m.team_id SET m.reviewer = 1 "
	    "WHERE t.name = 'Integration test labelers' AND m.user_id = %ld", rid);
	SQL("INSERT INTO users (email, password_hash) VALUES (%s, '')", sql_str(email));
	nameless = num_of(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(email)));
	/* Given to nameless, answered, given to the reviewer and skipped,
	 * given again and returned, the answer changed by its labeler, then
	 * skipped in review: one minute apart, stored out of order. */
	SQL("INSERT INTO item_events (item_id, project_id, user_id, kind, created_at) VALUES "
	    "(%ld, %ld, %ld, 'review_skipped', '2026-03-01 10:07:00'), "
	    "(%ld, %ld, %ld, 'leased', '2026-03-01 10:00:00'), "
	    "(%ld, %ld, %ld, 'leased', '2026-03-01 10:02:00'), "
	    "(%ld, %ld, %ld, 'skipped', '2026-03-01 10:03:00'), "
	    "(%ld, %ld, %ld, 'leased', '2026-03-01 10:04:00'), "
	    "(%ld, %ld, %ld, 'released', '2026-03-01 10:05:00'), "
	    "(%ld, %ld, %ld, 'labeled', '2026-03-01 10:01:00')",
	    item, p, rid, item, p, nameless, item, p, rid, item, p, rid, item, p, rid, item, p, rid,
	    item, p, nameless);
	SQL("INSERT INTO annotations (item_id, project_id, labeler_id, data, seq, is_current, "
	    "withdrawn_seq, relabel, created_at) VALUES "
	    "(%ld, %ld, %ld, '{\"label\": %ld}', 1, 0, 2, 0, '2026-03-01 10:01:00'), "
	    "(%ld, %ld, %ld, '{\"label\": %ld}', 2, 1, NULL, 1, '2026-03-01 10:06:00'); "
	    "UPDATE items SET state = 'labeled', phase = 'labeled', labeled_by = %ld, "
	    "answered_at = '2026-03-01 10:06:00' WHERE id = %ld",
	    item, p, nameless, cat, item, p, nameless, dog, nameless, item);

	/* The reviewer's Data tab: the labeler without a name is "person
	 * #id", never their address. */
	r = GET(rv, itest_fmt("/projects/%ld/data?state=labeled", p));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//li[@data-item-id='%ld']//p[contains(@class, 'who')]", item),
	    itest_fmt("person #%ld, 2026-03-01 10:06", nameless));
	CHECK_STREQ(html_str(r, "//li[@data-item-id='%ld']//p[@class='labels']", item), "dog");
	CHECK_BODY_LACKS(r, email);
	/* Their item page: every kind, by time ('labeled' events are the
	 * annotations' business). */
	r = GET(rv, ipath);
	CHECK_STATUS(r, 200);
	what = html_strs(r, "//table[@id='history']/tbody/tr/td[2]/text()", &n);
	for (size_t i = 0; i < n; i++)
		what[i] = itest_fmt("%.*s", (int)strcspn(what[i], " "), what[i]);
	CHECK_STREQ(joined(what, n), "Given Answered Given Skipped Given Returned Relabeled Skipped");
	CHECK_STREQ(html_str(r, "//table[@id='history']/tbody/tr[7]/@data-state"), "current");
	CHECK_STREQ(html_str(r, "//table[@id='history']/tbody/tr[2]/@data-state"), "withdrawn");
	CHECK_STREQ(html_str(r, "//table[@id='history']/tbody/tr[2]/td[4]"), "cat");
	CHECK_STREQ(html_str(r, "//table[@id='history']/tbody/tr[1]/td[3]"), itest_fmt("person #%ld", nameless));
	CHECK_BODY_LACKS(r, email);
	CHECK(html_count(r, "//dt[.='File']") == 0, "a reviewer sees the file path");
	/* An admin sees the address and the file. */
	r = GET(ad, ipath);
	CHECK_STREQ(html_str(r, "//table[@id='history']/tbody/tr[1]/td[3]"), email);
	CHECK(html_count(r, "//dt[.='File']") == 1, "an admin does not see the file path");
	/* The reviewer approves it on its page. */
	r = GET(rv, ipath);
	r = POST_FORM(rv, itest_fmt("%s/review", ipath), "csrf", html_form_input(r, "itemreview", "csrf"),
	    "action", "approve");
	CHECK_REDIRECT(r, 303, itest_fmt("%s?done=approved&back=%s", ipath,
	    url_enc(itest_fmt("/projects/%ld/data", p))));
	r = GET(rv, resp_header(r, "Location"));
	CHECK_STREQ(html_str(r, "//table[@id='history']/tbody/tr[last()]/@data-kind"), "approved");
	CHECK_STREQ(html_str(r, "//table[@id='history']/tbody/tr[last()]/td[3]"),
	    SQL_QUERY("SELECT display_name FROM users WHERE id = %ld", rid));
	CHECK_STREQ(html_str(r, "//p[@class='flash ok']"), "The answer was approved.");
}

const struct itest_case itest_data_cases[] = {
	ITEST(data_empty_project),
	ITEST(data_page_edges),
	ITEST(data_rows_deleted_between_pages),
	ITEST(data_filters),
	ITEST(data_bad_parameters),
	ITEST(data_review_round_trip),
	ITEST(data_reviewer_and_history),
};
const size_t itest_data_ncases = sizeof(itest_data_cases) / sizeof(itest_data_cases[0]);
