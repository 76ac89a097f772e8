/*
 * exports.c: a project's Exports tab (the Export form for admins, the list
 * with progress while an export runs), queueing and deleting exports,
 * downloads, and the labeled datasets (every finished export, with sample
 * code that reads it).  The rules are docs/export.md; the model is
 * exports_model.c.  Access is the route table's (routes.c).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "catalog.h"
#include "datastore.h"
#include "db.h"
#include "export.h"
#include "handlers.h"
#include "log.h"
#include "plugin.h"
#include "queue.h"
#include "request.h"
#include "response.h"
#include "send.h"
#include "session.h"

#define EXPORTS_SHOWN 200    /* rows of a project's Exports list */
#define LABELED_SHOWN 1000   /* rows of the labeled datasets */
#define SLUG_MAX 60          /* bytes of the project name in a file name */

/* Export files labeld sends itself (one in an Azure Blob datastore, or a
 * local file nginx cannot send: outside the built-in datastore): any size, an hour to arrive. */
static const struct send_kind export_kind = {
	.what = "export",
	.title = "Download unavailable",
	.busy = "labeld is sending as many files as it may at once; try the download again in a moment.",
	.retry_after = 5,
	.cache = "private, no-store",
	.max_bytes = 0,
	.blob_timeout_ms = 3600L * 1000,
};

/* ------------------------------------------------------------ helpers */

static void not_found(struct request *r, const char *what)
{
	page_error(r, 404, "Not found", what);
}

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The exports could not be read or changed");
}

/* n with its thousands apart: "1 234 567". */
static const char *count_text(struct arena *a, long long n)
{
	char digits[32], out[48];
	size_t len, o = 0;

	snprintf(digits, sizeof(digits), "%lld", n < 0 ? 0 : n);
	len = strlen(digits);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return arena_strdup(a, out);
}

/* A size for people: "812 bytes", "1.4 KB", "23 MB", "1.2 GB" (powers of
 * 1000, as file managers show them). */
static const char *size_text(struct arena *a, long long bytes)
{
	static const char *const units[] = { "KB", "MB", "GB", "TB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1000)
		return arena_printf(a, "%lld byte%s", bytes < 0 ? 0 : bytes, bytes == 1 ? "" : "s");
	v /= 1000;
	while (v >= 999.5 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	return arena_printf(a, v < 9.95 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* The project name as a file name part: lower-case ASCII letters and
 * digits, every other run of characters one '-', at most SLUG_MAX bytes;
 * "project" when nothing is left. */
static const char *name_slug(struct arena *a, const char *name)
{
	char out[SLUG_MAX + 1];
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p && o < SLUG_MAX; p++) {
		unsigned char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[o++] = (char)c;
		else if (o > 0 && out[o - 1] != '-')
			out[o++] = '-';
	}
	while (o > 0 && out[o - 1] == '-')
		o--;
	out[o] = '\0';
	return arena_strdup(a, o > 0 ? out : "project");
}

/* What a download is called: "<project slug>-export-<id>.<extension>". */
static const char *download_name(struct arena *a, const struct export_info *e)
{
	return arena_printf(a, "%s-export-%lld.%s", name_slug(a, e->project_name), e->id,
	    e->file_extension);
}

/* The loaded export plugin of a format, or NULL. */
static const struct plugin *format_plugin(struct request *r, const char *format)
{
	return plugin_find(r->rt->plugins, LABELD_EXPORT, format);
}

/* "COCO (coco)": the format's title, or its name when its plugin is not
 * loaded now. */
static const char *format_title(struct request *r, const char *format)
{
	const struct plugin *p = format_plugin(r, format);

	return p != NULL ? p->desc->title : format;
}

/* The id in path parameter name ("id", "eid"); 0 when bad. */
static long long path_id(struct request *r, const char *name)
{
	return catalog_parse_id(route_param(&r->params, name));
}

/* ------------------------------------------------------------ the tab */

/* What a refused Export form sent, to show again. */
struct typed {
	const char *format;
	int delta;
	int approved_only;
	const char *prefix;
	const char *message;
};

/* The Export form: the loaded export plugins as options (value: name,
 * text: title and description), the one typed selected. */
static struct json_object *form_view(struct request *r, const struct typed *t)
{
	struct json_object *f = json_object_new_object(), *list = json_object_new_array();
	const struct plugin_set *set = r->rt->plugins;

	for (size_t i = 0; i < set->n; i++) {
		const struct labeld_plugin *d = set->v[i].desc;
		if (d == NULL || d->kind != LABELD_EXPORT || d->export == NULL)
			continue;
		struct json_object *o = json_object_new_object();
		view_str(o, "name", d->name);
		view_str(o, "title", d->title);
		view_str(o, "description", d->export->description);
		view_bool(o, "selected", t != NULL && t->format != NULL && strcmp(t->format, d->name) == 0);
		json_object_array_add(list, o);
	}
	view_bool(f, "has_formats", json_object_array_length(list) > 0);
	json_object_object_add(f, "formats", list);
	view_bool(f, "delta", t != NULL && t->delta);
	view_bool(f, "approved_only", t != NULL && t->approved_only);
	view_str(f, "prefix", t != NULL ? t->prefix : "");
	view_str(f, "message", t != NULL ? t->message : NULL);
	return f;
}

/* One row of the list. */
static struct json_object *export_row(struct request *r, const struct export_info *e, int admin)
{
	struct json_object *o = json_object_new_object();
	int running = strcmp(e->state, "running") == 0, done = strcmp(e->state, "done") == 0;

	view_int(o, "id", e->id);
	view_int(o, "project_id", e->project_id);
	view_str(o, "format", e->format);
	view_str(o, "format_title", format_title(r, e->format));
	view_str(o, "state", e->state);
	view_str(o, "when", e->created_at);
	/* Who asked (an email address) and why an export failed are for
	 * admins only (docs/access.md); exports are made by admins. */
	view_str(o, "by", !admin ? "an admin" : e->created_by != NULL ? e->created_by :
	    "a deleted user");
	view_bool(o, "done", done);
	view_bool(o, "failed", strcmp(e->state, "failed") == 0);
	view_bool(o, "queued", strcmp(e->state, "queued") == 0);
	view_bool(o, "running", running);
	if (done) {
		view_str(o, "items", count_text(r->arena, e->items));
		view_str(o, "annotations", count_text(r->arena, e->annotations));
		view_str(o, "size", size_text(r->arena, e->bytes));
		view_str(o, "finished", e->finished_at);
		view_str(o, "download_name", download_name(r->arena, e));
		if (e->removed > 0)
			view_str(o, "removed", count_text(r->arena, e->removed));
	}
	if (running)
		view_str(o, "progress", e->total > 0 ?
		    arena_printf(r->arena, "%s of %s items", count_text(r->arena, e->progress),
		    count_text(r->arena, e->total)) :
		    arena_printf(r->arena, "%s items", count_text(r->arena, e->progress)));
	view_str(o, "error", admin ? e->error : NULL);
	view_str(o, "kind", e->delta ? arena_printf(r->arena, "Changes since export %lld",
	    e->since_export_id) : "Whole project");
	view_bool(o, "approved_only", e->approved_only);
	/* Admins only: an export names every labeled image, and a labeler
	 * sees only the images they hold or answered. */
	view_bool(o, "can_download", admin && done);
	view_bool(o, "can_delete", admin);
	return o;
}

/* Render the Exports tab of project id with status; t (may be NULL) brings
 * a refused form back. */
static void exports_render(struct request *r, long long id, int status, const struct typed *t)
{
	struct json_object *v = view_new(r, "Exports"), *list, *p;
	struct export_info *ex;
	const char *state = NULL;
	size_t n;
	int rc, busy = 0;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	rc = project_view_load(r, id, v, &state);
	if (rc == 1) {
		not_found(r, "There is no such project.");
		return;
	}
	if (rc == DB_OK)
		rc = export_list(r->db, r->arena, id, EXPORTS_SHOWN, &ex, &n);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	json_object_object_get_ex(v, "project", &p);
	json_object_object_add(v, "title", json_object_new_string(arena_printf(r->arena,
	    "Exports \xc2\xb7 %s", json_object_get_string(json_object_object_get(p, "name")))));
	json_object_object_add(v, "tabs", project_tabs_view(r, id, "exports"));
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(list, export_row(r, &ex[i], r->session->is_admin));
		if (strcmp(ex[i].state, "queued") == 0 || strcmp(ex[i].state, "running") == 0)
			busy = 1;
	}
	json_object_object_add(v, "exports", list);
	if (n == EXPORTS_SHOWN)
		view_str(v, "more", arena_printf(r->arena, "Only the newest %d exports are shown.",
		    EXPORTS_SHOWN));
	/* Progress without JavaScript: the page reloads itself while an
	 * export waits or runs. */
	if (busy)
		view_int(v, "refresh", 2);
	if (r->session->is_admin && (strcmp(state, "initializing") == 0 || strcmp(state, "failed") == 0))
		view_str(v, "form_blocked", "This project has no items to export yet: it is still "
		    "initializing, or its initialization failed.");
	else if (r->session->is_admin)
		json_object_object_add(v, "form", form_view(r, t));
	page_render(r, status, "project_exports", v);
}

void handle_project_exports(struct request *r)
{
	long long id = path_id(r, "id");

	if (id == 0) {
		not_found(r, "There is no such project.");
		return;
	}
	exports_render(r, id, 200, NULL);
}

/* POST /projects/:id/exports: format, delta ("1"), approved_only ("1"),
 * azureml_prefix. */
void handle_export_create(struct request *r)
{
	long long id = path_id(r, "id"), export_id = 0;
	const char *delta = req_form(r, "delta"), *prefix = req_form(r, "azureml_prefix"), *why = NULL;
	const char *approved = req_form(r, "approved_only");
	struct export_request rq = { 0 };
	struct typed t = { 0 };
	size_t plen;
	int rc;

	if (id == 0) {
		not_found(r, "There is no such project.");
		return;
	}
	t.format = req_form(r, "format");
	t.delta = delta != NULL && strcmp(delta, "1") == 0;
	t.approved_only = approved != NULL && strcmp(approved, "1") == 0;
	if (prefix == NULL)
		prefix = "";
	t.prefix = prefix;
	for (size_t i = 0; i < r->form.nfields; i++) {
		if (strlen(r->form.fields[i].value) != r->form.fields[i].value_len) {
			t.message = "The form held a NUL byte; type the values again.";
			exports_render(r, id, 422, &t);
			return;
		}
	}
	/* The prefix without the spaces around it. */
	while (*prefix == ' ' || *prefix == '\t')
		prefix++;
	plen = strlen(prefix);
	while (plen > 0 && (prefix[plen - 1] == ' ' || prefix[plen - 1] == '\t'))
		plen--;
	rq.project_id = id;
	rq.user_id = r->session->user_id;
	rq.format = t.format;
	rq.delta = t.delta;
	rq.approved_only = t.approved_only;
	rq.azureml_prefix = arena_strndup(r->arena, prefix, plen);
	rc = export_create(r->app, r->db, r->arena, &rq, &export_id, &why);
	if (rc == EXPORT_BAD_FORMAT || rc == EXPORT_BAD_PREFIX || rc == EXPORT_NO_DATASTORE ||
	    rc == EXPORT_NO_PROJECT) {
		t.message = why;
		exports_render(r, id, rc == EXPORT_BAD_FORMAT || rc == EXPORT_BAD_PREFIX ? 422 : 409, &t);
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("project %lld: export %lld asked for by %s", id, export_id, r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld/exports", id));
}

/* POST /projects/:id/exports/:eid/delete. */
void handle_export_delete(struct request *r)
{
	long long id = path_id(r, "id"), eid = path_id(r, "eid");
	char err[512] = "";
	int rc;

	if (id == 0 || eid == 0) {
		not_found(r, "There is no such export.");
		return;
	}
	rc = export_delete(r->app, r->db, r->arena, id, eid, err, sizeof(err));
	if (rc == EXPORT_NOT_FOUND) {
		not_found(r, "There is no such export in this project.");
		return;
	}
	if (rc == -1) {
		page_error(r, 502, "Export not deleted", "The export's file could not be removed from "
		    "its datastore, so the export is kept; try again in a moment (the log has the cause).");
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	log_info("project %lld: export %lld deleted by %s", id, eid, r->session->email);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld/exports", id));
}

/* ------------------------------------------------------------ download */

/* GET /projects/:id/exports/:eid/download (admins: an export names every
 * labeled image of the project, more than a labeler may see): a finished
 * export of this project only.  A file of the built-in datastore reached without a
 * symlink is sent by nginx (X-Accel-Redirect through /_datastore/, as item
 * images); any other is streamed by labeld. */
void handle_export_download(struct request *r)
{
	long long id = path_id(r, "id"), eid = path_id(r, "eid");
	struct export_info e;
	struct db_result *res;
	struct datastore ds;
	char err[256];
	int rc;

	if (id == 0 || eid == 0) {
		not_found(r, "There is no such export.");
		return;
	}
	rc = export_get(r->db, r->arena, id, eid, &e);
	if (rc == EXPORT_NOT_FOUND) {
		not_found(r, "There is no such export in this project.");
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (strcmp(e.state, "done") != 0 || e.path == NULL || e.datastore_id == 0) {
		not_found(r, "This export has not finished, so there is nothing to download yet.");
		return;
	}
	if (datastore_path_check(e.path, err, sizeof(err)) < 0) {
		log_error("export %lld: stored path %s refused: %s", eid, e.path, err);
		page_error(r, 500, "Internal error", "The export's stored path is not valid.");
		return;
	}
	resp_header(r, "Content-Disposition", arena_printf(r->arena, "attachment; filename=\"%s\"",
	    download_name(r->arena, &e)));
	rc = db_query(r->db, r->arena, &res,
	    "SELECT kind = 'local' AND is_builtin = 1 FROM datastores WHERE id = ?", "i", e.datastore_id);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (res->nrows > 0 && db_int(res, 0, 0) != 0 &&
	    datastore_local_plain(r->app->cfg.datastore_dir, e.path)) {
		char *uri = queue_accel_uri(r->arena, "/_datastore/", e.path);
		if (uri == NULL) {
			page_error(r, 500, "Internal error", "Out of memory.");
			return;
		}
		resp_header(r, "X-Accel-Redirect", uri);
		resp_bytes(r, 200, e.media_type, NULL, 0);
		return;
	}
	rc = catalog_datastore_load(r->db, r->arena, e.datastore_id, &ds);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (ds.id == 0) {
		not_found(r, "The export's datastore is gone.");
		return;
	}
	send_file(r, &ds, e.path, e.media_type, &export_kind);
}

/* ------------------------------------------------------------ datasets */

/* The labeled datasets for the Datasets page: every finished export,
 * newest first, as "labeled" [{id, project_id, project, format, finished,
 * items, annotations, size}]; DB_* status. */
int labeled_datasets_view(struct request *r, struct json_object *v)
{
	struct json_object *list = json_object_new_array();
	struct export_info *ex;
	size_t n;
	int rc = export_list_done(r->db, r->arena, LABELED_SHOWN, &ex, &n);

	if (rc != DB_OK) {
		json_object_put(list);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		view_int(o, "id", ex[i].id);
		view_int(o, "project_id", ex[i].project_id);
		view_str(o, "project", ex[i].project_name);
		view_str(o, "format", format_title(r, ex[i].format));
		view_str(o, "finished", ex[i].finished_at != NULL ? ex[i].finished_at : ex[i].created_at);
		view_str(o, "items", count_text(r->arena, ex[i].items));
		view_str(o, "annotations", count_text(r->arena, ex[i].annotations));
		view_str(o, "size", size_text(r->arena, ex[i].bytes));
		view_bool(o, "delta", ex[i].delta);
		json_object_array_add(list, o);
	}
	json_object_object_add(v, "labeled", list);
	if (n == LABELED_SHOWN)
		view_str(v, "labeled_more", arena_printf(r->arena,
		    "Only the newest %d labeled datasets are shown.", LABELED_SHOWN));
	return DB_OK;
}

/* GET /datasets/labeled/:eid: a finished export as a labeled dataset: its
 * counts, the download, and sample code for its format. */
void handle_labeled_dataset(struct request *r)
{
	long long eid = path_id(r, "eid");
	struct json_object *v;
	struct db_result *res;
	struct export_info e;
	int rc;

	if (eid == 0) {
		not_found(r, "There is no such labeled dataset.");
		return;
	}
	rc = db_query(r->db, r->arena, &res, "SELECT project_id FROM exports WHERE id = ?", "i", eid);
	if (rc == DB_OK && res->nrows == 0)
		rc = EXPORT_NOT_FOUND;
	if (rc == DB_OK)
		rc = export_get(r->db, r->arena, db_int(res, 0, 0), eid, &e);
	if (rc == DB_OK && strcmp(e.state, "done") != 0)
		rc = EXPORT_NOT_FOUND;
	if (rc == EXPORT_NOT_FOUND) {
		not_found(r, "There is no such labeled dataset: the export does not exist or has not "
		    "finished.");
		return;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	v = view_new(r, arena_printf(r->arena, "%s \xc2\xb7 %s", e.project_name,
	    format_title(r, e.format)));
	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_int(v, "id", e.id);
	view_int(v, "project_id", e.project_id);
	view_str(v, "project", e.project_name);
	view_str(v, "format", e.format);
	view_str(v, "format_title", format_title(r, e.format));
	view_str(v, "media_type", e.media_type);
	view_str(v, "created", e.created_at);
	view_str(v, "finished", e.finished_at);
	view_str(v, "by", e.created_by != NULL ? e.created_by : "a deleted user");
	view_str(v, "items", count_text(r->arena, e.items));
	view_str(v, "annotations", count_text(r->arena, e.annotations));
	view_str(v, "size", size_text(r->arena, e.bytes));
	if (e.removed > 0)
		view_str(v, "removed", count_text(r->arena, e.removed));
	view_str(v, "kind", e.delta ? arena_printf(r->arena,
	    "Only what changed since export %lld", e.since_export_id) : "The whole project");
	view_str(v, "azureml_prefix", e.azureml_prefix);
	view_str(v, "file", download_name(r->arena, &e));
	/* The sample code follows the format. */
	view_bool(v, "is_coco", strcmp(e.format, "coco") == 0);
	view_bool(v, "is_manifest", strcmp(e.format, "manifest") == 0);
	view_bool(v, "is_other", strcmp(e.format, "coco") != 0 && strcmp(e.format, "manifest") != 0);
	page_render(r, 200, "labeled_dataset", v);
}
