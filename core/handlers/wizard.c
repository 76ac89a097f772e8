/*
 * wizard.c: the create-project wizard.
 *
 * Everything entered is kept server-side in a draft (table project_drafts,
 * a JSON document owned by the admin who started it), so Back, Next and
 * reload never lose input: every POST first saves what was typed, then
 * checks it, then either redirects (303) to the next step or shows the same
 * step again with a 4xx status and the reason.
 *
 * Steps: name -> data -> (upload | datastore -> confirm) -> labels ->
 * instructions -> review.  The draft document (see docs/projects.md):
 *   name, task                      step "name"
 *   source ("existing", "upload", "datastore"), dataset_id       "data"
 *   ds_name, ds_description         the new dataset ("upload", "datastore")
 *   upload_dir, uploads[], refused[{name, reason}]                "upload"
 *   datastore_id, path              "datastore"
 *   created_dataset                 name of a dataset made at "confirm"
 *   labels[]                        rows as typed (blank rows kept)
 *   instructions_url, description   "instructions"
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "blob.h"
#include "catalog.h"
#include "datastore.h"
#include "db.h"
#include "handlers.h"
#include "image.h"
#include "jobs.h"
#include "log.h"
#include "plugin.h"
#include "project_init.h"
#include "project_rules.h"
#include "projects_model.h"
#include "request.h"
#include "response.h"
#include "session.h"

/* Drafts nobody touched for this long are removed when a new one starts. */
#define DRAFT_LIFETIME_DAYS 30
/* Label rows shown on a fresh labels step. */
#define LABEL_ROWS_START 3
/* "-2" .. "-999" before the extension for duplicate names. */
#define UPLOAD_SUFFIX_MAX 999

enum step { S_NAME, S_DATA, S_UPLOAD, S_DATASTORE, S_CONFIRM, S_LABELS, S_INSTRUCTIONS, S_REVIEW, S_COUNT };

static const char *const step_names[S_COUNT] = {
	"name", "data", "upload", "datastore", "confirm", "labels", "instructions", "review",
};

/* Which of the five stages shown at the top each step belongs to. */
static const int step_stage[S_COUNT] = { 0, 1, 1, 1, 1, 2, 3, 4 };
static const char *const stage_titles[5] = {
	"Name and task type", "Data", "Label classes", "Instructions", "Review",
};

struct draft {
	long long id;
	struct json_object *d;   /* owned by the request (arena clean-up) */
};

/* ------------------------------------------------------------ helpers */

/* A string member of the draft ("" when missing). */
static const char *dstr(const struct draft *dr, const char *key)
{
	struct json_object *o;

	if (!json_object_object_get_ex(dr->d, key, &o) || !json_object_is_type(o, json_type_string))
		return "";
	return json_object_get_string(o);
}

static long long dint(const struct draft *dr, const char *key)
{
	struct json_object *o;

	if (!json_object_object_get_ex(dr->d, key, &o))
		return 0;
	return json_object_get_int64(o);
}

/* An array member of the draft, created when missing. */
static struct json_object *darr(struct draft *dr, const char *key)
{
	struct json_object *o;

	if (json_object_object_get_ex(dr->d, key, &o) && json_object_is_type(o, json_type_array))
		return o;
	o = json_object_new_array();
	json_object_object_add(dr->d, key, o);
	return o;
}

static void json_put_cleanup(void *p)
{
	json_object_put(p);
}

/* A positive decimal id; 0 when s is anything else. */
static long long id_parse(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 18)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return 0;
	return v;
}

static void db_failed(struct request *r, int rc)
{
	page_db_error(r, rc, "The wizard could not go on");
}

/* s trimmed, as an arena copy ("" for NULL). */
static char *trim_copy(struct request *r, const char *s)
{
	size_t n;
	const char *t = rules_trim(s, s ? strlen(s) : 0, &n);

	return arena_strndup(r->arena, t, n);
}

/* A field of the POST body; *nul is set when it holds a NUL byte. */
static const char *form_value(struct request *r, const char *name, int *nul)
{
	for (size_t i = 0; i < r->form.nfields; i++) {
		const struct hp_field *f = &r->form.fields[i];
		if (strcmp(f->name, name) == 0) {
			if (strlen(f->value) != f->value_len)
				*nul = 1;
			return f->value;
		}
	}
	return NULL;
}

/* Copy a posted field into the draft when it was sent. */
static void save_field(struct request *r, struct draft *dr, const char *field, const char *key, int *nul)
{
	const char *v = form_value(r, field, nul);

	if (v != NULL)
		view_str(dr->d, key, v);
}

static const char *step_url(struct request *r, const struct draft *dr, enum step s)
{
	return arena_printf(r->arena, "/projects/drafts/%lld/%s", dr->id, step_names[s]);
}

/* ------------------------------------------------------------ the draft */

/* Load the signed-in admin's draft from the route; 0, 1 when it is not
 * theirs or does not exist, or a DB_* error. */
static int draft_load(struct request *r, struct draft *dr)
{
	struct db_result *res;
	int rc;

	dr->id = id_parse(route_param(&r->params, "draft"));
	if (dr->id == 0)
		return 1;
	rc = db_query(r->db, r->arena, &res,
	    "SELECT data FROM project_drafts WHERE id = ? AND user_id = ?",
	    "ii", dr->id, r->session->user_id);
	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0)
		return 1;
	dr->d = json_tokener_parse(db_value(res, 0, 0));
	if (dr->d == NULL || !json_object_is_type(dr->d, json_type_object)) {
		json_object_put(dr->d);
		log_warn("draft %lld: data is not a JSON object; starting it afresh", dr->id);
		dr->d = json_object_new_object();
	}
	if (dr->d == NULL || arena_cleanup_add(r->arena, json_put_cleanup, dr->d) < 0)
		return DB_ERR;
	return 0;
}

static int draft_save(struct request *r, const struct draft *dr)
{
	const char *text = json_object_to_json_string_ext(dr->d, JSON_C_TO_STRING_PLAIN);

	if (text == NULL)
		return DB_ERR;
	return db_exec(r->db, 0, NULL, NULL,
	    "UPDATE project_drafts SET data = ? WHERE id = ? AND user_id = ?",
	    "sii", text, dr->id, r->session->user_id);
}

void handle_draft_new(struct request *r)
{
	uint64_t id = 0;
	int rc;

	/* Drafts nobody touched for a long time go first (their uploads stay
	 * in the datastore's uploads/ folder; see docs/projects.md). */
	rc = db_exec(r->db, 0, NULL, NULL,
	    "DELETE FROM project_drafts WHERE updated_at < NOW(6) - INTERVAL ? DAY",
	    "i", (long long)DRAFT_LIFETIME_DAYS);
	if (rc == DB_OK)
		rc = db_exec(r->db, 0, NULL, &id,
		    "INSERT INTO project_drafts (user_id, data) VALUES (?, ?)",
		    "is", r->session->user_id, "{\"v\":1}");
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/drafts/%llu/name",
	    (unsigned long long)id));
}

/* ------------------------------------------------------------ views */

/* Loaded task plugins as radio choices. */
static struct json_object *tasks_view(struct request *r, const char *chosen)
{
	struct json_object *list = json_object_new_array();
	const struct plugin_set *set = r->rt->plugins;

	for (size_t i = 0; set != NULL && i < set->n; i++) {
		const struct labeld_plugin *p = set->v[i].desc;
		if (p == NULL || p->kind != LABELD_TASK)
			continue;
		struct json_object *o = json_object_new_object();
		view_str(o, "name", p->name);
		view_str(o, "title", p->title);
		view_str(o, "description", p->task && p->task->description ? p->task->description : "");
		view_bool(o, "checked", strcmp(p->name, chosen) == 0);
		json_object_array_add(list, o);
	}
	return list;
}

/* Input datasets as choices; *chosen_name gets the name of dataset `chosen`. */
static int datasets_view(struct request *r, long long chosen, struct json_object **out,
    const char **chosen_name)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT d.id, d.name, d.path, d.is_recursive, d.file_count, s.name, d.source "
	    "FROM datasets d JOIN datastores s ON s.id = d.datastore_id "
	    "WHERE d.kind = 'input' ORDER BY d.created_at DESC, d.id DESC LIMIT 500", "");

	if (rc != DB_OK)
		return rc;
	*out = json_object_new_array();
	if (chosen_name != NULL)
		*chosen_name = NULL;
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		long long id = db_int(res, i, 0);
		view_int(o, "id", id);
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "where", arena_printf(r->arena, "%s: %s%s%s", db_value(res, i, 5),
		    db_value(res, i, 2)[0] ? db_value(res, i, 2) : "(the whole datastore)",
		    db_int(res, i, 3) ? "/**" : "",
		    strcmp(db_value(res, i, 6), "upload") == 0 ? " (uploaded)" : ""));
		if (db_value(res, i, 4) != NULL)
			view_int(o, "files", db_int(res, i, 4));
		view_bool(o, "checked", id == chosen);
		if (id == chosen && chosen_name != NULL)
			*chosen_name = db_value(res, i, 1);
		json_object_array_add(*out, o);
	}
	return DB_OK;
}

/* Every datastore as select options plus Browse links. */
static int datastores_view(struct request *r, const struct draft *dr, long long chosen,
    struct json_object **out, const char **chosen_name)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT id, name, kind, is_default FROM datastores ORDER BY is_default DESC, name", "");

	if (rc != DB_OK)
		return rc;
	*out = json_object_new_array();
	*chosen_name = NULL;
	for (size_t i = 0; i < res->nrows; i++) {
		struct json_object *o = json_object_new_object();
		long long id = db_int(res, i, 0);
		view_int(o, "id", id);
		view_str(o, "name", db_value(res, i, 1));
		view_str(o, "kind", strcmp(db_value(res, i, 2), "azureblob") == 0 ?
		    "Azure Blob container" : "local folder");
		view_bool(o, "is_default", db_int(res, i, 3));
		view_bool(o, "selected", id == chosen);
		view_str(o, "pick", step_url(r, dr, S_DATASTORE));
		if (id == chosen)
			*chosen_name = db_value(res, i, 1);
		json_object_array_add(*out, o);
	}
	return DB_OK;
}

/* The non-blank label rows of the draft, trimmed. */
static const char **labels_collect(struct request *r, struct draft *dr, size_t *n)
{
	struct json_object *rows = darr(dr, "labels");
	size_t total = json_object_array_length(rows);
	const char **out = arena_calloc(r->arena, total + 1, sizeof(*out));

	*n = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < total; i++) {
		char *t = trim_copy(r, json_object_get_string(json_object_array_get_idx(rows, i)));
		if (t == NULL)
			return NULL;
		if (t[0] != '\0')
			out[(*n)++] = t;
	}
	return out;
}

/* The refused uploads ("refused", "has_refused"), for the upload and
 * confirm pages. */
static void refused_view(struct json_object *v, struct draft *dr)
{
	struct json_object *list = darr(dr, "refused");

	json_object_object_add(v, "refused", json_object_get(list));
	view_bool(v, "has_refused", json_object_array_length(list) > 0);
}

/* Render step s of the draft with status and an optional message. */
static void step_render(struct request *r, struct draft *dr, enum step s, int status,
    const char *message)
{
	struct json_object *v = view_new(r, "New project"), *stages, *list;
	const char *name = NULL;
	int rc = DB_OK;

	if (v == NULL) {
		page_error(r, 500, "Internal error", "Out of memory.");
		return;
	}
	view_int(v, "draft", dr->id);
	view_str(v, "step", step_names[s]);
	view_str(v, "action", step_url(r, dr, s));
	if (message != NULL)
		view_str(v, "message", message);
	stages = json_object_new_array();
	for (int i = 0; i < 5; i++) {
		struct json_object *o = json_object_new_object();
		view_int(o, "n", i + 1);
		view_str(o, "title", stage_titles[i]);
		view_bool(o, "current", step_stage[s] == i);
		view_bool(o, "done", step_stage[s] > i);
		json_object_array_add(stages, o);
	}
	json_object_object_add(v, "stages", stages);

	switch (s) {
	case S_NAME:
		view_str(v, "name", dstr(dr, "name"));
		list = tasks_view(r, dstr(dr, "task"));
		view_bool(v, "no_tasks", json_object_array_length(list) == 0);
		json_object_object_add(v, "tasks", list);
		break;
	case S_DATA: {
		const char *src = dstr(dr, "source");
		rc = datasets_view(r, dint(dr, "dataset_id"), &list, NULL);
		if (rc != DB_OK)
			break;
		json_object_object_add(v, "datasets", list);
		view_bool(v, "src_existing", strcmp(src, "existing") == 0);
		view_bool(v, "src_upload", strcmp(src, "upload") == 0);
		view_bool(v, "src_datastore", strcmp(src, "datastore") == 0);
		if (dstr(dr, "created_dataset")[0] != '\0')
			view_str(v, "created_dataset", dstr(dr, "created_dataset"));
		break;
	}
	case S_UPLOAD:
		view_str(v, "ds_name", dstr(dr, "ds_name"));
		view_str(v, "ds_description", dstr(dr, "ds_description"));
		view_int(v, "uploaded", (long long)json_object_array_length(darr(dr, "uploads")));
		refused_view(v, dr);
		break;
	case S_DATASTORE: {
		/* The Browse page sends folders back as ?datastore=ID&path=...:
		 * those prefill the form (saved only when it is sent). */
		long long chosen = dint(dr, "datastore_id");
		const char *path = dstr(dr, "path");
		const char *qds = req_query(r, "datastore"), *qpath = req_query(r, "path");
		if (id_parse(qds) > 0)
			chosen = id_parse(qds);
		if (qpath != NULL)
			path = qpath;
		rc = datastores_view(r, dr, chosen, &list, &name);
		if (rc != DB_OK)
			break;
		json_object_object_add(v, "datastores", list);
		view_str(v, "ds_name", dstr(dr, "ds_name"));
		view_str(v, "ds_description", dstr(dr, "ds_description"));
		view_str(v, "path", path);
		break;
	}
	case S_CONFIRM: {
		int upload = strcmp(dstr(dr, "source"), "upload") == 0;
		view_bool(v, "is_upload", upload);
		view_str(v, "ds_name", trim_copy(r, dstr(dr, "ds_name")));
		view_str(v, "ds_description", trim_copy(r, dstr(dr, "ds_description")));
		if (upload) {
			view_int(v, "uploaded", (long long)json_object_array_length(darr(dr, "uploads")));
			refused_view(v, dr);
		} else {
			char folder[1100];
			int recursive = 0;
			rc = datastores_view(r, dr, dint(dr, "datastore_id"), &list, &name);
			json_object_put(list);
			if (rc != DB_OK)
				break;
			view_str(v, "datastore_name", name ? name : "(no datastore chosen)");
			if (datastore_path_split(trim_copy(r, dstr(dr, "path")), folder, sizeof(folder), &recursive) < 0)
				folder[0] = '\0';
			view_str(v, "folder", folder[0] ? folder : "(the whole datastore)");
			view_bool(v, "recursive", recursive);
		}
		break;
	}
	case S_LABELS: {
		struct json_object *rows = darr(dr, "labels"), *out = json_object_new_array();
		size_t n = json_object_array_length(rows);
		if (n == 0) {
			for (int i = 0; i < LABEL_ROWS_START; i++)
				json_object_array_add(rows, json_object_new_string(""));
			n = LABEL_ROWS_START;
		}
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			view_str(o, "value", json_object_get_string(json_object_array_get_idx(rows, i)));
			view_int(o, "row", (long long)i + 1);
			if (i < 9)
				view_int(o, "key", (long long)i + 1);
			json_object_array_add(out, o);
		}
		json_object_object_add(v, "rows", out);
		view_int(v, "max_labels", r->app->cfg.max_labels);
		break;
	}
	case S_INSTRUCTIONS:
		view_str(v, "instructions_url", dstr(dr, "instructions_url"));
		view_str(v, "description", dstr(dr, "description"));
		break;
	case S_REVIEW: {
		const struct plugin *p = plugin_find(r->rt->plugins, LABELD_TASK, dstr(dr, "task"));
		size_t n;
		const char **labels = labels_collect(r, dr, &n);
		view_str(v, "name", trim_copy(r, dstr(dr, "name")));
		view_str(v, "task_title", p ? p->desc->title : "(no task type chosen)");
		rc = datasets_view(r, dint(dr, "dataset_id"), &list, &name);
		json_object_put(list);
		if (rc != DB_OK)
			break;
		view_str(v, "dataset_name", name ? name : "(no dataset chosen)");
		list = json_object_new_array();
		for (size_t i = 0; labels != NULL && i < n; i++) {
			struct json_object *o = json_object_new_object();
			view_str(o, "name", labels[i]);
			if (i < 9)
				view_int(o, "key", (long long)i + 1);
			json_object_array_add(list, o);
		}
		json_object_object_add(v, "labels", list);
		view_str(v, "instructions_url", trim_copy(r, dstr(dr, "instructions_url")));
		view_str(v, "description", trim_copy(r, dstr(dr, "description")));
		break;
	}
	default:
		break;
	}
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	page_render(r, status, arena_printf(r->arena, "wizard_%s", step_names[s]), v);
}

static enum step step_parse(const char *s)
{
	for (int i = 0; s != NULL && i < S_COUNT; i++)
		if (strcmp(s, step_names[i]) == 0)
			return (enum step)i;
	return S_COUNT;
}

void handle_draft_step(struct request *r)
{
	struct draft dr = { 0 };
	enum step s = step_parse(route_param(&r->params, "step"));
	int rc = draft_load(r, &dr);

	if (rc < 0) {
		db_failed(r, rc);
		return;
	}
	if (rc == 1 || s == S_COUNT) {
		page_error(r, 404, "Not found", "There is no such draft project, or it is not yours.");
		return;
	}
	if (s == S_CONFIRM && strcmp(dstr(&dr, "source"), "upload") != 0 &&
	    strcmp(dstr(&dr, "source"), "datastore") != 0) {
		resp_redirect(r, 303, step_url(r, &dr, S_DATA));
		return;
	}
	step_render(r, &dr, s, 200, NULL);
}

/* ------------------------------------------------------------ checks */

/* Name and task: 0, or the status to answer with *msg. */
static int check_name(struct request *r, struct draft *dr, const char **msg)
{
	char *name = trim_copy(r, dstr(dr, "name")), err[256];
	struct db_result *res;
	int rc;

	if (project_name_check(name, strlen(name), err, sizeof(err)) < 0) {
		*msg = arena_strdup(r->arena, err);
		return 422;
	}
	rc = db_query(r->db, r->arena, &res, "SELECT id FROM projects WHERE name = ?", "s", name);
	if (rc != DB_OK)
		return rc;
	if (res->nrows > 0) {
		*msg = arena_printf(r->arena, "A project named \u201c%s\u201d already exists. "
		    "Choose another name.", name);
		return 409;
	}
	if (plugin_find(r->rt->plugins, LABELD_TASK, dstr(dr, "task")) == NULL) {
		*msg = "Choose a task type.";
		return 422;
	}
	return 0;
}

/* The new dataset's name and description. */
static int check_dataset_text(struct request *r, struct draft *dr, const char **msg)
{
	char *name = trim_copy(r, dstr(dr, "ds_name")), *desc = trim_copy(r, dstr(dr, "ds_description"));
	char err[256];
	struct db_result *res;
	int rc;

	if (project_name_check(name, strlen(name), err, sizeof(err)) < 0) {
		*msg = arena_printf(r->arena, "Dataset name: %s", err);
		return 422;
	}
	if (project_description_check(desc, strlen(desc), err, sizeof(err)) < 0) {
		*msg = arena_printf(r->arena, "Dataset description: %s", err);
		return 422;
	}
	rc = db_query(r->db, r->arena, &res, "SELECT id FROM datasets WHERE name = ?", "s", name);
	if (rc != DB_OK)
		return rc;
	if (res->nrows > 0) {
		*msg = arena_printf(r->arena, "A dataset named \u201c%s\u201d already exists. "
		    "Choose another name, or go Back and pick that dataset.", name);
		return 409;
	}
	return 0;
}

static int first_file(void *ctx, const char *path, uint64_t size)
{
	(void)path;
	(void)size;
	*(int *)ctx = 1;
	return 1;
}

static int any_folder(void *ctx, const char *path)
{
	(void)ctx;
	(void)path;
	return 0;
}

/* Datastore, path and folder of the "from a datastore" choice; on success
 * ds, folder and *recursive are filled. */
static int check_datastore(struct request *r, struct draft *dr, struct datastore *ds,
    char *folder, size_t folderlen, int *recursive, const char **msg)
{
	const char *path = trim_copy(r, dstr(dr, "path"));
	char err[512];
	int rc;

	rc = catalog_datastore_load(r->db, r->arena, dint(dr, "datastore_id"), ds);
	if (rc != DB_OK)
		return rc;
	if (ds->id == 0) {
		*msg = "Choose a datastore.";
		return 422;
	}
	if (datastore_path_split(path, folder, folderlen, recursive) < 0) {
		*msg = "The path is too long.";
		return 422;
	}
	if (datastore_path_check(folder, err, sizeof(err)) < 0) {
		*msg = arena_printf(r->arena, "That path was refused: %s.", err);
		return 422;
	}
	if (ds->kind == DATASTORE_AZUREBLOB) {
		/* Blob folders exist when a blob lies under them. */
		int found = 0;
		if (datastore_walk(ds, folder, 1, first_file, &found, err, sizeof(err)) < 0) {
			log_warn("wizard: listing '%s' of datastore %lld failed: %s", folder, ds->id, err);
			*msg = BLOB_FAILED_SENTENCE;
			return 422;
		}
		if (!found) {
			*msg = arena_printf(r->arena, "No such folder: nothing is stored under \u201c%s\u201d "
			    "in %s.", folder[0] ? folder : "/", ds->name);
			return 422;
		}
		return 0;
	}
	if (datastore_folders(ds, folder, any_folder, NULL, err, sizeof(err)) < 0) {
		log_info("wizard: folder '%s' of datastore %lld refused: %s", folder, ds->id, err);
		*msg = arena_printf(r->arena, "No such folder: \u201c%s\u201d is not a folder of %s%s.",
		    folder, ds->name, strstr(err, "cross-device") || strstr(err, "outside") ?
		    " (it leads outside the datastore)" : "");
		return 422;
	}
	return 0;
}

/* ------------------------------------------------------------ uploads */

/* Decide about one uploaded file from its bytes (read through fd into buf,
 * IMAGE_HEADER_CAP bytes): 0, or -1 with *reason. */
static int upload_check(struct request *r, int fd, unsigned char *buf, const char *name,
    const char **reason)
{
	struct datastore_reader rd;
	struct image_info info;
	char err[256] = "";
	size_t len = 0;
	int rc;

	datastore_reader_fd(&rd, fd);
	rc = project_init_check(name, &rd.rd, buf, IMAGE_HEADER_CAP, &len, 0,
	    r->app->cfg.max_image_pixels, &info, reason, err, sizeof(err));
	datastore_reader_close(&rd);
	if (rc < 0 && *reason == err) {
		log_error("wizard: reading the upload %s: %s", name, err);
		*reason = "the file could not be read";
	}
	return rc;
}

/* "stem-k.ext" for k >= 2, or name itself for k == 1. */
static const char *suffixed(struct request *r, const char *name, int k)
{
	const char *dot = strrchr(name, '.');

	if (k == 1)
		return name;
	if (dot == NULL || dot == name)
		return arena_printf(r->arena, "%s-%d", name, k);
	return arena_printf(r->arena, "%.*s-%d%s", (int)(dot - name), name, k, dot);
}

/* Copy the upload in fd into a new file of dirfd named `name` (or name-2,
 * -3, ... when taken).  The stored name goes to *stored.  0, or -1 with
 * *reason (nothing is left behind). */
static int upload_store(struct request *r, int dirfd, int fd, const char *name,
    const char **stored, const char **reason)
{
	char buf[65536];
	const char *cand = name;
	off_t off = 0;
	int out = -1;

	for (int k = 1; k <= UPLOAD_SUFFIX_MAX && out < 0; k++) {
		cand = suffixed(r, name, k);
		if (cand == NULL)
			break;
		out = openat(dirfd, cand, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (out < 0 && errno != EEXIST) {
			log_error("wizard: cannot create %s: %s", cand, strerror(errno));
			break;
		}
	}
	if (out < 0) {
		*reason = "the file could not be stored (the log says why)";
		return -1;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off), w = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				break;
			goto fail;
		}
		while (w < n) {
			ssize_t m = write(out, buf + w, (size_t)(n - w));
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0)
				goto fail;
			w += m;
		}
		off += n;
	}
	if (close(out) < 0) {
		out = -1;
		goto fail;
	}
	*stored = cand;
	return 0;
fail:
	log_error("wizard: writing %s failed: %s", cand, strerror(errno));
	if (out >= 0)
		close(out);
	unlinkat(dirfd, cand, 0);
	*reason = "the file could not be stored (the log says why)";
	return -1;
}

static void refused_add(struct json_object *list, const char *raw, const char *reason)
{
	struct json_object *o = json_object_new_object();
	char shown[512];

	rules_display(raw && raw[0] ? raw : "(no name)", 120, shown, sizeof(shown));
	view_str(o, "name", shown);
	view_str(o, "reason", reason);
	json_object_array_add(list, o);
}

/* Store the files of this POST into the draft's upload folder of the
 * default datastore.  Accepted names are appended to "uploads", refusals
 * replace "refused".  0, or -1 with *msg (a server-side problem). */
static int uploads_take(struct request *r, struct draft *dr, const char **msg)
{
	struct json_object *uploads = darr(dr, "uploads"), *refused;
	unsigned char *head;
	struct datastore ds;
	const char *dir = dstr(dr, "upload_dir");
	char err[512];
	int dirfd = -1, rc, nfiles = 0;
	struct stat st;

	for (size_t i = 0; i < r->form.nfiles; i++) {
		const struct hp_file *f = &r->form.files[i];
		if (strcmp(f->field, "files") == 0 && !(f->filename[0] == '\0' && f->size == 0))
			nfiles++;
	}
	if (nfiles == 0)
		return 0;
	refused = json_object_new_array();
	json_object_object_add(dr->d, "refused", refused);

	rc = catalog_datastore_default(r->db, r->arena, &ds);
	if (rc != DB_OK || ds.id == 0 || ds.kind != DATASTORE_LOCAL || ds.local_path == NULL) {
		log_error("wizard: no local default datastore (%d)", rc);
		*msg = "Uploads cannot be stored: the default datastore is missing or not a local folder.";
		return -1;
	}
	if (dir[0] == '\0') {
		unsigned char rnd[8];
		char hex[17];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			*msg = "Uploads cannot be stored right now (no randomness).";
			return -1;
		}
		for (int i = 0; i < 8; i++)
			snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
		dir = arena_printf(r->arena, "uploads/%lld-%s", dr->id, hex);
		view_str(dr->d, "upload_dir", dir);
	}
	if (datastore_local_mkdirs(ds.local_path, dir, err, sizeof(err)) < 0 ||
	    (dirfd = datastore_local_open(ds.local_path, dir, err, sizeof(err))) < 0 ||
	    fstat(dirfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("wizard: upload folder %s in %s: %s", dir, ds.local_path, err);
		if (dirfd >= 0)
			close(dirfd);
		*msg = "Uploads cannot be stored: the upload folder could not be created (the log says why).";
		return -1;
	}
	/* The image header of each file is read into one buffer. */
	head = malloc(IMAGE_HEADER_CAP);
	if (head == NULL) {
		close(dirfd);
		*msg = "Uploads cannot be stored right now (out of memory).";
		return -1;
	}
	for (size_t i = 0; i < r->form.nfiles; i++) {
		const struct hp_file *f = &r->form.files[i];
		char name[UPLOAD_NAME_MAX + 1];
		const char *reason = NULL, *stored = NULL;
		int fd;
		if (strcmp(f->field, "files") != 0 || (f->filename[0] == '\0' && f->size == 0))
			continue;
		if (upload_name_sanitize(f->filename, name, sizeof(name), err, sizeof(err)) < 0) {
			refused_add(refused, f->filename, err);
			continue;
		}
		fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			log_error("wizard: upload temp file %s: %s", f->path, strerror(errno));
			refused_add(refused, f->filename, "the upload could not be read");
			continue;
		}
		if (upload_check(r, fd, head, name, &reason) == 0 &&
		    upload_store(r, dirfd, fd, name, &stored, &reason) == 0)
			json_object_array_add(uploads, json_object_new_string(stored));
		else
			refused_add(refused, f->filename, reason);
		close(fd);
	}
	free(head);
	close(dirfd);
	log_info("wizard: draft %lld: %d files sent, %zu stored in total in %s, %zu refused",
	    dr->id, nfiles, json_object_array_length(uploads), dir,
	    json_object_array_length(refused));
	return 0;
}

/* ------------------------------------------------------------ creating */

/* Make the dataset of an upload or datastore choice, and point the draft at
 * it, in one transaction. */
static void dataset_create(struct request *r, struct draft *dr, enum step from)
{
	struct datastore ds = { 0 };
	char folder[1100];
	const char *msg = NULL, *path;
	long long id = 0;
	int recursive = 0, status, rc;

	status = check_dataset_text(r, dr, &msg);
	if (status == 0 && from == S_DATASTORE)
		status = check_datastore(r, dr, &ds, folder, sizeof(folder), &recursive, &msg);
	if (status == 0 && from == S_UPLOAD) {
		if (json_object_array_length(darr(dr, "uploads")) == 0 || dstr(dr, "upload_dir")[0] == '\0') {
			msg = "Add at least one image.";
			status = 422;
		} else {
			rc = catalog_datastore_default(r->db, r->arena, &ds);
			if (rc != DB_OK || ds.id == 0)
				status = rc != DB_OK ? rc : DB_ERR;
		}
	}
	if (status < 0) {
		db_failed(r, status);
		return;
	}
	if (status > 0) {
		step_render(r, dr, from, status, msg);
		return;
	}
	path = from == S_UPLOAD ? dstr(dr, "upload_dir") : folder;
	const char *name = trim_copy(r, dstr(dr, "ds_name"));
	rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = catalog_dataset_create(r->db, name, trim_copy(r, dstr(dr, "ds_description")),
		    ds.id, path, from == S_UPLOAD ? 0 : recursive,
		    from == S_UPLOAD ? "upload" : "datastore", r->session->user_id, &id);
	if (rc == DB_OK) {
		view_int(dr->d, "dataset_id", id);
		view_str(dr->d, "source", "existing");
		view_str(dr->d, "created_dataset", name);
		/* A later upload starts a new folder: this one belongs to the
		 * dataset now. */
		json_object_object_del(dr->d, "upload_dir");
		json_object_object_del(dr->d, "uploads");
		json_object_object_del(dr->d, "refused");
		rc = draft_save(r, dr);
	}
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		if (rc == DB_DUPLICATE) {
			step_render(r, dr, from, 409, arena_printf(r->arena,
			    "A dataset named \u201c%s\u201d already exists. Choose another name.", name));
			return;
		}
		db_failed(r, rc);
		return;
	}
	log_info("wizard: draft %lld: dataset %lld \u201c%s\u201d created by %s", dr->id, id, name,
	    r->session->email);
	resp_redirect(r, 303, step_url(r, dr, S_LABELS));
}

/* Check the labels of the draft: 0 or 422 with *msg. */
static int check_labels(struct request *r, struct draft *dr, const char ***labels, size_t *n,
    const char **msg)
{
	char err[512];

	*labels = labels_collect(r, dr, n);
	if (*labels == NULL)
		return DB_ERR;
	if (project_labels_check(*labels, *n, r->app->cfg.max_labels, NULL, err, sizeof(err)) < 0) {
		*msg = arena_strdup(r->arena, err);
		return 422;
	}
	return 0;
}

static int check_instructions(struct request *r, struct draft *dr, const char **msg)
{
	char *url = trim_copy(r, dstr(dr, "instructions_url"));
	char *desc = trim_copy(r, dstr(dr, "description"));
	char err[512];

	if (project_url_check(url, strlen(url), err, sizeof(err)) < 0 ||
	    project_description_check(desc, strlen(desc), err, sizeof(err)) < 0) {
		*msg = arena_strdup(r->arena, err);
		return 422;
	}
	return 0;
}

/* The chosen dataset exists: 0, 422 with *msg, or a DB_* error. */
static int check_dataset_chosen(struct request *r, struct draft *dr, const char **msg)
{
	struct db_result *res;
	int rc = db_query(r->db, r->arena, &res,
	    "SELECT id FROM datasets WHERE id = ? AND kind = 'input'", "i", dint(dr, "dataset_id"));

	if (rc != DB_OK)
		return rc;
	if (res->nrows == 0) {
		*msg = "Choose a dataset.";
		return 422;
	}
	return 0;
}

/* Review -> Create project: everything checked again, then one
 * transaction: the project, its labels, counters, init job, and the draft
 * removed. */
static void project_make(struct request *r, struct draft *dr)
{
	const char **labels = NULL, *msg = NULL;
	size_t n = 0;
	long long pid = 0;
	enum step at = S_NAME;
	int status, rc;

	status = check_name(r, dr, &msg);
	if (status == 0) {
		at = S_DATA;
		status = check_dataset_chosen(r, dr, &msg);
	}
	if (status == 0) {
		at = S_LABELS;
		status = check_labels(r, dr, &labels, &n, &msg);
	}
	if (status == 0) {
		at = S_INSTRUCTIONS;
		status = check_instructions(r, dr, &msg);
	}
	if (status < 0) {
		db_failed(r, status);
		return;
	}
	if (status > 0) {
		step_render(r, dr, at, status, msg);
		return;
	}
	rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = project_create(r->db, r->arena, dstr(dr, "name"), dstr(dr, "task"),
		    dint(dr, "dataset_id"), dstr(dr, "description"), dstr(dr, "instructions_url"),
		    labels, n, r->session->user_id, &pid);
	if (rc == DB_OK)
		rc = db_exec(r->db, 0, NULL, NULL,
		    "DELETE FROM project_drafts WHERE id = ? AND user_id = ?",
		    "ii", dr->id, r->session->user_id);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		int labels_dup = rc == DB_DUPLICATE && strstr(db_errmsg(r->db), "labels_name") != NULL;
		db_rollback(r->db);
		if (rc == DB_DUPLICATE && labels_dup) {
			step_render(r, dr, S_LABELS, 409, "Two of these label classes count as the same "
			    "to the database, which ignores case and accents (for example \u201cCafe\u201d "
			    "and \u201cCaf\u00e9\u201d). Make every name different.");
			return;
		}
		if (rc == DB_DUPLICATE) {
			step_render(r, dr, S_NAME, 409, arena_printf(r->arena,
			    "A project named \u201c%s\u201d already exists. Choose another name.",
			    trim_copy(r, dstr(dr, "name"))));
			return;
		}
		if (rc == PROJECT_INVALID) {
			step_render(r, dr, S_NAME, 422, "The project could not be created from what was entered; "
			    "check each step.");
			return;
		}
		db_failed(r, rc);
		return;
	}
	jobs_wake();
	log_info("wizard: project %lld \u201c%s\u201d created by %s from draft %lld", pid,
	    trim_copy(r, dstr(dr, "name")), r->session->email, dr->id);
	resp_redirect(r, 303, arena_printf(r->arena, "/projects/%lld", pid));
}

/* ------------------------------------------------------------ POST */

void handle_draft_step_post(struct request *r)
{
	struct draft dr = { 0 };
	enum step s = step_parse(route_param(&r->params, "step"));
	const char *go = req_form(r, "go"), *msg = NULL, **labels;
	enum step back = S_COUNT, next = S_COUNT;
	int rc = draft_load(r, &dr), nul = 0, status = 0, is_back, upload_failed = 0;
	size_t n;

	if (rc < 0) {
		db_failed(r, rc);
		return;
	}
	if (rc == 1 || s == S_COUNT) {
		page_error(r, 404, "Not found", "There is no such draft project, or it is not yours.");
		return;
	}
	if (go == NULL)
		go = "next";
	is_back = strcmp(go, "back") == 0;

	/* 1. Keep what was typed. */
	switch (s) {
	case S_NAME:
		save_field(r, &dr, "name", "name", &nul);
		save_field(r, &dr, "task", "task", &nul);
		break;
	case S_DATA: {
		const char *src = form_value(r, "source", &nul), *ds = form_value(r, "dataset", &nul);
		if (src != NULL && (strcmp(src, "existing") == 0 || strcmp(src, "upload") == 0 ||
		    strcmp(src, "datastore") == 0))
			view_str(dr.d, "source", src);
		if (ds != NULL && id_parse(ds) > 0)
			view_int(dr.d, "dataset_id", id_parse(ds));
		break;
	}
	case S_UPLOAD:
		save_field(r, &dr, "ds_name", "ds_name", &nul);
		save_field(r, &dr, "ds_description", "ds_description", &nul);
		if (uploads_take(r, &dr, &msg) < 0)
			upload_failed = 1;
		break;
	case S_DATASTORE: {
		const char *ds = form_value(r, "datastore", &nul);
		save_field(r, &dr, "ds_name", "ds_name", &nul);
		save_field(r, &dr, "ds_description", "ds_description", &nul);
		save_field(r, &dr, "path", "path", &nul);
		if (ds != NULL)
			view_int(dr.d, "datastore_id", id_parse(ds));
		break;
	}
	case S_LABELS: {
		struct json_object *rows = json_object_new_array();
		for (size_t i = 0; i < r->form.nfields; i++) {
			const struct hp_field *f = &r->form.fields[i];
			if (strcmp(f->name, "label") != 0)
				continue;
			if (strlen(f->value) != f->value_len)
				nul = 1;
			json_object_array_add(rows, json_object_new_string(f->value));
		}
		if (strcmp(go, "addrow") == 0)
			json_object_array_add(rows, json_object_new_string(""));
		json_object_object_add(dr.d, "labels", rows);
		break;
	}
	case S_INSTRUCTIONS:
		save_field(r, &dr, "instructions_url", "instructions_url", &nul);
		save_field(r, &dr, "description", "description", &nul);
		break;
	default:
		break;
	}
	rc = draft_save(r, &dr);
	if (rc != DB_OK) {
		db_failed(r, rc);
		return;
	}
	if (upload_failed) {
		step_render(r, &dr, s, 500, msg);
		return;
	}

	/* 2. Where Back goes. */
	switch (s) {
	case S_NAME: back = S_COUNT; break;
	case S_DATA: back = S_NAME; break;
	case S_UPLOAD: case S_DATASTORE: back = S_DATA; break;
	case S_CONFIRM:
		back = strcmp(dstr(&dr, "source"), "upload") == 0 ? S_UPLOAD : S_DATASTORE;
		break;
	case S_LABELS: back = S_DATA; break;
	case S_INSTRUCTIONS: back = S_LABELS; break;
	case S_REVIEW: back = S_INSTRUCTIONS; break;
	default: break;
	}
	if (is_back) {
		resp_redirect(r, 303, back == S_COUNT ? "/projects" : step_url(r, &dr, back));
		return;
	}
	if (s == S_LABELS && strcmp(go, "addrow") == 0) {
		resp_redirect(r, 303, step_url(r, &dr, S_LABELS));
		return;
	}
	if (nul) {
		step_render(r, &dr, s, 422, "A field held a NUL byte, which is not allowed; "
		    "check what you entered.");
		return;
	}

	/* 3. Check, then go on. */
	switch (s) {
	case S_NAME:
		status = check_name(r, &dr, &msg);
		next = S_DATA;
		break;
	case S_DATA: {
		const char *src = dstr(&dr, "source");
		if (strcmp(src, "existing") == 0) {
			status = check_dataset_chosen(r, &dr, &msg);
			next = S_LABELS;
		} else if (strcmp(src, "upload") == 0) {
			next = S_UPLOAD;
		} else if (strcmp(src, "datastore") == 0) {
			next = S_DATASTORE;
		} else {
			msg = "Choose where the images come from.";
			status = 422;
		}
		break;
	}
	case S_UPLOAD:
		status = check_dataset_text(r, &dr, &msg);
		if (status == 0 && json_object_array_length(darr(&dr, "uploads")) == 0) {
			msg = "Add at least one image: none was accepted so far.";
			status = 422;
		}
		next = S_CONFIRM;
		break;
	case S_DATASTORE: {
		struct datastore ds;
		char folder[1100];
		int recursive;
		status = check_dataset_text(r, &dr, &msg);
		if (status == 0)
			status = check_datastore(r, &dr, &ds, folder, sizeof(folder), &recursive, &msg);
		next = S_CONFIRM;
		break;
	}
	case S_CONFIRM: {
		const char *src = dstr(&dr, "source");
		if (strcmp(src, "upload") == 0)
			dataset_create(r, &dr, S_UPLOAD);
		else if (strcmp(src, "datastore") == 0)
			dataset_create(r, &dr, S_DATASTORE);
		else
			resp_redirect(r, 303, step_url(r, &dr, S_LABELS));
		return;
	}
	case S_LABELS:
		status = check_labels(r, &dr, &labels, &n, &msg);
		next = S_INSTRUCTIONS;
		break;
	case S_INSTRUCTIONS:
		status = check_instructions(r, &dr, &msg);
		next = S_REVIEW;
		break;
	case S_REVIEW:
		project_make(r, &dr);
		return;
	default:
		break;
	}
	if (status < 0) {
		db_failed(r, status);
		return;
	}
	if (status > 0) {
		step_render(r, &dr, s, status, msg);
		return;
	}
	resp_redirect(r, 303, step_url(r, &dr, next));
}
