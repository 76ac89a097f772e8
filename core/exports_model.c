/*
 * exports_model.c: exports as rows (export.h, docs/export.md): queueing one
 * with its job, the lists the pages show, one export, and deleting one
 * with its file.  The job that writes the file is export_job.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "catalog.h"
#include "datastore.h"
#include "db.h"
#include "export.h"
#include "jobs.h"
#include "log.h"
#include "plugin.h"

/* exports.azureml_prefix is a VARCHAR(1024). */
#define PREFIX_MAX 1024
/* export_create retries a transaction that met a deadlock this often. */
#define CREATE_ATTEMPTS 3

/* ------------------------------------------------------------ the prefix */

/* One name segment of the prefix: 1..max characters of A-Z a-z 0-9 and
 * "-_.()" (what Azure allows in subscription ids, resource groups,
 * workspaces and datastores).  Returns its length, 0 when bad. */
static size_t segment_len(const char *s, size_t max)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != '/') {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '(' || c == ')'))
			return 0;
		n++;
	}
	return n <= max ? n : 0;
}

int export_azureml_prefix_check(const char *prefix, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"subscriptions/", "resourcegroups/", "workspaces/", "datastores/",
	};
	static const char shape[] = "It must look like azureml://subscriptions/<subscription id>/"
	    "resourcegroups/<resource group>/workspaces/<workspace>/datastores/<datastore>/paths/ "
	    "(optionally with folders after paths/) and end with '/'.";
	const char *p = prefix;
	size_t n;

	if (strlen(prefix) > PREFIX_MAX) {
		snprintf(err, errlen, "The Azure ML datastore URI is longer than %d characters.", PREFIX_MAX);
		return -1;
	}
	if (strncasecmp(p, "azureml://", 10) != 0) {
		snprintf(err, errlen, "The Azure ML datastore URI must start with azureml://. %s", shape);
		return -1;
	}
	p += 10;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t klen = strlen(keys[i]);
		if (strncasecmp(p, keys[i], klen) != 0)
			goto bad;
		p += klen;
		n = segment_len(p, 255);
		if (n == 0 || p[n] != '/' || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			goto bad;
		p += n + 1;
	}
	if (strncasecmp(p, "paths/", 6) != 0)
		goto bad;
	p += 6;
	/* Folders after paths/: printable, no white space, no '?', '#', '\\',
	 * no empty, "." or ".." folder, and the whole ends with '/'. */
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		if (slash == NULL || slash == p || (slash - p == 1 && p[0] == '.') ||
		    (slash - p == 2 && p[0] == '.' && p[1] == '.'))
			goto bad;
		for (const char *q = p; q < slash; q++) {
			unsigned char c = (unsigned char)*q;
			if (c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '\\' || c == '%')
				goto bad;
		}
		p = slash + 1;
	}
	return 0;
bad:
	snprintf(err, errlen, "That is not an Azure ML datastore URI. %s", shape);
	return -1;
}

/* ------------------------------------------------------------ create */

/* The loaded export plugin `format`: its extension and media type copied
 * into the arena.  0, or -1 when there is none of that name. */
static int plugin_facts(struct app *app, struct arena *a, const char *format,
    const char **ext, const char **type)
{
	struct runtime *rt = app_runtime_acquire(app);
	const struct plugin *p = rt != NULL ?
	    plugin_find(rt->plugins, LABELD_EXPORT, format) : NULL;
	int rc = -1;

	if (p != NULL && p->desc->export != NULL) {
		*ext = arena_strdup(a, p->desc->export->file_extension);
		*type = arena_strdup(a, p->desc->export->media_type);
		rc = *ext != NULL && *type != NULL ? 0 : -1;
	}
	if (rt != NULL)
		app_runtime_release(app, rt);
	return rc;
}

/* One attempt at export_create's transaction.  DB_OK, an EXPORT_* refusal
 * (rolled back, *why set) or DB_*. */
static int create_once(struct db *db, struct arena *a, const struct export_request *rq,
    const char *ext, const char *type, const char *prefix, long long *export_id,
    uint64_t *job_id, const char **why)
{
	struct db_result *res;
	long long since_id = 0, since_seq = 0;
	uint64_t id = 0;
	int rc, delta = rq->delta;

	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	/* The project stays as it is until the export is queued. */
	rc = db_query(db, a, &res, "SELECT state FROM projects WHERE id = ? LOCK IN SHARE MODE",
	    "i", rq->project_id);
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		*why = "There is no such project.";
		rc = EXPORT_NO_PROJECT;
		goto fail;
	}
	if (strcmp(db_value(res, 0, 0), "initializing") == 0 ||
	    strcmp(db_value(res, 0, 0), "failed") == 0) {
		*why = "This project has no items to export yet: it is still initializing, or its "
		    "initialization failed.";
		rc = EXPORT_NO_PROJECT;
		goto fail;
	}
	rc = db_query(db, a, &res, "SELECT id FROM datastores WHERE is_default = 1 ORDER BY id LIMIT 1", "");
	if (rc != DB_OK)
		goto fail;
	if (res->nrows == 0) {
		*why = "There is no default datastore to write the export to.";
		rc = EXPORT_NO_DATASTORE;
		goto fail;
	}
	if (delta) {
		/* The last finished export of this format; none: a full export. */
		rc = db_query(db, a, &res,
		    "SELECT id, snapshot_seq FROM exports WHERE project_id = ? AND format = ? "
		    "AND state = 'done' AND approved_only = ? ORDER BY id DESC LIMIT 1", "isi",
		    rq->project_id, rq->format, (long long)(rq->approved_only != 0));
		if (rc != DB_OK)
			goto fail;
		if (res->nrows == 0) {
			delta = 0;
		} else {
			since_id = db_int(res, 0, 0);
			since_seq = db_int(res, 0, 1);
		}
	}
	if ((rc = jobs_enqueue(db, EXPORT_JOB_KIND, rq->project_id, job_id)) != DB_OK)
		goto fail;
	rc = db_exec(db, 0, NULL, &id,
	    "INSERT INTO exports (project_id, job_id, format, file_extension, media_type, delta, "
	    "since_export_id, since_seq, azureml_prefix, created_by, approved_only) "
	    "VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, 0), IF(? = 0, NULL, ?), ?, NULLIF(?, 0), ?)",
	    "iusssiiiisii", rq->project_id, (unsigned long long)*job_id, rq->format, ext, type,
	    (long long)delta, since_id, since_id, since_seq, prefix, rq->user_id,
	    (long long)(rq->approved_only != 0));
	if (rc != DB_OK)
		goto fail;
	if ((rc = db_commit(db)) != DB_OK)
		return rc;
	*export_id = (long long)id;
	return DB_OK;
fail:
	db_rollback(db);
	return rc;
}

int export_create(struct app *app, struct db *db, struct arena *a,
    const struct export_request *rq, long long *export_id, const char **why)
{
	/* The prefix's refusal, valid until this thread's next call. */
	static _Thread_local char prefix_err[512];
	const char *ext = NULL, *type = NULL, *prefix = NULL;
	uint64_t job_id = 0;
	int rc = DB_ERR;

	*export_id = 0;
	*why = NULL;
	if (rq->format == NULL || rq->format[0] == '\0' ||
	    plugin_facts(app, a, rq->format, &ext, &type) < 0) {
		*why = "Choose one of the export formats listed: no export plugin of that name is loaded.";
		return EXPORT_BAD_FORMAT;
	}
	if (rq->azureml_prefix != NULL && rq->azureml_prefix[0] != '\0') {
		if (export_azureml_prefix_check(rq->azureml_prefix, prefix_err, sizeof(prefix_err)) < 0) {
			*why = prefix_err;
			return EXPORT_BAD_PREFIX;
		}
		prefix = rq->azureml_prefix;
	}
	for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
		rc = create_once(db, a, rq, ext, type, prefix, export_id, &job_id, why);
		if (rc != DB_RETRY)
			break;
	}
	if (rc != DB_OK)
		return rc;
	log_info("project %lld: export %lld (%s%s%s) queued as job %llu", rq->project_id, *export_id,
	    rq->format, rq->delta ? ", delta" : "", rq->approved_only ? ", approved only" : "",
	    (unsigned long long)job_id);
	jobs_wake();
	return DB_OK;
}

/* ------------------------------------------------------------ reading */

/* The columns export_from_row reads.  The state shown follows the job
 * where the export's row has not caught up: a job that failed for good
 * fails its export, a claimed job runs it. */
#define EXPORT_COLUMNS \
	"SELECT e.id, e.project_id, e.format, e.file_extension, e.media_type, " \
	"CASE WHEN e.state IN ('queued', 'running') AND j.state = 'failed' THEN 'failed' " \
	"WHEN e.state = 'queued' AND j.state = 'running' THEN 'running' ELSE e.state END, " \
	"e.delta, e.since_export_id, e.azureml_prefix, e.items, e.removed, e.annotations, e.bytes, " \
	"COALESCE(j.progress, 0), COALESCE(j.total, 0), e.datastore_id, e.path, " \
	"COALESCE(e.error, IF(j.state = 'failed', j.error, NULL)), " \
	"COALESCE(NULLIF(u.display_name, ''), u.email), " \
	"DATE_FORMAT(e.created_at, '%Y-%m-%d %H:%i:%s'), " \
	"DATE_FORMAT(e.finished_at, '%Y-%m-%d %H:%i:%s'), p.name, e.approved_only " \
	"FROM exports e JOIN projects p ON p.id = e.project_id " \
	"LEFT JOIN jobs j ON j.id = e.job_id LEFT JOIN users u ON u.id = e.created_by "

static void export_from_row(const struct db_result *res, size_t i, struct export_info *e)
{
	e->id = db_int(res, i, 0);
	e->project_id = db_int(res, i, 1);
	e->format = db_value(res, i, 2);
	e->file_extension = db_value(res, i, 3);
	e->media_type = db_value(res, i, 4);
	e->state = db_value(res, i, 5);
	e->delta = db_int(res, i, 6) != 0;
	e->since_export_id = db_int(res, i, 7);
	e->azureml_prefix = db_value(res, i, 8);
	e->items = db_int(res, i, 9);
	e->removed = db_int(res, i, 10);
	e->annotations = db_int(res, i, 11);
	e->bytes = db_int(res, i, 12);
	e->progress = db_int(res, i, 13);
	e->total = db_int(res, i, 14);
	e->datastore_id = db_int(res, i, 15);
	e->path = db_value(res, i, 16);
	e->error = db_value(res, i, 17);
	e->created_by = db_value(res, i, 18);
	e->created_at = db_value(res, i, 19);
	e->finished_at = db_value(res, i, 20);
	e->project_name = db_value(res, i, 21);
	e->approved_only = db_int(res, i, 22) != 0;
}

/* Fill *v (arena) from every row of res. */
static int list_from(struct arena *a, const struct db_result *res, struct export_info **v, size_t *n)
{
	*n = 0;
	*v = arena_alloc(a, (res->nrows + 1) * sizeof(**v));
	if (*v == NULL)
		return DB_ERR;
	for (size_t i = 0; i < res->nrows; i++)
		export_from_row(res, i, &(*v)[i]);
	*n = res->nrows;
	return DB_OK;
}

int export_list(struct db *db, struct arena *a, long long project_id, size_t limit,
    struct export_info **v, size_t *n)
{
	struct db_result *res;
	int rc = db_query(db, a, &res, EXPORT_COLUMNS "WHERE e.project_id = ? ORDER BY e.id DESC LIMIT ?",
	    "ii", project_id, (long long)limit);

	*n = 0;
	return rc != DB_OK ? rc : list_from(a, res, v, n);
}

int export_list_done(struct db *db, struct arena *a, size_t limit, struct export_info **v, size_t *n)
{
	struct db_result *res;
	int rc = db_query(db, a, &res, EXPORT_COLUMNS "WHERE e.state = 'done' ORDER BY e.id DESC LIMIT ?",
	    "i", (long long)limit);

	*n = 0;
	return rc != DB_OK ? rc : list_from(a, res, v, n);
}

int export_get(struct db *db, struct arena *a, long long project_id, long long export_id,
    struct export_info *e)
{
	struct db_result *res;
	int rc = db_query(db, a, &res, EXPORT_COLUMNS "WHERE e.id = ? AND e.project_id = ?",
	    "ii", export_id, project_id);

	memset(e, 0, sizeof(*e));
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return EXPORT_NOT_FOUND;
	export_from_row(res, 0, e);
	return DB_OK;
}

/* ------------------------------------------------------------ delete */

int export_delete(struct app *app, struct db *db, struct arena *a, long long project_id,
    long long export_id, char *err, size_t errlen)
{
	struct export_info e;
	uint64_t affected = 0;
	int rc = export_get(db, a, project_id, export_id, &e);

	if (rc != DB_OK)
		return rc;
	(void)app;
	if (e.path != NULL && e.datastore_id > 0) {
		struct datastore ds;
		rc = catalog_datastore_load(db, a, e.datastore_id, &ds);
		if (rc != DB_OK)
			return rc;
		if (ds.id == 0 || export_file_delete(&ds, e.path, err, errlen) < 0) {
			if (ds.id == 0)
				snprintf(err, errlen, "its datastore %lld is gone", e.datastore_id);
			log_error("export %lld: its file %s could not be removed: %s", export_id, e.path, err);
			return -1;
		}
	}
	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	/* A job that has not started yet has nothing left to do. */
	rc = db_exec(db, 0, NULL, NULL,
	    "UPDATE jobs j JOIN exports e ON e.job_id = j.id SET j.state = 'failed', "
	    "j.error = 'The export was deleted.', j.finished_at = NOW(6) "
	    "WHERE e.id = ? AND e.project_id = ? AND j.state = 'queued'", "ii", export_id, project_id);
	if (rc == DB_OK)
		rc = db_exec(db, 0, &affected, NULL, "DELETE FROM exports WHERE id = ? AND project_id = ?",
		    "ii", export_id, project_id);
	if (rc != DB_OK) {
		db_rollback(db);
		return rc;
	}
	if ((rc = db_commit(db)) != DB_OK)
		return rc;
	if (affected == 0)
		return EXPORT_NOT_FOUND;
	log_info("project %lld: export %lld deleted%s%s", project_id, export_id,
	    e.path != NULL ? " with its file " : "", e.path != NULL ? e.path : "");
	return DB_OK;
}
