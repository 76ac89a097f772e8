/*
 * t_export_job.c: the export job (core/export_job.c, core/export_store.c)
 * on the live stack, with exports queued straight through SQL (an exports
 * row and its "export" job, as the Export form leaves them): a full export
 * lists exactly the labeled items; a plugin failing midway, an unreachable
 * blob store and a full disk fail the export with a sentence and leave no
 * file; two exports at once both finish; a delta export holds exactly what
 * changed after the previous one.
 *
 * The projects use the test plugins testtask (an answer is {"label": id})
 * and the export plugins testexport ("<item id>\t<path in the dataset>\n"
 * per item) and failexport (fails at the third item).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

/* ------------------------------------------------------------ helpers */

static void drop_project(void *arg)
{
	long id = (long)arg;

	if (itest_sql_try("DELETE FROM exports WHERE project_id = %ld; "
	    "DELETE FROM projects WHERE id = %ld", id, id) != 0)
		itest_cleanup_error("deleting project %ld failed", id);
}

/* A running testtask project with label "a" over a dataset folder of the
 * default datastore: nitems items "<folder>/img<N>.png", the first
 * nlabeled of them labeled (each answer its own change, numbered from the
 * project's change_seq); returns its id (removed when the test ends). */
static long project_make(long nitems, long nlabeled, char **folder_out)
{
	char *name = itest_uniq("itest-export");
	char *folder = itest_fmt("exp/%s", name);
	long id;

	id = strtol(SQL_QUERY("START TRANSACTION; "
	    "INSERT INTO datasets (name, description, datastore_id, path, is_recursive, source) "
	    "SELECT %s, '', id, %s, 0, 'datastore' FROM datastores WHERE is_default = 1 LIMIT 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'a', 1); "
	    "SET @l = LAST_INSERT_ID(); "
	    "INSERT INTO project_counters (project_id, items_total, items_labeled, change_seq) "
	    "VALUES (@p, %ld, %ld, %ld); "
	    "INSERT INTO items (project_id, path, width, height, format, state) "
	    "SELECT @p, CONCAT(%s, '/img', seq, '.png'), 64, 48, 'png', "
	    "IF(seq <= %ld, 'labeled', 'unlabeled') FROM seq_1_to_%ld; "
	    "INSERT INTO annotations (item_id, project_id, data, seq) "
	    "SELECT i.id, @p, CONCAT('{\"label\": ', @l, '}'), ROW_NUMBER() OVER (ORDER BY i.id) "
	    "FROM items i WHERE i.project_id = @p AND i.state = 'labeled'; "
	    "COMMIT; SELECT @p",
	    sql_str(itest_fmt("%s set", name)), sql_str(folder), sql_str(name), nitems, nlabeled,
	    nlabeled, sql_str(folder), nlabeled, nitems), NULL, 10);
	CHECK(id > 0, "the project was not made");
	itest_defer(drop_project, (void *)id);
	if (folder_out != NULL)
		*folder_out = folder;
	return id;
}

/* Queue an export of project as format (delta: since the export since,
 * with its snapshot_seq); returns the export's id. */
static long export_queue(long project, const char *format, const char *ext, long since)
{
	return strtol(SQL_QUERY("START TRANSACTION; "
	    "INSERT INTO jobs (kind, project_id) VALUES ('export', %ld); "
	    "INSERT INTO exports (project_id, job_id, format, file_extension, media_type, delta, "
	    "since_export_id, since_seq) SELECT %ld, LAST_INSERT_ID(), %s, %s, 'text/plain', %d, "
	    "NULLIF(%ld, 0), (SELECT snapshot_seq FROM exports WHERE id = %ld); "
	    "COMMIT; SELECT LAST_INSERT_ID()",
	    project, project, sql_str(format), sql_str(ext), since > 0, since, since), NULL, 10);
}

/* The export's state once it is done or failed (at most limit_ms). */
static char *export_wait(long export, long limit_ms)
{
	for (long waited = 0; ; waited += 100) {
		char *state = SQL_QUERY("SELECT state FROM exports WHERE id = %ld", export);
		if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0)
			return state;
		CHECK(waited < limit_ms, "export %ld still %s after %ld ms (error: %s)", export, state,
		    limit_ms, SQL_QUERY("SELECT COALESCE(error, '') FROM jobs j JOIN exports e "
		    "ON e.job_id = j.id WHERE e.id = %ld", export));
		itest_sleep_ms(100);
	}
}

/* A whole file, NUL-terminated; NULL when it cannot be read.  Owned by
 * the running test. */
static char *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = itest_keep(malloc((size_t)n + 1));
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The file of a done export in its (local) datastore. */
static char *export_file(long export, size_t *len)
{
	char *path = SQL_QUERY("SELECT CONCAT(s.local_path, '/', e.path) FROM exports e "
	    "JOIN datastores s ON s.id = e.datastore_id WHERE e.id = %ld", export);
	char *body = file_read(path, len);

	CHECK(body != NULL, "export %ld: cannot read %s: %s", export, path, strerror(errno));
	return body;
}

/* The lines "<id>\timg<N>.png\n" the testexport file of the project's
 * items should hold, for the items whose position (1-based, in id order)
 * is in [from, to]. */
static char *lines_expected(long project, long from, long to)
{
	/* The client escapes tabs and newlines in its output: ':' and ','
	 * stand for them. */
	char *s = SQL_QUERY("SET SESSION group_concat_max_len = 16777216; "
	    "SELECT COALESCE(GROUP_CONCAT(CONCAT(id, ':', SUBSTRING_INDEX(path, '/', -1)) "
	    "ORDER BY id SEPARATOR ','), '') FROM (SELECT id, path, ROW_NUMBER() OVER (ORDER BY id) n "
	    "FROM items WHERE project_id = %ld) x WHERE n BETWEEN %ld AND %ld", project, from, to);

	for (char *p = s; *p != '\0'; p++)
		*p = *p == ':' ? '\t' : *p == ',' ? '\n' : *p;
	return itest_fmt("%s\n", s);
}

/* No file of the export's name (final or temporary) in the default
 * datastore's folder of format. */
static void check_no_file(long project, long export, const char *format, const char *ext)
{
	char *dir = itest_fmt("%s/exports/%s", SQL_QUERY("SELECT local_path FROM datastores "
	    "WHERE is_default = 1"), format);
	char *final = itest_fmt("%s/%ld-%ld.%s", dir, project, export, ext);
	struct stat st;

	CHECK(stat(final, &st) < 0 && errno == ENOENT, "%s exists after a failed export", final);
	CHECK(itest_shell(itest_fmt("ls -a '%s' 2>/dev/null | grep -q '^\\.%ld-%ld\\.'", dir, project,
	    export)) != 0, "a temporary file of export %ld is left in %s", export, dir);
	CHECK_STREQ(SQL_QUERY("SELECT COALESCE(path, 'none') FROM exports WHERE id = %ld", export), "none");
}

/* Make datastore id the default one until the test ends. */
static void default_restore(void *arg)
{
	long id = (long)arg;

	if (itest_sql_try("UPDATE datastores SET is_default = (id = %ld) "
	    "ORDER BY is_default DESC", id) != 0)
		itest_cleanup_error("the default datastore %ld was not restored", id);
}

static void default_set(long id)
{
	itest_defer(default_restore, (void *)strtol(SQL_QUERY("SELECT id FROM datastores "
	    "WHERE is_default = 1"), NULL, 10));
	SQL("UPDATE datastores SET is_default = (id = %ld) ORDER BY is_default DESC", id);
}

static void datastore_drop(void *arg)
{
	long id = (long)arg;

	if (itest_sql_try("DELETE FROM exports WHERE datastore_id = %ld; "
	    "DELETE FROM datastores WHERE id = %ld", id, id) != 0)
		itest_cleanup_error("deleting datastore %ld failed", id);
}

/* A datastore row (removed when the test ends, after the default is
 * restored); returns its id. */
static long datastore_add(const char *columns, const char *values)
{
	char *name = itest_uniq("itest-export-store");
	long id;

	SQL("INSERT INTO datastores (name, %s) VALUES (%s, %s)", columns, sql_str(name), values);
	id = strtol(SQL_QUERY("SELECT id FROM datastores WHERE name = %s", sql_str(name)), NULL, 10);
	itest_defer(datastore_drop, (void *)id);
	return id;
}

/* ------------------------------------------------------------ tests */

/* A full export lists exactly the labeled items, in item id order, with
 * their path in the dataset; the row has its counts, snapshot, size and
 * path, the job its progress; no temporary file is left. */
static void export_job_full(void)
{
	long p = project_make(8, 5, NULL), e;
	size_t len = 0;
	char *body;

	/* An older answer that is no longer current is not exported. */
	SQL("INSERT INTO annotations (item_id, project_id, data, is_current, seq) "
	    "SELECT id, project_id, '{\"label\": 999}', 0, 0 FROM items WHERE project_id = %ld "
	    "ORDER BY id LIMIT 1", p);
	e = export_queue(p, "testexport", "tsv", 0);
	CHECK_STREQ(export_wait(e, 30000), "done");
	body = export_file(e, &len);
	CHECK_STREQ(body, lines_expected(p, 1, 5));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', items, removed, annotations, bytes, snapshot_seq, "
	    "path, datastore_id = (SELECT id FROM datastores WHERE is_default = 1), "
	    "snapshot_at IS NOT NULL, finished_at IS NOT NULL, error IS NULL) FROM exports WHERE id = %ld", e),
	    itest_fmt("5 0 5 %zu 5 exports/testexport/%ld-%ld.tsv 1 1 1 1", len, p, e));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', j.state, j.progress, j.total) FROM jobs j "
	    "JOIN exports e ON e.job_id = j.id WHERE e.id = %ld", e), "done 5 5");
	CHECK(itest_shell(itest_fmt("ls -a '%s/exports/testexport' | grep -q '^\\.%ld-'",
	    SQL_QUERY("SELECT local_path FROM datastores WHERE is_default = 1"), p)) != 0,
	    "a temporary file is left");

	/* An export whose runner died mid-way (its heartbeat an hour old,
	 * its temporary file left behind) is taken over, starts again, and
	 * the temporary file is removed; the export is whole. */
	e = strtol(SQL_QUERY("INSERT INTO exports (project_id, format, file_extension, media_type, "
	    "state) VALUES (%ld, 'testexport', 'tsv', 'text/plain', 'running'); SELECT LAST_INSERT_ID()",
	    p), NULL, 10);
	char *stale = itest_fmt("%s/exports/testexport/.%ld-%ld.tsv.0badf00d.part",
	    SQL_QUERY("SELECT local_path FROM datastores WHERE is_default = 1"), p, e);
	CHECK(itest_shell(itest_fmt("echo partial >'%s'", stale)) == 0, "cannot write %s", stale);
	SQL("INSERT INTO jobs (kind, project_id, state, runner, attempts, progress, total, heartbeat_at, "
	    "started_at) VALUES ('export', %ld, 'running', 'gone:1:1', 1, 3, 5, "
	    "NOW(6) - INTERVAL 1 HOUR, NOW(6) - INTERVAL 1 HOUR); "
	    "UPDATE exports SET job_id = LAST_INSERT_ID() WHERE id = %ld", p, e);
	CHECK_STREQ(export_wait(e, 30000), "done");
	CHECK(access(stale, F_OK) < 0, "%s is still there", stale);
	CHECK_STREQ(export_file(e, &len), lines_expected(p, 1, 5));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', j.attempts, j.runner <> 'gone:1:1', e.items) "
	    "FROM jobs j JOIN exports e ON e.job_id = j.id WHERE e.id = %ld", e), "2 1 5");
}

/* A plugin with two passes gets every item twice in the same order (the
 * same query in the same snapshot); the counts are of one pass, the job's
 * total of both. */
static void export_job_two_passes(void)
{
	long p = project_make(12, 9, NULL), label;
	char *ids;

	label = strtol(SQL_QUERY("SELECT id FROM labels WHERE project_id = %ld", p), NULL, 10);
	ids = SQL_QUERY("SELECT GROUP_CONCAT(id ORDER BY id) FROM items WHERE project_id = %ld "
	    "AND state = 'labeled'", p);
	/* twopass (ABI 3.1) reads the answers in pass 2 only; twopass30, built
	 * before answer_passes, gets them in both. */
	for (int v = 0; v < 2; v++) {
		const char *format = v == 0 ? "twopass" : "twopass30";
		char *want = itest_fmt("%s", ""), *body;
		size_t len = 0;
		long e;

		for (int pass = 1; pass <= 2; pass++)
			for (char *id = ids, *next; id != NULL && *id != '\0'; id = next) {
				next = strchr(id, ',');
				want = itest_fmt("%s%d\t%.*s\t%ld\n", want, pass,
				    (int)(next ? (size_t)(next - id) : strlen(id)), id,
				    pass == 1 && v == 0 ? 0 : label);
				next = next ? next + 1 : NULL;
			}
		want = itest_fmt("%send\t9\t9\t9\n", want);
		e = export_queue(p, format, "tsv", 0);
		CHECK_STREQ(export_wait(e, 30000), "done");
		body = export_file(e, &len);
		CHECK_STREQ(body, want);
		/* The annotations are counted once, in the first pass that reads them. */
		CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', e.items, e.annotations, e.bytes, j.progress, "
		    "j.total) FROM exports e JOIN jobs j ON j.id = e.job_id WHERE e.id = %ld", e),
		    itest_fmt("9 9 %zu 18 18", len));
	}
}

/* A plugin failing at the third item: the export fails with the plugin's
 * sentence and leaves no file, final or temporary. */
static void export_job_plugin_fails(void)
{
	long p = project_make(6, 5, NULL), e;

	e = export_queue(p, "failexport", "txt", 0);
	CHECK_STREQ(export_wait(e, 30000), "failed");
	CHECK_STREQ(SQL_QUERY("SELECT error FROM exports WHERE id = %ld", e),
	    "failexport: stopped on purpose at the third item");
	check_no_file(p, e, "failexport", "txt");
	/* A format that is not loaded fails with a sentence too. */
	e = export_queue(p, "nosuchformat", "txt", 0);
	CHECK_STREQ(export_wait(e, 30000), "failed");
	CHECK_STREQ(SQL_QUERY("SELECT error FROM exports WHERE id = %ld", e),
	    "The export format \"nosuchformat\" is not loaded (its plugin is missing or was refused; "
	    "see the Plugins page).");
}

/* An Azure Blob default datastore that cannot be reached: the export
 * fails with labeld's sentence (the details in the log only). */
static void export_job_blob_unreachable(void)
{
	long p = project_make(4, 3, NULL), e, ds;
	char *error;

	/* Port 1 on localhost (allowed in the test stack): refused at once. */
	ds = datastore_add("kind, blob_endpoint, blob_account, blob_container, blob_key",
	    "'azureblob', 'http://localhost:1/acct', 'acct', 'exports', "
	    "'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='");
	default_set(ds);
	e = export_queue(p, "testexport", "tsv", 0);
	CHECK_STREQ(export_wait(e, 30000), "failed");
	error = SQL_QUERY("SELECT error FROM exports WHERE id = %ld", e);
	CHECK(strstr(error, "could not reach the storage account") != NULL, "error: %s", error);
	CHECK(strstr(error, "localhost") == NULL && strstr(error, ":1") == NULL,
	    "the error shows the address: %s", error);
	CHECK_STREQ(SQL_QUERY("SELECT COALESCE(path, 'none') FROM exports WHERE id = %ld", e), "none");
}

/* With Azurite as the default datastore the export is a block blob of the
 * same bytes (its size checked through a listing by node). */
static void export_job_blob(void)
{
	const char *az = getenv("LABELD_TEST_AZURITE");
	char *container = itest_fmt("exp%ld", (long)time(NULL) % 100000000);
	long p, e, ds;
	size_t want;

	if (az == NULL || az[0] == '\0') {
		itest_note("export_job_blob: no Azurite (LABELD_TEST_AZURITE); skipped");
		return;
	}
	/* azurite-seed.js makes the container (and one blob in it). */
	CHECK(itest_shell(itest_fmt("node '%s/tests/integration/azurite-seed.js' '%s' '%s' --blobs "
	    "seed.txt '%s/README.md' >/dev/null 2>&1", ENV("LABELD_TEST_SRCDIR"), az, container,
	    ENV("LABELD_TEST_SRCDIR"))) == 0, "the container was not made");
	p = project_make(30, 25, NULL);
	want = strlen(lines_expected(p, 1, 25));
	ds = datastore_add("kind, blob_endpoint, blob_account, blob_container, blob_key",
	    itest_fmt("'azureblob', %s, 'devstoreaccount1', %s, %s", sql_str(az), sql_str(container),
	    sql_str(ENV("LABELD_TEST_AZURITE_KEY"))));
	default_set(ds);
	e = export_queue(p, "testexport", "tsv", 0);
	CHECK_STREQ(export_wait(e, 30000), "done");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', items, bytes, path, datastore_id) FROM exports "
	    "WHERE id = %ld", e), itest_fmt("25 %zu exports/testexport/%ld-%ld.tsv %ld", want, p, e, ds));
}

/* Two exports queued at once (both labelds poll for jobs) both finish,
 * each with its own project's items. */
static void export_job_two_at_once(void)
{
	long p1 = project_make(300, 200, NULL), p2 = project_make(300, 150, NULL), e1, e2;
	size_t len = 0;

	e1 = export_queue(p1, "testexport", "tsv", 0);
	e2 = export_queue(p2, "testexport", "tsv", 0);
	CHECK_STREQ(export_wait(e1, 60000), "done");
	CHECK_STREQ(export_wait(e2, 60000), "done");
	CHECK_STREQ(export_file(e1, &len), lines_expected(p1, 1, 200));
	CHECK_STREQ(export_file(e2, &len), lines_expected(p2, 1, 150));
}

/* A delta export holds exactly the answers numbered after the previous
 * export's snapshot: new answers, a relabeled item, and a withdrawn one
 * (removed); nothing of what the previous export had already. */
static void export_job_delta(void)
{
	long p = project_make(10, 5, NULL), e1, e2;
	size_t len = 0;
	char *want;

	e1 = export_queue(p, "testexport", "tsv", 0);
	CHECK_STREQ(export_wait(e1, 30000), "done");
	CHECK_STREQ(SQL_QUERY("SELECT snapshot_seq FROM exports WHERE id = %ld", e1), "5");
	/* Items 6 and 7 answered (changes 6, 7), item 2 relabeled (8), item
	 * 4's answer withdrawn (9): as the answer procedure numbers them. */
	SQL("SET @p = %ld; "
	    "SELECT id INTO @i2 FROM items WHERE project_id = @p ORDER BY id LIMIT 1 OFFSET 1; "
	    "SELECT id INTO @i4 FROM items WHERE project_id = @p ORDER BY id LIMIT 1 OFFSET 3; "
	    "UPDATE items SET state = 'labeled' WHERE project_id = @p AND id IN "
	    "(SELECT id FROM (SELECT id FROM items WHERE project_id = @p ORDER BY id LIMIT 2 OFFSET 5) x); "
	    "INSERT INTO annotations (item_id, project_id, data, seq) SELECT id, @p, a.data, "
	    "5 + ROW_NUMBER() OVER (ORDER BY id) FROM items, (SELECT data FROM annotations "
	    "WHERE project_id = @p LIMIT 1) a WHERE project_id = @p AND id IN "
	    "(SELECT id FROM (SELECT id FROM items WHERE project_id = @p ORDER BY id LIMIT 2 OFFSET 5) x); "
	    "UPDATE annotations SET is_current = 0 WHERE item_id = @i2; "
	    "INSERT INTO annotations (item_id, project_id, data, seq) SELECT @i2, @p, data, 8 "
	    "FROM annotations WHERE item_id = @i2 LIMIT 1; "
	    "UPDATE annotations SET is_current = 0, withdrawn_seq = 9 WHERE item_id = @i4; "
	    "UPDATE items SET state = 'unlabeled' WHERE id = @i4; "
	    "UPDATE project_counters SET change_seq = 9 WHERE project_id = @p", p);
	e2 = export_queue(p, "testexport", "tsv", e1);
	CHECK_STREQ(export_wait(e2, 30000), "done");
	/* Items 2 (relabeled), 4 (removed), 6 and 7, in item id order. */
	want = itest_fmt("%s%s%s", lines_expected(p, 2, 2), lines_expected(p, 4, 4),
	    lines_expected(p, 6, 7));
	CHECK_STREQ(export_file(e2, &len), want);
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', delta, items, removed, annotations, snapshot_seq) "
	    "FROM exports WHERE id = %ld", e2), "1 3 1 3 9");
	/* Nothing changed since: an empty delta. */
	e1 = export_queue(p, "testexport", "tsv", e2);
	CHECK_STREQ(export_wait(e1, 30000), "done");
	CHECK_STREQ(export_file(e1, &len), "");
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT_WS(' ', items, removed, bytes) FROM exports WHERE id = %ld",
	    e1), "0 0 0");
}

static void unmount(void *cmd)
{
	if (itest_shell(cmd) != 0)
		itest_cleanup_error("%s failed", (char *)cmd);
	free(cmd);
}

/* A full disk: a local default datastore on a 16 KiB tmpfs (mounted by
 * this test when it runs as root) fails the export with the system's
 * reason, and nothing is left on it. */
static void export_job_disk_full(void)
{
	char *dir = itest_fmt("%s/%s", ENV("LABELD_TEST_DATASTORE_ROOT"), itest_uniq("tiny"));
	char *error;
	long p, e, ds;

	if (geteuid() != 0) {
		itest_note("export_job_disk_full: not root, no tmpfs; skipped");
		return;
	}
	CHECK(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
	if (itest_shell(itest_fmt("mount -t tmpfs -o size=16k,mode=0777 tmpfs '%s'", dir)) != 0) {
		rmdir(dir);
		itest_note("export_job_disk_full: tmpfs could not be mounted; skipped");
		return;
	}
	itest_defer(unmount, strdup(itest_fmt("umount '%s' && rmdir '%s'", dir, dir)));
	p = project_make(2000, 2000, NULL);
	ds = datastore_add("kind, local_path", itest_fmt("'local', %s", sql_str(dir)));
	default_set(ds);
	e = export_queue(p, "testexport", "tsv", 0);
	CHECK_STREQ(export_wait(e, 30000), "failed");
	error = SQL_QUERY("SELECT error FROM exports WHERE id = %ld", e);
	CHECK(strstr(error, "No space left on device") != NULL, "error: %s", error);
	CHECK(itest_shell(itest_fmt("test -z \"$(ls -A '%s/exports/testexport')\"", dir)) == 0,
	    "files are left on the full disk");
}

const struct itest_case itest_export_job_cases[] = {
	ITEST(export_job_full),
	ITEST(export_job_two_passes),
	ITEST(export_job_plugin_fails),
	ITEST(export_job_blob_unreachable),
	ITEST(export_job_blob),
	ITEST(export_job_two_at_once),
	ITEST(export_job_delta),
	ITEST(export_job_disk_full),
};
const size_t itest_export_job_ncases = sizeof(itest_export_job_cases) / sizeof(itest_export_job_cases[0]);
