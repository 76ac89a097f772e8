/*
 * project_init.c: the "init" job.
 *
 * 1. source_load: the project's dataset and datastore.
 * 2. dataset_list: the dataset's files (one folder, or all subfolders) into a
 *    pathsort (bounded memory: a large listing is sorted through a temporary
 *    file), failing when there are more than max_dataset_files.
 * 3. batch_check, for each batch of PROJECT_INIT_BATCH files in path order:
 *    their leading bytes (datastore_heads_read), then for each file a check
 *    that they are an image of the kind its name says, its width and height,
 *    and the pixel limit.
 * 4. batch_write: the batch's accepted files as items, in one transaction
 *    with the refusals, the counters and the job's progress and heartbeat.
 *    INSERT IGNORE on (project, path) makes a re-run after a crash add only
 *    what is missing.
 * 5. init_conclude: done when the project has items, failed when none was
 *    usable; jobs.c then ends the job and sets the project Running or
 *    Failed in one transaction.
 *
 * What differs between a local directory and a blob container is behind
 * datastore.h.
 *
 * The job writes a heartbeat (job_tick) while it lists and between header
 * reads, and every write checks that the job is still this runner's: a
 * runner that finds its job taken over stops without writing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "datastore.h"
#include "db.h"
#include "image.h"
#include "jobs.h"
#include "log.h"
#include "pathsort.h"
#include "project_init.h"

#define HEAD_MAX IMAGE_HEADER_CAP

int project_init_check(const char *path, const struct image_reader *rd,
    unsigned char *buf, size_t cap, size_t *len, int whole,
    unsigned long long max_pixels, struct image_info *info,
    const char **reason, char *err, size_t errlen)
{
	enum image_format named = image_format_from_name(path);
	enum image_status st;

	*reason = NULL;
	if (named == IMAGE_UNKNOWN) {
		*reason = "the file name does not end in .png, .jpg, .jpeg, .gif, .bmp or .webp";
		return -1;
	}
	st = image_read_header(rd, buf, cap, len, whole, info, err, errlen);
	if (st == IMAGE_READ_ERROR) {
		*reason = err;
		return -1;
	}
	if (st != IMAGE_OK) {
		*reason = image_status_text(st);
		return -1;
	}
	if (info->format != named) {
		*reason = "the file's bytes are a different image format than its name says";
		return -1;
	}
	if ((unsigned long long)info->width * info->height > max_pixels) {
		*reason = "the image has more pixels than max_image_pixels allows";
		return -1;
	}
	return 0;
}

/* Memory for the paths while listing; more goes through a temporary file. */
#define LISTING_MEMORY (8u << 20)

/* The walk's state: every path goes into the sorter, up to the cap; tick
 * writes the job's heartbeat with the count so far. */
struct listing {
	struct job_ctx *job;
	struct pathsort *sort;
	unsigned long long max;          /* max_dataset_files */
	int over;                        /* more files than max */
	int stop;                        /* the job must stop */
	char err[256];                   /* why pathsort_add failed, or "" */
};

static int listing_add(void *ctx, const char *path, uint64_t size)
{
	struct listing *l = ctx;

	(void)size;
	if (pathsort_added(l->sort) >= l->max) {
		l->over = 1;
		return 1;
	}
	return pathsort_add(l->sort, path, l->err, sizeof(l->err)) < 0;
}

static int listing_tick(void *ctx)
{
	struct listing *l = ctx;

	if (job_tick(l->job, (long long)pathsort_added(l->sort)) < 0) {
		l->stop = 1;
		return 1;
	}
	return 0;
}

/* One batch in memory before it is written. */
struct batch {
	struct db_arg args[PROJECT_INIT_BATCH * 5];
	size_t nitems;
	const char *rpath[PROJECT_INIT_BATCH];
	const char *rreason[PROJECT_INIT_BATCH];
	size_t nrefused;
};

/* "INSERT IGNORE ... VALUES (?,?,?,?,?), ..." for n rows. */
static char *insert_sql_build(size_t n)
{
	static const char head[] = "INSERT IGNORE INTO items (project_id, path, width, height, format) VALUES ";
	static const char row[] = ",(?,?,?,?,?)";
	size_t len = sizeof(head) - 1 + n * (sizeof(row) - 1);
	char *sql = malloc(len + 1), *p;

	if (sql == NULL)
		return NULL;
	memcpy(sql, head, sizeof(head) - 1);
	p = sql + sizeof(head) - 1;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, i ? row : row + 1, i ? sizeof(row) - 1 : sizeof(row) - 2);
		p += i ? sizeof(row) - 1 : sizeof(row) - 2;
	}
	*p = '\0';
	return sql;
}

static char *full_batch_sql;
static pthread_once_t full_batch_once = PTHREAD_ONCE_INIT;

static void full_batch_build(void)
{
	full_batch_sql = insert_sql_build(PROJECT_INIT_BATCH);
}

/* The statement for n rows: the full-batch text is built once and kept for
 * the life of the process, so the statement cache reuses it; the last, short
 * batch gets its own (arena-owned) text. */
static const char *insert_sql(struct arena *a, size_t n)
{
	char *sql, *copy;

	if (n == PROJECT_INIT_BATCH) {
		pthread_once(&full_batch_once, full_batch_build);
		return full_batch_sql;
	}
	sql = insert_sql_build(n);
	if (sql == NULL)
		return NULL;
	copy = arena_strdup(a, sql);
	free(sql);
	return copy;
}

/* Write one batch in one transaction.  0, PROJECT_INIT_INTERRUPTED when the
 * job is no longer ours, or -1 on a database error. */
static int batch_write(struct job_ctx *job, struct batch *bt, unsigned long long progress,
    unsigned long long total, unsigned long long *refused_total)
{
	struct db *db = job->db;
	uint64_t inserted = 0;
	int rc;

	rc = db_begin(db);
	if (rc != DB_OK)
		return -1;
	if (bt->nitems > 0) {
		const char *sql = insert_sql(job->arena, bt->nitems);
		if (sql == NULL)
			goto fail;
		rc = db_exec_args(db, 0, &inserted, NULL, sql, bt->args, bt->nitems * 5);
		if (rc != DB_OK)
			goto fail;
		if (inserted > 0) {
			rc = db_exec(db, 0, NULL, NULL,
			    "UPDATE project_counters SET items_total = items_total + ? WHERE project_id = ?",
			    "ui", (unsigned long long)inserted, job->project_id);
			if (rc != DB_OK)
				goto fail;
		}
	}
	for (size_t i = 0; i < bt->nrefused; i++) {
		if (*refused_total + i >= PROJECT_INIT_MAX_REFUSALS)
			break;
		rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO job_refusals (job_id, path, reason) VALUES (?, ?, ?)",
		    "iss", job->job_id, bt->rpath[i], bt->rreason[i]);
		if (rc != DB_OK)
			goto fail;
	}
	rc = job_record(job, progress, *refused_total + bt->nrefused, (long long)total);
	if (rc < 0)
		goto fail;
	if (rc > 0) {
		db_rollback(db);
		return PROJECT_INIT_INTERRUPTED;
	}
	if (db_commit(db) != DB_OK)
		return -1;
	*refused_total += bt->nrefused;
	bt->nitems = 0;
	bt->nrefused = 0;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

struct project_source {
	struct datastore ds;
	const char *path;
	int recursive;
};

/* A re-run starts clean: its refusals are recounted.  One transaction,
 * while the job is ours.  0, or -1 (taken over, or a database error). */
static int job_restart(struct job_ctx *job)
{
	int rc;

	if (db_begin(job->db) != DB_OK)
		return -1;
	rc = job_record(job, 0, 0, -1);
	if (rc != 0 || db_exec(job->db, 0, NULL, NULL,
	    "DELETE FROM job_refusals WHERE job_id = ?", "i", job->job_id) != DB_OK ||
	    db_commit(job->db) != DB_OK) {
		db_rollback(job->db);
		return -1;
	}
	return 0;
}

/* Step 1: the project's dataset and datastore into src (strings in a), and
 * the job's earlier progress cleared.  PROJECT_INIT_DONE, or the job's
 * result with err. */
static int source_load(struct job_ctx *job, struct arena *a, struct project_source *src,
    char *err, size_t errlen)
{
	struct db_result *res;
	int rc;

	rc = db_query(job->db, a, &res,
	    "SELECT d.path, d.is_recursive, s.id, s.name, s.kind, s.local_path, s.blob_endpoint, "
	    "s.blob_account, s.blob_container, s.blob_sas, s.blob_key "
	    "FROM projects p JOIN datasets d ON d.id = p.dataset_id "
	    "JOIN datastores s ON s.id = d.datastore_id WHERE p.id = ?",
	    "i", job->project_id);
	if (rc != DB_OK)
		return PROJECT_INIT_INTERRUPTED;
	if (res->nrows == 0) {
		snprintf(err, errlen, "the project no longer exists");
		return PROJECT_INIT_FAILED;
	}
	memset(src, 0, sizeof(*src));
	src->path = db_value(res, 0, 0);
	src->recursive = db_int(res, 0, 1) != 0;
	src->ds.id = db_int(res, 0, 2);
	src->ds.name = db_value(res, 0, 3);
	src->ds.kind = datastore_kind_from_name(db_value(res, 0, 4));
	src->ds.local_path = db_value(res, 0, 5);
	src->ds.blob.endpoint = db_value(res, 0, 6);
	src->ds.blob.account = db_value(res, 0, 7);
	src->ds.blob.container = db_value(res, 0, 8);
	src->ds.blob.sas = db_value(res, 0, 9);
	src->ds.blob.key = db_value(res, 0, 10);
	return job_restart(job) < 0 ? PROJECT_INIT_INTERRUPTED : PROJECT_INIT_DONE;
}

/* After the listing: the job's total (progress back to 0) and the
 * dataset's file count, in one transaction while the job is ours.  0, or
 * -1 (taken over, or a database error). */
static int listing_record(struct job_ctx *job, unsigned long long files)
{
	if (db_begin(job->db) != DB_OK)
		return -1;
	if (job_record(job, 0, 0, (long long)files) != 0 ||
	    db_exec(job->db, 0, NULL, NULL,
	    "UPDATE datasets d JOIN projects p ON p.dataset_id = d.id SET d.file_count = ? "
	    "WHERE p.id = ? AND d.file_count IS NULL",
	    "ui", files, job->project_id) != DB_OK ||
	    db_commit(job->db) != DB_OK) {
		db_rollback(job->db);
		return -1;
	}
	return 0;
}

/* Step 2: the dataset's paths, sorted, into sort, and their count recorded
 * as the job's total.  PROJECT_INIT_DONE when listed, else the job's result
 * with err. */
static int dataset_list(struct job_ctx *job, const struct project_source *src,
    struct pathsort *sort, char *err, size_t errlen)
{
	struct listing l = { job, sort, job->app->cfg.max_dataset_files, 0, 0, "" };
	int rc;

	rc = datastore_walk_ticking(&src->ds, src->path, src->recursive, listing_add, listing_tick,
	    &l, err, errlen);
	if (l.stop)
		return PROJECT_INIT_INTERRUPTED;
	if (rc == DATASTORE_UNREACHABLE) {
		log_warn("job %lld: listing datastore %s: %s", job->job_id, src->ds.name, err);
		snprintf(err, errlen, "%s", BLOB_FAILED_SENTENCE);
		return PROJECT_INIT_RETRY;
	}
	if (rc < 0)
		return PROJECT_INIT_FAILED;   /* a local folder that cannot be listed stays broken */
	if (l.over) {
		snprintf(err, errlen, "the dataset has more than %llu files, the most max_dataset_files "
		    "allows; choose a smaller folder (or raise the setting)", l.max);
		return PROJECT_INIT_FAILED;
	}
	if (l.err[0] != '\0' || pathsort_finish(sort, l.err, sizeof(l.err)) < 0) {
		/* The temporary file: a full disk may have room later. */
		snprintf(err, errlen, "listing the dataset: %s", l.err);
		log_error("job %lld: %s", job->job_id, err);
		return PROJECT_INIT_RETRY;
	}
	if (listing_record(job, pathsort_added(sort)) < 0)
		return PROJECT_INIT_INTERRUPTED;
	log_info("job %lld: %llu files in %s:%s%s (%zu sorted runs on disk)", job->job_id,
	    pathsort_added(sort), src->ds.name, src->path, src->recursive ? "/**" : "",
	    pathsort_runs(sort));
	return PROJECT_INIT_DONE;
}

/* The next up to PROJECT_INIT_BATCH paths in order, copied into the job's
 * arena: *n of them (0 at the end).  0, or -1 with err. */
static int batch_paths(struct job_ctx *job, struct pathsort *sort, char **paths, size_t *n,
    char *err, size_t errlen)
{
	const char *p;
	int rc = 1;

	*n = 0;
	while (*n < PROJECT_INIT_BATCH && (rc = pathsort_next(sort, &p, err, errlen)) == 1) {
		paths[*n] = arena_strdup(job->arena, p);
		if (paths[*n] == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		(*n)++;
	}
	return rc < 0 ? -1 : 0;
}

static int heads_tick(void *ctx)
{
	return job_tick(ctx, -1) < 0;
}

/* File path, whose leading bytes are data[0..got) (whole: all of it), into
 * the batch as an item or a refusal.  head is HEAD_MAX bytes of room. */
static void file_check(struct job_ctx *job, const struct datastore *ds, struct batch *bt,
    const char *path, const unsigned char *data, size_t got, int whole, unsigned char *head)
{
	const char *reason = NULL;
	struct image_info info = { 0 };
	struct datastore_reader rd;
	char rerr[256] = "";

	/* The bytes read ahead, and as many more as the header asks for (a
	 * JPEG keeps its size after its metadata segments). */
	memcpy(head, data, got);
	datastore_reader_init(&rd, ds, path);
	if (project_init_check(path, &rd.rd, head, HEAD_MAX, &got, whole,
	    job->app->cfg.max_image_pixels, &info, &reason, rerr, sizeof(rerr)) < 0 && reason == rerr)
		reason = arena_strdup(job->arena, rerr);
	datastore_reader_close(&rd);
	if (reason != NULL) {
		bt->rpath[bt->nrefused] = path;
		bt->rreason[bt->nrefused] = reason;
		bt->nrefused++;
		return;
	}
	struct db_arg *a = &bt->args[bt->nitems * 5];
	a[0] = (struct db_arg){ .type = 'i', .i = job->project_id };
	a[1] = (struct db_arg){ .type = 's', .ptr = path };
	a[2] = (struct db_arg){ .type = 'u', .u = info.width };
	a[3] = (struct db_arg){ .type = 'u', .u = info.height };
	a[4] = (struct db_arg){ .type = 's', .ptr = image_format_name(info.format) };
	bt->nitems++;
}

/* Step 3: read the leading bytes of paths[0..n) and decide about each file
 * into bt.  *heads holds the bytes bt points into until the caller frees it
 * after the batch is written.  PROJECT_INIT_DONE, or the job's result with
 * err. */
static int batch_check(struct job_ctx *job, const struct datastore *ds, char *const *paths,
    size_t n, struct batch *bt, struct datastore_heads **heads, unsigned char *head,
    char *err, size_t errlen)
{
	int rc;

	rc = datastore_heads_read(ds, (const char *const *)paths, n, heads_tick, job, heads,
	    err, errlen);
	if (rc == DATASTORE_UNREACHABLE) {
		log_warn("job %lld: reading headers from datastore %s: %s", job->job_id, ds->name, err);
		snprintf(err, errlen, "%s", BLOB_FAILED_SENTENCE);
		return PROJECT_INIT_RETRY;
	}
	if (rc < 0)
		return PROJECT_INIT_FAILED;
	if (rc > 0 || job->lost || *job->stopping)
		return PROJECT_INIT_INTERRUPTED;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *data;
		const char *reason, *detail;
		size_t got;
		int whole;
		char rerr[256];
		if (job_tick(job, -1) < 0)
			return PROJECT_INIT_INTERRUPTED;
		/* Blob names as well as local paths follow the path rules: a name
		 * with "..", "//" or a control character would be an item that
		 * can never be shown. */
		if (datastore_path_check(paths[i], rerr, sizeof(rerr)) < 0) {
			reason = arena_strdup(job->arena, rerr);
		} else if (datastore_heads_get(*heads, i, &data, &got, &whole, &reason, &detail) == 0) {
			file_check(job, ds, bt, paths[i], data, got, whole, head);
			continue;
		} else if (detail != NULL) {
			/* The service's own words go to the log only. */
			log_info("job %lld: reading %s: %s", job->job_id, paths[i], detail);
		}
		bt->rpath[bt->nrefused] = paths[i];
		bt->rreason[bt->nrefused] = reason ? reason : "refused";
		bt->nrefused++;
	}
	return PROJECT_INIT_DONE;
}

/* Step 5: done when the project has items, failed when none was usable
 * (jobs.c then ends the job and sets the project Running or Failed in one
 * transaction). */
static int init_conclude(struct job_ctx *job, unsigned long long files,
    unsigned long long refused, char *err, size_t errlen)
{
	struct db_result *res;

	if (db_query(job->db, job->arena, &res,
	    "SELECT items_total FROM project_counters WHERE project_id = ?", "i", job->project_id) != DB_OK)
		return PROJECT_INIT_INTERRUPTED;
	if (res->nrows == 0 || db_int(res, 0, 0) == 0) {
		snprintf(err, errlen, files == 0 ? "the dataset holds no files" :
		    "none of the dataset's %llu files is a usable image", files);
		return PROJECT_INIT_FAILED;
	}
	log_info("job %lld: project %lld initialised: %lld items, %llu refused", job->job_id,
	    job->project_id, db_int(res, 0, 0), refused);
	return PROJECT_INIT_DONE;
}

int project_init_run(struct job_ctx *job, char *err, size_t errlen)
{
	struct project_source src;
	/* The source's strings outlive the per-batch arena resets. */
	struct arena *keep = arena_new();
	struct pathsort *sort = pathsort_new(job->app->cfg.tmp_dir, LISTING_MEMORY);
	struct batch *bt = calloc(1, sizeof(*bt));
	unsigned char *head = malloc(HEAD_MAX);
	char **paths = calloc(PROJECT_INIT_BATCH, sizeof(*paths));
	unsigned long long refused = 0, files = 0, done = 0;
	int result;

	if (keep == NULL || sort == NULL || bt == NULL || head == NULL || paths == NULL) {
		snprintf(err, errlen, "out of memory");
		result = PROJECT_INIT_INTERRUPTED;
		goto out;
	}
	result = source_load(job, keep, &src, err, errlen);
	if (result == PROJECT_INIT_DONE)
		result = dataset_list(job, &src, sort, err, errlen);
	files = pathsort_added(sort);
	/* Steps 3 and 4 batch by batch; items are labeled in path order. */
	while (result == PROJECT_INIT_DONE) {
		struct datastore_heads *heads = NULL;
		size_t n;
		if (batch_paths(job, sort, paths, &n, err, errlen) < 0) {
			result = PROJECT_INIT_RETRY;
			break;
		}
		if (n == 0)
			break;
		result = batch_check(job, &src.ds, paths, n, bt, &heads, head, err, errlen);
		done += n;
		/* Step 4. */
		if (result == PROJECT_INIT_DONE &&
		    batch_write(job, bt, done + pathsort_dropped(sort), files, &refused) != 0)
			result = PROJECT_INIT_INTERRUPTED;
		datastore_heads_free(heads);
		arena_reset(job->arena);
		if (result == PROJECT_INIT_DONE && *job->stopping)
			result = PROJECT_INIT_INTERRUPTED;
	}
	if (result == PROJECT_INIT_DONE)
		result = init_conclude(job, files, refused, err, errlen);
out:
	/* jobs.c ends the job and sets the project Running or Failed in one
	 * transaction; a retried job's project stays Initializing. */
	free(head);
	free(bt);
	free(paths);
	pathsort_free(sort);
	arena_free(keep);
	return result;
}

int project_init_end(struct job_ctx *job, int done)
{
	return db_exec(job->db, 0, NULL, NULL,
	    "UPDATE projects SET state = ? WHERE id = ? AND state = 'initializing'",
	    "si", done ? "running" : "failed", job->project_id);
}
