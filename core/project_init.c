/*
 * project_init.c: the "init" job.
 *
 * 1. Load the project's dataset and datastore.
 * 2. Enumerate the dataset's files (one folder, or all subfolders) into a
 *    pathsort (bounded memory: a large listing is sorted through a temporary
 *    file), failing when there are more than max_dataset_files.
 * 3. For each file, in path order: read its leading bytes, check that they
 *    are an image of the kind its name says, read width and height, check
 *    the pixel limit.
 * 4. Insert the accepted files as items, PROJECT_INIT_BATCH per transaction,
 *    with the refusals, the counters and the job's progress and heartbeat in
 *    the same transaction.  INSERT IGNORE on (project, path) makes a re-run
 *    after a crash add only what is missing.
 * 5. jobs.c ends the job and sets the project Running (or Failed when no
 *    image was accepted) in one transaction.
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

#define HEAD_LOCAL 4096
#define HEAD_BLOB 65536
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

static int load_source(struct job_ctx *job, struct arena *a, struct project_source *src,
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
		return -1;
	if (res->nrows == 0) {
		snprintf(err, errlen, "the project no longer exists");
		return 1;
	}
	memset(src, 0, sizeof(*src));
	src->path = db_value(res, 0, 0);
	src->recursive = db_int(res, 0, 1) != 0;
	src->ds.id = db_int(res, 0, 2);
	src->ds.name = db_value(res, 0, 3);
	src->ds.kind = strcmp(db_value(res, 0, 4), "azureblob") == 0 ? DATASTORE_AZUREBLOB : DATASTORE_LOCAL;
	src->ds.local_path = db_value(res, 0, 5);
	src->ds.blob.endpoint = db_value(res, 0, 6);
	src->ds.blob.account = db_value(res, 0, 7);
	src->ds.blob.container = db_value(res, 0, 8);
	src->ds.blob.sas = db_value(res, 0, 9);
	src->ds.blob.key = db_value(res, 0, 10);
	return 0;
}

/* Leading bytes of every file of a blob batch, fetched in parallel; the
 * job's heartbeat goes on between the fetches. */
struct blob_heads {
	unsigned char **data;
	size_t *len;
	const char **error;
	struct job_ctx *job;
};

static void blob_head_cb(void *ctx, size_t index, const unsigned char *data, size_t len,
    const char *error)
{
	struct blob_heads *h = ctx;

	if (data != NULL) {
		h->data[index] = malloc(len ? len : 1);
		if (h->data[index] != NULL) {
			memcpy(h->data[index], data, len);
			h->len[index] = len;
		}
	} else {
		h->error[index] = error ? strdup(error) : NULL;
	}
	/* A batch that must stop still runs to its end (the fetches cannot
	 * be cut short here); the caller then finds job->lost or stopping. */
	job_tick(h->job, -1);
}

/* Leading bytes of every file of a local batch, read by a few threads at
 * once: with files that are not in the page cache the reads overlap, which
 * is most of the time such a batch takes. */
#define LOCAL_READERS 4

struct local_heads {
	struct job_ctx *job;             /* its heartbeat, from the calling thread */
	pthread_t caller;
	int stop;                        /* the job must stop (atomic) */
	const struct datastore *ds;
	char *const *paths;              /* the batch's paths */
	size_t n;
	unsigned char *buf;              /* n * HEAD_LOCAL bytes */
	size_t *len;
	char (*err)[160];                /* "" when read */
	size_t next;                     /* the next index to read (atomic) */
};

static void *local_heads_worker(void *p)
{
	struct local_heads *h = p;
	size_t i;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED) &&
	    (i = __atomic_fetch_add(&h->next, 1, __ATOMIC_RELAXED)) < h->n) {
		if (datastore_read_head(h->ds, h->paths[i], h->buf + i * HEAD_LOCAL, HEAD_LOCAL,
		    &h->len[i], h->err[i], sizeof(h->err[i])) < 0 && h->err[i][0] == '\0')
			snprintf(h->err[i], sizeof(h->err[i]), "the file could not be read");
		/* The job's database connection is the calling thread's. */
		if (pthread_equal(pthread_self(), h->caller) && job_tick(h->job, -1) < 0)
			__atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Read the heads of paths[0..n): 0, or -1 when out of memory (h is then
 * empty).  Falls back to reading in this thread when threads cannot start.
 * h->stop is set when the job must stop (some heads are then not read). */
static int local_heads_read(struct local_heads *h, struct job_ctx *job,
    const struct datastore *ds, char *const *paths, size_t n)
{
	pthread_t t[LOCAL_READERS];
	int started = 0;

	memset(h, 0, sizeof(*h));
	h->job = job;
	h->caller = pthread_self();
	h->ds = ds;
	h->paths = paths;
	h->n = n;
	h->buf = malloc(n * HEAD_LOCAL);
	h->len = calloc(n, sizeof(*h->len));
	h->err = calloc(n, sizeof(*h->err));
	if (h->buf == NULL || h->len == NULL || h->err == NULL) {
		free(h->buf);
		free(h->len);
		free(h->err);
		memset(h, 0, sizeof(*h));
		return -1;
	}
	for (int k = 0; k < LOCAL_READERS - 1; k++)
		if (pthread_create(&t[k], NULL, local_heads_worker, h) == 0)
			started++;
	local_heads_worker(h);
	for (int k = 0; k < started; k++)
		pthread_join(t[k], NULL);
	return 0;
}

static void local_heads_free(struct local_heads *h)
{
	free(h->buf);
	free(h->len);
	free(h->err);
	memset(h, 0, sizeof(*h));
}

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

/* The dataset's paths, sorted, into sort.  PROJECT_INIT_DONE when listed,
 * else the job's result with err. */
static int dataset_list(struct job_ctx *job, const struct project_source *src,
    struct pathsort *sort, char *err, size_t errlen)
{
	struct listing l = { job, sort, job->app->cfg.max_dataset_files, 0, 0, "" };
	int rc;

	rc = datastore_walk_ticking(&src->ds, src->path, src->recursive, listing_add, listing_tick,
	    &l, err, errlen);
	if (l.stop)
		return PROJECT_INIT_INTERRUPTED;
	if (rc < 0 && src->ds.kind == DATASTORE_AZUREBLOB) {
		/* A blob service may be down for a while: try again later.
		 * What it or curl said goes to the log only (blob.h). */
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

int project_init_run(struct job_ctx *job, char *err, size_t errlen)
{
	const struct config *cfg = &job->app->cfg;
	struct project_source src;
	struct pathsort *sort = NULL;
	/* The source's strings outlive the per-batch arena resets. */
	struct arena *keep = arena_new();
	struct batch *bt = NULL;
	char **paths = NULL;
	unsigned long long refused = 0, files, done = 0;
	unsigned char *head = NULL;
	int rc, result = PROJECT_INIT_FAILED;

	if (keep == NULL) {
		snprintf(err, errlen, "out of memory");
		return PROJECT_INIT_INTERRUPTED;
	}
	rc = load_source(job, keep, &src, err, errlen);
	if (rc != 0) {
		arena_free(keep);
		return rc < 0 ? PROJECT_INIT_INTERRUPTED : PROJECT_INIT_FAILED;
	}
	if (job_restart(job) < 0) {
		arena_free(keep);
		return PROJECT_INIT_INTERRUPTED;
	}

	sort = pathsort_new(cfg->tmp_dir, LISTING_MEMORY);
	if (sort == NULL) {
		snprintf(err, errlen, "out of memory");
		result = PROJECT_INIT_INTERRUPTED;
		goto out;
	}
	result = dataset_list(job, &src, sort, err, errlen);
	if (result != PROJECT_INIT_DONE)
		goto out;
	/* Stable order: items are labeled in path order (the sorter's). */
	files = pathsort_added(sort);
	if (listing_record(job, files) < 0) {
		result = PROJECT_INIT_INTERRUPTED;
		goto out;
	}
	log_info("job %lld: %llu files in %s:%s%s (%zu sorted runs on disk)", job->job_id, files,
	    src.ds.name, src.path, src.recursive ? "/**" : "", pathsort_runs(sort));

	result = PROJECT_INIT_FAILED;
	bt = calloc(1, sizeof(*bt));
	head = malloc(HEAD_MAX);
	paths = calloc(PROJECT_INIT_BATCH, sizeof(*paths));
	if (bt == NULL || head == NULL || paths == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		size_t start = 0, end;   /* this batch is paths[start..end) */
		struct blob_heads bh = { 0 };
		struct local_heads lh = { 0 };
		int stop = 0;
		if (batch_paths(job, sort, paths, &end, err, errlen) < 0) {
			result = PROJECT_INIT_RETRY;
			goto out;
		}
		if (end == 0)
			break;
		if (src.ds.kind == DATASTORE_LOCAL &&
		    local_heads_read(&lh, job, &src.ds, paths + start, end - start) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (src.ds.kind == DATASTORE_AZUREBLOB) {
			size_t n = end - start;
			bh.data = calloc(n, sizeof(*bh.data));
			bh.len = calloc(n, sizeof(*bh.len));
			bh.error = calloc(n, sizeof(*bh.error));
			bh.job = job;
			struct blob_limits lim;
			blob_limits_default(&lim);
			if (bh.data == NULL || bh.len == NULL || bh.error == NULL ||
			    blob_get_heads(&src.ds.blob, &lim, (const char *const *)paths + start, n,
			    HEAD_BLOB, 16, blob_head_cb, &bh, err, errlen) < 0) {
				if (err[0] == '\0') {
					snprintf(err, errlen, "out of memory");
				} else {
					log_warn("job %lld: reading headers from datastore %s: %s",
					    job->job_id, src.ds.name, err);
					snprintf(err, errlen, "%s", BLOB_FAILED_SENTENCE);
					result = PROJECT_INIT_RETRY;
				}
				free(bh.data);
				free(bh.len);
				free(bh.error);
				goto out;
			}
		}
		stop = lh.stop || job->lost || *job->stopping;
		for (size_t i = start; i < end && !stop; i++) {
			const char *path = paths[i], *reason = NULL;
			struct image_info info = { 0 };
			size_t got = 0, asked = HEAD_LOCAL;
			char rerr[256] = "";
			const unsigned char *data = NULL;
			if (job_tick(job, -1) < 0) {
				stop = 1;
				break;
			}
			/* Blob names as well as local paths follow the path rules:
			 * a name with "..", "//" or a control character would be an
			 * item that can never be shown. */
			if (datastore_path_check(path, rerr, sizeof(rerr)) < 0) {
				reason = arena_strdup(job->arena, rerr);
			} else if (src.ds.kind == DATASTORE_AZUREBLOB) {
				data = bh.data[i - start];
				got = bh.len[i - start];
				asked = HEAD_BLOB;
				if (data == NULL) {
					/* The service's own words go to the log only. */
					log_info("job %lld: blob %s: %s", job->job_id, path,
					    bh.error[i - start] ? bh.error[i - start] : "no answer");
					reason = "the blob could not be read (see the server log)";
				}
			} else if (lh.err[i - start][0] != '\0') {
				reason = arena_strdup(job->arena, lh.err[i - start]);
			} else {
				data = lh.buf + (i - start) * HEAD_LOCAL;
				got = lh.len[i - start];
			}
			/* The bytes read ahead, and as many more as the header asks
			 * for (a JPEG keeps its size after its metadata segments);
			 * fewer bytes than were asked for are the whole file. */
			if (reason == NULL) {
				struct datastore_reader rd;
				memcpy(head, data, got);
				datastore_reader_init(&rd, &src.ds, path);
				if (project_init_check(path, &rd.rd, head, HEAD_MAX, &got, got < asked,
				    cfg->max_image_pixels, &info, &reason, rerr, sizeof(rerr)) < 0 &&
				    reason == rerr)
					reason = arena_strdup(job->arena, rerr);
				datastore_reader_close(&rd);
			}
			if (reason != NULL) {
				bt->rpath[bt->nrefused] = path;
				bt->rreason[bt->nrefused] = reason ? reason : "refused";
				bt->nrefused++;
				continue;
			}
			struct db_arg *a = &bt->args[bt->nitems * 5];
			a[0] = (struct db_arg){ .type = 'i', .i = job->project_id };
			a[1] = (struct db_arg){ .type = 's', .ptr = path };
			a[2] = (struct db_arg){ .type = 'u', .u = info.width };
			a[3] = (struct db_arg){ .type = 'u', .u = info.height };
			a[4] = (struct db_arg){ .type = 's', .ptr = image_format_name(info.format) };
			bt->nitems++;
		}
		done += end;
		rc = stop ? PROJECT_INIT_INTERRUPTED :
		    batch_write(job, bt, done + pathsort_dropped(sort), files, &refused);
		local_heads_free(&lh);
		if (bh.data != NULL) {
			for (size_t i = 0; i < end - start; i++) {
				free(bh.data[i]);
				free((void *)bh.error[i]);
			}
			free(bh.data);
			free(bh.len);
			free(bh.error);
		}
		arena_reset(job->arena);
		if (rc != 0 || *job->stopping) {
			result = PROJECT_INIT_INTERRUPTED;
			goto out;
		}
	}

	struct db_result *res;
	if (db_query(job->db, job->arena, &res,
	    "SELECT items_total FROM project_counters WHERE project_id = ?", "i", job->project_id) != DB_OK) {
		result = PROJECT_INIT_INTERRUPTED;
		goto out;
	}
	if (res->nrows == 0 || db_int(res, 0, 0) == 0) {
		snprintf(err, errlen, files == 0 ? "the dataset holds no files" :
		    "none of the dataset's %llu files is a usable image", files);
		goto out;
	}
	log_info("job %lld: project %lld initialised: %lld items, %llu refused", job->job_id,
	    job->project_id, db_int(res, 0, 0), refused);
	result = PROJECT_INIT_DONE;
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
