/*
 * export_job.c: the "export" job (docs/export.md, "How an export runs").
 *
 * 1. Find the export by its job; hold the current plugin set (a runtime
 *    reference, as a request does) until the export ends, so a SIGHUP never
 *    unloads its plugins under it; find the export plugin and the project's
 *    task plugin by name; the default datastore to write to.
 * 2. On a second database connection (the job's own keeps writing the
 *    heartbeat and progress): one read-only REPEATABLE READ transaction
 *    WITH CONSISTENT SNAPSHOT; read the project's change_seq and the time,
 *    count the items to export, then stream them in item id order (a full
 *    export: labeled items with their current annotation; a delta: the
 *    current annotations numbered above since_seq, and the items whose
 *    answer was withdrawn above it, as removed; approved-only exports read
 *    approved items and approvals the same way, by annotations.approved_seq).  A plugin with two passes
 *    reads the same query twice in the same snapshot.
 * 3. Each item's annotation goes through the task plugin's describe and
 *    then to the export plugin's item op, which writes through the sink
 *    (export_store.c).  The counts of the first pass are the export's.
 * 4. When the plugin's end returned, the file is committed under its final
 *    name; export_job_end (in jobs.c's transaction that ends the job)
 *    writes the export's state, snapshot, counts and path.
 *
 * Stopping, a takeover or a deleted export stop the job and remove the
 * partial file; a taken-over export starts again from the beginning.  A
 * plugin failing, a full disk or an unreachable blob store fail the export
 * with a sentence; nothing is left under the final name.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autoconf.h"

#include "app.h"
#include "arena.h"
#include "blob.h"
#include "catalog.h"
#include "datastore.h"
#include "db.h"
#include "export.h"
#include "host.h"
#include "jobs.h"
#include "log.h"
#include "plugin.h"
#include "project_init.h"

/* How often the job checks that its export still exists (it may be
 * deleted while it runs). */
#define EXPORT_CHECK_MS 1000

/* What the run leaves for export_job_end (in the job's arena). */
struct export_result {
	long long export_id;
	unsigned long long snapshot_seq;
	char snapshot_at[40];
	unsigned long long items, removed, annotations, bytes;
	long long datastore_id;
	const char *path;
	const struct datastore *ds;    /* to remove the file if the row is gone */
};

/* The export row and what it needs, loaded at the start (keep arena). */
struct export_row {
	long long id;
	const char *format;
	int delta;
	int approved_only;              /* only approved items */
	unsigned long long since_seq;
	const char *since;              /* the earlier export's created_at, ISO */
	const char *azureml_prefix;     /* NULL: none */
	const char *project_name;
	const char *task;
	const char *instructions_url;
	const char *dataset_path;       /* the dataset's folder in its datastore */
	long long dataset_datastore;
};

/* The columns the item queries return. */
#define ITEM_COLUMNS "i.id, i.path, i.width, i.height, i.format"

/* A full export: labeled items (COND: "i.state = 'labeled'") or approved
 * ones ("i.phase = 'approved'") with their current annotation; DATA is
 * "a.data", or "NULL" for a pass that does not need the answers. */
#define FULL_ROWS(DATA, COND) \
	"SELECT " ITEM_COLUMNS ", " DATA ", 0 FROM items i " \
	"JOIN annotations a ON a.item_id = i.id AND a.is_current = 1 AND a.withdrawn_seq IS NULL " \
	"WHERE i.project_id = ? AND " COND " ORDER BY i.id"
static const char full_sql[] = FULL_ROWS("a.data", "i.state = 'labeled'");
static const char full_bare_sql[] = FULL_ROWS("NULL", "i.state = 'labeled'");
/* Approved items only (docs/export.md): the approved items with their
 * current (approved) annotation. */
static const char approved_sql[] = FULL_ROWS("a.data", "i.phase = 'approved'");
static const char approved_bare_sql[] = FULL_ROWS("NULL", "i.phase = 'approved'");

/* A delta export: the current annotations numbered above since_seq, and
 * the items whose answer was withdrawn above it and that have no current
 * one (removed). */
#define DELTA_ROWS \
	"SELECT " ITEM_COLUMNS ", a.data, 0 AS removed FROM annotations a " \
	"JOIN items i ON i.id = a.item_id " \
	"WHERE a.project_id = ? AND a.is_current = 1 AND a.withdrawn_seq IS NULL AND a.seq > ? " \
	"AND i.state = 'labeled' " \
	"UNION ALL " \
	"SELECT DISTINCT " ITEM_COLUMNS ", NULL, 1 FROM annotations w " \
	"JOIN items i ON i.id = w.item_id " \
	"WHERE w.project_id = ? AND w.withdrawn_seq > ? AND NOT EXISTS (SELECT 1 FROM annotations c " \
	"WHERE c.item_id = i.id AND c.is_current = 1 AND c.withdrawn_seq IS NULL)"
static const char delta_sql[] = DELTA_ROWS " ORDER BY 1";
static const char delta_count_sql[] = "SELECT COUNT(*) FROM (" DELTA_ROWS ") d";

/* A delta of approved items: the items approved above since_seq (their
 * approved annotation), and, as removed, the items that had an approved
 * answer withdrawn (rejected) above since_seq and are not approved now.
 * An approval never changes an annotation's seq, so it is found by
 * approved_seq. */
#define APPROVED_DELTA_ROWS \
	"SELECT " ITEM_COLUMNS ", a.data, 0 AS removed FROM annotations a " \
	"JOIN items i ON i.id = a.item_id " \
	"WHERE a.project_id = ? AND a.is_current = 1 AND a.withdrawn_seq IS NULL " \
	"AND a.approved_seq > ? AND i.phase = 'approved' " \
	"UNION ALL " \
	"SELECT DISTINCT " ITEM_COLUMNS ", NULL, 1 FROM annotations w " \
	"JOIN items i ON i.id = w.item_id " \
	"WHERE w.project_id = ? AND w.withdrawn_seq > ? AND w.approved_seq IS NOT NULL " \
	"AND i.phase <> 'approved'"
static const char approved_delta_sql[] = APPROVED_DELTA_ROWS " ORDER BY 1";
static const char approved_delta_count_sql[] = "SELECT COUNT(*) FROM (" APPROVED_DELTA_ROWS ") d";

/* The sink's write for the plugin. */
static int sink_write(void *opaque, const void *data, size_t len)
{
	return export_store_write(opaque, data, len);
}

static void json_put(void *obj)
{
	json_object_put(obj);
}

static long long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Load the export of this job.  0, 1 when there is none (deleted), -1 on a
 * database error. */
static int row_load(struct job_ctx *job, struct arena *a, struct export_row *e)
{
	struct db_result *res;

	if (db_query(job->db, a, &res,
	    "SELECT e.id, e.format, e.delta, COALESCE(e.since_seq, 0), "
	    "DATE_FORMAT(s.created_at, '%Y-%m-%dT%H:%i:%sZ'), e.azureml_prefix, "
	    "p.name, p.task, p.instructions_url, d.path, d.datastore_id, e.approved_only "
	    "FROM exports e JOIN projects p ON p.id = e.project_id "
	    "JOIN datasets d ON d.id = p.dataset_id "
	    "LEFT JOIN exports s ON s.id = e.since_export_id WHERE e.job_id = ?",
	    "i", job->job_id) != DB_OK)
		return -1;
	if (res->nrows == 0)
		return 1;
	memset(e, 0, sizeof(*e));
	e->id = db_int(res, 0, 0);
	e->format = db_value(res, 0, 1);
	e->delta = db_int(res, 0, 2) != 0;
	e->since_seq = (unsigned long long)db_int(res, 0, 3);
	e->since = db_value(res, 0, 4);
	e->azureml_prefix = db_value(res, 0, 5);
	if (e->azureml_prefix != NULL && e->azureml_prefix[0] == '\0')
		e->azureml_prefix = NULL;
	e->project_name = db_value(res, 0, 6);
	e->task = db_value(res, 0, 7);
	e->instructions_url = db_value(res, 0, 8) ? db_value(res, 0, 8) : "";
	e->dataset_path = db_value(res, 0, 9) ? db_value(res, 0, 9) : "";
	e->dataset_datastore = db_int(res, 0, 10);
	e->approved_only = db_int(res, 0, 11) != 0;
	if (!e->delta)
		e->since = NULL;
	return 0;
}

/* The project's label classes in label order (keep arena).  DB_* status. */
static int labels_load(struct job_ctx *job, struct arena *a, struct labeld_label **v, size_t *n)
{
	struct db_result *res;
	int rc = db_query(job->db, a, &res,
	    "SELECT id, name, position FROM labels WHERE project_id = ? ORDER BY position, id",
	    "i", job->project_id);

	if (rc != DB_OK)
		return rc;
	*n = res->nrows;
	*v = arena_calloc(a, res->nrows ? res->nrows : 1, sizeof(**v));
	if (*v == NULL)
		return DB_ERR;
	for (size_t i = 0; i < res->nrows; i++) {
		long long pos = db_int(res, i, 2);
		(*v)[i].id = db_int(res, i, 0);
		(*v)[i].name = db_value(res, i, 1);
		(*v)[i].key = pos >= 1 && pos <= 9 ? (int)pos : 0;
	}
	return DB_OK;
}

/* The export is running: its job's progress back to 0 of total (< 0: not
 * known yet) and the row's state, in one transaction while the job is
 * ours.  0, or -1 (taken over, or a database error). */
static int running_record(struct job_ctx *job, long long export_id, long long total)
{
	if (db_begin(job->db) != DB_OK)
		return -1;
	if (job_record(job, 0, 0, total) != 0 ||
	    db_exec(job->db, 0, NULL, NULL,
	    "UPDATE exports SET state = 'running', error = NULL WHERE id = ? AND state <> 'done'",
	    "i", export_id) != DB_OK ||
	    db_commit(job->db) != DB_OK) {
		db_rollback(job->db);
		return -1;
	}
	return 0;
}

/* The item's path inside its dataset: the stored path (relative to the
 * datastore) without the dataset's folder. */
static const char *path_in_dataset(const char *path, const char *folder)
{
	size_t n = strlen(folder);

	while (n > 0 && folder[n - 1] == '/')
		n--;
	if (n > 0 && strncmp(path, folder, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

/* Everything one pass needs. */
struct export_run {
	struct job_ctx *job;
	const struct export_row *e;
	const struct labeld_export_ops *xops;
	const struct labeld_task_ops *tops;
	const struct datastore *image_ds;   /* the dataset's datastore */
	struct export_store *store;
	void *state;                         /* the plugin's */
	struct arena *item_arena;            /* one item call's ctx */
	struct json_tokener *tok;            /* parses every stored answer, reset between */
	unsigned long long done, total;      /* rows handed over, of all passes */
	struct timespec checked;             /* when the row was last seen */
	struct export_result *res;
	char *err;
	size_t errlen;
};

/* The export row still exists?  Checked every EXPORT_CHECK_MS.  0 to go
 * on, 1 when it was deleted, -1 on a database error. */
static int row_check(struct export_run *x)
{
	struct timespec now;
	struct db_result *r;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ms_between(&x->checked, &now) < EXPORT_CHECK_MS)
		return 0;
	x->checked = now;
	if (db_query(x->job->db, x->item_arena, &r, "SELECT 1 FROM exports WHERE id = ?", "i",
	    x->e->id) != DB_OK)
		return -1;
	return r->nrows == 0 ? 1 : 0;
}

/* The image's address for item path (item arena). */
static const char *image_url(struct export_run *x, const char *path)
{
	if (x->e->azureml_prefix != NULL)
		return arena_printf(x->item_arena, "%s%s", x->e->azureml_prefix, path);
	if (x->image_ds->kind == DATASTORE_AZUREBLOB) {
		char *u = blob_url(&x->image_ds->blob, path);
		char *copy = u ? arena_strdup(x->item_arena, u) : NULL;
		free(u);
		return copy;
	}
	return path;
}

/* One row to the plugin.  PROJECT_INIT_DONE, or the job's result with
 * err. */
static int item_run(struct export_run *x, uint32_t pass, const struct db_result *row)
{
	int answers = (x->xops->answer_passes & LABELD_PASS(pass)) != 0;
	struct labeld_ctx ictx = { x->item_arena };
	struct labeld_item item;
	struct labeld_export_item it;
	const char *error = NULL, *path = db_value(row, 0, 1), *data = db_value(row, 0, 5);
	int64_t *label_ids = NULL;
	struct labeld_box *boxes = NULL;
	size_t nlabel_ids = 0, nboxes = 0;

	memset(&item, 0, sizeof(item));
	memset(&it, 0, sizeof(it));
	item.id = db_int(row, 0, 0);
	item.path = path_in_dataset(path ? path : "", x->e->dataset_path);
	item.width = (uint32_t)db_int(row, 0, 2);
	item.height = (uint32_t)db_int(row, 0, 3);
	item.format = db_value(row, 0, 4) ? db_value(row, 0, 4) : "";
	it.struct_size = sizeof(it);
	it.item = &item;
	it.removed = db_int(row, 0, 6) != 0;
	it.image_url = image_url(x, path ? path : "");
	if (it.image_url == NULL) {
		snprintf(x->err, x->errlen, "out of memory");
		return PROJECT_INIT_RETRY;
	}
	if (!it.removed && answers) {
		struct json_object *ann;

		json_tokener_reset(x->tok);
		ann = data != NULL ? json_tokener_parse_ex(x->tok, data, (int)row->lens[0][5]) : NULL;
		if (ann != NULL && json_tokener_get_error(x->tok) != json_tokener_success) {
			json_object_put(ann);
			ann = NULL;
		}
		if (ann == NULL || arena_cleanup_add(x->item_arena, json_put, ann) < 0) {
			snprintf(x->err, x->errlen, "the stored answer of item %lld is not valid JSON",
			    (long long)item.id);
			return PROJECT_INIT_FAILED;
		}
		if (x->tops->describe(&ictx, ann, &label_ids, &nlabel_ids, &boxes, &nboxes, &error) != 0) {
			snprintf(x->err, x->errlen, "The task plugin could not describe the answer of "
			    "item %lld: %s", (long long)item.id, error ? error : "no reason given");
			return PROJECT_INIT_FAILED;
		}
		it.label_ids = label_ids;
		it.nlabel_ids = label_ids ? nlabel_ids : 0;
		it.boxes = boxes;
		it.nboxes = boxes ? nboxes : 0;
	}
	if (x->xops->item(&ictx, x->state, pass, &it, &error) != 0) {
		/* The sink's own failure says more than what the plugin
		 * passed on. */
		snprintf(x->err, x->errlen, "%s", export_store_error(x->store)[0] ? export_store_error(x->store) :
		    error ? error : "The export plugin failed without saying why.");
		return PROJECT_INIT_FAILED;
	}
	if (pass == 1) {
		if (it.removed)
			x->res->removed++;
		else
			x->res->items++;
	}
	/* As the shipped formats count: one per box, or, without boxes, one
	 * per class; in the first pass that reads the answers. */
	if (answers && (x->xops->answer_passes & (LABELD_PASS(pass) - 1u)) == 0)
		x->res->annotations += it.nboxes > 0 ? it.nboxes : it.nlabel_ids;
	return PROJECT_INIT_DONE;
}

/* One pass over the snapshot.  PROJECT_INIT_DONE, or the job's result. */
static int pass_run(struct export_run *x, struct db *snap, uint32_t pass)
{
	struct db_stream *st;
	struct db_result *row;
	int answers = (x->xops->answer_passes & LABELD_PASS(pass)) != 0;
	int rc, result = PROJECT_INIT_DONE;

	if (x->e->delta)
		rc = db_stream_open(snap, &st, x->e->approved_only ? approved_delta_sql : delta_sql,
		    "iuiu", x->job->project_id, x->e->since_seq, x->job->project_id, x->e->since_seq);
	else if (x->e->approved_only)
		rc = db_stream_open(snap, &st, answers ? approved_sql : approved_bare_sql, "i",
		    x->job->project_id);
	else
		rc = db_stream_open(snap, &st, answers ? full_sql : full_bare_sql, "i",
		    x->job->project_id);
	if (rc != DB_OK) {
		snprintf(x->err, x->errlen, "the project could not be read from the database");
		return PROJECT_INIT_RETRY;
	}
	while ((rc = db_stream_next(st, &row)) == 1) {
		int gone;
		if (job_tick(x->job, (long long)x->done) < 0) {
			result = PROJECT_INIT_INTERRUPTED;
			break;
		}
		gone = row_check(x);
		if (gone != 0) {
			snprintf(x->err, x->errlen, gone > 0 ? "the export was deleted while it ran" :
			    "the database could not be reached");
			result = gone > 0 ? PROJECT_INIT_FAILED : PROJECT_INIT_RETRY;
			break;
		}
		result = item_run(x, pass, row);
		arena_reset(x->item_arena);
		if (result != PROJECT_INIT_DONE)
			break;
		x->done++;
	}
	if (rc < 0) {
		snprintf(x->err, x->errlen, "the project could not be read from the database");
		result = PROJECT_INIT_RETRY;
	}
	db_stream_close(st);
	return result;
}

/* Read the snapshot and write the file.  PROJECT_INIT_DONE with the
 * results in x->res, or the job's result with err. */
static int export_write(struct export_run *x, struct db *snap, struct arena *keep,
    const struct labeld_label *labels, size_t nlabels, const struct datastore *ds,
    const char *path, const char *media_type)
{
	struct db_result *res;
	struct labeld_ctx wctx;
	struct labeld_export_project proj;
	struct labeld_export_sink sink;
	const char *error = NULL;
	char iso[40] = "";
	uint32_t passes = x->xops->passes == 2 ? 2 : 1;
	unsigned long long count;
	int result;

	if (db_exec(snap, 0, NULL, NULL, "SET SESSION net_write_timeout = 3600", "") != DB_OK ||
	    db_begin_snapshot(snap) != DB_OK ||
	    db_query(snap, keep, &res,
	    "SELECT c.change_seq, DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f'), "
	    "DATE_FORMAT(NOW(6), '%Y-%m-%dT%H:%i:%sZ'), c.items_labeled, c.items_approved "
	    "FROM project_counters c WHERE c.project_id = ?",
	    "i", x->job->project_id) != DB_OK || res->nrows == 0) {
		snprintf(x->err, x->errlen, "the project's snapshot could not be read from the database");
		return PROJECT_INIT_RETRY;
	}
	x->res->snapshot_seq = (unsigned long long)db_int(res, 0, 0);
	snprintf(x->res->snapshot_at, sizeof(x->res->snapshot_at), "%s", db_value(res, 0, 1));
	snprintf(iso, sizeof(iso), "%s", db_value(res, 0, 2));
	/* A whole export holds every labeled item: the project's counter, kept
	 * in the transactions that label, read in the same snapshot, saves a
	 * pass over a million rows.  A delta is counted. */
	count = (unsigned long long)db_int(res, 0, x->e->approved_only ? 4 : 3);
	if (x->e->delta) {
		result = db_query(snap, keep, &res, x->e->approved_only ? approved_delta_count_sql :
		    delta_count_sql, "iuiu", x->job->project_id,
		    x->e->since_seq, x->job->project_id, x->e->since_seq);
		if (result != DB_OK) {
			snprintf(x->err, x->errlen, "the project could not be counted");
			return PROJECT_INIT_RETRY;
		}
		count = (unsigned long long)db_int(res, 0, 0);
	}
	x->total = count * passes;
	if (running_record(x->job, x->e->id, (long long)x->total) < 0)
		return PROJECT_INIT_INTERRUPTED;

	x->store = export_store_open(ds, path, media_type, x->err, x->errlen);
	if (x->store == NULL)
		return PROJECT_INIT_FAILED;
	sink.opaque = x->store;
	sink.write = sink_write;
	memset(&proj, 0, sizeof(proj));
	proj.struct_size = sizeof(proj);
	proj.id = x->job->project_id;
	proj.name = x->e->project_name;
	proj.task = x->e->task;
	proj.labels = labels;
	proj.nlabels = nlabels;
	proj.instructions_url = x->e->instructions_url;
	proj.export_id = x->e->id;
	proj.created_at = iso;
	proj.labeld_version = PACKAGE_VERSION;
	proj.delta = x->e->delta;
	proj.since = x->e->delta ? x->e->since : NULL;
	proj.items = count;
	/* The ctx of begin and end lives for the whole export. */
	wctx.arena = keep;
	if (x->xops->begin(&wctx, &x->state, &proj, &sink, &error) != 0) {
		snprintf(x->err, x->errlen, "%s", export_store_error(x->store)[0] ?
		    export_store_error(x->store) : error ? error : "The export plugin failed to start.");
		return PROJECT_INIT_FAILED;
	}
	for (uint32_t pass = 1; pass <= passes; pass++) {
		result = pass_run(x, snap, pass);
		if (result != PROJECT_INIT_DONE)
			return result;
	}
	if (x->xops->end(&wctx, x->state, &error) != 0) {
		snprintf(x->err, x->errlen, "%s", export_store_error(x->store)[0] ?
		    export_store_error(x->store) : error ? error : "The export plugin failed to finish.");
		return PROJECT_INIT_FAILED;
	}
	db_rollback(snap);   /* read only: nothing to keep */
	if (job_heartbeat(x->job) < 0)
		return PROJECT_INIT_INTERRUPTED;
	if (export_store_commit(x->store, x->err, x->errlen) < 0)
		return PROJECT_INIT_FAILED;
	x->res->bytes = export_store_bytes(x->store);
	return PROJECT_INIT_DONE;
}

int export_job_run(struct job_ctx *job, char *err, size_t errlen)
{
	struct arena *keep = arena_new(), *item_arena = arena_new();
	struct runtime *rt = app_runtime_acquire(job->app);
	struct export_row e;
	struct export_result *res;
	struct datastore *ds = NULL, image_ds;
	struct labeld_label *labels = NULL;
	size_t nlabels = 0;
	const struct plugin *xp, *tp;
	struct db_config dc;
	struct db *snap = NULL;
	const char *path;
	int rc, result = PROJECT_INIT_FAILED;
	struct export_run x;

	memset(&x, 0, sizeof(x));
	if (keep == NULL || item_arena == NULL) {
		snprintf(err, errlen, "out of memory");
		result = PROJECT_INIT_RETRY;
		goto out;
	}
	rc = row_load(job, keep, &e);
	if (rc != 0) {
		snprintf(err, errlen, rc > 0 ? "the export was deleted" : "the export could not be read");
		result = rc > 0 ? PROJECT_INIT_FAILED : PROJECT_INIT_RETRY;
		goto out;
	}
	xp = plugin_find(rt->plugins, LABELD_EXPORT, e.format);
	tp = plugin_find(rt->plugins, LABELD_TASK, e.task);
	if (xp == NULL) {
		snprintf(err, errlen, "The export format \"%s\" is not loaded (its plugin is missing or "
		    "was refused; see the Plugins page).", e.format);
		goto out;
	}
	if (tp == NULL) {
		snprintf(err, errlen, "The project's task type \"%s\" is not loaded (its plugin is "
		    "missing or was refused; see the Plugins page).", e.task);
		goto out;
	}
	/* The datastore and the path outlive the run (export_job_end): in
	 * the job's arena. */
	ds = arena_alloc(job->arena, sizeof(*ds));
	if (ds == NULL || catalog_datastore_default(job->db, job->arena, ds) != DB_OK ||
	    catalog_datastore_load(job->db, keep, e.dataset_datastore, &image_ds) != DB_OK ||
	    labels_load(job, keep, &labels, &nlabels) != DB_OK) {
		snprintf(err, errlen, "the export's project could not be read");
		result = PROJECT_INIT_RETRY;
		goto out;
	}
	if (ds->id == 0) {
		snprintf(err, errlen, "There is no default datastore to write the export to.");
		goto out;
	}
	path = export_file_path(job->arena, e.format, job->project_id, e.id, xp->desc->export->file_extension);
	res = arena_alloc(job->arena, sizeof(*res));
	if (path == NULL || res == NULL) {
		snprintf(err, errlen, "out of memory");
		result = PROJECT_INIT_RETRY;
		goto out;
	}
	/* A taken-over export starts again: progress back to 0. */
	if (running_record(job, e.id, -1) < 0) {
		result = PROJECT_INIT_INTERRUPTED;
		goto out;
	}
	jobs_db_config(job->app, &dc);
	snap = db_new(&dc);
	if (snap == NULL) {
		snprintf(err, errlen, "out of memory");
		result = PROJECT_INIT_RETRY;
		goto out;
	}
	res->export_id = e.id;
	res->datastore_id = ds->id;
	res->path = path;
	res->ds = ds;
	x.job = job;
	x.e = &e;
	x.xops = xp->desc->export;
	x.tops = tp->desc->task;
	x.image_ds = &image_ds;
	x.item_arena = item_arena;
	x.tok = json_tokener_new();
	if (x.tok == NULL) {
		snprintf(err, errlen, "out of memory");
		result = PROJECT_INIT_RETRY;
		goto out;
	}
	x.res = res;
	x.err = err;
	x.errlen = errlen;
	clock_gettime(CLOCK_MONOTONIC, &x.checked);
	log_info("job %lld: export %lld of project %lld as %s%s to datastore %s", job->job_id, e.id,
	    job->project_id, e.format, e.delta ? " (what changed)" : "", ds->name);
	result = export_write(&x, snap, keep, labels, nlabels, ds, path,
	    xp->desc->export->media_type);
	if (result == PROJECT_INIT_DONE) {
		job->data = res;
		log_info("job %lld: export %lld written: %llu items, %llu removed, %llu annotations, "
		    "%llu bytes in %s", job->job_id, e.id, res->items, res->removed, res->annotations,
		    res->bytes, path);
	}
out:
	/* The file is whole under its name, or nothing is left of it. */
	export_store_abort(x.store);
	if (x.tok != NULL)
		json_tokener_free(x.tok);
	db_free(snap);
	/* Everything the plugins allocated goes before their code may. */
	arena_free(item_arena);
	arena_free(keep);
	app_runtime_release(job->app, rt);
	return result;
}

int export_job_end(struct job_ctx *job, int done, const char *error)
{
	struct export_result *res = job->data;
	uint64_t affected = 0;
	int rc;

	if (done && res != NULL) {
		rc = db_exec(job->db, 0, &affected, NULL,
		    "UPDATE exports SET state = 'done', snapshot_seq = ?, snapshot_at = ?, items = ?, "
		    "removed = ?, annotations = ?, bytes = ?, datastore_id = ?, path = ?, error = NULL, "
		    "finished_at = NOW(6) WHERE id = ?",
		    "usuuuuisi", res->snapshot_seq, res->snapshot_at, res->items, res->removed,
		    res->annotations, res->bytes, res->datastore_id, res->path, res->export_id);
		/* The job's progress shows the whole. */
		if (rc == DB_OK)
			rc = db_exec(job->db, 0, NULL, NULL,
			    "UPDATE jobs SET progress = COALESCE(total, progress) WHERE id = ?", "i",
			    job->job_id);
		if (rc == DB_OK && affected == 0) {
			/* Deleted while it was written: its file goes too. */
			char derr[256];
			if (export_file_delete(res->ds, res->path, derr, sizeof(derr)) < 0)
				log_warn("job %lld: the file of deleted export %lld stays: %s", job->job_id,
				    res->export_id, derr);
		}
		return rc;
	}
	return db_exec(job->db, 0, NULL, NULL,
	    "UPDATE exports SET state = 'failed', error = ?, finished_at = NOW(6) "
	    "WHERE job_id = ? AND state <> 'done'",
	    "si", error ? error : "The export failed.", job->job_id);
}
