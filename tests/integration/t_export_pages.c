/*
 * t_export_pages.c: the export pages through nginx: a project's Exports
 * tab (the Export form of the loaded export plugins, the list, progress
 * that refreshes itself), queueing an export (its row and its job), bad
 * input kept in the form, CSRF, what labelers may do, downloads (only a
 * finished export of that project), deleting an export with its file, and
 * the labeled datasets with their sample code.
 *
 * Finished exports are made here with SQL and a small file written into
 * the default datastore, not by the export job (t_export.c tests the job):
 * the rows have no job, so no job thread touches them.
 */
#include <errno.h>
#include <pwd.h>
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

#define AZUREML_PREFIX "azureml://subscriptions/0f1e2d3c-aaaa-bbbb-cccc-123456789abc/" \
	"resourcegroups/rg-vision/workspaces/ws-1/datastores/images_store/paths/exports/"

/* ------------------------------------------------------------ helpers */

static long sql_long(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

static void project_drop(void *arg)
{
	if (itest_sql_try("DELETE FROM projects WHERE id = %ld", (long)(size_t)arg) != 0)
		itest_cleanup_error("project %ld could not be removed", (long)(size_t)arg);
}

/* A running project (task testtask) named `name` with three items, made
 * with SQL in the default datastore and removed when the test ends (with
 * its exports and jobs). */
static long project_new(const char *name)
{
	long id = strtol(SQL_QUERY(
	    "INSERT INTO datasets (name, description, datastore_id, path, kind, source) "
	    "SELECT %s, '', id, 'export-pages', 'input', 'datastore' FROM datastores WHERE is_default = 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1); "
	    "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT @p, CONCAT('export-pages/', @p, '/', seq, '.png'), 64, 48, 'png' FROM seq_1_to_3; "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, 3); SELECT @p;",
	    sql_str(name), sql_str(name)), NULL, 10);

	CHECK(id > 0, "no project made");
	itest_defer(project_drop, (void *)(size_t)id);
	ITEST_SERVE(id);
	return id;
}

/* A name no other run used. */
static const char *uniq(const char *prefix)
{
	static unsigned counter;

	return itest_fmt("%s %ld-%ld-%u", prefix, (long)time(NULL), (long)getpid(), ++counter);
}

static struct client *signed_in(const char *email, const char *password)
{
	struct client *c = CLIENT(NULL);

	SIGN_IN_OK(c, email, password);
	return c;
}

/* The CSRF token of c's session, from the sign-out form of page path. */
static char *csrf_at(struct client *c, const char *path)
{
	struct resp *r = GET(c, path);
	char *t;

	CHECK_STATUS(r, 200);
	t = html_logout_csrf(r);
	CHECK(t != NULL && strlen(t) > 20, "no CSRF token on %s", path);
	return t;
}

/* An export row of project p made with SQL (no job): format, state and,
 * for a done one, the counts and path; returns its id. */
static long export_row(long p, const char *format, const char *ext, const char *type,
    const char *state, const char *path)
{
	return strtol(SQL_QUERY(
	    "INSERT INTO exports (project_id, format, file_extension, media_type, state, items, "
	    "annotations, bytes, snapshot_seq, datastore_id, path, finished_at, created_by) "
	    "SELECT %ld, %s, %s, %s, %s, 1234, 2345, 1500000, 7, IF(%s IS NULL, NULL, id), %s, "
	    "IF(%s = 'done', NOW(6), NULL), (SELECT id FROM users WHERE email = %s) "
	    "FROM datastores WHERE is_default = 1; SELECT LAST_INSERT_ID();",
	    p, sql_str(format), sql_str(ext), sql_str(type), sql_str(state),
	    path ? sql_str(path) : "NULL", path ? sql_str(path) : "NULL", sql_str(state),
	    sql_str(ADMIN_EMAIL)), NULL, 10);
}

static void file_remove(void *arg)
{
	if (unlink(arg) < 0 && errno != ENOENT)
		itest_cleanup_error("cannot remove %s: %s", (const char *)arg, strerror(errno));
}

/* Make dir (and its parents under the datastore) owned by the services'
 * user, so labeld can remove what the tests put there. */
static void own(const char *path)
{
	struct passwd *pw = getpwnam(ENV("LABELD_TEST_SVC_USER"));

	CHECK(pw != NULL, "no user %s", ENV("LABELD_TEST_SVC_USER"));
	CHECK(chown(path, pw->pw_uid, pw->pw_gid) == 0, "chown %s: %s", path, strerror(errno));
}

/* Write `text` as datastore path rel (exports/<format>/<name>) in the
 * default datastore; returns the file's full path (removed when the test
 * ends). */
static char *datastore_file(const char *rel, const char *text)
{
	const char *root = ENV("LABELD_TEST_DEFAULT_DATASTORE");
	char *full = itest_fmt("%s/%s", root, rel), *dir = itest_fmt("%s", full);
	FILE *f;

	/* the folders on the way, each owned by the services' user */
	for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
		own(dir);
		*s = '/';
	}
	f = fopen(full, "w");
	CHECK(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", full);
	chmod(full, 0644);
	own(full);
	itest_defer(file_remove, full);
	return full;
}

/* A finished export of project p with its file in the default datastore
 * (content text); *path_out gets the file's full path when not NULL. */
static long export_done(long p, const char *format, const char *ext, const char *type,
    const char *text, char **path_out)
{
	static unsigned n;
	const char *rel = itest_fmt("exports/%s/%ld-itest-%ld-%u.%s", format, p, (long)getpid(), ++n, ext);
	char *full = datastore_file(rel, text);

	if (path_out != NULL)
		*path_out = full;
	return export_row(p, format, ext, type, "done", rel);
}

/* The loaded export plugins' names, from /admin/plugins. */
static char **export_plugins(struct client *admin, size_t *n)
{
	struct resp *r = GET(admin, "/admin/plugins");

	CHECK_STATUS(r, 200);
	return html_strs(r, "//tr[@class='plugin-loaded' and td[3]='export']/td[2]", n);
}

/* ------------------------------------------------------------ the tab */

/* The Exports tab: the tab is in the bar; the form lists every loaded
 * export plugin (value: its name; text: title and description), the delta
 * checkbox and the Azure ML prefix; no refresh without a running export. */
static void export_pages_form(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	long p = project_new(uniq("Export form"));
	struct resp *r = GET(admin, itest_fmt("/projects/%ld/exports", p));
	size_t nplug = 0, nopt = 0;
	char **plugins = export_plugins(admin, &nplug), **options;

	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//nav[@class='tabs']/a[@href='/projects/%ld/exports' and @aria-current='page' "
	    "and normalize-space()='Exports']", p) == 1, "no current Exports tab");
	CHECK(html_count(GET(admin, itest_fmt("/projects/%ld", p)),
	    "//nav[@class='tabs']/a[@href='/projects/%ld/exports']", p) == 1, "no Exports tab on Details");
	CHECK(html_count(r, "//form[@id='exportform' and @method='post' and @action='/projects/%ld/exports']",
	    p) == 1, "no form#exportform posting to the project's exports");
	CHECK(html_form_input(r, "exportform", "csrf") != NULL, "no csrf in the Export form");
	options = html_strs(r, "//form[@id='exportform']//select[@name='format']/option/@value", &nopt);
	CHECK(nplug >= 1, "no export plugin listed on /admin/plugins");
	CHECK(nopt == nplug, "%zu formats in the form, %zu export plugins loaded", nopt, nplug);
	for (size_t i = 0; i < nplug; i++) {
		size_t k = 0;
		while (k < nopt && strcmp(options[k], plugins[i]) != 0)
			k++;
		CHECK(k < nopt, "export plugin %s is not in the form", plugins[i]);
	}
	CHECK(html_count(r, "//select[@name='format']/option[@value='testexport' and "
	    "contains(., 'Test export') and contains(., 'One line per item')]") == 1,
	    "testexport's option lacks its title and description");
	CHECK(html_count(r, "//form[@id='exportform']//input[@type='checkbox' and @name='delta' and "
	    "@value='1']") == 1, "no delta checkbox");
	CHECK(html_count(r, "//form[@id='exportform']//label[contains(., "
	    "'Only what changed since the last export of this format')]") == 1, "no delta label");
	CHECK(html_count(r, "//form[@id='exportform']//input[@name='azureml_prefix']") == 1,
	    "no azureml_prefix field");
	CHECK(html_count(r, "//table[@id='exports']//tr[@data-export-id]") == 0, "rows in a new project");
	CHECK(html_count(r, "//meta[@http-equiv='refresh']") == 0, "refresh without a running export");
}

/* Queueing: 303 back to the tab, the row and its job in the database, the
 * row on the page; a delta asked for without a finished export of the
 * format is a full export, with one it starts after that export's
 * snapshot; the Azure ML prefix is stored. */
static void export_pages_create(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	long p = project_new(uniq("Export create")), id, done, delta;
	const char *tab = itest_fmt("/projects/%ld/exports", p);
	char *csrf = csrf_at(admin, tab), *row;
	struct resp *r;

	r = POST_FORM(admin, tab, "csrf", csrf, "format", "testexport", "delta", "1");
	CHECK_STATUS(r, 303);
	id = sql_long(itest_fmt("SELECT MAX(id) FROM exports WHERE project_id = %ld", p));
	CHECK(id > 0, "no exports row");
	CHECK_REDIRECT(r, 303, tab);
	row = SQL_QUERY("SELECT CONCAT_WS('|', e.format, e.file_extension, e.media_type, e.delta, "
	    "IFNULL(e.since_export_id, 'none'), IFNULL(e.azureml_prefix, 'none'), u.email, j.kind, "
	    "j.project_id) FROM exports e JOIN jobs j ON j.id = e.job_id JOIN users u ON u.id = e.created_by "
	    "WHERE e.id = %ld", id);
	CHECK_STREQ(row, itest_fmt("testexport|tsv|text/tab-separated-values|0|none|none|%s|export|%ld",
	    ADMIN_EMAIL, p));
	r = GET(admin, tab);
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='exports']//tr[@data-export-id='%ld']", id) == 1, "no row %ld", id);

	/* With a finished export of the format, a delta starts after it. */
	done = export_done(p, "testexport", "tsv", "text/tab-separated-values", "1\ta.png\n", NULL);
	r = POST_FORM(admin, tab, "csrf", csrf, "format", "testexport", "delta", "1",
	    "azureml_prefix", "  " AZUREML_PREFIX " ");
	CHECK_STATUS(r, 303);
	delta = sql_long(itest_fmt("SELECT MAX(id) FROM exports WHERE project_id = %ld", p));
	CHECK(delta > done, "no new export after %ld", done);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS('|', delta, since_export_id, since_seq, azureml_prefix) "
	    "FROM exports WHERE id = %ld", delta), itest_fmt("1|%ld|7|%s", done, AZUREML_PREFIX));
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM jobs WHERE project_id = %ld AND kind = 'export'", p)) == 2,
	    "not one job per queued export");
}

/* Bad input: an unknown format or a prefix that is not an Azure ML
 * datastore URI is a 422 that says what was wrong and keeps what was
 * typed; nothing is queued.  Without the CSRF token: 403. */
static void export_pages_bad_input(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	long p = project_new(uniq("Export bad"));
	const char *tab = itest_fmt("/projects/%ld/exports", p);
	char *csrf = csrf_at(admin, tab);
	static const char *const prefixes[] = {
		"https://example.com/container/",
		"azureml://subscriptions/x/resourcegroups/rg/workspaces/ws/datastores/ds/paths",
		"azureml://subscriptions/x/resourcegroups/rg/workspaces/ws/paths/",
		"azureml://subscriptions/x/resourcegroups/../workspaces/ws/datastores/ds/paths/",
		"azureml://subscriptions/x/resourcegroups/rg/workspaces/ws/datastores/ds/paths/a b/",
	};
	struct resp *r;

	r = POST_FORM(admin, tab, "csrf", csrf, "format", "no-such-format", "delta", "1",
	    "azureml_prefix", AZUREML_PREFIX);
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "no export plugin of that name is loaded");
	CHECK_STREQ(html_str(r, "//form[@id='exportform']//input[@name='azureml_prefix']/@value"), AZUREML_PREFIX);
	CHECK(html_count(r, "//form[@id='exportform']//input[@name='delta' and @checked]") == 1,
	    "the delta box was not kept");
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		r = POST_FORM(admin, tab, "csrf", csrf, "format", "testexport", "azureml_prefix", prefixes[i]);
		CHECK_STATUS(r, 422);
		CHECK_BODY_HAS(r, "azureml://subscriptions/");
		CHECK_STREQ(html_str(r, "//form[@id='exportform']//input[@name='azureml_prefix']/@value"),
		    prefixes[i]);
		CHECK(html_count(r, "//select[@name='format']/option[@value='testexport' and @selected]") == 1,
		    "the format was not kept");
		CHECK(html_count(r, "//form[@id='exportform']//input[@name='delta' and @checked]") == 0,
		    "the delta box came back checked");
	}
	r = POST_FORM(admin, tab, "format", "testexport");
	CHECK_STATUS(r, 403);
	r = POST_FORM(admin, tab, "csrf", "x", "format", "testexport");
	CHECK_STATUS(r, 403);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM exports WHERE project_id = %ld", p)) == 0,
	    "a refused form queued an export");
	/* A project that is still initializing has nothing to export. */
	SQL("UPDATE projects SET state = 'initializing' WHERE id = %ld", p);
	r = POST_FORM(admin, tab, "csrf", csrf, "format", "testexport");
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, "still initializing");
	CHECK(html_count(GET(admin, tab), "//form[@id='exportform']") == 0,
	    "an initializing project offers the Export form");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM exports WHERE project_id = %ld", p)) == 0,
	    "an initializing project was exported");
	/* A project that is not there. */
	r = POST_FORM(admin, "/projects/999999999/exports", "csrf", csrf, "format", "testexport");
	CHECK_STATUS(r, 404);
}

/* A labeler sees the list, but has no form, no download and no Delete,
 * and cannot queue, download or delete (403): an export names every
 * labeled image, and a labeler sees only the images they hold or
 * answered. */
static void export_pages_labeler(void)
{
	struct client *user = signed_in(USER_EMAIL, USER_PASSWORD);
	long p = project_new(uniq("Export labeler"));

	ITEST_JOIN(USER_EMAIL);
	long e = export_done(p, "testexport", "tsv", "text/tab-separated-values", "1\ta.png\n", NULL);
	const char *tab = itest_fmt("/projects/%ld/exports", p);
	char *csrf = csrf_at(user, tab);
	struct resp *r = GET(user, tab);

	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//tr[@data-export-id='%ld' and @data-state='done']", e) == 1,
	    "the labeler does not see the export");
	CHECK(html_count(r, "//a[@class='download']") == 0, "a labeler sees a download link");
	CHECK(html_count(r, "//form[@id='exportform']") == 0, "a labeler sees the Export form");
	CHECK(html_count(r, "//form[contains(@action, '/delete')]") == 0, "a labeler sees Delete");
	r = POST_FORM(user, tab, "csrf", csrf, "format", "testexport");
	CHECK_STATUS(r, 403);
	r = POST_FORM(user, itest_fmt("%s/%ld/delete", tab, e), "csrf", csrf);
	CHECK_STATUS(r, 403);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM exports WHERE project_id = %ld", p)) == 1,
	    "the labeler changed the exports");
	r = GET(user, itest_fmt("%s/%ld/download", tab, e));
	CHECK_STATUS(r, 403);
	CHECK_BODY_LACKS(r, "a.png");
}

/* Downloads: a finished export of that project, sent by nginx with its
 * media type and a file name made of the project's name; another
 * project's export id, a missing one and an unfinished one are 404;
 * without a session, the sign-in page. */
static void export_pages_download(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD), *anon = CLIENT(NULL);
	long p = project_new(uniq("Exp\xc3\xb6rt d/l \"x\"")), other = project_new(uniq("Export other"));
	long e = export_done(p, "testexport", "tsv", "text/tab-separated-values", "1\ta.png\n2\tb.png\n", NULL);
	long queued = export_row(p, "testexport", "tsv", "text/tab-separated-values", "queued", NULL);
	long failed = export_row(p, "testexport", "tsv", "text/tab-separated-values", "failed", NULL);
	const char *url = itest_fmt("/projects/%ld/exports/%ld/download", p, e);
	struct resp *r = GET(admin, itest_fmt("/projects/%ld/exports", p));
	const char *disp;

	CHECK_STREQ(html_str(r, "//tr[@data-export-id='%ld' and @data-state='done']//a[@class='download']/@href",
	    e), url);
	CHECK(html_count(r, "//tr[@data-export-id='%ld' or @data-export-id='%ld']//a[@class='download']",
	    queued, failed) == 0, "an unfinished export has a download link");
	r = GET(admin, url);
	CHECK_STATUS(r, 200);
	CHECK_STREQ(r->body, "1\ta.png\n2\tb.png\n");
	CHECK(resp_header(r, "Content-Type") != NULL &&
	    strncmp(resp_header(r, "Content-Type"), "text/tab-separated-values", 25) == 0,
	    "Content-Type %s", resp_header(r, "Content-Type"));
	disp = resp_header(r, "Content-Disposition");
	CHECK(disp != NULL && strstr(disp, "attachment") != NULL, "Content-Disposition %s", disp);
	CHECK(strstr(disp, itest_fmt("-export-%ld.tsv\"", e)) != NULL && strstr(disp, "filename=\"exp-rt-d-l-x-") != NULL,
	    "file name in %s", disp);
	CHECK(resp_header(r, "X-Accel-Redirect") == NULL, "nginx passed X-Accel-Redirect on");
	CHECK_STATUS(GET(admin, itest_fmt("/projects/%ld/exports/%ld/download", other, e)), 404);
	CHECK_STATUS(GET(admin, itest_fmt("/projects/%ld/exports/999999999/download", p)), 404);
	CHECK_STATUS(GET(admin, itest_fmt("/projects/%ld/exports/%ld/download", p, queued)), 404);
	CHECK_STATUS(GET(admin, itest_fmt("/projects/%ld/exports/%ld/download", p, failed)), 404);
	CHECK_STATUS(GET(admin, itest_fmt("/projects/%ld/exports/x/download", p)), 404);
	r = GET(anon, url);
	CHECK(r->status == 303 || r->status == 401, "anonymous download: %ld", r->status);
	CHECK(r->status == 401 || strncmp(resp_header(r, "Location"), "/login", 6) == 0,
	    "anonymous download sent to %s", resp_header(r, "Location"));
	CHECK_BODY_LACKS(r, "a.png");
	/* A file reached through a symlink (inside the datastore) is not
	 * nginx's to send (it follows no symlink): labeld streams it, with
	 * the same headers. */
	char *link = itest_fmt("%s/exports/testexport/%ld-itest-link-%ld.tsv",
	    ENV("LABELD_TEST_DEFAULT_DATASTORE"), p, (long)getpid());
	CHECK(symlink(SQL_QUERY("SELECT SUBSTRING_INDEX(path, '/', -1) FROM exports WHERE id = %ld", e),
	    link) == 0, "symlink %s: %s", link, strerror(errno));
	itest_defer(file_remove, link);
	SQL("UPDATE exports SET path = %s WHERE id = %ld", sql_str(strstr(link, "exports/")), e);
	r = GET(admin, url);
	CHECK_STATUS(r, 200);
	CHECK_STREQ(r->body, "1\ta.png\n2\tb.png\n");
	CHECK(strncmp(resp_header(r, "Content-Type"), "text/tab-separated-values", 25) == 0,
	    "streamed Content-Type %s", resp_header(r, "Content-Type"));
	CHECK_STREQ(resp_header(r, "Content-Disposition"), disp);
	/* A file that went missing from the datastore. */
	SQL("UPDATE exports SET path = 'exports/testexport/no-such-file.tsv' WHERE id = %ld", e);
	CHECK_STATUS(GET(admin, url), 404);
}

/* Delete: 303 back, the row and its file gone; another project's id: 404. */
static void export_pages_delete(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	long p = project_new(uniq("Export delete")), other = project_new(uniq("Export delete other"));
	char *file;
	long e = export_done(p, "testexport", "tsv", "text/tab-separated-values", "1\ta.png\n", &file);
	const char *tab = itest_fmt("/projects/%ld/exports", p);
	char *csrf = csrf_at(admin, tab);
	struct resp *r = GET(admin, tab);
	struct stat st;

	CHECK(html_count(r, "//tr[@data-export-id='%ld']//form[@method='post' and "
	    "@action='/projects/%ld/exports/%ld/delete']//button", e, p, e) == 1, "no Delete button");
	CHECK_STREQ(html_str(r, "//tr[@data-export-id='%ld']//form[contains(@action, '/delete')]"
	    "/input[@name='csrf']/@value", e), csrf);
	CHECK(stat(file, &st) == 0, "the test file %s is missing", file);
	r = POST_FORM(admin, itest_fmt("/projects/%ld/exports/%ld/delete", other, e), "csrf", csrf);
	CHECK_STATUS(r, 404);
	CHECK(stat(file, &st) == 0, "another project's delete removed the file");
	r = POST_FORM(admin, itest_fmt("%s/%ld/delete", tab, e), "csrf", NULL);
	CHECK_STATUS(r, 403);
	r = POST_FORM(admin, itest_fmt("%s/%ld/delete", tab, e), "csrf", csrf);
	CHECK_REDIRECT(r, 303, tab);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM exports WHERE id = %ld", e)) == 0, "the row is still there");
	CHECK(stat(file, &st) < 0 && errno == ENOENT, "the file %s is still there", file);
	r = GET(admin, tab);
	CHECK(html_count(r, "//tr[@data-export-id='%ld']", e) == 0, "the deleted export is listed");
	CHECK_STATUS(POST_FORM(admin, itest_fmt("%s/%ld/delete", tab, e), "csrf", csrf), 404);
}

/* Progress without JavaScript: while an export runs the tab refreshes
 * itself every 2 s and shows "N of M items"; a failed one shows its error;
 * once none waits or runs, no refresh. */
static void export_pages_progress(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	long p = project_new(uniq("Export progress")), e, job;
	const char *tab = itest_fmt("/projects/%ld/exports", p);
	struct resp *r;

	/* A running job whose heartbeat is in the future: no job thread
	 * takes it over while the test looks. */
	job = strtol(SQL_QUERY("INSERT INTO jobs (kind, project_id, state, progress, total, runner, "
	    "started_at, heartbeat_at) VALUES ('export', %ld, 'running', 1234, 5000, 'itest:0:0', NOW(6), "
	    "NOW(6) + INTERVAL 1 HOUR); SELECT LAST_INSERT_ID();", p), NULL, 10);
	e = export_row(p, "testexport", "tsv", "text/tab-separated-values", "running", NULL);
	SQL("UPDATE exports SET job_id = %ld WHERE id = %ld", job, e);
	r = GET(admin, tab);
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//meta[@http-equiv='refresh']/@content"), "2");
	CHECK(html_count(r, "//tr[@data-export-id='%ld' and @data-state='running']", e) == 1, "no running row");
	CHECK_STREQ(html_str(r, "//tr[@data-export-id='%ld']//*[@class='progress']", e), "1 234 of 5 000 items");
	CHECK(html_count(r, "//tr[@data-export-id='%ld']//a[@class='download']", e) == 0,
	    "a running export has a download link");

	SQL("UPDATE exports SET state = 'failed', error = 'The disk is full.' WHERE id = %ld", e);
	SQL("UPDATE jobs SET state = 'failed', error = 'The disk is full.' WHERE id = %ld", job);
	r = GET(admin, tab);
	CHECK(html_count(r, "//meta[@http-equiv='refresh']") == 0, "refresh with nothing running");
	CHECK(html_count(r, "//tr[@data-export-id='%ld' and @data-state='failed']", e) == 1, "no failed row");
	CHECK_STREQ(html_str(r, "//tr[@data-export-id='%ld']//*[@class='error']", e), "The disk is full.");

	/* A queued one refreshes too. */
	export_row(p, "testexport", "tsv", "text/tab-separated-values", "queued", NULL);
	CHECK_STREQ(html_str(GET(admin, tab), "//meta[@http-equiv='refresh']/@content"), "2");
}

/* Two lines of a dataset manifest and a small COCO file (one image, two
 * boxes), as the export plugins write them. */
#define MANIFEST_LINES \
	"{\"image_url\":\"a/1.png\",\"image_details\":{\"format\":\"png\",\"width\":\"64px\"," \
	"\"height\":\"48px\"},\"label\":\"cat\"}\n" \
	"{\"image_url\":\"a/2.png\",\"image_details\":{\"format\":\"png\",\"width\":\"64px\"," \
	"\"height\":\"48px\"},\"label\":\"dog\"}\n"
#define COCO_FILE \
	"{\"info\":{},\"licenses\":[],\"images\":[{\"id\":1,\"file_name\":\"1.png\",\"width\":64," \
	"\"height\":48}],\"categories\":[{\"id\":1,\"name\":\"cat\",\"supercategory\":\"\"}]," \
	"\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":12," \
	"\"iscrowd\":0,\"segmentation\":[]},{\"id\":2,\"image_id\":1,\"category_id\":1," \
	"\"area\":0,\"iscrowd\":0,\"segmentation\":[]}]}"

/* The first 4 KB of a file (owned by the running test). */
static char *text_of(const char *path)
{
	char *buf = itest_keep(calloc(1, 4097));
	FILE *f = fopen(path, "r");

	CHECK(buf != NULL && f != NULL, "cannot read %s", path);
	buf[fread(buf, 1, 4096, f)] = '\0';
	fclose(f);
	return buf;
}

/* Run the sample code of labeled dataset page r with python3 next to a
 * copy of the file (content text) under the name the page gives it; every
 * snippet whose module (pandas, pycocotools) is installed must run and
 * print `want`. */
static void samples_run(struct resp *r, const char *text, const char *want)
{
	char *dir = itest_keep(strdup("/tmp/labeld-itest-samples-XXXXXX"));
	const char *file = html_str(r, "//dl[@class='facts']//a[@class='download']");
	size_t n = 0;
	char **code = html_strs(r, "//section[@id='sample-code']//pre/code", &n);

	CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	CHECK(file != NULL && strchr(file, '/') == NULL, "no file name on the page");
	CHECK(n == 2, "%zu snippets, want 2", n);
	FILE *f = fopen(itest_fmt("%s/%s", dir, file), "w");
	CHECK(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write the sample file");
	for (size_t i = 0; i < n; i++) {
		const char *py = itest_fmt("%s/sample-%zu.py", dir, i), *out = itest_fmt("%s/sample-%zu.out", dir, i);
		const char *mod = strstr(code[i], "pandas") ? "pandas" : strstr(code[i], "pycocotools") ?
		    "pycocotools" : NULL;
		if (mod != NULL && itest_shell(itest_fmt("python3 -c 'import %s' 2>/dev/null", mod)) != 0) {
			itest_note("sample %zu needs %s, which is not installed: not run", i + 1, mod);
			continue;
		}
		f = fopen(py, "w");
		CHECK(f != NULL && fputs(code[i], f) >= 0 && fclose(f) == 0, "cannot write %s", py);
		CHECK(itest_shell(itest_fmt("cd %s && python3 %s > %s 2>&1", dir, py, out)) == 0,
		    "sample %zu failed: %s", i + 1, text_of(out));
		/* the standard library's snippet prints the counts; the others
		 * print what they read */
		CHECK(strstr(text_of(out), mod == NULL ? want : "1.png") != NULL, "sample %zu printed %s",
		    i + 1, text_of(out));
	}
	itest_shell(itest_fmt("rm -rf %s", dir));
}

/* The labeled datasets: every finished export on /datasets, and its page
 * with the counts, the download and sample code for its format (which
 * runs). */
static void export_pages_labeled_datasets(void)
{
	struct client *admin = signed_in(ADMIN_EMAIL, ADMIN_PASSWORD);
	struct client *user = signed_in(USER_EMAIL, USER_PASSWORD);
	const char *name = uniq("Export <datasets>");
	long p = project_new(name);
	long man = export_done(p, "manifest", "jsonl", "application/jsonl", MANIFEST_LINES, NULL);
	long coco = export_done(p, "coco", "json", "application/json", COCO_FILE, NULL);
	long other = export_done(p, "testexport", "tsv", "text/tab-separated-values", "", NULL);
	long queued = export_row(p, "coco", "json", "application/json", "queued", NULL);
	struct resp *r = GET(admin, "/datasets");

	const long listed[] = { man, coco, other };

	CHECK_STATUS(r, 200);
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		long id = listed[i];
		CHECK(html_count(r, "//table[@id='labeled-datasets']//tr[@data-export-id='%ld']"
		    "//a[@href='/datasets/labeled/%ld' and .=%s]", id, id, sql_str(name)) == 1,
		    "export %ld is not listed as a labeled dataset", id);
	}
	CHECK(html_count(r, "//table[@id='labeled-datasets']//tr[@data-export-id='%ld']", queued) == 0,
	    "an unfinished export is listed");

	r = GET(admin, itest_fmt("/datasets/labeled/%ld", man));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//dd[@id='items']"), "1 234");
	CHECK_STREQ(html_str(r, "//dd[@id='annotations']"), "2 345");
	CHECK(html_count(r, "//a[@class='download' and @href='/projects/%ld/exports/%ld/download']", p, man) == 1,
	    "no download link");
	CHECK_BODY_HAS(r, "import json");
	CHECK_BODY_HAS(r, "pd.read_json(");
	CHECK_BODY_HAS(r, "lines=True");
	CHECK_BODY_HAS(r, itest_fmt("-export-%ld.jsonl", man));
	CHECK_BODY_LACKS(r, "pycocotools");
	samples_run(r, MANIFEST_LINES, "2 images");

	r = GET(admin, itest_fmt("/datasets/labeled/%ld", coco));
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, "json.load(f)");
	CHECK_BODY_HAS(r, "from pycocotools.coco import COCO");
	CHECK_BODY_LACKS(r, "read_json");
	samples_run(r, COCO_FILE, "1 images, 2 annotations");

	r = GET(admin, itest_fmt("/datasets/labeled/%ld", other));
	CHECK_STATUS(r, 200);
	CHECK_BODY_LACKS(r, "pycocotools");
	CHECK_BODY_LACKS(r, "read_json");
	CHECK_BODY_HAS(r, "export plugin");

	CHECK_STATUS(GET(admin, itest_fmt("/datasets/labeled/%ld", queued)), 404);
	CHECK_STATUS(GET(admin, "/datasets/labeled/999999999"), 404);
	/* The same access as the other datasets pages. */
	CHECK_STATUS(GET(user, itest_fmt("/datasets/labeled/%ld", man)), 403);
}

const struct itest_case itest_export_pages_cases[] = {
	ITEST(export_pages_form),
	ITEST(export_pages_create),
	ITEST(export_pages_bad_input),
	ITEST(export_pages_labeler),
	ITEST(export_pages_download),
	ITEST(export_pages_delete),
	ITEST(export_pages_progress),
	ITEST(export_pages_labeled_datasets),
};
const size_t itest_export_pages_ncases = sizeof(itest_export_pages_cases) / sizeof(itest_export_pages_cases[0]);
