/*
 * t_jobs.c: the init job under slow storage, with both labeld processes of
 * the stack polling for jobs: a listing and header reads that each take
 * longer than the takeover time finish exactly once (heartbeats flow); a
 * runner whose job was taken over stops without writing; a dataset with
 * more than max_dataset_files files fails with a clear message and nothing
 * written.
 *
 * The slow storage is tests/unit/badhttp.js's slowinit container (an Azure
 * Blob service whose pages and blobs answer late).  Needs from the stack:
 * LABELD_TEST_JOB_TAKEOVER_SECONDS and LABELD_TEST_MAX_DATASET_FILES (the
 * test labelds' settings), LABELD_TEST_DATASTORE_ROOT, and node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define BLOBS_PER_PAGE 20

/* ------------------------------------------------------------ helpers */

static long sql_long(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

/* A name no earlier run used. */
static char *uniq(const char *stem)
{
	static unsigned n;

	return itest_fmt("%s-%ld-%ld-%u", stem, (long)time(NULL), (long)getpid(), ++n);
}

static void drop_project(void *arg)
{
	long id = (long)arg;

	/* jobs, items, labels and counters go with it (ON DELETE CASCADE) */
	if (itest_sql_try("DELETE FROM projects WHERE id = %ld", id) != 0)
		itest_cleanup_error("deleting project %ld failed", id);
}

/* A datastore row; returns its id. */
static long datastore_add(const char *columns, const char *values)
{
	char *name = uniq("itest-jobs-store");

	SQL("INSERT INTO datastores (name, %s) VALUES (%s, %s)", columns, sql_str(name), values);
	return sql_long(itest_fmt("SELECT id FROM datastores WHERE name = %s", sql_str(name)));
}

/* An Azure Blob datastore on the badhttp service at endpoint. */
static long datastore_blob(const char *endpoint, const char *container)
{
	return datastore_add("kind, blob_endpoint, blob_account, blob_container, blob_key",
	    itest_fmt("'azureblob', %s, 'acct', %s, 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='",
	    sql_str(endpoint), sql_str(container)));
}

/* A project over the datastore's path (recursive or not) with its queued
 * init job, made in one transaction as the wizard leaves them; returns the
 * project's id (removed when the test ends).  Both labelds poll for jobs,
 * so either may claim it. */
static long project_queued(long datastore, const char *path, int recursive)
{
	char *name = uniq("itest-jobs");
	long id;

	id = strtol(SQL_QUERY("START TRANSACTION; "
	    "INSERT INTO datasets (name, description, datastore_id, path, is_recursive, source) "
	    "VALUES (%s, '', %ld, %s, %d, 'datastore'); "
	    "INSERT INTO projects (name, task, dataset_id, description) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), ''); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'a', 1); "
	    "INSERT INTO project_counters (project_id) VALUES (@p); "
	    "INSERT INTO jobs (kind, project_id) VALUES ('init', @p); "
	    "COMMIT; SELECT @p",
	    sql_str(itest_fmt("%s set", name)), datastore, sql_str(path), recursive,
	    sql_str(name)), NULL, 10);
	CHECK(id > 0, "the project was not made");
	itest_defer(drop_project, (void *)id);
	return id;
}

/* The project's state once it left Initializing (at most limit_ms). */
static char *wait_state(long project, long limit_ms)
{
	for (long waited = 0; ; waited += 250) {
		char *state = SQL_QUERY("SELECT state FROM projects WHERE id = %ld", project);
		if (strcmp(state, "initializing") != 0)
			return state;
		CHECK(waited < limit_ms, "project %ld still initializing after %ld ms", project, limit_ms);
		itest_sleep_ms(250);
	}
}

/* The badhttp counters of a slowinit container. */
struct slow_stats {
	long starts, pages, gets;
};

static struct slow_stats slow_stats(const char *endpoint, const char *container)
{
	char *base = itest_fmt("%.*s", (int)(strlen(endpoint) - strlen("/acct")), endpoint);
	struct client *c = CLIENT(base);
	struct resp *r = REQUEST(c, "GET", itest_fmt("/stats/%s", container), NULL, NULL, 0,
	    ITEST_NO_HDR_CHECK);
	struct slow_stats s = { -1, -1, -1 };

	CHECK_STATUS(r, 200);
	CHECK(sscanf(r->body, "{\"starts\":%ld,\"pages\":%ld,\"gets\":%ld}", &s.starts, &s.pages,
	    &s.gets) == 3, "stats: %s", r->body);
	return s;
}

/* The file count the project page shows while listing ("N found so
 * far"), or -1 when the page does not show one. */
static long listing_shown(struct client *c, long project)
{
	struct resp *r = GET(c, itest_fmt("/projects/%ld", project));
	char *n = html_str(r, "//p[contains(@class,'listing-line')]/strong");

	return n != NULL ? strtol(n, NULL, 10) : -1;
}

/* ------------------------------------------------------------ tests */

/* A listing of 5 pages and 100 header fetches, each phase taking about
 * twice the takeover time: with both labelds polling, the job is claimed
 * once, listed once, every blob fetched once, and it ends with all items. */
static void jobs_slow_listing_not_taken_over(void)
{
	long takeover = itest_env_long("LABELD_TEST_JOB_TAKEOVER_SECONDS", 0);
	long pages = 5, blobs = pages * BLOBS_PER_PAGE;
	/* Each page takes 2/5 of the takeover time; 16 fetches at a time,
	 * each a second. */
	long page_ms = takeover * 400, get_ms = 1000;
	char *endpoint = BADHTTP_START();
	char *container = itest_fmt("slowinit-%s-%ld-%ld-%ld", "beat", pages, page_ms, get_ms);
	struct client *c = CLIENT(NULL);
	long project, shown = -1;

	CHECK(takeover >= 3, "LABELD_TEST_JOB_TAKEOVER_SECONDS is not set (%ld)", takeover);
	SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
	project = project_queued(datastore_blob(endpoint, container), "img", 1);
	/* While it lists, the page shows the files found so far. */
	for (long waited = 0; waited < 60000; waited += 300) {
		char *state = SQL_QUERY("SELECT IFNULL(total, -1) FROM jobs WHERE project_id = %ld", project);
		if (strcmp(state, "-1") != 0)
			break;
		long n = listing_shown(c, project);
		if (n > shown)
			shown = n;
		itest_sleep_ms(300);
	}
	CHECK_STREQ(wait_state(project, 120000), "running");

	struct slow_stats s = slow_stats(endpoint, container);
	CHECK(s.starts == 1 && s.pages == pages, "the listing ran %ld times (%ld pages), want once (%ld pages)",
	    s.starts, s.pages, pages);
	CHECK(s.gets == blobs, "%ld blobs fetched, want each of %ld once", s.gets, blobs);
	CHECK(sql_long(itest_fmt("SELECT attempts FROM jobs WHERE project_id = %ld", project)) == 1,
	    "the job was claimed %ld times: taken over although its heartbeat flowed",
	    sql_long(itest_fmt("SELECT attempts FROM jobs WHERE project_id = %ld", project)));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(state, ' ', progress, ' of ', total, ', ', refused, ' refused') "
	    "FROM jobs WHERE project_id = %ld", project), itest_fmt("done %ld of %ld, 0 refused", blobs, blobs));
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld", project)) == blobs &&
	    sql_long(itest_fmt("SELECT items_total FROM project_counters WHERE project_id = %ld", project)) == blobs,
	    "want %ld items", blobs);
	/* The test means something only when each phase outlasted the
	 * takeover time. */
	long ms = sql_long(itest_fmt("SELECT TIMESTAMPDIFF(MICROSECOND, started_at, finished_at) DIV 1000 "
	    "FROM jobs WHERE project_id = %ld", project));
	CHECK(ms > 2 * takeover * 1000, "the job took %ld ms, not more than twice the takeover time", ms);
	CHECK(shown > 0 && shown < blobs, "the project page never showed the files found while listing (%ld)",
	    shown);
}

/* Another runner takes the job over while it lists: the first runner
 * notices at its next heartbeat, stops listing and writes nothing. */
static void jobs_taken_over_runner_stops(void)
{
	long takeover = itest_env_long("LABELD_TEST_JOB_TAKEOVER_SECONDS", 0);
	long pages = 8, page_ms = 1500;
	char *endpoint = BADHTTP_START();
	char *container = itest_fmt("slowinit-%s-%ld-%ld-0", "steal", pages, page_ms);
	long project, job;
	struct slow_stats s;

	CHECK(takeover >= 3, "LABELD_TEST_JOB_TAKEOVER_SECONDS is not set (%ld)", takeover);
	project = project_queued(datastore_blob(endpoint, container), "", 1);
	job = sql_long(itest_fmt("SELECT id FROM jobs WHERE project_id = %ld", project));
	/* Wait until the listing runs, then take the job over as another
	 * labeld would (its runner, a fresh heartbeat far ahead so nobody
	 * takes it back). */
	for (long waited = 0; ; waited += 100) {
		s = slow_stats(endpoint, container);
		if (s.starts > 0)
			break;
		CHECK(waited < 30000, "no labeld started listing within 30 s");
		itest_sleep_ms(100);
	}
	SQL("UPDATE jobs SET runner = 'itest-elsewhere:1:1', heartbeat_at = NOW(6) + INTERVAL 1 HOUR "
	    "WHERE id = %ld AND state = 'running'", job);
	/* Until no page was asked for during two pages' time. */
	for (long waited = 0, last = -1; ; waited += 2 * page_ms + 500) {
		itest_sleep_ms(2 * page_ms + 500);
		s = slow_stats(endpoint, container);
		if (s.pages == last)
			break;
		last = s.pages;
		CHECK(waited < 60000, "the listing still runs after 60 s");
	}
	CHECK(s.starts == 1 && s.pages < pages, "the runner went on listing (%ld of %ld pages) after it "
	    "lost the job", s.pages, pages);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(state, ' ', runner, ' ', IFNULL(total, '-')) "
	    "FROM jobs WHERE id = %ld", job), "running itest-elsewhere:1:1 -");
	CHECK_STREQ(SQL_QUERY("SELECT state FROM projects WHERE id = %ld", project), "initializing");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld", project)) == 0,
	    "items written by a runner that lost the job");
	CHECK_STREQ(SQL_QUERY("SELECT IFNULL(d.file_count, '-') FROM datasets d JOIN projects p "
	    "ON p.dataset_id = d.id WHERE p.id = %ld", project), "-");
}

/* Write n copies of the small GIF fixture as dir/NNNN.gif. */
static void gifs(const char *dir, long n)
{
	char *src = itest_fmt("%s/tests/fixtures/images/formats/gif89a.gif", ENV("LABELD_TEST_SRCDIR"));
	char gif[4096];
	size_t len;
	FILE *f = fopen(src, "rb");

	CHECK(f != NULL, "cannot open %s", src);
	len = fread(gif, 1, sizeof(gif), f);
	fclose(f);
	CHECK(len > 0 && len < sizeof(gif), "cannot read %s", src);
	CHECK(mkdir(dir, 0755) == 0, "cannot create %s", dir);
	for (long i = 0; i < n; i++) {
		char *path = itest_fmt("%s/%04ld.gif", dir, i);
		f = fopen(path, "wb");
		CHECK(f != NULL && fwrite(gif, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
	}
}

/* max_dataset_files: a folder with exactly that many files initialises; one
 * more fails with a message on the project page and nothing written; a
 * blob listing stops at the first file over (no further pages). */
static void jobs_dataset_cap(void)
{
	long max = itest_env_long("LABELD_TEST_MAX_DATASET_FILES", 0);
	const char *root = ENV("LABELD_TEST_DATASTORE_ROOT");
	char *base = itest_fmt("%s/%s", root, uniq("jobs-cap"));
	struct client *c = CLIENT(NULL);
	long ds, exact, over, blob;
	struct resp *r;

	CHECK(max > 0 && max <= 1000, "LABELD_TEST_MAX_DATASET_FILES is not set (%ld)", max);
	SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
	CHECK(mkdir(base, 0755) == 0, "cannot create %s", base);
	gifs(itest_fmt("%s/exact", base), max);
	gifs(itest_fmt("%s/over", base), max + 1);
	ds = datastore_add("kind, local_path", itest_fmt("'local', %s", sql_str(base)));
	exact = project_queued(ds, "exact", 0);
	over = project_queued(ds, "over", 0);

	CHECK_STREQ(wait_state(exact, 60000), "running");
	CHECK(sql_long(itest_fmt("SELECT items_total FROM project_counters WHERE project_id = %ld", exact)) == max,
	    "a dataset of exactly max_dataset_files files: want %ld items", max);

	CHECK_STREQ(wait_state(over, 60000), "failed");
	r = GET(c, itest_fmt("/projects/%ld", over));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//h1/span[contains(@class,'state')]"), "Failed");
	CHECK_BODY_HAS(r, itest_fmt("more than %ld files", max));
	CHECK_BODY_HAS(r, "max_dataset_files");
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld", over)) == 0 &&
	    sql_long(itest_fmt("SELECT items_total FROM project_counters WHERE project_id = %ld", over)) == 0,
	    "items written for a dataset over the cap");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(j.state, ' ', IFNULL(j.total, '-'), ' ', j.refused, ' ', "
	    "(SELECT COUNT(*) FROM job_refusals WHERE job_id = j.id), ' ', IFNULL(d.file_count, '-')) "
	    "FROM jobs j JOIN projects p ON p.id = j.project_id JOIN datasets d ON d.id = p.dataset_id "
	    "WHERE j.project_id = %ld", over), "failed - 0 0 -");

	/* The same from a blob listing: it stops at the first page that
	 * passes the cap. */
	long pages = (max + 1 + BLOBS_PER_PAGE - 1) / BLOBS_PER_PAGE + 3;
	char *endpoint = BADHTTP_START();
	char *container = itest_fmt("slowinit-%s-%ld-0-0", "cap", pages);
	blob = project_queued(datastore_blob(endpoint, container), "", 1);
	CHECK_STREQ(wait_state(blob, 60000), "failed");
	CHECK(strstr(SQL_QUERY("SELECT error FROM jobs WHERE project_id = %ld", blob),
	    itest_fmt("more than %ld files", max)) != NULL, "blob: not failed for the cap");
	struct slow_stats s = slow_stats(endpoint, container);
	CHECK(s.pages == (max + 1 + BLOBS_PER_PAGE - 1) / BLOBS_PER_PAGE && s.gets == 0,
	    "blob: %ld pages listed and %ld blobs read past the cap", s.pages, s.gets);
	CHECK(sql_long(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld", blob)) == 0,
	    "blob: items written over the cap");
}

/* A blob service that refuses the listing: the job waits to try again,
 * and what the admin sees of it (the job's error on the project page) is
 * the one sentence of blob.h; the service's words go to the log only. */
static void jobs_blob_error_not_shown(void)
{
	char *endpoint = BADHTTP_START();
	struct client *c = CLIENT(NULL);
	long project = project_queued(datastore_blob(endpoint, "errxml"), "", 1);
	char *error = NULL;
	struct resp *r;

	SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
	for (long waited = 0; waited < 30000; waited += 250) {
		error = SQL_QUERY("SELECT IFNULL(error, '') FROM jobs WHERE project_id = %ld", project);
		if (error[0] != '\0')
			break;
		itest_sleep_ms(250);
	}
	CHECK(error != NULL && error[0] != '\0', "the job recorded no error in 30 s");
	CHECK_STREQ(error, "labeld could not reach the storage account; see the server log.");
	r = GET(c, itest_fmt("/projects/%ld", project));
	CHECK_STATUS(r, 200);
	CHECK_BODY_LACKS(r, "SECRET-BODY-TEXT");
	CHECK_BODY_LACKS(r, "AuthenticationFailed");
	CHECK(itest_log_has("AuthenticationFailed", NULL), "the service's answer is not in the log");
}

const struct itest_case itest_jobs_cases[] = {
	ITEST(jobs_dataset_cap),
	ITEST(jobs_blob_error_not_shown),
	ITEST(jobs_taken_over_runner_stops),
	ITEST(jobs_slow_listing_not_taken_over),
};
const size_t itest_jobs_ncases = sizeof(itest_jobs_cases) / sizeof(itest_jobs_cases[0]);
