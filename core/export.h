/*
 * export.h: exports of a project's labels (docs/export.md).
 *
 * An export is a row of the exports table (sql/013_exports.sql) and an
 * "export" job.  The job (export_job.c) opens one REPEATABLE READ snapshot
 * of the project, streams its exported items from MariaDB in item id order,
 * describes each current annotation through the project's task plugin and
 * hands it to the export plugin, which writes through a sink into the
 * default datastore under exports/<format>/ (export_store.c): a local file
 * written under a temporary name and renamed when complete, or an Azure
 * Blob block blob whose block list is committed when complete.  Nothing is
 * ever listed as finished before its file is whole.
 *
 * The model (exports_model.c) creates, lists, reads and deletes exports;
 * the handlers (handlers/exports.c) serve the Export form, the project's
 * Exports list, downloads and the labeled datasets.
 */
#ifndef LABELD_EXPORT_H
#define LABELD_EXPORT_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct arena;
struct datastore;
struct db;
struct job_ctx;

/* The job kind in the jobs table. */
#define EXPORT_JOB_KIND "export"

/* Where the files of a format go in the default datastore:
 * exports/<format>/<project id>-<export id>.<extension>. */
#define EXPORT_DIR "exports"

/* What a person asks for in the Export form. */
struct export_request {
	long long project_id;
	long long user_id;            /* who asked (exports.created_by) */
	const char *format;           /* an export plugin's name */
	int delta;                    /* only what changed since the last export of this format */
	const char *azureml_prefix;   /* "" or NULL: none; else azureml://.../paths/ */
	int approved_only;            /* only approved items (docs/export.md) */
};

/* Results of export_create besides DB_* codes (all > 0, distinct from them). */
enum {
	EXPORT_BAD_FORMAT = 100,      /* no loaded export plugin of that name */
	EXPORT_BAD_PREFIX = 101,      /* azureml_prefix is not an Azure ML datastore URI */
	EXPORT_NO_PROJECT = 102,      /* no such project (or not one that can be exported) */
	EXPORT_NO_DATASTORE = 103,    /* no default datastore to write to */
	EXPORT_NOT_FOUND = 104        /* export_get, export_delete: no such export there */
};

/*
 * Queue an export: its row and its job in one transaction, then wake the job
 * thread.  A delta export is taken since the last finished export of its
 * format that is approved-only as it is (or not as it is); with none, it
 * is a full export (delta 0; the list says so).  Returns DB_OK with
 * *export_id, an EXPORT_* refusal with a sentence for the person in *why
 * (static, or this thread's until its next call), or a DB_* error.
 */
int export_create(struct app *app, struct db *db, struct arena *a,
    const struct export_request *rq, long long *export_id, const char **why);

/* One export as the pages show it (strings in the arena). */
struct export_info {
	long long id;
	long long project_id;
	const char *format;
	const char *file_extension;
	const char *media_type;
	const char *state;            /* "queued", "running", "done", "failed" */
	int delta;
	long long since_export_id;    /* 0: none */
	const char *azureml_prefix;   /* NULL: none */
	long long items, removed, annotations, bytes;
	long long progress, total;    /* of the job while it runs */
	long long datastore_id;       /* 0 until done */
	const char *path;             /* in that datastore; NULL until done */
	const char *error;            /* NULL unless failed */
	const char *created_by;       /* the person's display name or email; NULL if removed */
	const char *created_at;       /* "YYYY-MM-DD HH:MM:SS" UTC */
	const char *finished_at;      /* NULL until done or failed */
	const char *project_name;
	int approved_only;            /* approved items only */
};

/* The exports of a project, newest first (at most limit).  DB_* status. */
int export_list(struct db *db, struct arena *a, long long project_id, size_t limit,
    struct export_info **v, size_t *n);

/* Every finished export of every project, newest first (the labeled
 * datasets).  DB_* status. */
int export_list_done(struct db *db, struct arena *a, size_t limit,
    struct export_info **v, size_t *n);

/* One export of a project: DB_OK, EXPORT_NOT_FOUND when there is no export of
 * that id in that project (another project's id is not found either), or
 * DB_*. */
int export_get(struct db *db, struct arena *a, long long project_id, long long export_id,
    struct export_info *e);

/* Delete an export: its file (if any) from its datastore, then its row (a
 * running export's job stops at its next heartbeat and removes its partial
 * file).  DB_OK, EXPORT_NOT_FOUND, or DB_* / -1 with err. */
int export_delete(struct app *app, struct db *db, struct arena *a, long long project_id,
    long long export_id, char *err, size_t errlen);

/* --- the file (export_store.c) --- */

/* Bytes buffered before they go to the datastore (a write of a local file,
 * a block of a blob). */
#define EXPORT_BUFFER (1u << 20)

/* The path of an export's file in its datastore:
 * "exports/<format>/<project id>-<export id>.<extension>" (arena). */
char *export_file_path(struct arena *a, const char *format, long long project_id,
    long long export_id, const char *extension);

/*
 * An export's file being written into datastore ds (the default one).
 * Local: a hidden temporary file ".<name>.<random>.part" in
 * <root>/exports/<format>/ (the folders are made 0755 where missing, never
 * through a symlink), written in EXPORT_BUFFER pieces, then fsync'd,
 * renamed to its final name and the folder fsync'd.  Azure Blob: one block
 * per EXPORT_BUFFER (Put Block), committed at the end (Put Block List);
 * the blob exists only once committed.  Opening first removes stale
 * temporary files of the same export (a run that was taken over).
 *
 * export_store_open: NULL with a sentence in err.  export_store_write: 0,
 * or -1 (the store keeps the sentence: export_store_error; later writes
 * fail at once).  export_store_commit: 0 when the file is whole under its
 * final name, or -1 with err (nothing under the final name).
 * export_store_abort: removes what was written (local: the temporary file;
 * blob: nothing is committed) and frees; after a commit it only frees.
 */
struct export_store;
struct export_store *export_store_open(const struct datastore *ds, const char *path,
    const char *media_type, char *err, size_t errlen);
int export_store_write(struct export_store *st, const void *data, size_t len);
int export_store_commit(struct export_store *st, char *err, size_t errlen);
void export_store_abort(struct export_store *st);
/* Bytes written so far; the last error sentence ("" when none). */
unsigned long long export_store_bytes(const struct export_store *st);
const char *export_store_error(const struct export_store *st);

/* Delete an export's file (path from export_file_path) from ds; a file
 * that is not there is not an error.  Local: also its stale temporary
 * files.  0, or -1 with a sentence in err (a blob service's own words go
 * to the log). */
int export_file_delete(const struct datastore *ds, const char *path, char *err, size_t errlen);


/* Check an Azure ML datastore URI prefix for the manifest's image_url:
 * azureml://subscriptions/<id>/resourcegroups/<group>/workspaces/<name>/
 * datastores/<name>/paths/ with more folders after it if wanted, ending in
 * '/'.  0, or -1 with a sentence for the person in err. */
int export_azureml_prefix_check(const char *prefix, char *err, size_t errlen);

/* --- the job (export_job.c) --- */

/* Run an export job; returns a PROJECT_INIT_* style code of jobs.c (done,
 * failed with err, interrupted, retry). */
int export_job_run(struct job_ctx *job, char *err, size_t errlen);

/* Inside jobs.c's transaction that ends the job: the export becomes done
 * (its counts and path were written by the run) or failed with error. */
int export_job_end(struct job_ctx *job, int done, const char *error);

#endif
